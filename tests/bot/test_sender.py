"""The outbox sender against the fake Telegram: pacing under enforced limits, 429, 403,
5xx and 400, crashes at every point of a row's life, broadcasts, the lease.

These tests drive the sender themselves (`start_sender=False`): `drain_once()` for
deterministic steps (business time is the ManualClock: backoff waits are clock moves, not
sleeps), or `run()` in a task where real pacing is the point.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from bot.sender import UNCERTAIN, OutboxSender, SendOutcome, render_args
from fakegram import FakeUser
from models.customers.accounts import touch_account
from models.kernel.outbox import enqueue, message_payload
from models.kernel.tables import ChatMigration, OutboxMessage, OutboxStatus, TelegramAccount

from .conftest import BotEnv

pytestmark = pytest.mark.botenv(start_sender=False)


_made: list[OutboxSender] = []


@pytest.fixture(autouse=True)
async def release_leases() -> AsyncIterator[None]:
    """Senders made by a test give their lease (a PostgreSQL connection) back at its end."""
    yield
    while _made:
        await _made.pop().lease.release()


def make_sender(env: BotEnv, **options: Any) -> OutboxSender:
    # No per-chat pacing unless a test is about pacing: these tests are about outcomes.
    values: dict[str, Any] = {"per_chat_interval": 0.0, "poll_interval": 0.02, "rate": 25.0}
    values.update(options)
    sender = OutboxSender(env.bot, env.services, env.i18n, **values)
    _made.append(sender)
    return sender


async def user_with_account(env: BotEnv, name: str = "Гость", language: str | None = None) -> FakeUser:
    user = env.customer(name)
    async with env.db.transaction() as s:
        account = await touch_account(s, user.id, name, None, None, env.clock.now())
        account.language = language
    return user


async def put(env: BotEnv, chat_id: int, n: int = 1, *, broadcast_id: int | None = None,
              payload: dict[str, Any] | None = None) -> list[int]:
    ids = []
    async with env.db.transaction() as s:
        for i in range(n):
            row = await enqueue(s, chat_id, payload or message_payload("notify-tier-up", {"tier": f"T{i + 1}"}),
                                env.clock.now(), broadcast_id=broadcast_id)
            await s.flush()
            ids.append(row.id)
    return ids


async def rows(env: BotEnv) -> dict[int, OutboxMessage]:
    async with env.db.reading() as s:
        return {r.id: r for r in (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()}


async def drain_all(sender: OutboxSender) -> None:
    while await sender.drain_once():
        pass


@pytest.fixture
async def running() -> AsyncIterator[list[tuple[OutboxSender, asyncio.Task[None], asyncio.Event]]]:
    """Senders started with `start(...)` in a test are stopped at its end."""
    started: list[tuple[OutboxSender, asyncio.Task[None], asyncio.Event]] = []
    yield started
    for _, task, stop in started:
        stop.set()
        await asyncio.wait_for(task, 10)


def start(running: list[Any], sender: OutboxSender) -> asyncio.Event:
    stop = asyncio.Event()
    running.append((sender, asyncio.create_task(sender.run(stop)), stop))
    return stop


def texts(user: FakeUser) -> list[str]:
    return [m.text or m.caption or "" for m in user.bot_messages()]


# --- pacing ---------------------------------------------------------------------------------


async def test_pacing_never_triggers_telegrams_flood_limits(botenv: BotEnv, running: list[Any]) -> None:
    botenv.tg.enforce_limits(per_chat_per_second=1, global_per_second=30)
    users = [await user_with_account(botenv, f"U{i}") for i in range(12)]
    for user in users:
        await put(botenv, user.id, 2)
    busy = users[0]
    await put(botenv, busy.id, 2)  # four messages to one chat
    sender = make_sender(botenv, per_chat_interval=1.0)
    start(running, sender)
    assert await botenv.tg.wait_until(lambda: botenv.tg.stats.total_sends == 26, timeout=15)
    stats = botenv.tg.stats
    assert stats.rate_limited == 0 and stats.statuses[429] == 0
    assert stats.max_in_window(1.0) <= 25
    for user in users:
        assert stats.max_in_window(1.0, chat_id=user.id) == 1
    # A chat's messages arrive in the order they were written.
    assert [t.split("«")[1].split("»")[0] for t in texts(busy)] == ["T1", "T2", "T1", "T2"]


async def test_a_burst_beyond_the_limits_is_waited_out(botenv: BotEnv) -> None:
    """No pacing at all: Telegram answers 429 retry_after; the sender waits and loses nothing."""
    botenv.tg.enforce_limits(per_chat_per_second=1, global_per_second=30)
    user = await user_with_account(botenv)
    ids = await put(botenv, user.id, 3)
    outcomes: list[SendOutcome] = []
    sender = make_sender(botenv, per_chat_interval=0.0, rate=1000.0)
    sender.add_listener(outcomes.append)
    while len([o for o in outcomes if o.status == "sent"]) < 3:
        await sender.drain_once()
        botenv.clock.advance(timedelta(seconds=1))  # retry_after is written as not_before
    assert botenv.tg.stats.rate_limited >= 1
    assert [t.split("«")[1][:2] for t in texts(user)] == ["T1", "T2", "T3"]  # each once, in order
    final = await rows(botenv)
    assert all(final[i].status is OutboxStatus.SENT and final[i].attempts == 1 for i in ids)


async def test_injected_429_pauses_and_retries_without_counting_an_attempt(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    [row_id] = await put(botenv, user.id)
    botenv.tg.fail_next("sendMessage", status=429, retry_after=1)
    outcomes: list[str] = []
    sender = make_sender(botenv)
    sender.add_listener(lambda o: outcomes.append(o.status))
    await sender.drain_once()
    assert outcomes == ["deferred"]
    assert (await rows(botenv))[row_id].status is OutboxStatus.PENDING
    botenv.clock.advance(timedelta(seconds=1))  # the row is due again after retry_after
    await sender.drain_once()  # waits out retry_after, then sends
    assert outcomes == ["deferred", "sent"]
    row = (await rows(botenv))[row_id]
    assert row.status is OutboxStatus.SENT and row.attempts == 1
    assert len(user.bot_messages()) == 1


class FakeTime:
    """A monotonic clock the sender sleeps on: sleeping moves it, nothing really waits."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def test_a_429_for_one_chat_does_not_hold_up_the_others(botenv: BotEnv) -> None:
    """Telegram's 429 for one chat (too many messages to that chat) pauses that chat only:
    the other customers' messages go out at once, the paused chat's after retry_after."""
    a = await user_with_account(botenv, "A")
    b = await user_with_account(botenv, "B")
    [a_row] = await put(botenv, a.id)
    b_rows = await put(botenv, b.id, 3)
    botenv.tg.fail_next("sendMessage", status=429, retry_after=30, chat_id=a.id)
    time_ = FakeTime()
    sender = make_sender(botenv, monotonic=time_.monotonic, sleep=time_.sleep)
    seen: list[tuple[str, int, float]] = []
    sender.add_listener(lambda o: seen.append((o.status, o.chat_id, time_.now)))
    await drain_all(sender)
    assert [(status, chat) for status, chat, _ in seen] == [("deferred", a.id)] + [("sent", b.id)] * 3
    assert all(at < 1030.0 for _, _, at in seen)  # B did not wait for A's retry_after
    final = await rows(botenv)
    assert final[a_row].status is OutboxStatus.PENDING
    assert all(final[i].status is OutboxStatus.SENT for i in b_rows)

    botenv.clock.advance(timedelta(seconds=30))
    await drain_all(sender)
    assert seen[-1][:2] == ("sent", a.id) and len(a.bot_messages()) == 1
    assert botenv.tg.stats.statuses[429] == 1


