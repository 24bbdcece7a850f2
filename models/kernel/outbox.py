"""Writing outgoing messages to the durable outbox (one place that sends: the sender drains it).

The domain knows no language: a message is a translation key with arguments, rendered in
the recipient's language by the sender at send time.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.base import table_of
from models.kernel.db import Database
from models.kernel.tables import OutboxMessage, OutboxStatus, TelegramAccount


def message_payload(
    key: str, args: dict[str, Any] | None = None, markup: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A message for the outbox. Its text arguments (names, sites, reasons, tier names) are
    HTML-escaped here, once for every message: the sender sends in HTML parse mode, and a "<"
    in a name would make Telegram refuse the whole message. A per-language program text (a tier's
    name given as {"ru": ..., "en": ...}) stays a dict and the sender picks the recipient's language."""
    safe = {name: _escaped(value) for name, value in (args or {}).items()}
    payload: dict[str, Any] = {"key": key, "args": safe}
    if markup:
        payload["markup"] = markup
    return payload


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, dict):
        return {lang: html.escape(text) if isinstance(text, str) else text for lang, text in value.items()}
    return value


async def enqueue(
    session: AsyncSession,
    chat_id: int,
    payload: dict[str, Any],
    now: datetime,
    *,
    method: str = "sendMessage",
    dedupe_key: str | None = None,
    broadcast_id: int | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        chat_id=chat_id,
        method=method,
        payload=payload,
        dedupe_key=dedupe_key,
        broadcast_id=broadcast_id,
        not_before=now,
        created_at=now,
    )
    session.add(message)
    return message


@dataclass(frozen=True)
class Outgoing:
    """One sendMessage row for `enqueue_many`: the chat, the payload (`message_payload`) and,
    for a message that must go once only, its dedupe key."""

    chat_id: int
    payload: dict[str, Any]
    dedupe_key: str | None = None


