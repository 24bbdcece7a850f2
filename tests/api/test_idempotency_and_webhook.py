"""The same nonce sent concurrently gives one operation; Telegram's webhook checks its secret."""

from __future__ import annotations

import asyncio
import secrets
import uuid

import httpx
from aiogram import Bot, Dispatcher, Router
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import Message
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.app import create_dispatcher, create_storage
from bot.http import build_app
from bot.services import Services
from models.kernel.context import Domain
from models.kernel.tables import Operation, OperationKind
from tests.api.conftest import BASE, api_settings
from tests.helpers import assert_invariants, balance, fresh_code, redis_url_or_skip, register


async def test_same_nonce_concurrently_gives_one_operation(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    body = {"code": await fresh_code(dom, c), "nonce": str(uuid.uuid4()),
            "receipt": {"total": 1000, "cash": 950, "points": 50}}
    answers = await asyncio.gather(*(client.post(f"{BASE}/operations", json=body) for _ in range(5)))
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    async with dom.db.reading() as s:
        count = (await s.execute(select(func.count()).select_from(Operation)
                                 .where(Operation.kind == OperationKind.PURCHASE))).scalar()
    assert count == 1
    assert await balance(dom, c) == 300 - 50 + 28
    await assert_invariants(dom)


async def test_same_nonce_for_a_new_phone_concurrently(client: httpx.AsyncClient, dom: Domain) -> None:
    body = {"participant": {"phone": "+79165550000"}, "nonce": "n-1",
            "receipt": {"total": 1000, "cash": 1000, "points": 0}}
    answers = await asyncio.gather(*(client.post(f"{BASE}/operations", json=body) for _ in range(3)))
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1


def webhook_app(dom: Domain, seen: list[str], storage: BaseStorage | None = None) -> tuple[object, str]:
    settings = api_settings(bot_token="123456:ABCDEFGHIJKLMNOP", webhook_url="https://bot.example.com/tg/hook",
                            webhook_secret=SecretStr("s3cret-token"))
    router = Router()

    @router.message()
    async def remember(message: Message) -> None:
        seen.append(message.text or "")
        await asyncio.sleep(0.2)  # a handler that takes a moment: a repeat can arrive meanwhile

    dp = Dispatcher() if storage is None else create_dispatcher(storage)
    dp.include_router(router)
    bot = Bot("123456:ABCDEFGHIJKLMNOP")
    return build_app(Services(settings=settings, dom=dom), dispatcher=dp, bot=bot), "/tg/hook"


def update(update_id: int, text: str) -> dict[str, object]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1772442000, "text": text,
        "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": False, "first_name": "A"}}}


async def test_webhook_verifies_the_secret_token(dom: Domain) -> None:
    seen: list[str] = []
    app, path = webhook_app(dom, seen)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.post(path, json=update(1, "forged"))
        assert r.status_code == 403
        r = await http.post(path, json=update(2, "forged"), headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
        assert r.status_code == 403
        r = await http.post(path, json=update(3, "hello"), headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
        assert r.status_code == 200
        r = await http.post(path, content=b"{", headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
        assert r.status_code == 400
        metrics_text = (await http.get("/metrics")).text
    assert seen == ["hello"]
    assert 'loyalty_webhook_updates_total{result="forbidden"}' in metrics_text


async def test_no_webhook_route_in_polling_mode(dom: Domain) -> None:
    settings = api_settings(bot_token="123456:ABCDEFGHIJKLMNOP")
    app = build_app(Services(settings=settings, dom=dom), dispatcher=Dispatcher(), bot=Bot("123456:ABCDEFGHIJKLMNOP"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        assert (await http.post("/telegram/webhook", json=update(1, "x"))).status_code == 404


async def test_webhook_update_is_refused_not_lost_while_redis_is_down(dom: Domain) -> None:
    """Redis (FSM state, per-user lock) unreachable mid-run: the update cannot be handled, so the
    webhook must not answer 200, or Telegram drops it; a 503 makes Telegram deliver it again."""
    seen: list[str] = []
    storage = create_storage("redis://127.0.0.1:1/0")  # nothing listens there
    app, path = webhook_app(dom, seen, storage)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                     base_url="http://test") as http:
            r = await http.post(path, json=update(1, "hello"),
                                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
            metrics_text = (await http.get("/metrics")).text
    finally:
        await storage.close()
    assert r.status_code == 503, r.text
    assert seen == []
    assert 'loyalty_webhook_updates_total{result="unavailable"}' in metrics_text


async def test_an_update_telegram_delivers_again_is_handled_once(dom: Domain) -> None:
    """Telegram redelivers an update whose 200 came late, maybe to the other process: the repeat,
    during or after the first delivery's handling, is answered 200 and not handled again."""
    storage = create_storage(await redis_url_or_skip())
    seen: list[str] = []
    app, path = webhook_app(dom, seen, storage)
    first, second = (secrets.randbelow(10**9) + 10**9 for _ in range(2))
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                                     base_url="http://test") as http:
            answers = await asyncio.gather(*(http.post(path, json=update(first, "one"), headers=headers)
                                             for _ in range(2)))
            answers.append(await http.post(path, json=update(first, "one"), headers=headers))
            answers.append(await http.post(path, json=update(second, "two"), headers=headers))
    finally:
        await storage.close()
    assert [r.status_code for r in answers] == [200] * 4
    assert seen == ["one", "two"]
