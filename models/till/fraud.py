"""Fraud controls: unusual activity alerts the staff group, at most once per customer or staff
member per business day (DOMAIN.md, "Roles").
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel import audit
from models.kernel.context import Domain
from models.kernel.outbox import enqueue, message_payload
from models.kernel.tables import Customer, Operation, OperationKind, OutboxMessage, Staff
from models.program.rules import Program
from models.program.store import current_program

log = logging.getLogger(__name__)


def business_day_bounds(dom: Domain, now: datetime) -> tuple[datetime, datetime, str]:
    local = now.astimezone(dom.tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1), start.date().isoformat()


async def _alert_once(session: AsyncSession, chat_id: int, key: str, args: dict[str, object],
                      dedupe: str, now: datetime) -> bool:
    exists = (await session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe))).scalar()
    if exists is not None:
        return False
    try:
        async with session.begin_nested():
            await enqueue(session, chat_id, message_payload(key, args=args), now, dedupe_key=dedupe)
            await session.flush()
    except IntegrityError:
        return False  # raised concurrently by another till
    return True


async def check_fraud(dom: Domain, *, customer_id: int | None, staff_id: int | None,
                      alert_chat_id: int | None) -> list[str]:
    """Alert the staff chat when a customer has more than N operations today, or a staff
    member paid more than M points today (program limits). Returns the alerts raised."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        return await check_fraud_in(session, dom, now, customer_id=customer_id, staff_id=staff_id,
                                    alert_chat_id=alert_chat_id)


async def check_fraud_in(session: AsyncSession, dom: Domain, now: datetime, *, customer_id: int | None,
                         staff_id: int | None, alert_chat_id: int | None, program: Program | None = None) -> list[str]:
    """`check_fraud` inside the caller's transaction (after the operation it is about)."""
    start, end, day = business_day_bounds(dom, now)
    raised: list[str] = []
    # Names go into outbox texts, which `models.kernel.outbox.message_payload` HTML-escapes.
    if program is None:
        _, program = await current_program(session)
    limits = program.limits
    today = and_(Operation.created_at >= start, Operation.created_at < end)
    till = Operation.kind.in_([OperationKind.PURCHASE, OperationKind.REFUND])
    # Both of today's figures in one statement (the Confirm tap's budget, issue 15).
    operations = (select(func.count(Operation.id)).where(Operation.customer_id == customer_id, till, today)
                  .scalar_subquery() if customer_id is not None else literal(0))
    points_paid = (select(func.coalesce(func.sum(Operation.points_paid), 0))
                   .where(Operation.staff_id == staff_id, Operation.kind == OperationKind.PURCHASE, today)
                   .scalar_subquery() if staff_id is not None else literal(0))
    count, paid = (int(value or 0) for value in (await session.execute(select(operations, points_paid))).one())
    if customer_id is not None:
        if count > limits.fraud_operations_per_customer_day:
            customer = await session.get(Customer, customer_id)
            args = {"customer": (customer.name if customer else None) or f"#{customer_id}",
                    "customer_id": customer_id, "count": count,
                    "limit": limits.fraud_operations_per_customer_day}
            if alert_chat_id is not None and await _alert_once(
                    session, alert_chat_id, "staff-fraud-customer", args, f"fraud:customer:{customer_id}:{day}",
                    now):
                raised.append("customer")
                audit.record(session, now, "fraud.customer", actor_telegram_id=None, actor_role="system",
                             target=f"customer:{customer_id}", details=args)
    if staff_id is not None:
        if paid > limits.fraud_points_per_staff_day:
            staff = await session.get(Staff, staff_id)
            args = {"staff": staff.display_name if staff else f"#{staff_id}", "points": paid,
                    "limit": limits.fraud_points_per_staff_day}
            if alert_chat_id is not None and await _alert_once(
                    session, alert_chat_id, "staff-fraud-staff", args, f"fraud:staff:{staff_id}:{day}", now):
                raised.append("staff")
                audit.record(session, now, "fraud.staff", actor_telegram_id=None, actor_role="system",
                             target=f"staff:{staff_id}", details=args)
    if raised:
        log.warning("fraud alerts raised: %s (customer %s, staff %s)", raised, customer_id, staff_id)
    return raised
