"""Writing outgoing messages to the durable outbox (one place that sends: the sender drains it).

The domain knows no language: a message is a translation key with arguments, rendered in
the recipient's language by the sender at send time.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import table_of
from models.tables import OutboxMessage, TelegramAccount


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


async def enqueue_many(
    session: AsyncSession, messages: list[tuple[int, dict[str, Any]]], now: datetime
) -> None:
    """Several sendMessage rows in one INSERT (the purchase path)."""
    if messages:
        await session.execute(insert(table_of(OutboxMessage)), [
            {"chat_id": chat_id, "method": "sendMessage", "payload": payload, "not_before": now, "created_at": now}
            for chat_id, payload in messages
        ])


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
