"""Scale-out profile (issue 8): two `loyalty-bot run` processes in webhook mode share the work.

With DATABASE_URL on PostgreSQL and REDIS_URL set, several processes behind a load balancer
share FSM state (aiogram's Redis storage), run the outbox sender once (a PostgreSQL advisory
lock lease) and keep purchases exact. This test is the load balancer: it builds each update
with fakegram's simulated users (so the transcript and callback ids are real), takes it off
fakegram's queue instead of letting anybody poll, and POSTs it to process A or B in turn.
A customer registers across both processes; then the owner checks them out across both, and
process A is SIGKILLed in the middle; the rest goes to B.

Slow (two interpreters, migrations, a lease takeover): `pytest -m slow tests/api/test_scale_out.py`
with TEST_POSTGRES_URL set and Redis reachable (TEST_REDIS_URL, default redis://127.0.0.1:6379/15).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fakegram import FakeTelegram, FakeUser
from models.kernel.db import Database
from models.kernel.tables import CustomerCode, Operation, OperationKind
from models.ledger.invariants import check_ledger
from tests.helpers import redis_url_or_skip
from tests.processes import BotProcess, base_env, start_process, stop_process, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.scaleout]

HOOK_PATH = "/tg/hook"
UPDATE_TIMEOUT = 30.0
# The sender that does not hold the lease retries every ttl/4 (60 s / 4): B takes over within ~15 s.
NOTIFY_TIMEOUT = 45.0


def _postgres_url() -> str:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TEST_POSTGRES_URL is not set: the scale-out profile needs PostgreSQL")
    return url


@asynccontextmanager
async def fresh_database(admin_url: str) -> AsyncIterator[str]:
    """A new PostgreSQL database (schemas cannot be passed to a child through the URL)."""
    name = f"scale_{secrets.token_hex(6)}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            pytest.skip(f"cannot create a PostgreSQL database via {admin_url}: {exc}")
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def start_webhook_process(name: str, env: dict[str, str], log_dir: Path) -> BotProcess:
    # Telegram (and fakegram) accept only HTTPS; the path is what the process serves, and this
    # test is the reverse proxy that forwards to 127.0.0.1:<port>.
    return await start_process(name, {**env, "WEBHOOK_URL": f"https://bot-{name.lower()}.example.com{HOOK_PATH}"},
                               log_dir)


class Balancer:
    """Takes the update fakegram queued for the simulated user's action and delivers it by webhook."""

    def __init__(self, tg: FakeTelegram, http: httpx.AsyncClient, secret: str) -> None:
        self.tg = tg
        self.http = http
        self.secret = secret

    def take_update(self) -> dict[str, Any]:
        # fakegram queues updates for getUpdates; nobody polls in webhook mode, so the queue holds
        # exactly the update the last simulated action produced.
        updates = self.tg.take_pending_updates()
        assert len(updates) == 1, f"expected one queued update, got {updates}"
        return updates[0]

    async def deliver(self, bot: BotProcess) -> None:
        update = self.take_update()
        response = await self.http.post(
            f"{bot.base}{HOOK_PATH}", content=json.dumps(update), timeout=UPDATE_TIMEOUT,
            headers={"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": self.secret})
        assert response.status_code == 200, (
            f"{bot.name} answered {response.status_code} to {update}:\n{response.text}\n{bot.tail()}")


def _callback_data(user: FakeUser, prefix: str) -> str:
    """The newest inline button of the bot whose callback data starts with *prefix*."""
    for msg in reversed(user.bot_messages()):
        for button in msg.inline_buttons:
            data = button.get("callback_data")
            if isinstance(data, str) and data.startswith(prefix):
                return data
    raise AssertionError(f"no button with callback data {prefix!r}:\n{user.transcript()}")


async def _latest_code(db: Database, customer_tid: int) -> str:
    from models.kernel.tables import TelegramAccount

    async with db.reading() as session:
        customer_id = (await session.execute(
            select(TelegramAccount.customer_id).where(TelegramAccount.telegram_id == customer_tid))).scalar_one()
        code = (await session.execute(
            select(CustomerCode.code).where(CustomerCode.customer_id == customer_id,
                                            CustomerCode.used_at.is_(None))
            .order_by(CustomerCode.issued_at.desc()).limit(1))).scalar_one()
    return str(code)