ENQUEUE_CHUNK = 500  # rows per INSERT (bind-parameter limits)


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    """INSERT with ON CONFLICT support for the session's database."""
    from sqlalchemy.dialects import postgresql, sqlite

    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def enqueue_many(session: AsyncSession, messages: Sequence[Outgoing], now: datetime,
                       not_before: datetime | None = None) -> int:
    """Several sendMessage rows in bulk; returns how many were written. A message whose dedupe
    key is already in the outbox is not written again (the scheduler's jobs); messages without
    one (the purchase path) go in one plain INSERT."""
    if not messages:
        return 0
    table = table_of(OutboxMessage)
    rows = [{"chat_id": m.chat_id, "method": "sendMessage", "payload": m.payload, "dedupe_key": m.dedupe_key,
             "status": OutboxStatus.PENDING, "attempts": 0, "not_before": not_before or now, "created_at": now}
            for m in messages]
    if all(m.dedupe_key is None for m in messages):
        await session.execute(insert(table), rows)
        return len(rows)
    written = 0
    for i in range(0, len(rows), ENQUEUE_CHUNK):
        stmt = dialect_insert(session, table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(
            table.c.id)
        written += len((await session.execute(stmt, rows[i:i + ENQUEUE_CHUNK])).all())
    return written


async def customer_chat(session: AsyncSession, customer_id: int) -> int | None:
    """The Telegram chat of a customer, or None if they have none or blocked the bot."""
    return (
        await session.execute(
            select(TelegramAccount.telegram_id).where(
                TelegramAccount.customer_id == customer_id,
                TelegramAccount.unreachable.is_(False),
            )
        )
    ).scalar()


async def notify_customer(
    session: AsyncSession,
    customer_id: int,
    key: str,
    now: datetime,
    *,
    args: dict[str, Any] | None = None,
    markup: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    chat_id = await customer_chat(session, customer_id)
    if chat_id is None:
        return None
    return await enqueue(
        session, chat_id, message_payload(key, args, markup), now, dedupe_key=dedupe_key
    )


# --- The queue's health (`loyalty-bot outbox status|retry`, the /owner line) --------------------

STUCK_AFTER = timedelta(minutes=5)  # a pending row older than this: Telegram is not taking messages


@dataclass(frozen=True)
class OutboxHealth:
    pending: int
    sending: int
    failed: int
    blocked: int
    failed_by_reason: tuple[tuple[str, int], ...]  # (error, rows), most frequent first
    oldest_due: datetime | None  # the earliest `not_before` of a pending row
    stuck: int  # pending rows waiting for Telegram longer than STUCK_AFTER (`stuck_rows`)


def stuck_rows(now: datetime) -> Any:
    """The condition of a row that waits for Telegram: pending, written (or requeued) more than
    STUCK_AFTER ago, and either tried already (in backoff through an outage, its `not_before`
    moved ahead) or due for longer than STUCK_AFTER. A row deliberately queued for later (a
    scheduled send) that nobody tried yet is not stuck."""
    before = now - STUCK_AFTER
    return and_(
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.created_at <= before,
        or_(OutboxMessage.attempts > 0, OutboxMessage.not_before <= before),
    )


async def waiting_for_telegram(session: AsyncSession, now: datetime) -> int:
    """How many messages wait for Telegram (the owner's "⏳ N messages waiting" line)."""
    return int((await session.execute(select(func.count()).where(stuck_rows(now)))).scalar() or 0)


def _reason(error: str | None) -> str:
    """A failure's reason without the per-row detail (`502: Bad Gateway` stays, a long
    description is cut), so rows failed for the same cause group together."""
    text = (error or "unknown").strip().splitlines()[0] if (error or "").strip() else "unknown"
    return text[:80]


async def outbox_health(session: AsyncSession, now: datetime) -> OutboxHealth:
    counts = dict((await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )).all())
    reasons: dict[str, int] = {}
    for error, rows in (await session.execute(
        select(OutboxMessage.error, func.count()).where(OutboxMessage.status == OutboxStatus.FAILED)
        .group_by(OutboxMessage.error)
    )).all():
        reason = _reason(error)
        reasons[reason] = reasons.get(reason, 0) + rows
    oldest = (await session.execute(
        select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == OutboxStatus.PENDING)
    )).scalar()
    return OutboxHealth(
        pending=counts.get(OutboxStatus.PENDING, 0), sending=counts.get(OutboxStatus.SENDING, 0),
        failed=counts.get(OutboxStatus.FAILED, 0), blocked=counts.get(OutboxStatus.BLOCKED, 0),
        failed_by_reason=tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))),
        oldest_due=oldest,  # func.min keeps the column's type: an aware UTC datetime
        stuck=await waiting_for_telegram(session, now),
    )


@dataclass(frozen=True)
class Requeued:
    requeued: int
    skipped_broadcast: int  # broadcast rows stay failed: a broadcast is sent at most once


async def requeue_failed(session: AsyncSession, now: datetime, since: datetime | None = None) -> Requeued:
    """Failed notifications back to the queue, by hand: pending, no attempts, due now, and a
    fresh retry window (`payload["requeued_at"]`, read by the sender). Rows of customers who
    blocked the bot are `blocked`, not `failed`, and are never requeued; failed broadcast rows
    are left alone (Telegram may have shown them before failing to answer)."""
    where = [OutboxMessage.status == OutboxStatus.FAILED]
    if since is not None:
        where.append(OutboxMessage.created_at >= since)
    rows = (await session.execute(select(OutboxMessage).where(*where).order_by(OutboxMessage.id))).scalars().all()
    requeued = skipped = 0
    for row in rows:
        if row.broadcast_id is not None:
            skipped += 1
            continue
        row.status = OutboxStatus.PENDING
        row.attempts = 0
        row.not_before = now
        row.error = None
        row.payload = {**(row.payload or {}), "requeued_at": now.isoformat()}
        requeued += 1
    return Requeued(requeued, skipped)


async def health(db: Database, now: datetime) -> OutboxHealth:
    """`loyalty-bot outbox status`: the queue as it stands."""
    async with db.reading() as session:
        return await outbox_health(session, now)


async def requeue(db: Database, now: datetime, since: datetime | None = None) -> Requeued:
    """`loyalty-bot outbox retry`: failed messages sent again (never a broadcast's)."""
    async with db.transaction() as session:
        return await requeue_failed(session, now, since)
