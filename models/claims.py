"""Once-only rewards enforced by a unique key in the database, not by in-memory flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import RewardClaim


async def claim_once(
    session: AsyncSession,
    kind: str,
    subject: str | int,
    period: str = "",
    *,
    now: datetime,
    operation_id: int | None = None,
) -> bool:
    """Record the claim; False if it was already made (then nothing is written)."""
    subject = str(subject)
    exists = (
        await session.execute(
            select(RewardClaim.id).where(
                RewardClaim.kind == kind, RewardClaim.subject == subject, RewardClaim.period == period
            )
        )
    ).scalar()
    if exists is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                RewardClaim(
                    kind=kind, subject=subject, period=period,
                    operation_id=operation_id, created_at=now,
                )
            )
    except IntegrityError:
        return False  # a concurrent transaction claimed it first
    return True


async def is_claimed(session: AsyncSession, kind: str, subject: str | int, period: str = "") -> bool:
    return (
        await session.execute(
            select(RewardClaim.id).where(
                RewardClaim.kind == kind,
                RewardClaim.subject == str(subject),
                RewardClaim.period == period,
            )
        )
    ).scalar() is not None
