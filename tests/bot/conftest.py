"""The end-to-end bot harness: the real bot against a fake Telegram, on a real database.

`botenv` gives a running bot exactly as production assembles it: a FakeTelegram server
(fakegram/), the real aiogram `Bot` talking to it over HTTP, the real Dispatcher from
`bot.bootstrap.assemble` (every router, ActorMiddleware, MemoryStorage) in long-polling
mode, and the outbox sender (bot/sender.py) draining notifications into the fake chats.
The database is the `db` fixture of tests/conftest.py (a SQLite file, and PostgreSQL when
TEST_POSTGRES_URL is set: tests using `botenv` run once per backend) with the case-A
program stored as version 1 and a ManualClock at 2026-03-02 09:00 UTC.

API (`env: BotEnv`)
-------------------
Attributes:
  env.tg          FakeTelegram (see fakegram/__init__.py: users, groups, faults, limits)
  env.bot         the aiogram Bot          env.dp        the Dispatcher
  env.services    bot.services.Services    env.dom       models.kernel.context.Domain
  env.db          models.kernel.db.Database       env.clock     ManualClock (business time)
  env.settings    Settings built in code: BOT_TOKEN=TOKEN, TELEGRAM_API_URL=tg.base_url,
                  OWNER_IDS={OWNER_ID}, STAFF_CHAT_ID=STAFF_CHAT_ID
  env.i18n        bot.i18n.I18n            env.sender    OutboxSender (None if not started)
  env.owner       FakeUser with id OWNER_ID (an owner by settings; staff too)
  env.staff_chat  FakeGroup with id STAFF_CHAT_ID (bot is admin there)
  env.errors      ERROR log records from aiogram/handlers/bot during the test; the fixture
                  FAILS the test at teardown if any (set env.allow_errors = True to opt out)
Methods:
  env.customer(first_name="Анна", *, language_code="ru", phone=None, last_name=None,
               username=None) -> FakeUser                  a new user with a unique phone
  env.t(locale="ru") -> Translator;  env.text(user, key, **args) -> str in the user's locale
  await env.press(user, text, *, timeout=5) -> CallbackQueryRecord | ChatMessage
        waits until a button labelled `text` is visible (inline or reply), then presses it
  await env.choose_language(user, "en") -> None   /language and the button, as a person would
  await env.register(user, *, payload=None, name=None, birthday=None) -> int (customer id)
        walks the real registration conversation (/start [payload], or /join for staff and
        owners, whose /start is the till; consent, own contact,
        keep or type the name, birthday or skip) and waits for the card; unread messages are
        consumed (`user.skip_pending()`)
  await env.customer_id(user) -> int | None
  await env.add_staff(user, name="Кассир") -> int (staff id; a Staff row, active)
  await env.settle(timeout=10) -> None
        until every update was fetched and handled (no handler running), no API call is in
        flight and no due outbox row is pending/sending — checked twice in a row
  await env.drain() -> None    one settle() (compat alias)

Options (markers on the test or module, merged, the closest wins):
`@pytest.mark.botenv(start_sender=False, per_chat_interval=1.0, rate=25.0, sender_poll=0.02,
postgres=True)`. Bot tests run on SQLite only unless marked `postgres=True` (then also on
PostgreSQL when TEST_POSTGRES_URL is set): a scenario through Telegram costs far more than
its database work, and tests/domain covers both backends. The default per-chat interval in tests is 0.05 s so a scenario
with several notifications to one chat stays fast; the pacing tests set 1.0 explicitly.

Constants: TOKEN, OWNER_ID, STAFF_CHAT_ID. Helpers: `make_settings(tg, db, **overrides)`
(Settings in code, no .env).

Using it from another test folder: `from tests.bot.conftest import botenv  # noqa: F401`
in that folder's conftest.py (the `backend` narrowing below applies to tests/bot only).

Notes: the sender is the real OutboxSender (`env.sender`, also `services.sender`)
with a 0.02 s poll; outbox rows written by the domain during a test are delivered by
`settle()`. Business time only moves with `env.clock.advance(...)`, so rows with a future
`not_before` (retry backoff) wait for it. `user.expect()` consumes unread bot messages;
`env.register()` leaves none unread.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage
from sqlalchemy import select

from bot.app import create_bot
from bot.bootstrap import assemble
from bot.config import Settings
from bot.i18n import I18n, Translator, default_i18n, resolve_locale
from bot.sender import OutboxSender, wait_drained
from bot.services import Services
from fakegram import CallbackQueryRecord, ChatMessage, FakeGroup, FakeTelegram, FakeUser
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.db import Database
from models.kernel.tables import OutboxMessage, OutboxStatus, Role, Staff, TelegramAccount
from tests.conftest import BACKENDS

TOKEN = "123456:TEST-TOKEN-abcdefghij"
OWNER_ID = 900_001
STAFF_CHAT_ID = -1_001_234_567_890
_phones = itertools.count(1)
_WATCHED_LOGGERS = ("aiogram", "handlers", "bot", "models", "scheduler")


def botenv_options(node: Any) -> dict[str, Any]:
    """The merged kwargs of every `botenv` marker on a test (the closest wins)."""
    options: dict[str, Any] = {}
    for marker in reversed(list(node.iter_markers("botenv"))):
        options.update(marker.kwargs)
    return options


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Bot scenarios run on SQLite; those marked `botenv(postgres=True)` also on PostgreSQL.

    A scenario through Telegram costs far more than its database work, and the domain's
    own tests cover both backends; the marked ones prove the bot and the sender on
    PostgreSQL too (FOR UPDATE SKIP LOCKED, advisory-lock leases, crash recovery).
    """
    if "backend" not in metafunc.fixturenames:
        return
    both = botenv_options(metafunc.definition).get("postgres", False)
    metafunc.parametrize("backend", BACKENDS if both else ["sqlite"], indirect=True)


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in _WATCHED_LOGGERS:
            self.records.append(record)


