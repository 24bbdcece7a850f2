"""Owner broadcasts: segments, the durable queue and progress (issue 6, "Broadcasts").

A broadcast is a row here plus one outbox row per recipient, inserted by ONE
`INSERT ... SELECT` (set-based: 100,000 recipients are one statement, not 100,000 round
trips). Each outbox row carries `broadcast_id` and the dedupe key `bc:<broadcast>:<chat>`
(unique), so queueing twice, or a restart in the middle, never duplicates a message. The
outbox sender (bot/sender.py) delivers the rows with its pacing and fault handling; its
crash semantics for broadcast rows are *at most once* (a row caught mid-HTTP-call by a
kill -9 is counted as failed "uncertain", never resent).

Who receives a broadcast: customers who finished registration, have a Telegram account
that has not blocked the bot, are not erased and are not blocked by the owner (a blocked
customer is outside the program, so advertising its rewards to them would mislead), and have
not turned broadcasts off in /settings (a `BroadcastOptOut` row: advertising needs the
customer's consent; the messages about their own points do not depend on it).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel import audit
from models.kernel.base import BigId, JsonType, UTCDateTime
from models.kernel.context import Domain
from models.kernel.errors import DomainError
from models.kernel.tables import (
    Broadcast,
    BroadcastOptOut,
    BroadcastStatus,
    Customer,
    Lot,
    LotKind,
    OutboxMessage,
    OutboxStatus,
    SegmentKind,
    SourceKind,
    TelegramAccount,
)
from models.kernel.text import is_digits
from models.reports import rfm

MAX_TEXT = 4096  # Telegram's limit for a message (TELEGRAM.md, "Limits")
MAX_CAPTION = 1024  # ... and for a photo caption
_TAG = re.compile(r"<[^>]*>")


def visible_length(text: str) -> int:
    """What Telegram measures against those limits: the text after HTML parsing (no tags,
    entities decoded), in UTF-16 code units (an emoji counts twice)."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Segment:
    kind: SegmentKind
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Segment:
        """"all", "tier:2", "inactive:30", "rfm:at_risk", "campaign:5", "source_kind:import",
        "birthday_month:3", "expiring:7" (the command line, the bench and callback data)."""
        kind_text, _, value = text.partition(":")
        kind = SegmentKind(kind_text)
        segment = cls(kind, value)
        segment.validate()
        return segment

    def validate(self) -> None:
        if self.kind is SegmentKind.ALL:
            return
        if self.kind is SegmentKind.RFM:
            if self.value not in rfm.SEGMENTS:
                raise ValueError(f"unknown RFM segment {self.value!r}")
            return
        if self.kind is SegmentKind.SOURCE_KIND:
            SourceKind(self.value)
            return
        if not is_digits(self.value) or len(self.value) > 18:
            raise ValueError(f"segment {self.kind.value} needs a whole number, not {self.value!r}")
        number = int(self.value)
        if self.kind is SegmentKind.BIRTHDAY_MONTH and not 1 <= number <= 12:
            raise ValueError("a month is 1..12")
        if self.kind in (SegmentKind.INACTIVE, SegmentKind.EXPIRING) and not 1 <= number <= 3650:
            raise ValueError("days must be 1..3650")

    def __str__(self) -> str:
        return self.kind.value if not self.value else f"{self.kind.value}:{self.value}"


def reachable() -> ColumnElement[bool]:
    """Who may receive a broadcast at all (see the module docstring)."""
    return and_(
        Customer.registered_at.is_not(None),
        Customer.erased_at.is_(None),
        Customer.blocked.is_(False),
        TelegramAccount.unreachable.is_(False),
    )