async def test_two_webhook_processes_share_a_conversation_and_survive_a_kill(tmp_path: Path) -> None:
    admin_url = _postgres_url()
    redis_url = await redis_url_or_skip()
    bot_id = secrets.randbelow(9 * 10**9) + 10**9  # random per run: FSM keys in Redis never collide
    token = f"{bot_id}:SCALE-{secrets.token_hex(8)}"
    secret = secrets.token_hex(16)
    owner_id = 700_000_000 + secrets.randbelow(10**6)
    customer_id = 800_000_000 + secrets.randbelow(10**6)
    processes: list[BotProcess] = []
    async with fresh_database(admin_url) as database_url, \
            FakeTelegram(token=token, bot_username="scale_bonus_bot") as tg, httpx.AsyncClient() as http:
        env = base_env(BOT_TOKEN=token, TELEGRAM_API_URL=tg.base_url, DATABASE_URL=database_url,
                       REDIS_URL=redis_url, WEBHOOK_SECRET=secret, OWNER_IDS=str(owner_id),
                       PROGRAM_FILE="programs/case-a.toml", TIMEZONE="Europe/Moscow")
        db = Database(database_url)
        try:
            # One after the other: both migrate at start, and two first migrations must not race.
            a = await start_webhook_process("A", env, tmp_path)
            processes.append(a)
            await wait_healthy(a, http)
            b = await start_webhook_process("B", env, tmp_path)
            processes.append(b)
            await wait_healthy(b, http)
            assert tg.webhook, "setWebhook was not called"
            lb = Balancer(tg, http, secret)

            # --- a customer registers; every step goes to the other process -----------------------
            anna = tg.user(id=customer_id, first_name="Анна", phone="+79160000077")
            await anna.start()
            await lb.deliver(a)
            await anna.expect_text("Чтобы продолжить, подтвердите согласие", timeout=UPDATE_TIMEOUT)
            await anna.press_callback(_callback_data(anna, "reg:agree"), wait=False)
            await lb.deliver(b)  # B knows the consent state only from Redis
            await anna.expect_text("Поделитесь номером телефона", timeout=UPDATE_TIMEOUT)
            await anna.send_contact()
            await lb.deliver(a)
            await anna.expect_text("Как к вам обращаться?", timeout=UPDATE_TIMEOUT)
            await anna.press("Оставить", wait=False)
            await lb.deliver(b)
            await anna.expect_text("Когда у вас день рождения?", timeout=UPDATE_TIMEOUT)
            await anna.press("Пропустить", wait=False)
            await lb.deliver(a)
            await anna.expect_text("Готово, Анна! Вы участник программы.", timeout=UPDATE_TIMEOUT)
            code = await _latest_code(db, customer_id)

            # --- the owner checks them out; A dies after the amount --------------------------------
            owner = tg.user(id=owner_id, first_name="Ольга")
            await owner.start(f"c_{code}")
            await lb.deliver(b)
            await owner.expect_text("Анна", timeout=UPDATE_TIMEOUT)
            await owner.send("1000")
            await lb.deliver(a)  # A reads the "amount" state B wrote to Redis
            quote = await owner.expect(timeout=UPDATE_TIMEOUT)
            assert any(str(bt.get("callback_data", "")).startswith("co:") for bt in quote.inline_buttons), quote.text
            await a.kill()
            last = owner.last_bot_message()
            assert last is not None
            if not any(str(bt.get("callback_data", "")).startswith("co:confirm") for bt in last.inline_buttons):
                await owner.press_callback(_callback_data(owner, "co:none"), wait=False)
                await lb.deliver(b)  # the pay button, on the quote A made
            await owner.press_callback(_callback_data(owner, "co:confirm"), wait=False)
            await lb.deliver(b)
            await owner.expect_text("Покупка №", timeout=UPDATE_TIMEOUT)
            await anna.expect_text("Покупка на", timeout=NOTIFY_TIMEOUT)  # B's sender took the lease over

            async with db.reading() as session:
                purchases = (await session.execute(
                    select(func.count()).select_from(Operation).where(Operation.kind == OperationKind.PURCHASE)
                )).scalar_one()
            assert purchases == 1
            assert await check_ledger(db) == []
            assert b.proc.returncode is None, b.tail()
        finally:
            for proc in processes:
                await stop_process(proc)
            await db.dispose()
            await _forget_fsm(redis_url, bot_id)


async def _forget_fsm(redis_url: str, bot_id: int) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"fsm:{bot_id}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
