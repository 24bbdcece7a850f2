"""Tiers (DOMAIN.md, "Tiers (statuses)").

A purchase that crosses a threshold upgrades the customer for the *next* purchase: the
purchase itself is computed with the tier stored before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from models.kernel.tables import Customer, Operation, OperationKind
from models.program.rules import Program, ThresholdBasis


def in_window(since: datetime) -> ColumnElement[bool]:
    """Purchases and refunds that count in a rolling window starting after `since`.

    A refund counts with the purchase it reverses: it leaves the window together with that
    purchase instead of lowering the purchases made after it.
    """
    purchase = aliased(Operation)
    return and_(Operation.created_at > since, or_(
        Operation.kind != OperationKind.REFUND,
        exists().where(purchase.id == Operation.parent_id, purchase.created_at > since),
    ))


async def progress_value(
    session: AsyncSession, customer: Customer, program: Program, now: datetime
) -> int:
    """Money paid net of refunds (kopecks) or purchases net of full refunds.

    All time: the customer's running totals. A rolling window: summed from the operations.
    """
    window = program.tiers.window_days
    money = program.tiers.basis is ThresholdBasis.MONEY
    if not window:
        return max(customer.paid_total_kopecks if money else customer.purchase_count, 0)
    since = now - timedelta(days=window)
    if money:
        signed = case(
            (Operation.kind == OperationKind.PURCHASE, Operation.cash_kopecks),
            (Operation.kind == OperationKind.REFUND, -Operation.cash_kopecks),
            else_=0,
        )
        value = (await session.execute(
            select(func.coalesce(func.sum(signed), 0))
            .where(Operation.customer_id == customer.id, in_window(since))
        )).scalar()
        return max(int(value or 0), 0)
    value = (await session.execute(
        select(func.count()).select_from(Operation).where(
            Operation.customer_id == customer.id,
            Operation.kind == OperationKind.PURCHASE,
            Operation.refunded_kopecks < Operation.amount_kopecks,
            Operation.created_at > since,
        )
    )).scalar()
    return int(value or 0)


def tier_for_value(program: Program, value: int) -> int:
    index = 0
    for i, tier in enumerate(program.tiers.levels):
        if value >= program.tiers.threshold_units(tier):
            index = i
    return index


@dataclass(frozen=True)
class TierProgress:
    index: int
    value: int  # kopecks or purchases
    next_index: int | None
    next_threshold: int | None  # kopecks or purchases

    @property
    def missing(self) -> int | None:
        return None if self.next_threshold is None else max(self.next_threshold - self.value, 0)


async def tier_progress(
    session: AsyncSession, customer: Customer, program: Program, now: datetime
) -> TierProgress:
    value = await progress_value(session, customer, program, now)
    index = min(customer.tier_index, len(program.tiers.levels) - 1)
    nxt = index + 1 if index + 1 < len(program.tiers.levels) else None
    threshold = program.tiers.threshold_units(program.tiers.levels[nxt]) if nxt is not None else None
    return TierProgress(index=index, value=value, next_index=nxt, next_threshold=threshold)


async def recalculate_tier(
    session: AsyncSession, customer: Customer, program: Program, now: datetime
) -> tuple[int, int]:
    """Set the customer's tier from their history (a pinned tier wins); return (old, new)."""
    old = customer.tier_index
    if customer.tier_pinned is not None:
        new = min(customer.tier_pinned, len(program.tiers.levels) - 1)
    else:
        new = tier_for_value(program, await progress_value(session, customer, program, now))
    customer.tier_index = new
    return old, new


__all__ = ["TierProgress", "in_window", "progress_value", "recalculate_tier", "tier_for_value", "tier_progress"]
