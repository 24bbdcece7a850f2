"""Once-only rewards enforced by a unique key in the database, not by in-memory flags."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.phone_key import phone_hash
from models.kernel.tables import Customer, RewardClaim


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


# --- Once per person (docs/RULES.md, "Once per person") ----------------------------------------

PERSON_PREFIX = "p:"  # + the keyed phone fingerprint (models/kernel/phone_key.py)
CUSTOMER_PREFIX = "c:"  # + the customer id, for a customer without a phone


def person_key_for(customer_id: int, phone: str | None) -> str:
    """The subject of a once-per-person claim: the keyed fingerprint of the phone, which
    survives "delete my data", so erasing and registering again with the same phone is the same
    person; a customer without a phone (only an erased one) falls back to its id, which is never
    reused. The prefixes keep the two kinds of key, and the bare "welcome" fingerprint, apart."""
    return phone_person_key(phone) if phone else f"{CUSTOMER_PREFIX}{customer_id}"


def phone_person_key(e164: str) -> str:
    return PERSON_PREFIX + phone_hash(e164)


async def person_key(session: AsyncSession, customer_id: int) -> str:
    phone = (await session.execute(select(Customer.phone).where(Customer.id == customer_id))).scalar()
    return person_key_for(customer_id, phone)


async def claimed_period(session: AsyncSession, kind: str, subject: str) -> str | None:
    """The period of the earliest claim of this kind for this subject (None: no claim). Used by
    the "referrer" record, whose period holds the referrer's id."""
    return (
        await session.execute(
            select(RewardClaim.period).where(RewardClaim.kind == kind, RewardClaim.subject == subject)
            .order_by(RewardClaim.id).limit(1)
        )
    ).scalar()