def segment_filter(segment: Segment, now: datetime) -> ColumnElement[bool]:
    """The WHERE clause of a segment over Customer (one SQL expression, both backends)."""
    kind, value = segment.kind, segment.value
    if kind is SegmentKind.ALL:
        return literal(True)
    if kind is SegmentKind.TIER:
        return Customer.tier_index == int(value)
    if kind is SegmentKind.INACTIVE:
        # No purchase for N days; someone who never bought counts from their registration.
        since = now - timedelta(days=int(value))
        return func.coalesce(Customer.last_purchase_at, Customer.created_at) <= since
    if kind is SegmentKind.RFM:
        scores = rfm.scores(now)
        in_segment = select(scores.c.customer_id).where(
            rfm.segment_case(scores.c.r, scores.c.f, scores.c.m) == value)
        return Customer.id.in_(in_segment)
    if kind is SegmentKind.CAMPAIGN:
        return Customer.campaign_id == int(value)
    if kind is SegmentKind.SOURCE_KIND:
        return Customer.source_kind == SourceKind(value)
    if kind is SegmentKind.BIRTHDAY_MONTH:
        return Customer.birth_month == int(value)
    if kind is SegmentKind.EXPIRING:
        until = now + timedelta(days=int(value))
        return exists(select(Lot.id).where(
            Lot.customer_id == Customer.id, Lot.kind == LotKind.CERTIFICATE, Lot.remaining > 0,
            Lot.expired_at.is_(None), Lot.expires_at > now, Lot.expires_at <= until,
            (Lot.available_at.is_(None)) | (Lot.available_at <= now)))
    raise ValueError(f"unknown segment {kind}")


def recipients_query(segment: Segment, now: datetime) -> Any:
    """SELECT the chat ids of a segment (one per customer: an account links one customer)."""
    return (select(TelegramAccount.telegram_id.label("chat_id"))
            .join(Customer, Customer.id == TelegramAccount.customer_id)
            .where(reachable(), ~exists(select(BroadcastOptOut.customer_id)
                                        .where(BroadcastOptOut.customer_id == Customer.id)),
                   segment_filter(segment, now)))


async def count_recipients(session: AsyncSession, segment: Segment, now: datetime) -> int:
    sub = recipients_query(segment, now).subquery()
    return int((await session.execute(select(func.count()).select_from(sub))).scalar() or 0)


async def create_draft(
    session: AsyncSession, *, now: datetime, owner_id: int, owner_chat_id: int, text: str,
    photo: str | None, buttons: list[list[dict[str, str]]], segment: Segment,
) -> Broadcast:
    limit = MAX_CAPTION if photo else MAX_TEXT
    if visible_length(text) > limit:
        raise ValueError(f"text longer than {limit} characters")
    broadcast = Broadcast(created_at=now, created_by=owner_id, owner_chat_id=owner_chat_id, text=text,
                          photo=photo, buttons=buttons, segment=segment.kind, segment_value=segment.value,
                          status=BroadcastStatus.DRAFT)
    session.add(broadcast)
    await session.flush()
    return broadcast


def payload_of(broadcast: Broadcast) -> dict[str, Any]:
    """The outbox sender's raw payload (bot/sender.py, "Payloads")."""
    return {"text": broadcast.text, "photo": broadcast.photo, "buttons": broadcast.buttons or []}


def dedupe_prefix(broadcast_id: int) -> str:
    return f"bc:{broadcast_id}:"


async def queue_broadcast(session: AsyncSession, broadcast_id: int, now: datetime) -> int:
    """Confirm: one INSERT ... SELECT of every recipient; returns how many rows were queued.

    Idempotent: a broadcast already queued is left alone (returns its recipient count), and
    the unique dedupe key per (broadcast, chat) stops a second insert at the database.
    """
    broadcast = (await session.execute(
        select(Broadcast).where(Broadcast.id == broadcast_id).with_for_update())).scalar_one()
    if broadcast.status is not BroadcastStatus.DRAFT:
        return broadcast.recipients
    segment = Segment(broadcast.segment, broadcast.segment_value)
    recipients = recipients_query(segment, now).subquery("recipients")
    payload = payload_of(broadcast)
    method = "sendPhoto" if broadcast.photo else "sendMessage"
    rows = select(
        recipients.c.chat_id,
        literal(method, String()),
        literal(payload, JsonType),
        literal(dedupe_prefix(broadcast_id), String()) + cast(recipients.c.chat_id, String()),
        literal(broadcast_id, BigId),
        literal(OutboxStatus.PENDING.value, String()),
        literal(0, Integer()),
        literal(now, UTCDateTime()),
        literal(now, UTCDateTime()),
    ).order_by(recipients.c.chat_id)
    result = await session.execute(insert(OutboxMessage).from_select(
        ["chat_id", "method", "payload", "dedupe_key", "broadcast_id", "status", "attempts", "not_before",
         "created_at"], rows))
    queued = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if queued < 0:  # some drivers do not report INSERT ... SELECT counts
        queued = await _row_count(session, broadcast_id)
    broadcast.recipients = queued
    broadcast.queued_at = now
    broadcast.status = BroadcastStatus.SENDING if queued else BroadcastStatus.DONE
    if not queued:
        broadcast.finished_at = now
    await session.flush()
    return queued


