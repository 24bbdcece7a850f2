"""The owner's /api (handlers/owner_api.py) through the real aiogram Bot and Dispatcher
against fakegram: create a key that then works on the API, list, revoke with a button;
anyone else is refused.

The Dispatcher here has the ActorMiddleware and only this router, so the test exercises
this area alone (the whole bot's routing is covered by tests/bot)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiogram import Dispatcher, Router
from sqlalchemy import select

import handlers.owner_api as owner_api
from bot.app import create_bot
from bot.i18n import I18n, default_i18n
from bot.middlewares import ActorMiddleware
from bot.services import Services
from fakegram import FakeTelegram, FakeUser
from models.kernel.context import Domain
from models.kernel.tables import ApiKey, AuditEntry
from tests.api.conftest import BASE, api_settings

TOKEN = "123456:TEST-TOKEN-abcdefghij"
OWNER_ID = 900_001


@dataclass
class ApiBot:
    tg: FakeTelegram
    services: Services
    i18n: I18n
    owner: FakeUser


@contextlib.contextmanager
def detached(router: Router) -> AsyncIterator[None]:  # type: ignore[misc]
    """Borrow the module's router from its parent (handlers/owner.py) for this Dispatcher."""
    parent = router.parent_router
    if parent is not None:
        parent.sub_routers.remove(router)
        router._parent_router = None
    try:
        yield
    finally:
        grand = router.parent_router
        if grand is not None:
            grand.sub_routers.remove(router)
            router._parent_router = None
        if parent is not None:
            parent.include_router(router)


@pytest.fixture
async def api_bot(dom: Domain) -> AsyncIterator[ApiBot]:
    async with FakeTelegram(token=TOKEN) as tg:
        settings = api_settings(bot_token=TOKEN, telegram_api_url=tg.base_url, owner_ids=frozenset({OWNER_ID}))
        services = Services(settings=settings, dom=dom, bot_username=tg.bot_username)
        i18n = default_i18n()
        dp = Dispatcher()
        dp["i18n"] = i18n
        dp.update.outer_middleware(ActorMiddleware(services, i18n))
        with detached(owner_api.router):
            dp.include_router(owner_api.router)
            bot = create_bot(TOKEN, tg.base_url)  # HTML parse mode, as in production
            async with tg.polling(dp, bot):
                yield ApiBot(tg=tg, services=services, i18n=i18n,
                             owner=tg.user(id=OWNER_ID, first_name="Owner", phone="+79990000001"))
                await tg.wait_idle()
            await bot.session.close()


async def test_owner_creates_uses_and_revokes_a_key(api_bot: ApiBot) -> None:
    owner, t = api_bot.owner, api_bot.i18n.translator("ru")
    await owner.send("/api create kassa-1")
    created = await owner.expect_text("apiKey")
    company = re.search(r"companyId: (\d+)", created.text or "")
    key = re.search(r"apiKey: (\S+)", created.text or "")
    assert company and key, created.text
    await owner.send("/api create kassa-1")
    await owner.expect_text("kassa-1")  # the name is taken
    app = build_app_for(api_bot.services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t",
                                 auth=(company.group(1), key.group(1))) as http:
        assert (await http.get(f"{BASE}/settings")).status_code == 200
        await owner.send("/api")
        listing = await owner.expect_text("kassa-1")
        assert company.group(1) in (listing.text or "") and key.group(1) not in (listing.text or "")
        await owner.press(t("api-revoke-button", name="kassa-1"))
        await owner.expect_text("kassa-1")
        await owner.press(t("button-yes"))
        await api_bot.tg.wait_idle()
        assert (await http.get(f"{BASE}/settings")).status_code == 401
    await owner.send("/api revoke kassa-1")
    await owner.expect_text("kassa-1")  # not found any more
    async with api_bot.services.db.reading() as s:
        actions = list((await s.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    assert actions.count("api_key.create") == 1 and actions.count("api_key.revoke") == 1


async def test_anyone_else_is_refused(api_bot: ApiBot) -> None:
    user = api_bot.tg.user(id=700_001, first_name="Анна")
    await user.send("/api create mine")
    reply = await user.expect()
    assert reply.text == api_bot.i18n.get("ru", "not-allowed")
    await user.press_callback(owner_api.ApiKeyCb(action="confirm", key_id=1).pack())
    await api_bot.tg.wait_idle()
    async with api_bot.services.db.reading() as s:
        assert (await s.execute(select(ApiKey))).scalar() is None
        denied = list((await s.execute(select(AuditEntry.action))).scalars())
    assert denied == ["api_key.denied", "api_key.denied"]


def build_app_for(services: Services):  # type: ignore[no-untyped-def]
    from bot.http import build_app

    return build_app(services)
