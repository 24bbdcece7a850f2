"""Builders for the scheduler tests: business-time clock moves, purchases, outbox reads."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.tables import Lot, OutboxMessage, TelegramAccount
from models.purchase.purchases import PurchaseRequest, commit_purchase
from scheduler.runner import JobRunner, RunOutcome

OWNER = 777


def runner(dom: Domain, **kwargs: Any) -> JobRunner:
    kwargs.setdefault("owner_ids", [OWNER])
    # A lease name of its own: PostgreSQL advisory locks are shared by every schema.
    kwargs.setdefault("lease_name", f"test-{uuid.uuid4().hex[:8]}")
    return JobRunner(dom, **kwargs)


def at(dom: Domain, day: date, hour: int = 13, minute: int = 0) -> datetime:
    """Move the clock to `day` at hour:minute business time."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=dom.tz)
    assert isinstance(dom.clock, ManualClock)
    dom.clock.set(moment)
    return moment


def today(dom: Domain) -> date:
    return dom.clock.now().astimezone(dom.tz).date()


async def live_days(dom: Domain, jobs: JobRunner, until: date, hour: int = 13, step: int = 1) -> list[RunOutcome]:
    """Every day up to `until`: move the clock to that day's `hour` and let the runner catch up
    (with `step` > 1 only every few days, like a bot that is often down; the last day always)."""
    outcomes: list[RunOutcome] = []
    day = today(dom) + timedelta(days=1)
    while day <= until:
        at(dom, day, hour)
        if day == until or (day - until).days % step == 0:
            outcomes += await jobs.catch_up()
        day += timedelta(days=1)
    return outcomes


async def buy(dom: Domain, customer_id: int, roubles: int, points: int = 0) -> int:
    result = await commit_purchase(dom, PurchaseRequest(
        customer_id=customer_id, amount_kopecks=roubles * 100, points=points, phone_confirmed=True,
        idempotency_key=uuid.uuid4().hex))
    return result.operation_id


async def messages(dom: Domain, key: str | None = None, customer_id: int | None = None) -> list[dict[str, Any]]:
    """Outbox payloads (with "chat_id"), optionally for one key and one customer's chat."""
    async with dom.db.reading() as session:
        query = select(OutboxMessage.chat_id, OutboxMessage.payload, OutboxMessage.dedupe_key).order_by(
            OutboxMessage.id)
        if customer_id is not None:
            chat = (await session.execute(select(TelegramAccount.telegram_id).where(
                TelegramAccount.customer_id == customer_id))).scalar()
            query = query.where(OutboxMessage.chat_id == chat)
        rows = (await session.execute(query)).all()
    found = [{"chat_id": chat, "dedupe_key": dedupe, **payload} for chat, payload, dedupe in rows]
    return [m for m in found if key is None or m["key"] == key]


async def certificates(dom: Domain, customer_id: int, kind: str | None = None) -> list[Lot]:
    async with dom.db.reading() as session:
        query = select(Lot).where(Lot.customer_id == customer_id, Lot.certificate_kind.is_not(None)).order_by(Lot.id)
        lots = list((await session.execute(query)).scalars())
    return [lot for lot in lots if kind is None or lot.certificate_kind == kind]