async def press_when_shown(tg: FakeTelegram, user: FakeUser, text: str, *,
                           timeout: float = 5.0) -> CallbackQueryRecord | ChatMessage:  # noqa: ASYNC109
    """Wait until the bot shows `user` a button labelled `text`, then press it (whichever bot,
    in this process or another, sent it)."""
    def visible() -> bool:
        try:
            user._find_button(text)
        except AssertionError:
            return False
        return True

    await tg.wait_until(visible, timeout)
    return await user.press(text, timeout=timeout)


@dataclass
class BotEnv:
    tg: FakeTelegram
    bot: Bot
    dp: Dispatcher
    services: Services
    clock: ManualClock
    i18n: I18n
    owner: FakeUser
    staff_chat: FakeGroup
    sender: OutboxSender | None = None
    allow_errors: bool = False
    active_updates: int = 0
    _collector: _ErrorCollector = field(default_factory=_ErrorCollector)

    @property
    def dom(self) -> Domain:
        return self.services.dom

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def errors(self) -> list[logging.LogRecord]:
        return self._collector.records

    # --- people -------------------------------------------------------------------------

    def customer(self, first_name: str = "Анна", *, language_code: str | None = "ru", phone: str | None = None,
                 last_name: str | None = None, username: str | None = None) -> FakeUser:
        return self.tg.user(first_name=first_name, last_name=last_name, username=username,
                            language_code=language_code, phone=phone or f"+7999{next(_phones):07d}")

    def t(self, locale: str = "ru") -> Translator:
        return self.i18n.translator(locale)

    def locale_of(self, user: FakeUser) -> str:
        return resolve_locale(user.language_code, None)

    def text(self, user: FakeUser, key: str, **args: Any) -> str:
        return self.i18n.get(self.locale_of(user), key, **args)

    async def customer_id(self, user: FakeUser) -> int | None:
        async with self.db.reading() as session:
            account = await session.get(TelegramAccount, user.id)
            return account.customer_id if account is not None else None

    async def add_staff(self, user: FakeUser, name: str = "Кассир") -> int:
        async with self.db.transaction() as session:
            staff = Staff(telegram_id=user.id, display_name=name, role=Role.STAFF, active=True,
                          created_at=self.clock.now())
            session.add(staff)
            await session.flush()
            return staff.id

    # --- acting ---------------------------------------------------------------------------

    async def press(self, user: FakeUser, text: str, *, timeout: float = 5.0) -> CallbackQueryRecord | ChatMessage:  # noqa: ASYNC109
        return await press_when_shown(self.tg, user, text, timeout=timeout)

    async def choose_language(self, user: FakeUser, locale: str) -> None:
        """/language, then the language's button, as a person would; waits for the confirmation."""
        names = {"ru": "Русский", "en": "English"}
        await user.command("language")
        await self.press(user, names[locale])
        await user.expect_text(self.i18n.get(locale, "common-language-set"))

    async def register(self, user: FakeUser, *, payload: str | None = None, name: str | None = None,
                       birthday: date | str | None = None) -> int:
        """Walk the registration conversation as the user would; returns the customer id.
        Staff and owners, whose /start is the till, register with /join (issue 16)."""
        if payload is None and await self._has_role(user):
            await user.command("join")
        else:
            await user.start(payload)
        await self.press(user, self.text(user, "reg-button-agree"))
        await self.press(user, self.text(user, "reg-button-share-phone"))
        await self.tg.wait_until(lambda: _has_button(user, self.text(user, "reg-button-keep-name")), 5)
        if name is None:
            await self.press(user, self.text(user, "reg-button-keep-name"))
        else:
            await user.send(name)
        if birthday is None:
            await self.press(user, self.text(user, "reg-button-skip-birthday"))
        else:
            await self.tg.wait_until(lambda: _has_button(user, self.text(user, "reg-button-skip-birthday")), 5)
            await user.send(birthday.strftime("%d.%m.%Y") if isinstance(birthday, date) else birthday)
        await self.settle()
        customer_id = await self.customer_id(user)
        if customer_id is None:
            raise AssertionError(f"registration did not finish\n{user.transcript()}")
        user.skip_pending()
        return customer_id

    async def _has_role(self, user: FakeUser) -> bool:
        if user.id in self.settings.owner_ids:
            return True
        async with self.db.reading() as session:
            return (await session.execute(select(Staff.id).where(
                Staff.telegram_id == user.id, Staff.active.is_(True)))).first() is not None

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        calm = 0
        while calm < 2:
            busy = not self.tg.is_idle(quiet=0.0) or self.active_updates > 0
            if not busy and self.sender is not None:
                busy = self.sender.busy or await self._outbox_due()
                if busy:
                    self.sender.wake()
            calm = 0 if busy else calm + 1
            if loop.time() > deadline:
                raise AssertionError(f"bot not settled after {timeout}s (updates in flight: "
                                     f"{self.active_updates}, sender busy: {self.sender and self.sender.busy})")
            await asyncio.sleep(0.02)

    async def drain(self) -> None:
        await self.settle()

    async def _outbox_due(self) -> bool:
        now = self.clock.now()
        async with self.db.reading() as session:
            row = (await session.execute(select(OutboxMessage.id).where(
                ((OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.not_before <= now))
                | (OutboxMessage.status == OutboxStatus.SENDING)).limit(1))).scalar()
        return row is not None

    async def outbox(self) -> list[OutboxMessage]:
        async with self.db.reading() as session:
            return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())

    async def wait_outbox_drained(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        assert self.sender is not None
        await wait_drained(self.services, self.sender, timeout=timeout)


def _has_button(user: FakeUser, text: str) -> bool:
    try:
        user._find_button(text)
    except AssertionError:
        return False
    return True


def _count_updates(env: BotEnv, dp: Dispatcher) -> None:
    """Wrap feed_update so settle() knows when no handler is running."""
    original = dp.feed_update

    async def counted(bot: Bot, update: Any, **kwargs: Any) -> Any:
        env.active_updates += 1
        try:
            return await original(bot, update, **kwargs)
        finally:
            env.active_updates -= 1

    dp.feed_update = counted  # type: ignore[method-assign]


def make_settings(tg: FakeTelegram, db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN, "database_url": db.url, "telegram_api_url": tg.base_url,
        "owner_ids": frozenset({OWNER_ID}), "staff_chat_id": STAFF_CHAT_ID, "redis_url": None,
        "webhook_url": None, "http_port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def botenv(request: pytest.FixtureRequest, dom: Domain, clock: ManualClock) -> AsyncIterator[BotEnv]:
    options = botenv_options(request.node)
    collector = _ErrorCollector()
    logging.getLogger().addHandler(collector)
    async with contextlib.AsyncExitStack() as stack:
        tg = await stack.enter_async_context(FakeTelegram(token=TOKEN))
        settings = make_settings(tg, dom.db, send_rate=options.get("rate", 25.0))
        services = Services(settings=settings, dom=dom, bot_username=tg.bot_username)
        i18n = default_i18n()  # parsing the .ftl files takes ~0.5 s: once per process
        bot = create_bot(TOKEN, tg.base_url)
        stack.push_async_callback(bot.session.close)
        start_sender = options.get("start_sender", True)
        assembly = assemble(services, bot, i18n, storage=MemoryStorage(), with_sender=start_sender,
                            per_chat_interval=options.get("per_chat_interval", 0.05),
                            poll_interval=options.get("sender_poll", 0.02))
        dp = assembly.dp
        env = BotEnv(tg=tg, bot=bot, dp=dp, services=services, clock=clock, i18n=i18n,
                     owner=tg.user(id=OWNER_ID, first_name="Owner", phone="+79990000001"),
                     staff_chat=tg.group(chat_id=STAFF_CHAT_ID, title="Staff"), _collector=collector)
        _count_updates(env, dp)
        if assembly.sender is not None:
            sender = assembly.sender
            env.sender = sender
            stop = asyncio.Event()
            task = asyncio.create_task(sender.run(stop), name="outbox-sender")

            async def stop_sender() -> None:
                stop.set()
                await asyncio.wait_for(task, 10)

            stack.push_async_callback(stop_sender)
        await stack.enter_async_context(tg.polling(dp, bot, allowed_updates=dp.resolve_used_update_types()))
        try:
            yield env
        finally:
            with contextlib.suppress(AssertionError):
                await env.settle(timeout=3)
    logging.getLogger().removeHandler(collector)
    if collector.records and not env.allow_errors:
        lines = [f"{r.name}: {r.getMessage()}" + (f"\n{logging.Formatter().formatException(r.exc_info)}"
                                                 if r.exc_info else "") for r in collector.records]
        pytest.fail("errors were logged while the bot ran:\n" + "\n".join(lines), pytrace=False)