async def _row_count(session: AsyncSession, broadcast_id: int) -> int:
    return int((await session.execute(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.broadcast_id == broadcast_id))).scalar() or 0)


async def cancel_broadcast(session: AsyncSession, broadcast_id: int, now: datetime) -> int:
    """Pending rows of the broadcast become cancelled; returns how many. Rows being sent finish."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.CANCELLED, error="cancelled by the owner")
        .execution_options(synchronize_session=False))
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is not None and broadcast.status in (BroadcastStatus.SENDING, BroadcastStatus.DRAFT):
        broadcast.status = BroadcastStatus.CANCELLED
        broadcast.finished_at = now
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Progress:
    broadcast_id: int
    status: BroadcastStatus
    total: int
    sent: int
    failed: int
    blocked: int
    cancelled: int
    remaining: int  # pending or being sent

    @property
    def finished(self) -> bool:
        return self.remaining == 0

    def eta_seconds(self, rate: float) -> int:
        return int(self.remaining / rate) + (1 if self.remaining else 0) if rate > 0 else 0


async def progress(session: AsyncSession, broadcast_id: int) -> Progress:
    """Counts by status (one grouped query over the ix_outbox_broadcast index)."""
    broadcast = await session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise LookupError(f"broadcast {broadcast_id} does not exist")
    rows = (await session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(OutboxMessage.status))).all()
    counts = {OutboxStatus(status).value if not isinstance(status, OutboxStatus) else status.value: int(n)
              for status, n in rows}
    remaining = counts.get("pending", 0) + counts.get("sending", 0)
    return Progress(
        broadcast_id=broadcast_id, status=broadcast.status, total=sum(counts.values()),
        sent=counts.get("sent", 0), failed=counts.get("failed", 0), blocked=counts.get("blocked", 0),
        cancelled=counts.get("cancelled", 0), remaining=remaining)


async def mark_finished_if_done(session: AsyncSession, broadcast_id: int, now: datetime) -> bool:
    """SENDING → DONE once nothing is left; True if it changed now."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SENDING,
               ~exists(select(OutboxMessage.id).where(
                   OutboxMessage.broadcast_id == broadcast_id,
                   OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))))
        .values(status=BroadcastStatus.DONE, finished_at=now)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_progress_message(session: AsyncSession, broadcast_id: int, message_id: int) -> None:
    await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                          .values(progress_message_id=message_id).execution_options(synchronize_session=False))


async def active_broadcasts(session: AsyncSession) -> list[Broadcast]:
    """Broadcasts still sending (a restarted bot reattaches their progress messages)."""
    return list((await session.execute(
        select(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING).order_by(Broadcast.id))).scalars())


async def history(session: AsyncSession, limit: int = 10, offset: int = 0) -> list[tuple[Broadcast, Progress]]:
    """The latest broadcasts with their counts, newest first."""
    found = list((await session.execute(
        select(Broadcast).where(Broadcast.status != BroadcastStatus.DRAFT)
        .order_by(Broadcast.id.desc()).limit(limit).offset(offset))).scalars())
    return [(b, await progress(session, b.id)) for b in found]


__all__ = [
    "MAX_CAPTION", "MAX_TEXT", "Broadcast", "BroadcastStatus", "Progress", "Segment", "SegmentKind",
    "active_broadcasts", "cancel_broadcast", "count_recipients", "create_draft", "history",
    "mark_finished_if_done", "payload_of", "progress", "queue_broadcast", "recipients_query",
    "segment_filter", "set_progress_message", "visible_length",
]


# --- Use cases: one transaction each (the bot's owner screens and the progress message) -----------

OWNER_ROLE = "owner"


class BroadcastDropped(DomainError):
    """Send on a draft that was cancelled first (or is unknown): the owner's screen is out of date."""
    code = "broadcast_dropped"


