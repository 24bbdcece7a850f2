"""The outbox sender: the one place that delivers notifications and broadcasts.

Rows are written to `outbox` by the domain in the same transaction as the change they
announce (models/kernel/outbox.py); this task drains them.

Payloads
--------
* Translated: `{"key": "notify-purchase", "args": {...}, "markup": {"kind": ..., ...}}`,
  rendered when reserved (moments before the send) in the recipient's language: `TelegramAccount.language` (stored at
  registration from Telegram's language code, changed in Settings), else Russian. A
  payload may carry `"locale"` to force one (staff-chat alerts do not have an account).
  Argument conventions (`render_args`):
    - `amount` and any `*_kopecks` → money ("12 250 ₽"), the value being integer kopecks;
    - `expires`, `date` and any `*_date` / `*_at` → a date ("12.03.2026" / "12 Mar 2026"),
      the value an ISO string (a datetime is shown as its date in the business's zone);
      an empty string stays empty;
    - `delta` and any `*_delta` additionally get `<name>_abs` (absolute value, for plurals)
      and `<name>_sign` ("+" or "−");
    - a dict is a program text given per language (models.program.rules.LocalText): the recipient's
      language's text, else the default one;
    - everything else is passed through (integers stay numbers, so plurals work).
  `markup` is built by the registry in bot/markups.py.
* Raw (owner's broadcasts): `{"text": html, "photo": file_id | None,
  "buttons": [[{"text", "url"}]]}` sent as is (sendPhoto with the text as caption when
  there is a photo).

Pacing and faults
-----------------
Send slots are a schedule on the wall clock, 1/`rate` apart (a token bucket refilled at
`rate`). A send that starts late (a slow write, a busy machine) uses its slot a moment later,
up to `catch_up` seconds behind the schedule, but never more than ⌈rate⌉ sends start in any
one-second window, so catching up cannot exceed the rate either; a slot with nothing to
send is not saved up for a burst later. One message per `per_chat_interval` seconds to a
chat, measured from the previous answer to that chat, so network jitter can never squeeze
two sends into one second. A group (the staff group) gets at most `group_per_minute` messages
(GROUP_MESSAGES_PER_MINUTE, default 20, Telegram's limit) in any 60 seconds, counted from the
send starts of this process (a restart starts the count afresh; a 429 then still pauses that
chat). A chat's messages go one at a time in id order. 429 → that chat
pauses for `retry_after` while the other chats' messages keep going (a second chat's 429
during the pause means the bot as a whole is over the limit: then the whole sender pauses
too), the row (and the chat's later reserved rows)
go back to the queue without counting an attempt, with `not_before` = now + `retry_after`,
so a sender restarted during the pause waits it out too. 400 with `migrate_to_chat_id` (a
group upgraded to a supergroup, e.g. the staff group) → the row is resent at once to the new
id (the same attempt; once: a second "upgraded" fails it), the move is remembered in
`chat_migrations` with the old id's queued rows moved to the new one, rows queued for the
old id later are sent to the new one when reserved, and a warning tells the operator to set
STAFF_CHAT_ID to the new id. 403 → the account is marked unreachable
and this and every other queued row for that chat become `blocked`, never retried. 5xx,
timeouts and network errors (a Telegram outage) → retried with exponential backoff through
`not_before` (2^n s × a random factor in [0.5, 1], so a recovering Telegram is not hit by
every row at once; at most an hour) for a TIME, not a count: until `retry_window`
(OUTBOX_RETRY_HOURS, 24 h) has passed since the row was written (or requeued by hand,
`loyalty-bot outbox retry`: `payload["requeued_at"]`); a failure after that → `failed`.
400 and anything unexpected → `failed` at once (retrying cannot fix it).

The pipeline (why the database does not bound the rate)
-------------------------------------------------------
* Reservations run in the background: while rows are being sent, the next ones are claimed
  (`lookahead` seconds' worth, at least `batch_size`) and rendered (one language query per
  reservation), so nothing waits for a batch to finish and nothing but the HTTP call stands
  between marking a row `sending` and sending it.
* When send slots come, the rows due (the first queued row of each chat that may receive
  now, as many as there are free slots) are marked `sending` in ONE statement, and their
  HTTP calls start right after it commits. The same write transaction carries every outcome
  gathered since the previous one (`sent`, retry, `failed`, the 429 give-backs). So there is
  about one write per group, never two per message; when writes are slow, more slots pass
  during one, and the next group is correspondingly larger: the rate is kept.
* Outcomes not carried by a launch are written after `flush_interval` (0.5 s; at most a
  quarter of the lease's and of the reservations' lifetimes), at once when the next launch
  is farther away than that, and always before `drain_once` returns or the sender stops.
  Listeners (broadcast progress) hear of an outcome once it is written, so the counters the
  owner sees are the database's. A 403 is written at once (it blocks the chat's other rows).

Delivery semantics (what a crash can do)
---------------------------------------
Only one sender runs: it holds the "outbox-sender" lease (models/kernel/leases.py) and stops
sending if the lease is lost. A row goes through:

1. *reserved*: still `pending`, `not_before` pushed `claim_ttl` ahead so it is not
   picked again while it waits for its turn (extended while it waits). Nothing was sent.
   A crash here loses nothing: the row is due again after `claim_ttl` and is sent once.
2. *sending*: written (and committed, with the rest of its group) immediately before the
   HTTP call; the group's calls start as soon as that write returns.
3. `sent` (or retry / failed / blocked): gathered when the answer comes and written with
   the next write (the next group's mark or a flush, within `flush_interval`).

A row left in `sending` is therefore one whose HTTP call had started (or was about to, in
the instant between the commit and the request) or whose answer came but was not written
yet. A graceful stop (SIGTERM) never leaves one: calls under way finish, every outcome is
written and reserved rows are released. After a hard crash (kill -9, power loss) the next
sender resolves leftover `sending` rows explicitly when it takes the lease:

* notifications (no `broadcast_id`): sent again — **at least once**. Losing "you got
  520 points" is worse than seeing it twice.
* broadcast rows: **at most once** — marked `failed` with error
  "uncertain: ..." and never resent, so nobody receives an advertisement twice, and the
  recipient is not silently skipped either: the row is counted as failed with that
  reason in the broadcast's progress.

The uncertain rows are the calls in flight plus the answers not yet written: at most one
group and the outcomes of the last `flush_interval` (in practice the last write's worth,
a handful of rows). Nearly all of them were delivered; a recipient misses the message only
if the crash falls between the commit and the request reaching Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import Integer, Table, bindparam, func, select, update

from bot.i18n import DEFAULT_LOCALE, LOCALES, I18n, format_date, format_money
from bot.keyboards import NO_PREVIEW
from bot.markups import build_markup, url_buttons
from bot.services import Services
from models.kernel import (
    ChatMigration,
    Clock,
    Lease,
    OutboxMessage,
    OutboxStatus,
    Outgoing,
    TelegramAccount,
    enqueue_many,
    message_payload,
)
from models.program import text_in

log = logging.getLogger(__name__)

LEASE_NAME = "outbox-sender"
UNCERTAIN = ("uncertain: the sender stopped during the HTTP call or before writing its answer; "
             "not resent so nobody gets it twice")
MAX_BACKOFF = timedelta(hours=1)
PER_CHAT_IN_BATCH = 3
GROUP_WINDOW = 60.0  # seconds: groups are paced per minute, not per second


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one row; given to listeners (broadcast progress counters)."""

    row_id: int
    chat_id: int
    broadcast_id: int | None
    status: str  # "sent", "retry", "failed", "blocked", "deferred" (429: back in the queue)
    error: str | None = None
    message_id: int | None = None