async def test_429s_from_two_chats_pause_the_whole_sender(botenv: BotEnv) -> None:
    """A second chat's 429 while the first one's pause runs means the bot as a whole is over
    Telegram's limit: nothing more goes out until retry_after has passed."""
    a, b, c = [await user_with_account(botenv, n) for n in ("A", "B", "C")]
    await put(botenv, a.id)
    await put(botenv, b.id)
    botenv.tg.fail_next("sendMessage", status=429, retry_after=30, count=2)
    time_ = FakeTime()
    sender = make_sender(botenv, monotonic=time_.monotonic, sleep=time_.sleep)
    seen: list[tuple[str, int, float]] = []
    sender.add_listener(lambda o: seen.append((o.status, o.chat_id, time_.now)))
    await drain_all(sender)
    assert [status for status, _, _ in seen] == ["deferred", "deferred"]
    await put(botenv, c.id)  # a third customer's message, due at once
    await drain_all(sender)
    assert [(status, chat) for status, chat, _ in seen[2:]] == [("sent", c.id)]
    assert seen[2][2] >= 1030.0  # it waited for the whole sender's pause


async def test_the_staff_group_gets_at_most_twenty_messages_a_minute(botenv: BotEnv) -> None:
    """Telegram allows a group about 20 messages a minute: a burst of staff alerts is spread
    over minutes (the 21st waits until the first leaves the 60-second window), while a
    customer's messages in the same queue are not held up by the group's pace."""
    group = botenv.staff_chat.id
    customer = await user_with_account(botenv, "A")
    staff_alert = message_payload("notify-tier-up", {"tier": "T1"}) | {"locale": "ru"}
    await put(botenv, group, 25, payload=staff_alert)
    await put(botenv, customer.id, 2)
    time_ = FakeTime()
    sender = make_sender(botenv, monotonic=time_.monotonic, sleep=time_.sleep)
    sent: dict[int, list[float]] = {group: [], customer.id: []}

    async def record(make_request: Any, bot: Any, method: Any) -> Any:  # when each call starts
        sent[int(method.chat_id)].append(time_.now)
        return await make_request(bot, method)

    botenv.bot.session.middleware(record)
    await drain_all(sender)
    assert len(sent[group]) == 25 and len(botenv.staff_chat.bot_messages()) == 25
    times = sent[group]
    assert all(times[i + 20] - times[i] >= 60.0 for i in range(len(times) - 20))  # no 21 in a minute
    assert times[19] - times[0] < 60.0  # the first twenty were not held back
    assert len(sent[customer.id]) == 2 and max(sent[customer.id]) < times[0] + 60.0
    assert botenv.services.settings.group_messages_per_minute == 20 == sender.group_per_minute


