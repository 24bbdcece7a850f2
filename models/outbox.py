"""Writing outgoing messages to the durable outbox (one place that sends: the sender drains it).

The domain knows no language: a message is a translation key with arguments, rendered in
the recipient's language by the sender at send time.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import table_of
from models.tables import OutboxMessage, OutboxStatus, TelegramAccount


def message_payload(
    key: str, args: dict[str, Any] | None = None, markup: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A message for the outbox. Its text arguments (names, sites, reasons, tier names) are
    HTML-escaped here, once for every message: the sender sends in HTML parse mode, and a "<"
    in a name would make Telegram refuse the whole message."""
    safe = {name: html.escape(value) if isinstance(value, str) else value for name, value in (args or {}).items()}
    payload: dict[str, Any] = {"key": key, "args": safe}
    if markup:
        payload["markup"] = markup
    return payload


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
