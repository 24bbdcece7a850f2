"""The outbox sender: the one place that delivers notifications and broadcasts.

Rows are written to `outbox` by the domain in the same transaction as the change they
announce (models/outbox.py); this task drains them.

Payloads
--------
* Translated: `{"key": "notify-purchase", "args": {...}, "markup": {"kind": ..., ...}}`,
  rendered at send time in the recipient's language: `TelegramAccount.language` (stored at
  registration from Telegram's language code, changed in Settings), else Russian. A
  payload may carry `"locale"` to force one (staff-chat alerts do not have an account).
  Argument conventions (`render_args`):
    - `amount` and any `*_kopecks` → money ("12 250 ₽"), the value being integer kopecks;
    - `expires`, `date` and any `*_date` / `*_at` → a date ("12.03.2026" / "12 Mar 2026"),
      the value an ISO string (a datetime is shown as its date in the business's zone);
      an empty string stays empty;
    - `delta` and any `*_delta` additionally get `<name>_abs` (absolute value, for plurals)
      and `<name>_sign` ("+" or "−");
    - everything else is passed through (integers stay numbers, so plurals work).
  `markup` is built by the registry in bot/markups.py.
* Raw (owner's broadcasts): `{"text": html, "photo": file_id | None,
  "buttons": [[{"text", "url"}]]}` sent as is (sendPhoto with the text as caption when
  there is a photo).

Pacing and faults
-----------------
At most `rate` messages per second overall (send starts at least 1/rate apart) and one
per `per_chat_interval` seconds to a chat, measured from the previous answer to that chat,
so network jitter can never squeeze two sends into one second. A chat's messages go one
at a time in id order. 429 → the chat and the whole sender pause for `retry_after`,
the row goes back to the queue without counting an attempt. 403 → the account is marked
unreachable and this and every other queued row for that chat become `blocked`, never
retried. 5xx, timeouts and network errors → retried with exponential backoff through
`not_before` (2, 4, 8 … s, at most an hour); after `max_attempts` tries → `failed`.
400 and anything unexpected → `failed` at once (retrying cannot fix it).

Delivery semantics (what a crash can do)
---------------------------------------
Only one sender runs: it holds the "outbox-sender" lease (models/leases.py) and stops
sending if the lease is lost. A row goes through:

1. *reserved*: still `pending`, `not_before` pushed `claim_ttl` ahead so it is not
   picked again while it waits for its pacing turn. Nothing was sent. A crash here
   loses nothing: the row is due again after `claim_ttl` and is sent once.
2. *sending*: written (and committed) immediately before the HTTP call.
3. `sent` (or retry / failed / blocked) written right after the answer.

The only ambiguous window is a hard crash (kill -9, power loss) during the HTTP call
itself, i.e. a row left in `sending`. A graceful stop (SIGTERM) never leaves one: calls
under way finish and reserved rows are released. When a sender takes the lease it
resolves leftover `sending` rows explicitly:

* notifications (no `broadcast_id`): sent again — **at least once**. Losing "you got
  520 points" is worse than seeing it twice.
* broadcast rows: **at most once** — marked `failed` with error
  "uncertain: ..." and never resent, so nobody receives an advertisement twice, and the
  recipient is not silently skipped either: the row is counted as failed with that
  reason in the broadcast's progress.

The window is one HTTP round trip per row in flight, so at most `batch_size` rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select, update

from bot.i18n import DEFAULT_LOCALE, LOCALES, I18n, format_date, format_money
from bot.markups import build_markup, url_buttons
from bot.services import Services
from models.clock import Clock
from models.leases import Lease
from models.tables import OutboxMessage, OutboxStatus, TelegramAccount

log = logging.getLogger(__name__)

LEASE_NAME = "outbox-sender"
UNCERTAIN = "uncertain: the sender stopped during the HTTP call; not resent so nobody gets it twice"
MAX_BACKOFF = timedelta(hours=1)
PER_CHAT_IN_BATCH = 3


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


@dataclass(frozen=True)
class _Row:
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    attempts: int
    broadcast_id: int | None


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
        else:
            out[name] = value
        if (name == "delta" or name.endswith("_delta")) and isinstance(value, int):
            out[f"{name}_abs"] = abs(value)
            out[f"{name}_sign"] = "+" if value >= 0 else "−"
    return out


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
        clock: Clock | None = None,
        batch_size: int = 20,
        poll_interval: float = 1.0,
        max_attempts: int = 6,
        claim_ttl: timedelta = timedelta(seconds=30),
        lease_ttl: timedelta = timedelta(seconds=60),
        holder: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.services = services
        self.i18n = i18n
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self.clock = clock or services.dom.clock
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_attempts = max_attempts
        self.claim_ttl = claim_ttl
        self.lease = Lease(services.db, LEASE_NAME, holder, ttl=lease_ttl, clock=self.clock)
        self.monotonic = monotonic
        self.sleep = sleep
        self.listeners: list[Listener] = []
        self.sent_count = 0
        self._next_global = 0.0
        self._chat_ready: dict[int, float] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._deferred_chats: set[int] = set()
        self._paused_until = 0.0
        self._chat_paused_until: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._recovered = False
        self._renewed_at = 0.0
        self.busy = False  # a batch is being delivered (tests wait for it to clear)

    # --- public API -------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Called with a SendOutcome after every row (broadcast progress, metrics)."""
        self.listeners.append(listener)

    def wake(self) -> None:
        """Look at the queue now instead of after `poll_interval` (call after enqueueing)."""
        self._wake.set()

    async def run(self, stop_event: asyncio.Event) -> None:
        """Drain the queue until `stop_event` is set; a long-lived task."""
        try:
            while not stop_event.is_set():
                if not await self._hold_lease():
                    await self._wait(stop_event, self.lease.ttl.total_seconds() / 4)
                    continue
                try:
                    sent = await self.drain_once(stop_event)
                except Exception:  # the database blinked: log and try again shortly
                    log.exception("outbox: draining failed; retrying")
                    sent = 0
                if not sent:
                    await self._wait(stop_event, self.poll_interval)
        finally:
            await self.lease.release()

    async def drain_once(self, stop_event: asyncio.Event | None = None) -> int:
        """Reserve one batch of due rows and deliver it; returns how many rows it handled.

        Holds the lease while it works (tests call this directly, without `run`).
        """
        if not self.lease.held and not await self._hold_lease():
            return 0
        if not self._recovered:
            await self.recover()
        rows = await self._reserve()
        if not rows:
            return 0
        self.busy = True
        try:
            await asyncio.gather(*(self._deliver(row, stop_event) for row in rows))
        finally:
            self.busy = False
            self._deferred_chats.clear()
            now = self.monotonic()
            self._chat_locks = {c: lock for c, lock in self._chat_locks.items() if lock.locked()}
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}
        return len(rows)

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
            uncertain_ids = list((await session.execute(
                select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.SENDING,
                                               OutboxMessage.broadcast_id.is_not(None))
            )).scalars())
            uncertain_rows = (await session.execute(
                select(OutboxMessage.id, OutboxMessage.chat_id, OutboxMessage.broadcast_id)
                .where(OutboxMessage.id.in_(uncertain_ids)))).all() if uncertain_ids else []
            if uncertain_ids:
                await session.execute(
                    update(OutboxMessage).where(OutboxMessage.id.in_(uncertain_ids))
                    .values(status=OutboxStatus.FAILED, error=UNCERTAIN)
                    .execution_options(synchronize_session=False))
        self._recovered = True
        count = int(requeued.rowcount or 0)  # type: ignore[attr-defined]
        if count or uncertain_ids:
            log.warning("outbox: recovered after a crash: %d notification(s) requeued, "
                        "%d broadcast row(s) marked uncertain", count, len(uncertain_ids))
        for row_id, chat_id, broadcast_id in uncertain_rows:
            await self._notify(SendOutcome(row_id, chat_id, broadcast_id, "failed", UNCERTAIN))
        return count, len(uncertain_ids)

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

    # --- reserving rows -----------------------------------------------------------------

    async def _reserve(self) -> list[_Row]:
        now = self.clock.now()
        async with self.services.db.reading() as session:  # cheap look first: no write lock when idle
            due = (await session.execute(select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now).limit(1))).scalar()
        if due is None:
            return []
        async with self.services.db.transaction() as session:
            query = (select(OutboxMessage)
                     .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.not_before <= now)
                     .order_by(OutboxMessage.id).limit(self.batch_size * 4))
            if not self.services.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            # At most PER_CHAT_IN_BATCH rows of one chat per batch: a chat paced at 1 msg/s
            # must not hold a batch (and every other chat) for many seconds.
            found: list[OutboxMessage] = []
            per_chat: dict[int, int] = {}
            for message in (await session.execute(query)).scalars():
                if per_chat.get(message.chat_id, 0) < PER_CHAT_IN_BATCH and len(found) < self.batch_size:
                    per_chat[message.chat_id] = per_chat.get(message.chat_id, 0) + 1
                    found.append(message)
            for message in found:
                message.not_before = now + self.claim_ttl
            return [_Row(m.id, m.chat_id, m.method, dict(m.payload or {}), m.attempts, m.broadcast_id)
                    for m in found]

    async def _release(self, row: _Row) -> None:
        """A reserved row goes back to the queue untouched (graceful stop)."""
        async with self.services.db.transaction() as session:
            await session.execute(
                update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(not_before=self.clock.now()).execution_options(synchronize_session=False))

    async def _mark_sending(self, row: _Row) -> bool:
        async with self.services.db.transaction() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False))
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    # --- pacing ------------------------------------------------------------------------

    async def _global_turn(self) -> None:
        """Wait for the next global send slot: send starts are at least 1/rate apart."""
        while True:
            now = self.monotonic()
            ready_at = max(self._next_global, self._paused_until)
            if ready_at <= now:
                # No await between the check and the update: the turn is taken atomically.
                self._next_global = max(now, self._next_global) + 1.0 / self.rate
                return
            await self.sleep(ready_at - now)

    async def _chat_turn(self, chat_id: int) -> None:
        """Wait until `per_chat_interval` has passed since the chat's previous answer."""
        while True:
            ready_at = max(self._chat_ready.get(chat_id, 0.0), self._chat_paused_until.get(chat_id, 0.0))
            delay = ready_at - self.monotonic()
            if delay <= 0:
                return
            await self.sleep(delay)

    def _pause(self, chat_id: int, seconds: float) -> None:
        until = self.monotonic() + seconds
        self._paused_until = max(self._paused_until, until)
        self._chat_paused_until[chat_id] = max(self._chat_paused_until.get(chat_id, 0.0), until)

    # --- delivering one row ------------------------------------------------------------

    async def _deliver(self, row: _Row, stop_event: asyncio.Event | None) -> None:
        # One message at a time per chat, in id order (asyncio.Lock is FIFO), so a chat's
        # messages arrive in the order they were written and never closer than the interval
        # measured from the previous *answer* (the server saw that send before it answered).
        lock = self._chat_locks.setdefault(row.chat_id, asyncio.Lock())
        async with lock:
            if row.chat_id in self._deferred_chats:
                # An earlier row of this chat got 429 and went back to the queue: keep the order.
                await self._release(row)
                return
            await self._chat_turn(row.chat_id)
            await self._global_turn()
            if stop_event is not None and stop_event.is_set():
                await self._release(row)
                return
            if not await self._mark_sending(row):
                return
            try:
                await self._attempt(row)
            finally:
                self._chat_ready[row.chat_id] = self.monotonic() + self.per_chat_interval

    async def _attempt(self, row: _Row) -> None:
        try:
            message_id = await self._send(row)
        except TelegramRetryAfter as exc:
            self._pause(row.chat_id, float(exc.retry_after))
            self._deferred_chats.add(row.chat_id)
            await self._finish(row, OutboxStatus.PENDING, f"429: retry after {exc.retry_after}s",
                               not_before=self.clock.now(), undo_attempt=True, outcome="deferred")
        except TelegramForbiddenError as exc:
            await self._blocked(row, str(exc))
        except TelegramBadRequest as exc:
            await self._finish(row, OutboxStatus.FAILED, f"400: {exc.message}", outcome="failed")
        except (TelegramServerError, TelegramNetworkError, TelegramUnauthorizedError, TimeoutError,
                OSError) as exc:
            await self._retry(row, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a rendering bug must not stop the queue or loop on one row
            log.exception("outbox: row %s cannot be sent", row.id)
            await self._finish(row, OutboxStatus.FAILED, f"{type(exc).__name__}: {exc}", outcome="failed")
        else:
            self.sent_count += 1
            await self._finish(row, OutboxStatus.SENT, None, outcome="sent", message_id=message_id)

    async def _retry(self, row: _Row, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= self.max_attempts:
            log.warning("outbox: row %s failed after %d attempts: %s", row.id, attempts, error)
            await self._finish(row, OutboxStatus.FAILED, error, outcome="failed")
            return
        delay = min(timedelta(seconds=2 ** attempts), MAX_BACKOFF)
        await self._finish(row, OutboxStatus.PENDING, error, not_before=self.clock.now() + delay, outcome="retry")

    async def _blocked(self, row: _Row, error: str) -> None:
        """403: the user blocked the bot. Stop sending to them (DOMAIN/TELEGRAM.md, "Limits")."""
        now = self.clock.now()
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

    async def _finish(self, row: _Row, status: OutboxStatus, error: str | None, *, outcome: str,
                      not_before: datetime | None = None, undo_attempt: bool = False,
                      message_id: int | None = None) -> None:
        values: dict[str, Any] = {"status": status, "error": error}
        if status is OutboxStatus.SENT:
            values["sent_at"] = self.clock.now()
        if not_before is not None:
            values["not_before"] = not_before
        if undo_attempt:
            values["attempts"] = OutboxMessage.attempts - 1
        # The row's outcome must be recorded even if this task is being cancelled.
        await asyncio.shield(self._write(row.id, values))
        await self._notify(SendOutcome(row.id, row.chat_id, row.broadcast_id, outcome, error, message_id))

    async def _write(self, row_id: int, values: dict[str, Any]) -> None:
        async with self.services.db.transaction() as session:
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
                                  .execution_options(synchronize_session=False))

    async def _notify(self, outcome: SendOutcome) -> None:
        for listener in list(self.listeners):
            try:
                result = listener(outcome)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("outbox: a listener failed on row %s", outcome.row_id)

    # --- rendering and the HTTP call ---------------------------------------------------

    async def _locale_for(self, row: _Row) -> str:
        forced = row.payload.get("locale")
        if forced in LOCALES:
            return str(forced)
        async with self.services.db.reading() as session:
            stored = (await session.execute(
                select(TelegramAccount.language).where(TelegramAccount.telegram_id == row.chat_id)
            )).scalar()
        return stored if stored in LOCALES else DEFAULT_LOCALE

    async def render(self, row_payload: dict[str, Any], chat_id: int) -> tuple[str, str | None,
                                                                               InlineKeyboardMarkup | None]:
        """(text, photo file_id, keyboard) for a payload, in the recipient's language."""
        row = _Row(0, chat_id, "sendMessage", row_payload, 0, None)
        if "key" in row_payload:
            locale = await self._locale_for(row)
            t = self.i18n.translator(locale)
            args = render_args(dict(row_payload.get("args") or {}), locale, self.services.dom.tz)
            text = self.i18n.get(locale, str(row_payload["key"]), **args)
            return text, row_payload.get("photo"), build_markup(t, row_payload.get("markup"))
        return (str(row_payload.get("text") or ""), row_payload.get("photo"),
                url_buttons(row_payload.get("buttons")))

    async def _send(self, row: _Row) -> int | None:
        text, photo, markup = await self.render(row.payload, row.chat_id)
        if photo:
            sent = await self.bot.send_photo(row.chat_id, photo, caption=text or None, reply_markup=markup)
        else:
            sent = await self.bot.send_message(row.chat_id, text, reply_markup=markup,
                                               disable_web_page_preview=bool(row.payload.get("no_preview")))
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
    sender = services.extras.get("sender")
    if isinstance(sender, OutboxSender):
        sender.wake()