Listener = Callable[[SendOutcome], Awaitable[None] | None]


@dataclass(eq=False)
class _Row:
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    attempts: int
    broadcast_id: int | None
    retry_from: datetime | None = None  # the retry window starts here (written or requeued)
    claimed_at: datetime | None = None  # business time of the reservation (extended while waiting)
    rendered: tuple[str, str | None, InlineKeyboardMarkup | None] | None = None
    render_error: Exception | None = None


@dataclass
class _Result:
    """An outcome waiting for the next write."""

    at: float  # monotonic time it was gathered
    params: dict[str, Any]
    outcome: SendOutcome


_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
# One statement for every kind of outcome (executemany): a column the outcome does not set
# keeps its value. Only a row still `sending` is touched: if another sender already
# resolved it (this one lost its lease), that resolution stands.
_WRITE_OUTCOME = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("o_id"), _OUTBOX.c.status == OutboxStatus.SENDING)
    .values(status=bindparam("o_status", type_=_OUTBOX.c.status.type),
            error=bindparam("o_error", type_=_OUTBOX.c.error.type),
            sent_at=func.coalesce(bindparam("o_sent_at", type_=_OUTBOX.c.sent_at.type), _OUTBOX.c.sent_at),
            not_before=func.coalesce(bindparam("o_not_before", type_=_OUTBOX.c.not_before.type),
                                     _OUTBOX.c.not_before),
            attempts=_OUTBOX.c.attempts + bindparam("o_attempts", type_=Integer))
)
# Reserved rows given back later than now (a 429's retry_after), one statement for the lot.
_RELEASE_AT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("r_id"), _OUTBOX.c.status == OutboxStatus.PENDING)
    .values(not_before=bindparam("r_not_before", type_=_OUTBOX.c.not_before.type))
)


_MONEY_ARGS = frozenset({"amount"})
_DATE_ARGS = frozenset({"expires", "date"})


def render_args(args: dict[str, Any], locale: str, tz: Any) -> dict[str, Any]:
    """Apply the argument conventions of the module docstring."""
    out: dict[str, Any] = {}
    for name, value in args.items():
        if (name in _MONEY_ARGS or name.endswith("_kopecks")) and isinstance(value, int) \
                and not isinstance(value, bool):
            out[name] = format_money(value, locale)
        elif name in _DATE_ARGS or name.endswith(("_date", "_at")):
            out[name] = _render_date(value, locale, tz)
        elif isinstance(value, dict):
            out[name] = text_in(value, locale)
        else:
            out[name] = value
        if (name == "delta" or name.endswith("_delta")) and isinstance(value, int):
            out[f"{name}_abs"] = abs(value)
            out[f"{name}_sign"] = "+" if value >= 0 else "−"
    return out


def _retry_from(message: OutboxMessage) -> datetime:
    """Where a row's retry window starts: its manual requeue (`loyalty-bot outbox retry`), else its writing."""
    requeued = (message.payload or {}).get("requeued_at")
    if isinstance(requeued, str):
        with contextlib.suppress(ValueError):
            moment = datetime.fromisoformat(requeued)
            if moment.tzinfo is not None:
                return max(moment, message.created_at)
    return message.created_at