@pytest.mark.botenv(postgres=True)
async def test_a_revoked_token_pauses_sending_and_the_owner_is_told_once_it_is_back(
        botenv: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    """401 (the token revoked in @BotFather) is not an outage to burn attempts on: the rows go
    back without an attempt, one ERROR line says what to do, one message a minute probes the
    token, and when it works again everything goes out in order and each owner is told once."""
    a = await user_with_account(botenv, "A")
    b = await user_with_account(botenv, "B")
    ids = await put(botenv, a.id, 2) + await put(botenv, b.id, 2)
    botenv.allow_errors = True  # the one ERROR line is checked below
    botenv.tg.revoke_token()
    time_ = FakeTime()
    sender = make_sender(botenv, monotonic=time_.monotonic, sleep=time_.sleep)
    with caplog.at_level(logging.INFO, logger="bot.sender"):
        await drain_all(sender)
        first = len(botenv.tg.calls("sendMessage"))
        assert first == 2  # the two chats' first messages were already on their way, no more
        final = await rows(botenv)
        assert all(final[i].status is OutboxStatus.PENDING and final[i].attempts == 0 for i in ids)
        botenv.clock.advance(timedelta(seconds=59))
        await drain_all(sender)
        assert len(botenv.tg.calls("sendMessage")) == first  # nothing before the next probe
        for _ in range(3):  # the token stays revoked for three more minutes
            botenv.clock.advance(timedelta(seconds=61))
            await drain_all(sender)
        assert len(botenv.tg.calls("sendMessage")) == first + 3  # one probe a minute
        assert all(r.attempts == 0 for r in (await rows(botenv)).values())  # the window is not used up
        botenv.tg.restore_token()
        botenv.clock.advance(timedelta(seconds=61))
        await drain_all(sender)
        await drain_all(sender)  # the owner's alert, written when the first message went through
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "401" in errors[0].getMessage() and "BOT_TOKEN" in errors[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
    assert [t.split("«")[1][:2] for t in texts(a)] == ["T1", "T2"]
    assert [t.split("«")[1][:2] for t in texts(b)] == ["T1", "T2"]
    final = await rows(botenv)
    assert all(final[i].status is OutboxStatus.SENT and final[i].attempts == 1 for i in ids)
    [alert] = texts(botenv.owner)
    assert "снова отправляет сообщения" in alert and "ничего не потеряно" in alert
    # A later 401 is a new outage (its own alert); the same one is never announced twice.
    await put(botenv, a.id)
    botenv.tg.revoke_token()
    await drain_all(sender)
    botenv.tg.restore_token()
    botenv.clock.advance(timedelta(seconds=61))
    await drain_all(sender)
    await drain_all(sender)
    assert len(texts(botenv.owner)) == 2 and len(texts(a)) == 3


@pytest.mark.botenv(postgres=True)
async def test_a_429_is_written_as_not_before_so_a_restarted_sender_waits_it_out(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    ids = await put(botenv, user.id, 2)
    botenv.tg.fail_next("sendMessage", status=429, retry_after=30)
    paused = make_sender(botenv, holder="process-1")
    await paused.drain_once()  # 429: the first row is deferred, the chat's second goes back with it
    then = botenv.clock.now()
    final = await rows(botenv)
    assert [final[i].status for i in ids] == [OutboxStatus.PENDING] * 2
    assert [final[i].not_before for i in ids] == [then + timedelta(seconds=30)] * 2
    assert [final[i].attempts for i in ids] == [0, 0]
    await paused.lease.release()  # the process stops (or dies) during the pause

    restarted = make_sender(botenv, holder="process-2")
    await drain_all(restarted)
    botenv.clock.advance(timedelta(seconds=29))
    await drain_all(restarted)
    assert len(botenv.tg.calls("sendMessage")) == 1  # nothing before retry_after: no second 429
    botenv.clock.advance(timedelta(seconds=1))
    await drain_all(restarted)
    assert [t.split("«")[1][:2] for t in texts(user)] == ["T1", "T2"]
    assert len(botenv.tg.calls("sendMessage")) == 3 and botenv.tg.stats.statuses[429] == 1
    final = await rows(botenv)
    assert all(final[i].status is OutboxStatus.SENT and final[i].attempts == 1 for i in ids)


@pytest.mark.botenv(postgres=True)
async def test_a_group_upgraded_to_a_supergroup_gets_its_messages_at_the_new_id(
        botenv: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    old = botenv.staff_chat.id  # STAFF_CHAT_ID
    staff_alert = message_payload("notify-tier-up", {"tier": "T1"}) | {"locale": "ru"}
    first = await put(botenv, old, payload=staff_alert)
    first += await put(botenv, old, payload=message_payload("notify-tier-up", {"tier": "T2"}))
    new = botenv.tg.upgrade_group(old)
    sender = make_sender(botenv, holder="process-1")
    with caplog.at_level(logging.WARNING, logger="bot.sender"):
        await drain_all(sender)
    assert f"STAFF_CHAT_ID={new.id}" in caplog.text
    # Resent once to the new id (no attempt counted); the second row went there directly.
    assert len(botenv.tg.calls("sendMessage", chat_id=old)) == 1
    assert [m.text.split("«")[1][:2] for m in new.chat.bot_messages()] == ["T1", "T2"]
    final = await rows(botenv)
    assert all(final[i].status is OutboxStatus.SENT and final[i].attempts == 1 and final[i].chat_id == new.id
               for i in first)
    async with botenv.db.reading() as s:
        assert (await s.get(ChatMigration, old)).new_chat_id == new.id  # type: ignore[union-attr]
    await sender.lease.release()

    # STAFF_CHAT_ID still names the old group: a restarted sender remembers the move.
    [later] = await put(botenv, old, payload=message_payload("notify-tier-up", {"tier": "T3"}))
    await drain_all(make_sender(botenv, holder="process-2"))
    assert len(botenv.tg.calls("sendMessage", chat_id=old)) == 1
    assert [m.text.split("«")[1][:2] for m in new.chat.bot_messages()] == ["T1", "T2", "T3"]
    assert botenv.staff_chat.chat.bot_messages() == []  # nothing lost, nothing twice
    row = (await rows(botenv))[later]
    assert row.status is OutboxStatus.SENT and row.chat_id == new.id and row.attempts == 1


async def test_a_resend_to_the_new_id_is_tried_once(botenv: BotEnv) -> None:
    old = botenv.staff_chat.id
    [row_id] = await put(botenv, old)
    botenv.tg.fail_next("sendMessage", status=400, migrate_to_chat_id=-100555, count=None)
    sender = make_sender(botenv)
    await drain_all(sender)
    row = (await rows(botenv))[row_id]
    assert row.status is OutboxStatus.FAILED and row.attempts == 1 and "upgraded" in (row.error or "")
    assert len(botenv.tg.calls("sendMessage")) == 2
    botenv.tg.clear_faults()


# --- 403, 5xx, 400 ----------------------------------------------------------------------------


@pytest.mark.botenv(postgres=True)
async def test_blocked_user_is_marked_unreachable_and_never_retried(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    other = await user_with_account(botenv, "Другой")
    await user.block_bot(notify=False)
    blocked_ids = await put(botenv, user.id, 3)
    [fine] = await put(botenv, other.id)
    sender = make_sender(botenv, per_chat_interval=0.0)
    await drain_all(sender)
    final = await rows(botenv)
    assert [final[i].status for i in blocked_ids] == [OutboxStatus.BLOCKED] * 3
    assert final[fine].status is OutboxStatus.SENT
    assert len(botenv.tg.calls("sendMessage", chat_id=user.id)) == 1  # the first 403 stopped the rest
    async with botenv.db.reading() as s:
        assert (await s.get(TelegramAccount, user.id)).unreachable is True  # type: ignore[union-attr]
    botenv.clock.advance(timedelta(days=1))
    await drain_all(sender)
    assert len(botenv.tg.calls("sendMessage", chat_id=user.id)) == 1


def twin(seed: int) -> random.Random:
    """The sender's jitter source and a copy to predict its draws."""
    return random.Random(seed)


@pytest.mark.botenv(postgres=True)
async def test_server_errors_back_off_with_jitter_then_succeed(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    [row_id] = await put(botenv, user.id)
    botenv.tg.fail_next("sendMessage", status=502, count=2)
    expect = twin(7)
    sender = make_sender(botenv, rng=twin(7))
    await drain_all(sender)
    row = (await rows(botenv))[row_id]
    first = timedelta(seconds=2 * expect.uniform(0.5, 1.0))
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert row.not_before == botenv.clock.now() + first
    assert timedelta(seconds=1) <= first <= timedelta(seconds=2)
    await drain_all(sender)  # not due yet: business time has not moved
    assert len(botenv.tg.calls("sendMessage")) == 1
    botenv.clock.advance(first)
    await drain_all(sender)
    row = (await rows(botenv))[row_id]
    second = timedelta(seconds=4 * expect.uniform(0.5, 1.0))
    assert row.attempts == 2 and row.not_before == botenv.clock.now() + second
    botenv.clock.advance(second)
    await drain_all(sender)
    row = (await rows(botenv))[row_id]
    assert row.status is OutboxStatus.SENT and row.attempts == 3 and len(user.bot_messages()) == 1


def test_backoff_is_capped_at_an_hour(botenv: BotEnv) -> None:
    sender = make_sender(botenv, rng=twin(3))
    waits = [sender.backoff(n) for n in range(1, 40)]
    assert all(w <= timedelta(hours=1) for w in waits)
    assert waits[-1] >= timedelta(minutes=30)  # the cap × the jitter's lower half


@pytest.mark.botenv(postgres=True)
async def test_a_ten_minute_outage_loses_nothing(botenv: BotEnv) -> None:
    """Telegram answers 502 for 10 minutes of business time, then recovers: every
    notification arrives exactly once, none failed (it used to fail after ~62 s)."""
    users = [await user_with_account(botenv, f"U{i}") for i in range(4)]
    ids: list[int] = []
    for user in users:
        ids += await put(botenv, user.id, 2)
    recovered_at = botenv.clock.now() + timedelta(minutes=10)
    botenv.tg.fail_next("sendMessage", status=502, count=None, when=lambda: botenv.clock.now() < recovered_at)
    sender = make_sender(botenv, rng=twin(11))
    for _ in range(600):  # ten-second steps: up to 100 minutes of business time
        await drain_all(sender)
        final = await rows(botenv)
        if all(final[i].status is OutboxStatus.SENT for i in ids):
            break
        assert not [i for i in ids if final[i].status is OutboxStatus.FAILED]
        botenv.clock.advance(timedelta(seconds=10))
    final = await rows(botenv)
    assert [final[i].status for i in ids] == [OutboxStatus.SENT] * len(ids)
    assert botenv.tg.stats.statuses[502] >= len(users)  # the outage was real
    assert min(final[i].sent_at for i in ids) >= recovered_at  # type: ignore[type-var]
    for user in users:
        # Each once (a retried row may be overtaken by the chat's next one: jitter).
        assert sorted(t.split("«")[1][:2] for t in texts(user)) == ["T1", "T2"]
    botenv.tg.clear_faults()


@pytest.mark.botenv(postgres=True)
async def test_a_row_past_the_retry_window_fails(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    [row_id] = await put(botenv, user.id)
    botenv.tg.fail_next("sendMessage", status=500, count=None)
    sender = make_sender(botenv, rng=twin(5), retry_window=timedelta(hours=2))
    written = botenv.clock.now()
    while botenv.clock.now() <= written + timedelta(hours=3):
        await drain_all(sender)
        if (await rows(botenv))[row_id].status is OutboxStatus.FAILED:
            break
        botenv.clock.advance(timedelta(minutes=5))
    row = (await rows(botenv))[row_id]
    assert row.status is OutboxStatus.FAILED and "TelegramServerError" in (row.error or "")
    assert botenv.clock.now() >= written + timedelta(hours=2)  # not before the window was over
    assert row.attempts > 6  # retried for the time, not for a count
    botenv.tg.clear_faults()


def test_the_retry_window_defaults_to_the_setting(botenv: BotEnv) -> None:
    assert make_sender(botenv).retry_window == timedelta(hours=24)


async def test_bad_request_fails_at_once(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    [row_id] = await put(botenv, user.id)
    botenv.tg.fail_next("sendMessage", status=400, description="Bad Request: chat not found")
    sender = make_sender(botenv)
    await drain_all(sender)
    row = (await rows(botenv))[row_id]
    assert row.status is OutboxStatus.FAILED and row.attempts == 1 and "chat not found" in (row.error or "")


# --- crashes ------------------------------------------------------------------------------------


@pytest.mark.botenv(postgres=True)
async def test_crash_between_reserving_and_sending_loses_and_repeats_nothing(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    ids = await put(botenv, user.id, 2)
    ids += await put(botenv, user.id, 1, broadcast_id=7, payload={"text": "<b>Акция</b>", "photo": None})
    crashed = make_sender(botenv, holder="process-1")
    assert await crashed._hold_lease()
    reserved = await crashed._reserve()  # the process dies here: nothing was sent
    assert [r.id for r in reserved] == ids
    await crashed.lease.release()  # (a dead process's lease expires; releasing is the same for the test)

    restarted = make_sender(botenv, holder="process-2", per_chat_interval=0.0)
    await drain_all(restarted)
    assert user.bot_messages() == []  # still reserved by the dead process: invisible
    botenv.clock.advance(restarted.claim_ttl)
    await drain_all(restarted)
    final = await rows(botenv)
    assert all(final[i].status is OutboxStatus.SENT for i in ids)
    assert len(user.bot_messages()) == 3  # each exactly once


@pytest.mark.botenv(postgres=True)
async def test_crash_during_the_http_call_follows_the_documented_semantics(botenv: BotEnv) -> None:
    """A row left in 'sending': notifications are sent again (at least once), broadcast rows
    are never resent (at most once) and are reported as failed with the reason."""
    user = await user_with_account(botenv)
    [note] = await put(botenv, user.id)
    [promo] = await put(botenv, user.id, broadcast_id=9, payload={"text": "Промо", "photo": None})
    crashed = make_sender(botenv, holder="process-1")
    assert await crashed._hold_lease()
    for row in await crashed._reserve():
        assert await crashed._mark_sending(row)
        await crashed._send(row)  # Telegram got both; the process died before writing 'sent'
    await crashed.lease.release()
    assert len(user.bot_messages()) == 2

    outcomes: list[SendOutcome] = []
    restarted = make_sender(botenv, holder="process-2", per_chat_interval=0.0)
    restarted.add_listener(outcomes.append)
    await drain_all(restarted)
    final = await rows(botenv)
    assert final[note].status is OutboxStatus.SENT and final[note].attempts == 2
    assert final[promo].status is OutboxStatus.FAILED and final[promo].error == UNCERTAIN
    assert [m.text for m in user.bot_messages()].count("Промо") == 1  # nobody gets a broadcast twice
    assert len(user.bot_messages()) == 3  # the notification was repeated: at least once
    assert any(o.row_id == promo and o.broadcast_id == 9 and o.status == "failed" for o in outcomes)


async def test_graceful_stop_leaves_nothing_in_flight(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    ids = await put(botenv, user.id, 3)
    sender = make_sender(botenv, per_chat_interval=1.0)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    assert await botenv.tg.wait_until(lambda: len(user.bot_messages()) == 1, timeout=5)
    stop.set()  # SIGTERM while two rows wait for their per-chat turn
    await asyncio.wait_for(task, 10)
    final = await rows(botenv)
    assert [final[i].status for i in ids] == [OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.PENDING]
    assert all(final[i].not_before <= botenv.clock.now() for i in ids[1:])  # released at once
    await drain_all(make_sender(botenv, per_chat_interval=0.0))
    assert len(user.bot_messages()) == 3


# --- payloads, broadcasts, the lease ----------------------------------------------------------


async def test_raw_broadcast_payload_with_photo_buttons_and_progress(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    photo = botenv.tg.store_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64)[-1].file_id
    await put(botenv, user.id, broadcast_id=3, payload={
        "text": "<b>Скидка</b> до пятницы", "photo": photo,
        "buttons": [[{"text": "Подробнее", "url": "https://example.com/sale"}]]})
    progress: list[tuple[int | None, str]] = []
    sender = make_sender(botenv)
    sender.add_listener(lambda o: progress.append((o.broadcast_id, o.status)))
    await drain_all(sender)
    message = user.last_bot_message()
    assert message is not None and message.kind == "photo"
    assert message.caption == "Скидка до пятницы"
    assert message.button("Подробнее") == {"text": "Подробнее", "url": "https://example.com/sale"}
    assert progress == [(3, "sent")]


async def test_notifications_render_in_the_recipients_language(botenv: BotEnv) -> None:
    ru = await user_with_account(botenv, "Иван")
    en = await user_with_account(botenv, "John", language="en")
    payload = message_payload("notify-certificate", {"kind": "birthday", "points": 1000, "cap": "20",
                                                     "expires": "2026-03-17T09:00:00+00:00"})
    await put(botenv, ru.id, payload=payload)
    await put(botenv, en.id, payload=payload)
    await drain_all(make_sender(botenv))
    assert texts(ru) == ["🎁 С днём рождения! Вам подарок — сертификат на 1\u00a0000 баллов. "
                         "Им можно оплатить до 20% чека, действует до 17.03.2026."]
    assert texts(en) == ["🎁 Happy birthday! Here is a gift: a certificate for 1,000 points. "
                         "It pays up to 20% of a check and is valid until 17 Mar 2026."]


def test_argument_conventions() -> None:
    from zoneinfo import ZoneInfo

    moscow = ZoneInfo("Europe/Moscow")
    out = render_args({"amount": 1_225_050, "refund_kopecks": 100, "expires": "2026-03-01T22:30:00+00:00",
                       "date": "2026-05-09", "delta": -40, "points": 5, "until_at": ""}, "ru", moscow)
    assert out["amount"] == "12\u00a0250,50\u00a0₽" and out["refund_kopecks"] == "1\u00a0₽"
    assert out["expires"] == "02.03.2026"  # 01:30 in Moscow is already the 2nd
    assert out["date"] == "09.05.2026" and out["until_at"] == ""
    assert (out["delta_sign"], out["delta_abs"], out["points"]) == ("−", 40, 5)


@pytest.mark.botenv(postgres=True)
async def test_only_one_sender_holds_the_lease(botenv: BotEnv) -> None:
    user = await user_with_account(botenv)
    first = make_sender(botenv, holder="a")
    second = make_sender(botenv, holder="b")
    assert await first._hold_lease()
    await put(botenv, user.id)
    assert await second.drain_once() == 0
    assert await first.drain_once() == 1
    await first.lease.release()
    await put(botenv, user.id)
    assert await second.drain_once() == 1
    await second.lease.release()


# --- the pipeline: bulk writes, reservations ahead, outcomes not yet written at a crash --------


class SlowWrites:
    """Simulated time for the sender: it moves only when the sender sleeps and by `cost`
    seconds per committed write transaction (a slow, busy database)."""

    def __init__(self, env: BotEnv, cost: float) -> None:
        self.now = 1000.0
        self.cost = cost
        self.writes = 0
        self._wrote: set[int] = set()
        engine = env.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        self._engine = engine

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE")):
            self._wrote.add(id(conn))

    def _commit(self, conn: Any) -> None:
        if id(conn) in self._wrote:
            self._wrote.discard(id(conn))
            self.writes += 1
            self.now += self.cost

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._statement)
        event.remove(self._engine, "commit", self._commit)


@pytest.mark.botenv(postgres=True)
async def test_slow_writes_cost_neither_rate_nor_a_write_per_outcome(botenv: BotEnv) -> None:
    """Each write takes 0.1 s (2.5 send slots at 25/s): rows due meanwhile are marked
    `sending` together in the next write, which also carries the outcomes gathered so far.
    The schedule is kept (30 sends in about 29/25 s) and no one-second window holds more than 25."""
    users = [await user_with_account(botenv, f"U{i}") for i in range(30)]
    for user in users:
        await put(botenv, user.id)
    time_ = SlowWrites(botenv, cost=0.1)
    try:
        sender = make_sender(botenv, rate=25.0, per_chat_interval=1.0, batch_size=30,
                             monotonic=time_.monotonic, sleep=time_.sleep)
        launches: list[float] = []
        send = sender._send

        async def recording(row: Any) -> int | None:
            launches.append(time_.now)
            return await send(row)

        sender._send = recording  # type: ignore[method-assign]
        assert await sender.drain_once() == 30
        writes = time_.writes
    finally:
        time_.close()
    final = await rows(botenv)
    assert all(r.status is OutboxStatus.SENT and r.attempts == 1 for r in final.values())
    assert all(len(user.bot_messages()) == 1 for user in users)
    # Taking the lease, recovery, the reservation, one write per group of 2-3 rows, the last
    # outcomes (at most two writes). The old sender: 3 + 2 writes per row = 63.
    assert writes <= 3 + 30 // 2 + 2
    # Late slots are caught up: the schedule (29/25 s) plus at most two writes' worth of lateness;
    # the old sender needed more than 6 s here.
    assert launches[-1] - launches[0] <= 29 / 25 + 2 * 0.1 + 1e-9
    assert max(sum(1 for t in launches if start <= t < start + 1.0) for start in launches) <= 25


async def test_reservations_continue_while_a_call_hangs(botenv: BotEnv, running: list[Any]) -> None:
    """No batch barrier: while one chat's call hangs, the next batches are reserved and sent."""
    users = [await user_with_account(botenv, f"U{i}") for i in range(25)]
    for user in users:
        await put(botenv, user.id)
    botenv.tg.slow("sendMessage", 3.0, chat_id=users[0].id, count=1)
    sender = make_sender(botenv, rate=200.0, batch_size=5)
    start(running, sender)
    assert await botenv.tg.wait_until(lambda: botenv.tg.stats.total_sends >= 24, timeout=10)
    hanging = min((await rows(botenv)).values(), key=lambda r: r.id)
    assert hanging.chat_id == users[0].id and hanging.status is OutboxStatus.SENDING  # still in its call
    assert await botenv.tg.wait_until(lambda: botenv.tg.stats.total_sends == 25, timeout=10)


@pytest.mark.botenv(postgres=True)
async def test_crash_with_outcomes_not_yet_written(botenv: BotEnv) -> None:
    """Delivered, but the process died before the outcome write: the row is still `sending`.
    The broadcast row is not resent (failed "uncertain"), the notification is (at least once)."""
    user = await user_with_account(botenv)
    [note] = await put(botenv, user.id)
    [promo] = await put(botenv, user.id, broadcast_id=5, payload={"text": "Промо", "photo": None})
    crashed = make_sender(botenv, holder="process-1")
    assert await crashed._hold_lease()
    group = await crashed._reserve()
    assert await crashed._commit(group) == {note, promo}  # one write marks the group `sending`
    for row in group:
        await crashed._deliver(row)  # sent; its outcome waits for the next write, which never comes
    assert [r.outcome.status for r in crashed._results] == ["sent", "sent"]
    assert {r.status for r in (await rows(botenv)).values()} == {OutboxStatus.SENDING}
    await crashed.lease.release()

    restarted = make_sender(botenv, holder="process-2")
    await drain_all(restarted)
    final = await rows(botenv)
    assert final[promo].status is OutboxStatus.FAILED and final[promo].error == UNCERTAIN
    assert final[note].status is OutboxStatus.SENT and final[note].attempts == 2
    assert [m.text for m in user.bot_messages()].count("Промо") == 1
    assert len(user.bot_messages()) == 3


@pytest.mark.botenv(postgres=True)
async def test_the_group_mark_skips_rows_cancelled_after_their_reservation(botenv: BotEnv) -> None:
    users = [await user_with_account(botenv, f"U{i}") for i in range(3)]
    ids = [(await put(botenv, u.id, broadcast_id=4, payload={"text": "Акция", "photo": None}))[0] for u in users]
    sender = make_sender(botenv)
    assert await sender._hold_lease()
    reserved = await sender._reserve()
    async with botenv.db.transaction() as s:  # the owner presses Stop meanwhile
        await s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids[1:]))
                        .values(status=OutboxStatus.CANCELLED))
    assert await sender._commit(reserved) == {ids[0]}  # one statement for the group
    final = await rows(botenv)
    assert [final[i].status for i in ids] == [OutboxStatus.SENDING, OutboxStatus.CANCELLED,
                                              OutboxStatus.CANCELLED]
    assert [final[i].attempts for i in ids] == [1, 0, 0]


async def test_outcomes_are_written_long_before_the_lease_or_a_reservation_expires(botenv: BotEnv) -> None:
    sender = make_sender(botenv, flush_interval=5.0, lease_ttl=timedelta(seconds=2),
                         claim_ttl=timedelta(seconds=4))
    assert sender.flush_interval == 0.5
    user = await user_with_account(botenv)
    [row_id] = await put(botenv, user.id)
    outcomes: list[str] = []
    sender.add_listener(lambda o: outcomes.append(o.status))
    assert await sender.drain_once() == 1
    # Written before drain_once returns; listeners hear of it only once it is written.
    assert (await rows(botenv))[row_id].status is OutboxStatus.SENT and outcomes == ["sent"]