@dataclass(frozen=True)
class Draft:
    broadcast_id: int
    payload: dict[str, Any]  # what the recipients will get: the owner's preview
    recipients: int


@dataclass(frozen=True)
class Sent:
    queued: int
    already_shown: bool  # a second tap on Send: the first one queued and shows the progress
    progress: Progress


@dataclass(frozen=True)
class ProgressMessage:
    """Where a broadcast's live progress message is, in the owner's language."""
    progress: Progress
    chat_id: int
    message_id: int | None
    language: str | None


async def compose(dom: Domain, owner_telegram_id: int, *, text: str, photo: str | None,
                  buttons: list[Any], segment: Segment) -> Draft:
    """The draft the owner previews, and how many it would reach now."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        draft = await create_draft(session, now=now, owner_id=owner_telegram_id, owner_chat_id=owner_telegram_id,
                                   text=text, photo=photo, buttons=buttons, segment=segment)
        recipients = await count_recipients(session, segment, now)
        return Draft(draft.id, payload_of(draft), recipients)


async def send(dom: Domain, owner_telegram_id: int, broadcast_id: int) -> Sent:
    """Send: every recipient queued, the audit entry, and the progress to show, in one
    transaction. BroadcastDropped when Cancel was pressed on the draft first (or it is unknown)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        try:
            queued = await queue_broadcast(session, broadcast_id, now)
        except NoResultFound:
            raise BroadcastDropped(str(broadcast_id)) from None
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        if broadcast.status is BroadcastStatus.CANCELLED and broadcast.queued_at is None:
            raise BroadcastDropped(str(broadcast_id))
        already_shown = broadcast.progress_message_id is not None
        if not already_shown:
            audit.record(session, now, "owner.broadcast", actor_telegram_id=owner_telegram_id, actor_role=OWNER_ROLE,
                         target=f"broadcast:{broadcast_id}", details={"recipients": queued})
        return Sent(queued, already_shown, await progress(session, broadcast_id))


async def drop_draft(dom: Domain, broadcast_id: int) -> None:
    """Cancel on the draft: it is never sent (a later Send answers BroadcastDropped)."""
    async with dom.db.transaction() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is not None and broadcast.status is BroadcastStatus.DRAFT:
            broadcast.status = BroadcastStatus.CANCELLED


async def stop(dom: Domain, owner_telegram_id: int, broadcast_id: int) -> int:
    """Stop a broadcast under way: its pending messages are cancelled (how many), audited."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        cancelled = await cancel_broadcast(session, broadcast_id, now)
        audit.record(session, now, "owner.broadcast_cancel", actor_telegram_id=owner_telegram_id,
                     actor_role=OWNER_ROLE, target=f"broadcast:{broadcast_id}", details={"cancelled": cancelled})
    return cancelled


async def show_progress_in(dom: Domain, broadcast_id: int, message_id: int) -> None:
    """The message that shows the progress from now on."""
    async with dom.db.transaction() as session:
        await set_progress_message(session, broadcast_id, message_id)


async def progress_message(dom: Domain, broadcast_id: int) -> ProgressMessage | None:
    """The progress as it stands (a broadcast with nothing left to send is marked done first)
    and where it is shown; None for an unknown broadcast."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return None
        chat_id, message_id = broadcast.owner_chat_id, broadcast.progress_message_id
        current = await progress(session, broadcast_id)
        if current.finished and current.status is BroadcastStatus.SENDING:
            await mark_finished_if_done(session, broadcast_id, now)
            session.expire_all()  # the UPDATE bypassed the loaded row
            current = await progress(session, broadcast_id)
        language = (await session.execute(select(TelegramAccount.language).where(
            TelegramAccount.telegram_id == chat_id))).scalar()
        return ProgressMessage(current, chat_id, message_id, language)


async def unfinished(dom: Domain) -> list[int]:
    """The broadcasts still sending (after a restart their progress is shown again)."""
    async with dom.db.reading() as session:
        return [b.id for b in await active_broadcasts(session)]


async def recent(dom: Domain, limit: int = 15) -> list[tuple[Broadcast, Progress]]:
    """The owner's broadcast history, newest first."""
    async with dom.db.reading() as session:
        return await history(session, limit=limit)