def _render_date(value: Any, locale: str, tz: Any) -> Any:
    if not isinstance(value, str) or not value:
        return value
    try:
        if "T" in value or " " in value:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is not None and tz is not None:
                moment = moment.astimezone(tz)
            return format_date(moment, locale)
        return format_date(date.fromisoformat(value), locale)
    except ValueError:
        return value


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        services: Services,
        i18n: I18n,
        *,
        rate: float = 25.0,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        token_probe_interval: float = 60.0,
        clock: Clock | None = None,
        batch_size: int = 20,
        poll_interval: float = 1.0,
        retry_window: timedelta | None = None,
        rng: random.Random | None = None,
        claim_ttl: timedelta = timedelta(seconds=30),
        lease_ttl: timedelta = timedelta(seconds=60),
        holder: str | None = None,
        flush_interval: float = 0.5,
        catch_up: float = 1.0,
        lookahead: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.services = services
        self.i18n = i18n
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.token_probe_interval = token_probe_interval
        self.clock = clock or services.dom.clock
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retry_window = retry_window or timedelta(hours=services.settings.outbox_retry_hours)
        self.rng = rng or random.Random()  # the backoff's jitter (tests pass a seeded one)
        self.claim_ttl = claim_ttl
        self.lease = Lease(services.db, LEASE_NAME, holder, ttl=lease_ttl, clock=self.clock)
        # Outcomes are written at the latest after `flush_interval`, far inside the lease's
        # and the reservations' lifetimes (see "Delivery semantics").
        self.flush_interval = min(flush_interval, lease_ttl.total_seconds() / 4, claim_ttl.total_seconds() / 4)
        self.catch_up = catch_up
        self.lookahead = min(lookahead, claim_ttl.total_seconds() / 3)
        self.monotonic = monotonic
        self.sleep = sleep
        self.listeners: list[Listener] = []
        self.sent_count = 0
        # pacing
        self._next_slot = 0.0
        self._recent: deque[float] = deque()  # send starts within the last second
        self._paused_until = 0.0
        self._chat_ready: dict[int, float] = {}
        self._chat_paused_until: dict[int, float] = {}
        self._group_starts: dict[int, deque[float]] = {}  # a group's send starts in the last minute
        self._token_rejected_since: datetime | None = None  # Telegram answers 401 (token revoked)
        # the pipeline
        self._queue: list[_Row] = []  # reserved (pending, claimed), in id order
        self._inflight: set[asyncio.Task[None]] = set()
        self._inflight_chats: set[int] = set()
        self._results: list[_Result] = []  # outcomes not yet written
        # Reserved rows to give back with the next write: id -> not before when (a 429's
        # retry_after), or None for "now".
        self._releases: dict[int, datetime | None] = {}
        self._migrated: dict[int, int] = {}  # group upgraded to a supergroup: old id -> new id
        self._to_notify: list[SendOutcome] = []
        self._refill_after = 0.0
        self._event = asyncio.Event()  # a send or a reservation finished
        self._wake = asyncio.Event()
        self._recovered = False
        self._renewed_at = 0.0
        self.busy = False  # rows are reserved, in flight or unwritten (tests wait for it to clear)

    # --- public API -------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Called with a SendOutcome for every row once its outcome is written (progress, metrics)."""
        self.listeners.append(listener)

    def wake(self) -> None:
        """Look at the queue now instead of after `poll_interval` (call after enqueueing)."""
        self._wake.set()
        self._event.set()

    async def run(self, stop_event: asyncio.Event) -> None:
        """Drain the queue until `stop_event` is set; a long-lived task."""
        try:
            while not stop_event.is_set():
                if not await self._hold_lease():
                    self._queue.clear()  # another process sends now: its reservations are its own
                    await self._wait(stop_event, self.lease.ttl.total_seconds() / 4)
                    continue
                try:
                    handled = await self._pump(stop_event, once=False)
                except Exception:  # the database blinked: log and try again shortly
                    log.exception("outbox: draining failed; retrying")
                    handled = 0
                if not handled and not stop_event.is_set():
                    await self._wait(stop_event, self.poll_interval)
        finally:
            await self.lease.release()

    async def drain_once(self, stop_event: asyncio.Event | None = None) -> int:
        """Reserve one batch of due rows and deliver it; returns how many rows it reserved.

        Holds the lease while it works (tests call this directly, without `run`). Every
        outcome is written before it returns.
        """
        if not self.lease.held and not await self._hold_lease():
            return 0
        return await self._pump(stop_event, once=True)

    async def recover(self) -> tuple[int, int]:
        """Resolve rows a dead sender left in `sending` (see "Delivery semantics").

        Returns (notifications requeued, broadcast rows marked uncertain).
        """
        now = self.clock.now()
        async with self.services.db.transaction() as session:
            requeued = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.broadcast_id.is_(None))
                .values(status=OutboxStatus.PENDING, not_before=now,
                        error="requeued after the sender stopped during the send")
                .execution_options(synchronize_session=False))
            uncertain_rows = (await session.execute(
                select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.broadcast_id)
                .where(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.broadcast_id.is_not(None))
            )).all()
            if uncertain_rows:
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id.in_([r[0] for r in uncertain_rows]))
                    .values(status=OutboxStatus.FAILED, error=UNCERTAIN)
                    .execution_options(synchronize_session=False))
            self._migrated = dict((await session.execute(
                select(ChatMigration.old_chat_id, ChatMigration.new_chat_id))).all())
        self._recovered = True
        count = int(requeued.rowcount or 0)  # type: ignore[attr-defined]
        if count or uncertain_rows:
            log.warning("outbox: recovered after a crash: %d notification(s) requeued, "
                        "%d broadcast row(s) marked uncertain", count, len(uncertain_rows))
        for row_id, chat_id, broadcast_id in uncertain_rows:
            await self._notify(SendOutcome(row_id, chat_id, broadcast_id, "failed", UNCERTAIN))
        return count, len(uncertain_rows)

    # --- the lease ----------------------------------------------------------------------

    async def _hold_lease(self) -> bool:
        try:
            if self.lease.held:
                # Renew at a third of the lease's life, not on every poll (a write on SQLite).
                if self.monotonic() - self._renewed_at < self.lease.ttl.total_seconds() / 3:
                    return True
                if await self.lease.renew():
                    self._renewed_at = self.monotonic()
                    return True
                log.error("outbox: lost the sender lease; another process sends now")
                self._recovered = False
                return False
            got = await self.lease.acquire()
        except Exception:
            log.exception("outbox: could not take the sender lease")
            return False
        if got:
            self._renewed_at = self.monotonic()
            self._recovered = False  # a fresh holder resolves what a dead one left behind
        return got

    async def _wait(self, stop_event: asyncio.Event, seconds: float) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(stop_event.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    # --- the pipeline -------------------------------------------------------------------

    def _target(self) -> int:
        """How many reserved rows to keep at hand: `lookahead` seconds of sending."""
        return max(self.batch_size, min(500, math.ceil(self.rate * self.lookahead)))

    async def _pump(self, stop_event: asyncio.Event | None, *, once: bool) -> int:
        """Deliver due rows until there are none (once: one reserved batch); returns rows reserved.

        One loop does everything that needs ordering: it starts reservations (in the
        background, while earlier rows are being sent), launches groups of rows when their
        send slots come (one write marks the group `sending` and carries every outcome
        gathered so far), and writes outcomes when the next launch is not imminent.
        """
        handled = 0
        refill: asyncio.Task[int] | None = None
        lease_lost = False
        self.busy = True
        try:
            if self._results:  # left over by a failed write: record them before anything else
                await self._commit([])
            if not self._recovered:
                await self.recover()
            if once:
                handled = await self._refill(self.batch_size)
                if not handled and not self._queue:
                    return 0
            self._next_slot = max(self._next_slot, self.monotonic())  # idle time is not saved up
            while True:
                self._event.clear()
                if stop_event is not None and stop_event.is_set():
                    break
                if not await self._hold_lease():
                    lease_lost = True
                    break
                woken = self._wake.is_set()
                if woken:
                    self._wake.clear()
                if refill is not None and refill.done():
                    handled += refill.result()  # a failed reservation raises here
                    refill = None
                now = self.monotonic()
                if not once and refill is None and self._wants_refill(now, woken):
                    refill = asyncio.create_task(self._refill(), name="outbox-reserve")
                    refill.add_done_callback(lambda _: self._event.set())
                group, launch_in = self._take_group(now)
                if group:
                    marked = await self._commit(group)
                    for row in group:
                        if row.id in marked:
                            self._launch(row)
                        # else: cancelled or blocked meanwhile, not ours to send any more
                    await self._notify_written()
                    continue
                if self._results and self._flush_due(now, launch_in):
                    await self._commit([])
                    await self._notify_written()
                    continue
                if (not self._queue and not self._inflight and not self._results and refill is None
                        and (once or now < self._refill_after)):
                    break  # nothing left to do now
                delays = [launch_in]
                if self._results:
                    delays.append(self._results[0].at + self.flush_interval - now)
                if not once and refill is None and not self._queue:
                    delays.append(self._refill_after - now)
                await self._wait_event(stop_event, min(delays))
        finally:
            if refill is not None:
                with contextlib.suppress(Exception):
                    handled += await refill
            if self._inflight:  # calls under way finish and their outcomes are written
                await asyncio.gather(*list(self._inflight), return_exceptions=True)
            try:
                if lease_lost:
                    self._queue.clear()  # not released: the new holder may have reserved them
                elif self._queue and (once or stop_event is None or stop_event.is_set()):
                    for r in self._queue:
                        self._releases.setdefault(r.id, None)
                    self._queue.clear()
                if self._results or self._releases:
                    await self._commit([])
                await self._notify_written()
            finally:
                self.busy = bool(self._queue or self._results)
                self._prune()
        return handled

    def _wants_refill(self, now: float, woken: bool) -> bool:
        if self._queue and self.clock.now() - min(r.claimed_at or self.clock.now() for r in self._queue) \
                >= self.claim_ttl / 2:
            return True  # extend the reservations we still hold
        if len(self._queue) >= self._target():
            return False
        return woken or now >= self._refill_after

    async def _refill(self, limit: int | None = None) -> int:
        """Reserve more due rows (and extend the reservations of rows still waiting)."""
        wanted = limit or max(self.batch_size, self._target() - len(self._queue))
        claimed_at = self.clock.now()
        stale = [r for r in self._queue if r.claimed_at is None or claimed_at - r.claimed_at >= self.claim_ttl / 2]
        held = {r.chat_id: 0 for r in self._queue}
        for r in self._queue:
            held[r.chat_id] += 1
        rows = await self._reserve(wanted, extend=[r.id for r in stale], per_chat=held)
        for r in stale:
            r.claimed_at = claimed_at
        await self._prepare(rows)
        if len(self._chat_ready) > 5000:  # a long broadcast: forget chats whose turn has come
            self._prune()
        if len(rows) < wanted:  # the queue is (for now) empty: look again after poll_interval
            self._refill_after = self.monotonic() + self.poll_interval
        known = {r.id for r in self._queue}
        self._queue.extend(r for r in rows if r.id not in known)
        self._queue.sort(key=lambda r: r.id)
        return len(rows)

    def _take_group(self, now: float) -> tuple[list[_Row], float]:
        """Rows to launch now (each the first queued row of a chat that may receive now, as
        many as there are free send slots), and else the seconds until one could be."""
        free, slot_in = self._free_slots(now)
        if self._token_rejected_since is not None:  # one probe at a time until the token works
            if self._inflight:
                return [], math.inf
            free = min(free, 1)
        if not free:
            return [], slot_in if self._queue else math.inf
        group: list[_Row] = []
        chat_in = math.inf
        seen: set[int] = set()
        for row in self._queue:
            if row.chat_id in seen:
                continue
            seen.add(row.chat_id)
            if row.chat_id in self._inflight_chats:
                continue  # one message at a time per chat; its answer sets the next turn
            ready = max(self._chat_ready.get(row.chat_id, 0.0), self._chat_paused_until.get(row.chat_id, 0.0),
                        self._group_ready(row.chat_id, now))
            if ready > now:
                chat_in = min(chat_in, ready - now)
                continue
            group.append(row)
            if len(group) >= free:
                break
        if group:
            for _ in group:
                self._take_slot(now)
            taken = {r.id for r in group}
            self._queue = [r for r in self._queue if r.id not in taken]
            return group, 0.0
        # Nothing to send although a slot is free: the slot is not saved up for a burst later.
        self._next_slot = max(self._next_slot, now)
        return [], chat_in

    def _group_ready(self, chat_id: int, now: float) -> float:
        """When a group (a negative chat id: the staff group) may get its next message: at most
        `group_per_minute` send starts in any GROUP_WINDOW seconds (Telegram's ~20 a minute)."""
        if chat_id >= 0:
            return 0.0
        starts = self._group_starts.get(chat_id)
        if not starts:
            return 0.0
        while starts and starts[0] <= now - GROUP_WINDOW:
            starts.popleft()
        if len(starts) < self.group_per_minute:
            return 0.0
        return starts[len(starts) - self.group_per_minute] + GROUP_WINDOW

    def _flush_due(self, now: float, launch_in: float) -> bool:
        if len(self._results) >= self.batch_size or now - self._results[0].at >= self.flush_interval:
            return True
        # The next write (a launch) is not imminent: write now rather than wait for it.
        return launch_in >= self.flush_interval and not self._inflight

    async def _wait_event(self, stop_event: asyncio.Event | None, delay: float) -> None:
        waiters = [asyncio.ensure_future(self._event.wait())]
        if stop_event is not None:
            waiters.append(asyncio.ensure_future(stop_event.wait()))
        if delay < math.inf:
            waiters.append(asyncio.ensure_future(self.sleep(max(delay, 0.0))))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _launch(self, row: _Row) -> None:
        # The one-second window counts actual starts (after the marking write), so a slow
        # write followed by a fast one cannot squeeze more than ⌈rate⌉ starts into a second.
        started = self.monotonic()
        self._recent.append(started)
        self._inflight_chats.add(row.chat_id)
        if row.chat_id < 0:
            self._group_starts.setdefault(row.chat_id, deque()).append(started)
        task = asyncio.create_task(self._deliver(row), name=f"outbox-send-{row.id}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _prune(self) -> None:
        now = self.monotonic()
        if len(self._chat_ready) > 1000:
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}
        if len(self._chat_paused_until) > 1000:
            self._chat_paused_until = {c: t for c, t in self._chat_paused_until.items() if t > now}
        self._group_starts = {c: d for c, d in self._group_starts.items() if d and d[-1] > now - GROUP_WINDOW}

    # --- reserving and writing rows -----------------------------------------------------

    async def _reserve(self, limit: int | None = None, *, extend: list[int] | None = None,
                       per_chat: dict[int, int] | None = None) -> list[_Row]:
        """Claim up to `limit` due rows: `not_before` pushed `claim_ttl` ahead (still pending)."""
        limit = limit or self.batch_size
        now = self.clock.now()
        if not extend:
            async with self.services.db.reading() as session:  # cheap look first: no write lock when idle
                due = (await session.execute(select(OutboxMessage.id).where(
                    OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now).limit(1))).scalar()
            if due is None:
                return []
        async with self.services.db.transaction() as session:
            if extend:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(extend), OutboxMessage.status == OutboxStatus.PENDING)
                    .values(not_before=now + self.claim_ttl).execution_options(synchronize_session=False))
            query = (select(OutboxMessage)
                     .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now)
                     .order_by(OutboxMessage.id).limit(limit * 4))
            if not self.services.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            # At most PER_CHAT_IN_BATCH rows of one chat at hand: a chat paced at 1 msg/s
            # must not fill the reservation while every other chat waits.
            found: list[OutboxMessage] = []
            counts = dict(per_chat or {})
            for message in (await session.execute(query)).scalars():
                if counts.get(message.chat_id, 0) < PER_CHAT_IN_BATCH and len(found) < limit:
                    counts[message.chat_id] = counts.get(message.chat_id, 0) + 1
                    found.append(message)
            if found:
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in found]))
                    .values(not_before=now + self.claim_ttl).execution_options(synchronize_session=False))
            chats = {m.chat_id: self._chat_of(m.chat_id) for m in found}
            for old, new in chats.items():
                if new != old:  # queued for a group since upgraded: the row goes to the supergroup
                    await session.execute(
                        update(OutboxMessage).where(OutboxMessage.id.in_([m.id for m in found if m.chat_id == old]))
                        .values(chat_id=new).execution_options(synchronize_session=False))
            return [_Row(m.id, chats[m.chat_id], m.method, dict(m.payload or {}), m.attempts, m.broadcast_id,
                         retry_from=_retry_from(m), claimed_at=now) for m in found]

    def _chat_of(self, chat_id: int) -> int:
        """Where messages for `chat_id` go: the supergroup a group was upgraded to (a supergroup
        is never upgraded again, so one step is all there is)."""
        return self._migrated.get(chat_id, chat_id)

    async def _prepare(self, rows: list[_Row]) -> None:
        """Render the rows ahead of their turn (one language query for the lot), so nothing
        but the HTTP call stands between marking a row `sending` and sending it."""
        chats = [r.chat_id for r in rows if "key" in r.payload and r.payload.get("locale") not in LOCALES]
        languages: dict[int, str | None] = {}
        if chats:
            async with self.services.db.reading() as session:
                languages = dict((await session.execute(
                    select(TelegramAccount.telegram_id, TelegramAccount.language)
                    .where(TelegramAccount.telegram_id.in_(set(chats))))).all())
        for row in rows:
            try:
                row.rendered = self._render(row.payload, languages.get(row.chat_id))
            except Exception as exc:  # reported when its turn comes, as a failed row
                row.render_error = exc

    async def _commit(self, mark: list[_Row]) -> set[int]:
        """One write transaction: every outcome gathered so far, rows given back, and (when
        `mark` is given) those rows marked `sending`. Returns the ids that were marked."""
        results, self._results = self._results, []
        releases, self._releases = self._releases, {}
        marked: set[int] = set()
        try:
            async with self.services.db.transaction() as session:
                if results:
                    await session.execute(_WRITE_OUTCOME, [r.params for r in results])
                now_released = [i for i, at in releases.items() if at is None]
                if now_released:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(now_released), OutboxMessage.status == OutboxStatus.PENDING)
                        .values(not_before=self.clock.now()).execution_options(synchronize_session=False))
                later = [{"r_id": i, "r_not_before": at} for i, at in releases.items() if at is not None]
                if later:
                    await session.execute(_RELEASE_AT, later)
                if mark:
                    marked = set((await session.execute(
                        update(_OUTBOX).where(_OUTBOX.c.id.in_([r.id for r in mark]),
                                              _OUTBOX.c.status == OutboxStatus.PENDING)
                        .values(status=OutboxStatus.SENDING, attempts=_OUTBOX.c.attempts + 1)
                        .returning(_OUTBOX.c.id))).scalars())
        except BaseException:
            self._results[:0] = results
            self._releases = {**releases, **self._releases}
            if mark:
                self._queue = sorted(self._queue + mark, key=lambda r: r.id)
            raise
        self._to_notify.extend(r.outcome for r in results)
        return marked

    async def _mark_sending(self, row: _Row) -> bool:
        """Mark one reserved row `sending` (the crash tests drive single rows)."""
        return row.id in await self._commit([row])

    # --- pacing ------------------------------------------------------------------------

    def _free_slots(self, now: float) -> tuple[int, float]:
        """(send slots free now, seconds until the next one).

        Slots are a schedule on the wall clock, 1/rate apart: a send that starts late (a
        slow write, a busy machine) leaves its slot to be used a moment later, up to
        `catch_up` seconds behind the schedule, but never more than ⌈rate⌉ sends start in
        any one-second window, so the catching up itself cannot exceed the rate.
        """
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        interval = 1.0 / self.rate
        start = max(self._next_slot, now - self.catch_up, self._paused_until)
        if start > now:
            return 0, start - now
        room = max(1, math.ceil(self.rate)) - len(self._recent)
        if room <= 0:
            return 0, self._recent[0] + 1.0 - now
        return min(int((now - start) / interval) + 1, room, self.batch_size), 0.0

    def _take_slot(self, now: float) -> None:
        start = max(self._next_slot, now - self.catch_up, self._paused_until)
        self._next_slot = start + 1.0 / self.rate

    def _pause(self, chat_id: int, seconds: float) -> None:
        """A 429 pauses the chat it came from; the other chats' messages keep going. A second
        chat answering 429 while another chat's pause runs means the bot as a whole is over
        Telegram's limit: then the whole sender pauses too."""
        now = self.monotonic()
        until = now + seconds
        if any(chat != chat_id and paused > now for chat, paused in self._chat_paused_until.items()):
            self._paused_until = max(self._paused_until, until)
        self._chat_paused_until[chat_id] = max(self._chat_paused_until.get(chat_id, 0.0), until)

    # --- delivering one row ------------------------------------------------------------

    async def _deliver(self, row: _Row) -> None:
        launched_to = row.chat_id  # an upgraded group's row is resent to the supergroup
        try:
            await self._attempt(row)
        except Exception:  # writing a 403 failed: the row stays `sending`, resolved as after a crash
            log.exception("outbox: the outcome of row %s could not be recorded", row.id)
        finally:
            # The next message to this chat waits `per_chat_interval` from this *answer*.
            self._chat_ready[row.chat_id] = self.monotonic() + self.per_chat_interval
            self._inflight_chats.discard(launched_to)
            self._inflight_chats.discard(row.chat_id)
            self._event.set()

    async def _attempt(self, row: _Row) -> None:
        try:
            try:
                message_id = await self._send(row)
            except TelegramMigrateToChat as moved:
                # The group became a supergroup: resend once to its new id (the same attempt).
                await self._migrate(row.chat_id, moved.migrate_to_chat_id)
                row.chat_id = self._chat_of(row.chat_id)
                message_id = await self._send(row)
        except TelegramRetryAfter as exc:
            self._pause(row.chat_id, float(exc.retry_after))
            # Written as not_before too, so a sender restarted during the pause waits it out;
            # the chat's later rows go back with it, in the same write: its messages keep their order.
            until = self.clock.now() + timedelta(seconds=exc.retry_after)
            self._give_back(row.chat_id, until)
            self._finish(row, OutboxStatus.PENDING, f"429: retry after {exc.retry_after}s",
                         not_before=until, undo_attempt=True, outcome="deferred")
        except TelegramMigrateToChat as exc:  # the new id answered "upgraded" as well: give up
            self._finish(row, OutboxStatus.FAILED, f"400: {exc.message} (again, to {row.chat_id})",
                         outcome="failed")
        except TelegramForbiddenError as exc:
            await self._blocked(row, str(exc))
        except TelegramBadRequest as exc:
            self._finish(row, OutboxStatus.FAILED, f"400: {exc.message}", outcome="failed")
        except TelegramUnauthorizedError:
            self._unauthorized(row)
        except (TelegramServerError, TelegramNetworkError, TimeoutError, OSError) as exc:
            self._retry(row, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a rendering bug must not stop the queue or loop on one row
            log.exception("outbox: row %s cannot be sent", row.id)
            self._finish(row, OutboxStatus.FAILED, f"{type(exc).__name__}: {exc}", outcome="failed")
        else:
            self.sent_count += 1
            self._finish(row, OutboxStatus.SENT, None, outcome="sent", message_id=message_id)
            if self._token_rejected_since is not None:
                await self._token_accepted()

    def _unauthorized(self, row: _Row) -> None:
        """401: the token was revoked (or is wrong). Every message would fail the same way, so
        nothing counts an attempt: the row and everything reserved go back, not before one
        `token_probe_interval`, and from then on one message at a time probes the token."""
        now = self.clock.now()
        if self._token_rejected_since is None:
            self._token_rejected_since = now
            log.error("outbox: Telegram rejects the bot token (401 Unauthorized); sending is paused and "
                      "tried again every %d s. If the token was revoked in @BotFather, set the new BOT_TOKEN.",
                      int(self.token_probe_interval))
        self._paused_until = max(self._paused_until, self.monotonic() + self.token_probe_interval)
        until = now + timedelta(seconds=self.token_probe_interval)
        for chat in {r.chat_id for r in self._queue}:
            self._give_back(chat, until)
        self._finish(row, OutboxStatus.PENDING, "401: Unauthorized (the bot token was rejected)",
                     not_before=until, undo_attempt=True, outcome="deferred")

    async def _token_accepted(self) -> None:
        """The first message through after 401s: sending goes on at full pace, and each owner
        is told once per outage (the dedupe key holds when it began)."""
        since, self._token_rejected_since = self._token_rejected_since, None
        if since is None:
            return
        now = self.clock.now()
        log.warning("outbox: Telegram accepts the bot token again; sending resumed")
        tz = self.services.dom.tz
        args = {"since_at": since.isoformat(), "since_time": since.astimezone(tz).strftime("%H:%M"),
                "until_time": now.astimezone(tz).strftime("%H:%M")}
        alerts = [Outgoing(owner, message_payload("outbox-token-restored", args),
                           dedupe_key=f"token-restored:{owner}:{since.isoformat()}")
                  for owner in sorted(self.services.settings.owner_ids)]
        try:
            async with self.services.db.transaction() as session:
                await enqueue_many(session, alerts, now)
        except Exception:  # the alert is a courtesy: sending goes on without it
            log.exception("outbox: the owners could not be told that sending resumed")
        self.wake()

    def _give_back(self, chat_id: int, not_before: datetime) -> None:
        back = [r for r in self._queue if r.chat_id == chat_id]
        if back:
            self._queue = [r for r in self._queue if r.chat_id != chat_id]
            self._releases.update((r.id, not_before) for r in back)

    async def _migrate(self, old: int, new: int) -> None:
        """A group was upgraded to a supergroup: everything for `old` goes to `new` from now on.

        Remembered in `chat_migrations` (so a restarted sender knows it too), and the rows
        queued for the old id are moved to the new one in the same write; reserved rows in
        memory follow. Written at once, like a 403: it is rare and concerns the queue.
        """
        self._migrated[old] = new
        for queued in self._queue:
            if queued.chat_id == old:
                queued.chat_id = new
        hint = (f"set STAFF_CHAT_ID={new} (the staff group) and restart"
                if self.services.settings.staff_chat_id == old else f"update any setting that still names chat {old}")
        log.warning("outbox: chat %s was upgraded to a supergroup with the new id %s; its messages "
                    "are sent there from now on. Operator: %s.", old, new, hint)
        try:
            async with self.services.db.transaction() as session:
                await session.merge(ChatMigration(old_chat_id=old, new_chat_id=new, migrated_at=self.clock.now()))
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.chat_id == old,
                           OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
                    .values(chat_id=new).execution_options(synchronize_session=False))
        except Exception:  # the resend goes ahead; later rows are mapped in memory until a restart
            log.exception("outbox: could not record that chat %s moved to %s", old, new)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try: 2^n s × jitter in [0.5, 1], at most an hour."""
        seconds = min(2.0 ** min(attempts, 32), MAX_BACKOFF.total_seconds()) * self.rng.uniform(0.5, 1.0)
        return timedelta(seconds=seconds)

    def _retry(self, row: _Row, error: str) -> None:
        attempts = row.attempts + 1
        now = self.clock.now()
        deadline = (row.retry_from or now) + self.retry_window
        if now >= deadline:
            log.warning("outbox: row %s failed: still undeliverable %s after it was written (%d attempts): %s",
                        row.id, self.retry_window, attempts, error)
            self._finish(row, OutboxStatus.FAILED, error, outcome="failed")
            return
        # The last try falls on the deadline itself, not an hour past it.
        not_before = min(now + self.backoff(attempts), deadline)
        self._finish(row, OutboxStatus.PENDING, error, not_before=not_before, outcome="retry")

    async def _blocked(self, row: _Row, error: str) -> None:
        """403: the user blocked the bot. Stop sending to them (DOMAIN/TELEGRAM.md, "Limits")."""
        now = self.clock.now()
        self._queue = [r for r in self._queue if r.chat_id != row.chat_id]  # blocked below with the rest
        async with self.services.db.transaction() as session:
            await session.execute(
                update(TelegramAccount).where(TelegramAccount.telegram_id == row.chat_id)
                .values(unreachable=True).execution_options(synchronize_session=False))
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id)
                .values(status=OutboxStatus.BLOCKED, error=f"403: {error}", sent_at=None)
                .execution_options(synchronize_session=False))
            others = list((await session.execute(
                select(OutboxMessage.id, OutboxMessage.broadcast_id).where(
                    OutboxMessage.chat_id == row.chat_id, OutboxMessage.status == OutboxStatus.PENDING)
            )).all())
            if others:
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id.in_([o[0] for o in others]))
                    .values(status=OutboxStatus.BLOCKED, error="403: the user blocked the bot")
                    .execution_options(synchronize_session=False))
        log.info("outbox: chat %s blocked the bot at %s; %d more row(s) dropped", row.chat_id, now, len(others))
        await self._notify(SendOutcome(row.id, row.chat_id, row.broadcast_id, "blocked", error))
        for other_id, broadcast_id in others:
            await self._notify(SendOutcome(other_id, row.chat_id, broadcast_id, "blocked", error))

    def _finish(self, row: _Row, status: OutboxStatus, error: str | None, *, outcome: str,
                not_before: datetime | None = None, undo_attempt: bool = False,
                message_id: int | None = None) -> None:
        """Queue the row's outcome for the next write (a launch or a flush)."""
        self._results.append(_Result(
            at=self.monotonic(),
            params={"o_id": row.id, "o_status": status, "o_error": error,
                    "o_sent_at": self.clock.now() if status is OutboxStatus.SENT else None,
                    "o_not_before": not_before, "o_attempts": -1 if undo_attempt else 0},
            outcome=SendOutcome(row.id, row.chat_id, row.broadcast_id, outcome, error, message_id)))
        self._event.set()

    async def _notify_written(self) -> None:
        outcomes, self._to_notify = self._to_notify, []
        for outcome in outcomes:
            await self._notify(outcome)

    async def _notify(self, outcome: SendOutcome) -> None:
        for listener in list(self.listeners):
            try:
                result = listener(outcome)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("outbox: a listener failed on row %s", outcome.row_id)

    # --- rendering and the HTTP call ---------------------------------------------------

    def _render(self, payload: dict[str, Any], stored_language: str | None) -> tuple[
            str, str | None, InlineKeyboardMarkup | None]:
        if "key" in payload:
            forced = payload.get("locale")
            locale = str(forced) if forced in LOCALES else (
                stored_language if stored_language in LOCALES else DEFAULT_LOCALE)
            t = self.i18n.translator(locale)
            args = render_args(dict(payload.get("args") or {}), locale, self.services.dom.tz)
            text = self.i18n.get(locale, str(payload["key"]), **args)
            return text, payload.get("photo"), build_markup(t, payload.get("markup"))
        return (str(payload.get("text") or ""), payload.get("photo"), url_buttons(payload.get("buttons")))

    async def render(self, row_payload: dict[str, Any], chat_id: int) -> tuple[str, str | None,
                                                                               InlineKeyboardMarkup | None]:
        """(text, photo file_id, keyboard) for a payload, in the recipient's language."""
        row = _Row(0, chat_id, "sendMessage", row_payload, 0, None)
        await self._prepare([row])
        if row.render_error is not None:
            raise row.render_error
        assert row.rendered is not None
        return row.rendered

    async def _send(self, row: _Row) -> int | None:
        if row.rendered is None and row.render_error is None:
            await self._prepare([row])
        if row.render_error is not None:
            raise row.render_error
        assert row.rendered is not None
        text, photo, markup = row.rendered
        if photo:
            sent = await self.bot.send_photo(row.chat_id, photo, caption=text or None, reply_markup=markup)
        else:
            preview = NO_PREVIEW if row.payload.get("no_preview") else None
            sent = await self.bot.send_message(row.chat_id, text, reply_markup=markup, link_preview_options=preview)
        return sent.message_id


async def wait_drained(services: Services, sender: OutboxSender, *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Until no due row is pending or sending (tests and the sandbox)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        now = sender.clock.now()
        async with services.db.reading() as session:
            due = (await session.execute(select(OutboxMessage.id).where(
                ((OutboxMessage.status == OutboxStatus.PENDING) & (OutboxMessage.not_before <= now))
                | (OutboxMessage.status == OutboxStatus.SENDING)).limit(1))).scalar()
        if due is None and not sender.busy:
            return
        if loop.time() > deadline:
            raise AssertionError(f"outbox not drained within {timeout}s (row {due} still due)")
        sender.wake()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.02)


def wake_sender(services: Services) -> None:
    """Nudge the running sender after writing outbox rows (no-op when none runs here)."""
    if services.sender is not None:
        services.sender.wake()
