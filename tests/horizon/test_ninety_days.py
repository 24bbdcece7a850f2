"""Issue 14 §2: a business that lives through weeks, in the tests.

The real bot (the production Dispatcher, the aiogram Bot over HTTP to fakegram, the outbox
sender, the scheduler's catch-up) runs a case-A café for 100 days of business time. It is
stopped and started again on later days (the start-up catch-up runs what was missed: the
nightly housekeeping, birthdays, win-backs, expiry), it stops abruptly once with messages
still queued, there are quiet days and busy days, checkouts with and without points, a full
refund and a partial one, birthdays and win-backs. One evening the bot runs as a real process
(tests/horizon/bot_process.py: production's `run_bot` on the business clock), is killed by
SIGKILL with a notification undelivered and a checkout on the cashier's screen, and is
started again.

After every step the test compares what the cashier's receipt and the customer's
notification said, and every balance, with `Model` below: a reference model of DOMAIN.md's
arithmetic for the case-A program written here, not a call into `models/`. A day without
sales followed by housekeeping is exactly the sequence that used to hand out a deleted
checkout's id again and answer Confirm with an old receipt (issue 14 §1): the model catches
that at the first checkout after the quiet day (its receipt number and cashback would be the
old ones). Runs on SQLite and on PostgreSQL; `loyalty-bot check` passes at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiogram.fsm.storage.memory import MemoryStorage

from bot.app import create_bot
from bot.bootstrap import assemble
from bot.i18n import default_i18n
from bot.services import Services
from fakegram import FakeTelegram, FakeUser
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from scheduler.service import build_runner
from tests.bot.conftest import (
    OWNER_ID,
    STAFF_CHAT_ID,
    TOKEN,
    BotEnv,
    _count_updates,
    make_settings,
    press_when_shown,
)
from tests.helpers import assert_invariants, balance, certificates_total, fresh_code
from tests.processes import BotProcess, base_env, start_process, stop_process, wait_healthy

pytestmark = pytest.mark.slow

MSK = ZoneInfo("Europe/Moscow")
START = date(2026, 3, 2)
DAYS = 100
KILL_DAY = 60  # the evening a bot process is SIGKILLed (a Friday; Борис's birthday, May 1st)
REPLY_TIMEOUT = 15.0  # an answer from the bot, perhaps a child process on a busy 2-core machine
# A restarted process's sender may first find the dead one's lease taken and look again ttl/4 later.
NOTIFY_TIMEOUT = 45.0

# --- The reference model: case A (programs/case-a.toml) as DOMAIN.md states it ----------------

WELCOME = 300
TIERS = [  # (threshold in kopecks of money paid, cashback %, max share payable with points %)
    (0, 3, 10), (5_000_000, 5, 15), (15_000_000, 7, 20), (30_000_000, 9, 25), (60_000_000, 10, 30),
]
BIRTHDAY_POINTS, BIRTHDAY_DAYS = 1000, 15
WINBACK_AFTER, WINBACK_POINTS, WINBACK_DAYS = 30, 500, 15


@dataclass
class Person:
    name: str
    birthday: date | None = None
    regular: int = 0                  # live regular points (nothing regular expires in 100 days)
    certificates: list[tuple[int, datetime]] = field(default_factory=list)  # (points, expires)
    paid: int = 0                     # money paid net of refunds, kopecks (the tier basis)
    tier: int = 0                     # the tier the NEXT purchase is computed with
    last_purchase: date | None = None
    winback_for: date | None = None   # the last purchase a win-back was issued for
    birthday_years: set[int] = field(default_factory=set)
    purchases: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # op -> (amount, points, cashback)

    def live_certificates(self, now: datetime) -> int:
        return sum(points for points, expires in self.certificates if expires > now)


class Model:
    """What DOMAIN.md says the balances must be; knows nothing of the product's code."""

    def __init__(self) -> None:
        self.people: dict[str, Person] = {}

    def register(self, name: str, birthday: date | None) -> None:
        self.people[name] = Person(name=name, birthday=birthday, regular=WELCOME)

    def quote(self, name: str, amount: int, pay_max: bool) -> tuple[int, int]:
        """(points paid, cashback) for a check of `amount` kopecks."""
        p = self.people[name]
        _, cashback_pct, cap_pct = TIERS[p.tier]
        points = min(amount * cap_pct // 100 // 100, p.regular) if pay_max else 0
        cashback = (amount - points * 100) * cashback_pct // 100 // 100
        return points, cashback

    def purchase(self, name: str, op: int, amount: int, pay_max: bool, day: date) -> tuple[int, int]:
        p = self.people[name]
        points, cashback = self.quote(name, amount, pay_max)
        p.regular += cashback - points
        p.paid += amount - points * 100
        p.tier = max(i for i, (threshold, _, _) in enumerate(TIERS) if p.paid >= threshold)
        p.last_purchase = day
        p.purchases[op] = (amount, points, cashback)
        return points, cashback

    def refund(self, name: str, op: int, refund: int) -> tuple[int, int]:
        """(points returned, cashback taken back) for the first refund of `refund` kopecks of
        a check: everything in proportion to the check, rounded down."""
        p = self.people[name]
        amount, points, cashback = p.purchases[op]
        returned = points * refund // amount
        reversed_ = cashback * refund // amount
        p.regular += returned - reversed_
        p.paid -= (amount - points * 100) * refund // amount
        return returned, reversed_

    def night(self, day: date, now: datetime) -> None:
        """The day's automatic work, as the scheduler's catch-up does it at `now`."""
        for p in self.people.values():
            if p.birthday and (p.birthday.month, p.birthday.day) == (day.month, day.day) \
                    and day.year not in p.birthday_years:
                p.birthday_years.add(day.year)
                p.certificates.append((BIRTHDAY_POINTS, now + timedelta(days=BIRTHDAY_DAYS)))
            if p.last_purchase and day == p.last_purchase + timedelta(days=WINBACK_AFTER) \
                    and p.winback_for != p.last_purchase:
                p.winback_for = p.last_purchase
                p.certificates.append((WINBACK_POINTS, now + timedelta(days=WINBACK_DAYS)))


# --- The bot, started and stopped like a process -------------------------------------------


class Business:
    """One FakeTelegram and one database for the whole test; the bot comes and goes."""

    def __init__(self, tg: FakeTelegram, dom: Domain, clock: ManualClock, log_dir: Path) -> None:
        self.tg, self.dom, self.clock, self.log_dir = tg, dom, clock, log_dir
        self.processes: list[BotProcess] = []
        self.env: BotEnv | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self.owner = tg.user(id=OWNER_ID, first_name="Owner", phone="+79990000001")
        self.staff_chat = tg.group(chat_id=STAFF_CHAT_ID, title="Staff")
        self.starts = 0

    async def start(self) -> None:
        """What `loyalty-bot run` does: assemble everything, then the start-up catch-up."""
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        settings = make_settings(self.tg, self.dom.db, send_rate=30.0)
        services = Services(settings=settings, dom=self.dom, bot_username=self.tg.bot_username)
        bot = create_bot(TOKEN, self.tg.base_url)
        stack.push_async_callback(bot.session.close)
        i18n = default_i18n()
        assembly = assemble(services, bot, i18n, storage=MemoryStorage(), per_chat_interval=0.0, poll_interval=0.02)
        dp, sender = assembly.dp, assembly.sender
        assert sender is not None
        env = BotEnv(tg=self.tg, bot=bot, dp=dp, services=services, clock=self.clock, i18n=i18n,
                     owner=self.owner, staff_chat=self.staff_chat)
        _count_updates(env, dp)
        env.sender = sender
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop), name="outbox-sender")
        self._sender = (stop, task)
        await stack.enter_async_context(self.tg.polling(dp, bot, allowed_updates=dp.resolve_used_update_types()))
        self.env, self._stack = env, stack
        self.runner = build_runner(services)
        await self.runner.catch_up()
        await env.settle()
        self.starts += 1

    async def stop(self, *, abrupt: bool = False) -> None:
        """A graceful stop drains what it can; an abrupt one kills the sender mid-queue."""
        assert self.env is not None and self._stack is not None
        if not abrupt:
            await self.env.settle()
        stop, task = self._sender
        if abrupt:
            await self.kill_sender()
        else:
            stop.set()
            await asyncio.wait_for(task, 10)
        await self._stack.aclose()
        self.env = self._stack = None

    async def kill_sender(self) -> None:
        """The first half of a crash: nothing is sent from here on; what is queued stays queued."""
        _, task = self._sender
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def spawn(self, name: str) -> BotProcess:
        """The bot as a real process (tests/horizon/bot_process.py: `run_bot` on a business clock
        starting at the test's now), once it answers /healthz."""
        assert self.env is None, "one bot at a time"
        env = base_env(BOT_TOKEN=TOKEN, TELEGRAM_API_URL=self.tg.base_url, DATABASE_URL=self.dom.db.url,
                       DATABASE_SCHEMA=self.dom.db.schema or "", OWNER_IDS=str(OWNER_ID),
                       STAFF_CHAT_ID=str(STAFF_CHAT_ID), PROGRAM_FILE="programs/case-a.toml",
                       TIMEZONE="Europe/Moscow", BUSINESS_NOW=self.clock.now().isoformat())
        process = await start_process(name, env, self.log_dir, ("-m", "tests.horizon.bot_process"))
        self.processes.append(process)
        async with httpx.AsyncClient() as http:
            await wait_healthy(process, http)
        self.starts += 1
        return process

    async def night_and_morning(self) -> None:
        """The scheduler's periodic tick while the bot is up."""
        assert self.env is not None
        await self.runner.catch_up()
        await self.env.settle()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK).astimezone(UTC)


