"""Tiers (DOMAIN.md, "Tiers (statuses)").

A purchase that crosses a threshold upgrades the customer for the *next* purchase: the
purchase itself is computed with the tier stored before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.program import Program, ThresholdBasis
from models.tables import Customer, Operation, OperationKind


async def progress_value(
    session: AsyncSession, customer_id: int, program: Program, now: datetime
) -> int:
    """Money paid net of refunds (kopecks) or purchases net of full refunds, in the window."""
    window = program.tiers.window_days
    since = now - timedelta(days=window) if window else None
    conditions = [Operation.customer_id == customer_id]
    if since is not None:
        conditions.append(Operation.created_at > since)
    if program.tiers.basis is ThresholdBasis.MONEY:
        signed = case(
            (Operation.kind == OperationKind.PURCHASE, Operation.cash_kopecks),
            (Operation.kind == OperationKind.REFUND, -Operation.cash_kopecks),
            else_=0,
        )
        value = (await session.execute(select(func.coalesce(func.sum(signed), 0)).where(*conditions))).scalar()
        return max(int(value or 0), 0)
    purchase = aliased(Operation)
    value = (
        await session.execute(
            select(func.count()).select_from(purchase).where(
                purchase.customer_id == customer_id,
                purchase.kind == OperationKind.PURCHASE,
                purchase.refunded_kopecks < purchase.amount_kopecks,
                *([purchase.created_at > since] if since is not None else []),
            )
        )
    ).scalar()
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
    value = await progress_value(session, customer.id, program, now)
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
        new = tier_for_value(program, await progress_value(session, customer.id, program, now))
    customer.tier_index = new
    return old, new


__all__ = ["TierProgress", "progress_value", "recalculate_tier", "tier_for_value", "tier_progress"]