def points_in(text: str, label: str) -> int:
    match = re.search(rf"{label}:?\s*\+?(\d[\d\u00a0\u202f ]*)", text)
    assert match, f"no {label!r} in {text!r}"
    return int(re.sub(r"\D", "", match.group(1)))


async def compose_broadcast(env: BotEnv) -> None:
    """The owner writes a broadcast to every customer and sends it (tests/owner has its details)."""
    owner = env.owner
    await owner.send("/broadcast")
    await owner.expect_text("текст рассылки")
    await owner.send("Акция недели: второй кофе в подарок")
    await owner.expect_text("кнопку-ссылку")
    await owner.send("Сайт | https://example.com/sale")
    await owner.expect_text("Кому отправить")
    await env.press(owner, "Все")
    await env.press(owner, "Отправить (4)")
    await owner.expect_text("поставлена в очередь: 4")


@pytest.fixture
async def business(dom: Domain, clock: ManualClock, tmp_path: Path) -> AsyncIterator[Business]:
    async with FakeTelegram(token=TOKEN) as tg:
        world = Business(tg, dom, clock, tmp_path)
        try:
            yield world
        finally:
            if world.env is not None:
                await world.stop()
            for process in world.processes:
                await stop_process(process)


async def test_a_hundred_days_of_a_cafe(business: Business, dom: Domain, clock: ManualClock) -> None:
    model = Model()
    clock.set(at(START, 10))
    await business.start()
    env = business.env
    assert env is not None

    # The team: the owner invites a cashier in code (the invite flow has its own tests).
    cashier = env.customer("Мария")
    await env.add_staff(cashier, "Мария")

    # Customers register through the bot; birthdays fall inside the 100 days.
    born = {"Анна": date(1990, 3, 20), "Борис": date(1985, 5, 1), "Вера": None, "Глеб": date(1999, 6, 2)}
    users: dict[str, FakeUser] = {}
    ids: dict[str, int] = {}
    for name, birthday in born.items():
        users[name] = env.customer(name)
        ids[name] = await env.register(users[name], birthday=birthday)
        model.register(name, birthday)

    async def check_balances() -> None:
        now = clock.now()
        for name, person in model.people.items():
            assert await balance(dom, ids[name]) == person.regular, (name, clock.now())
            assert await certificates_total(dom, ids[name]) == person.live_certificates(now), (name, clock.now())

    async def begin_checkout(name: str, amount: int, *, pay_max: bool) -> tuple[bool, tuple[int, int]]:
        """The cashier scans, types the check and chooses, up to the confirmation screen. Only
        fakegram is touched: the bot answering may be this process's or a child process."""
        person = model.people[name]
        pay = pay_max and person.regular > 0 and person.live_certificates(clock.now()) == 0
        expected = model.quote(name, amount, pay)
        cashier.skip_pending()
        await cashier.start(f"c_{await fresh_code(dom, ids[name])}")
        await cashier.expect_text(name, timeout=REPLY_TIMEOUT)
        await cashier.send(str(amount // 100))
        await cashier.expect_text("Чек", timeout=REPLY_TIMEOUT)
        choice = "Списать " if pay and expected[0] > 0 else "Без баллов"
        await press_when_shown(business.tg, cashier, choice, timeout=REPLY_TIMEOUT)
        await cashier.expect_text("К оплате", timeout=REPLY_TIMEOUT)
        return pay, expected

    async def confirm_checkout(name: str, amount: int, pay: bool, expected: tuple[int, int]) -> int:
        """Confirm; the receipt is compared with the model. Returns the receipt's number."""
        person = model.people[name]
        await press_when_shown(business.tg, cashier, "✅ Подтвердить", timeout=REPLY_TIMEOUT)
        receipt = await cashier.expect_text("Покупка №", timeout=REPLY_TIMEOUT)
        op = int(re.search(r"Покупка №(\d+)", receipt.content).group(1))  # type: ignore[union-attr]
        assert op not in person.purchases and all(op not in p.purchases for p in model.people.values()), \
            f"receipt №{op} was already given (an old receipt answered a new checkout)"
        points, cashback = model.purchase(name, op, amount, pay, clock.now().astimezone(MSK).date())
        assert (points, cashback) == expected
        assert points_in(receipt.content, "Баллами") == points
        assert points_in(receipt.content, "Кешбэк") == cashback
        assert points_in(receipt.content, "Баланс клиента") == person.regular
        return op

    async def checkout(name: str, amount: int, *, pay_max: bool, notify: bool = True) -> int:
        pay, expected = await begin_checkout(name, amount, pay_max=pay_max)
        op = await confirm_checkout(name, amount, pay, expected)
        if notify:
            assert business.env is not None
            await business.env.settle()
            await told_balance(name)
        return op

    async def told_balance(name: str, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """The customer's purchase notification names the balance the model expects."""
        told = await users[name].expect_text("Баланс", timeout=timeout)
        assert str(model.people[name].regular) in re.sub(r"[\u00a0\u202f ]", "", told.content), told.content
        users[name].skip_pending()

    async def refund(name: str, op: int, rub: int | None) -> None:
        assert business.env is not None
        e = business.env
        amount = model.people[name].purchases[op][0]
        returned, reversed_ = model.refund(name, op, amount if rub is None else rub * 100)
        cashier.skip_pending()
        await cashier.send(f"/refund {op}" + ("" if rub is None else f" {rub}"))
        if rub is not None:  # a partial refund is shown first, then confirmed
            preview = await cashier.expect_text("Оформить?", timeout=10)
            assert points_in(preview.content, "вернётся") == returned
            assert points_in(preview.content, "спишется кешбэка") == reversed_
            await press_when_shown(business.tg, cashier, "✅ Вернуть ", timeout=REPLY_TIMEOUT)
        done = await cashier.expect_text("Возврат по покупке", timeout=10)
        assert points_in(done.content, "баллов возвращено") == returned
        assert points_in(done.content, "кешбэка списано") == reversed_
        await e.settle()
        users[name].skip_pending()

    def notifications(name: str) -> int:
        return sum("Покупка на" in m.content for m in business.tg.chat(users[name].id).bot_messages())

    async def a_bot_process_dies(day: date) -> None:
        """In the evening the bot runs as a real process, and dies by SIGKILL with a customer's
        purchase notification undelivered (Telegram answered 502 to it) and another checkout on
        the cashier's screen. Started again, the process delivers the notification exactly once,
        and the checkout the dead process quoted is confirmed once, as the model says."""
        tg = business.tg
        await business.stop()
        clock.set(at(day, 19))
        started = time.monotonic()
        told_before = {name: notifications(name) for name in ("Анна", "Глеб")}
        first = await business.spawn("A")
        tg.fail_next("sendMessage", 502, count=None, chat_id=users["Анна"].id)
        pay, expected = await begin_checkout("Анна", 350_000, pay_max=False)
        await confirm_checkout("Анна", 350_000, pay, expected)
        anna_chat = users["Анна"].id
        await tg.wait_until(lambda: any(call.status == 502 for call in tg.calls("sendMessage", chat_id=anna_chat)),
                            REPLY_TIMEOUT)
        pay, expected = await begin_checkout("Глеб", 1_500_000, pay_max=True)
        assert await first.kill() == -signal.SIGKILL
        tg.clear_faults()
        assert notifications("Анна") == told_before["Анна"]  # still in the outbox, nowhere else

        # Started again a minute and a half of business time later: past the dead sender's
        # SQLite lease (60 s) and its reservations (30 s), well inside the quote's 30 minutes.
        clock.set(at(day, 19) + timedelta(seconds=time.monotonic() - started + 90))
        second = await business.spawn("B")
        await told_balance("Анна", timeout=NOTIFY_TIMEOUT)
        await confirm_checkout("Глеб", 1_500_000, pay, expected)  # the quote on the cashier's screen
        await told_balance("Глеб", timeout=NOTIFY_TIMEOUT)
        assert await stop_process(second) == 0, second.tail()
        assert "Traceback" not in first.tail(400) + second.tail(400), second.tail(400)
        for name, before in told_before.items():
            assert notifications(name) == before + 1, (name, tg.transcript(users[name].id))
        await check_balances()

    # Day by day. A schedule of (day offset -> what happens); quiet days have nothing.
    refunds_done: list[int] = []
    down_days = {12, 13, 14, 40, 41, 77}  # the bot is off: started again the next day
    abrupt_on = {55}
    amounts = {"Анна": 450_000, "Борис": 1_225_000, "Вера": 90_000, "Глеб": 2_000_000}
    buyers_by_day: dict[int, list[str]] = {0: ["Анна", "Борис", "Вера", "Глеб"]}
    for d in range(1, DAYS):
        if d % 7 in (5, 6) or d in down_days or 20 <= d <= 24:
            continue  # weekends and a quiet week
        buyers_by_day[d] = [n for i, n in enumerate(amounts) if (d + i) % (3 + i) == 0 and not (n == "Вера" and d > 30)]

    nights_done = 0  # day 0's jobs ran at the first start, before anyone registered
    for d in range(DAYS):
        day = START + timedelta(days=d)
        if d in down_days:
            if business.env is not None:
                await business.stop()
            continue
        # Morning: the bot is up (started again if it was off), the day's automatic work ran.
        clock.set(at(day, 16))
        if business.env is None:
            await business.start()
        else:
            await business.night_and_morning()
        while nights_done < d:  # what the catch-up covered: every day since the last run
            nights_done += 1
            model.night(START + timedelta(days=nights_done), clock.now())
        clock.advance(timedelta(minutes=1))
        await check_balances()

        clock.set(at(day, 17))
        for i, name in enumerate(buyers_by_day.get(d, [])):
            clock.advance(timedelta(minutes=5))
            op = await checkout(name, amounts[name] + d * 1_000, pay_max=(d + i) % 2 == 1)
            if name == "Борис" and d in (3, 45):
                await refund(name, op, None if d == 3 else 2_000)
                refunds_done.append(op)
        await check_balances()

        if d == KILL_DAY:
            await a_bot_process_dies(day)

        if d in abrupt_on:
            # A crash with messages still queued: a customer's purchase notification and a
            # broadcast to everyone. The restart delivers each exactly once.
            assert business.env is not None
            e = business.env
            await business.kill_sender()
            clock.set(at(day, 20))
            await checkout("Анна", 300_000, pay_max=False, notify=False)
            await compose_broadcast(e)
            await business.stop(abrupt=True)
            clock.set(at(day, 23))
            await business.start()
            await told_balance("Анна")
            for user in users.values():
                got = [m for m in business.tg.chat(user.id).bot_messages() if "Акция недели" in m.content]
                assert len(got) == 1, user.first_name
            await check_balances()

    await business.stop()
    assert refunds_done and business.starts >= len(down_days) // 2 + 2
    for name, person in model.people.items():
        assert person.purchases, name
    assert model.people["Вера"].winback_for is not None  # she stopped coming
    assert any(p.birthday_years for p in model.people.values())
    await assert_invariants(dom)  # what `loyalty-bot check` runs (bot/commands/core.py)
    if dom.db.dialect == "sqlite":  # the command itself on the file (PostgreSQL tests use a private schema)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "check", env={**os.environ, "DATABASE_URL": dom.db.url},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, out.decode()
