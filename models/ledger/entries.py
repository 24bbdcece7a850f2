"""Lots and the append-only ledger (DOMAIN.md, "Points lots and the ledger").

This is the only module that changes `Lot.remaining`; every change writes a `LedgerEntry`
in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from models.kernel.base import table_of
from models.kernel.errors import InsufficientFunds
from models.kernel.tables import CertificateKind, EntryKind, LedgerEntry, Lot, LotKind, Operation


def live(now: datetime) -> ColumnElement[bool]:
    """Lots that still hold points that count: not written off and not past their expiry."""
    return and_(
        Lot.remaining > 0,
        Lot.expired_at.is_(None),
        or_(Lot.expires_at.is_(None), Lot.expires_at > now),
    )


def spendable(now: datetime) -> ColumnElement[bool]:
    return and_(live(now), or_(Lot.available_at.is_(None), Lot.available_at <= now))


# Soonest-expiring first; lots that never expire last; then oldest first.
SPEND_ORDER = (Lot.expires_at.is_(None), Lot.expires_at, Lot.id)


@dataclass(frozen=True)
class Balance:
    regular: int  # spendable regular points
    pending: int  # cashback/referral points still waiting (program's pending days)
    certificates: int  # points on live certificates

    @property
    def total(self) -> int:
        return self.regular + self.pending + self.certificates


async def balance(session: AsyncSession, customer_id: int, now: datetime) -> Balance:
    is_cert = Lot.kind == LotKind.CERTIFICATE
    is_pending = and_(Lot.available_at.is_not(None), Lot.available_at > now)
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(Lot.remaining).filter(~is_cert, ~is_pending), 0),
                func.coalesce(func.sum(Lot.remaining).filter(~is_cert, is_pending), 0),
                func.coalesce(func.sum(Lot.remaining).filter(is_cert), 0),
            ).where(Lot.customer_id == customer_id, live(now))
        )
    ).one()
    return Balance(regular=int(row[0]), pending=int(row[1]), certificates=int(row[2]))


async def live_certificates(session: AsyncSession, customer_id: int, now: datetime) -> list[Lot]:
    result = await session.execute(
        select(Lot)
        .where(Lot.customer_id == customer_id, Lot.kind == LotKind.CERTIFICATE, spendable(now))
        .order_by(*SPEND_ORDER)
    )
    return list(result.scalars())


async def grant(
    session: AsyncSession,
    *,
    customer_id: int,
    kind: LotKind,
    amount: int,
    operation: Operation,
    now: datetime,
    validity_days: int | None,
    pending_days: int = 0,
    max_redeem_percent: Decimal | None = None,
    certificate_kind: CertificateKind | None = None,
    campaign_id: int | None = None,
) -> Lot | None:
    """Create a lot and its GRANT entry. Zero amounts create nothing."""
    if amount <= 0:
        return None
    lot = Lot(
        customer_id=customer_id,
        kind=kind,
        amount=amount,
        remaining=amount,
        created_at=now,
        expires_at=now + timedelta(days=validity_days) if validity_days else None,
        available_at=now + timedelta(days=pending_days) if pending_days else None,
        operation_id=operation.id,
        max_redeem_percent=str(max_redeem_percent) if max_redeem_percent is not None else None,
        certificate_kind=certificate_kind,
        campaign_id=campaign_id,
    )
    session.add(lot)
    await session.flush()
    session.add(
        LedgerEntry(
            lot_id=lot.id,
            customer_id=customer_id,
            operation_id=operation.id,
            kind=EntryKind.GRANT,
            delta=amount,
            created_at=now,
        )
    )
    return lot


async def debit_only(session: AsyncSession, lot_id: int, points: int) -> None:
    """The conditional update alone; the caller writes the ledger entry (in bulk)."""
    lots = table_of(Lot)  # Core: the purchase path calls this per lot
    result = await session.execute(
        update(lots).where(lots.c.id == lot_id, lots.c.remaining >= points).values(remaining=lots.c.remaining - points)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InsufficientFunds(f"lot {lot_id} cannot give {points}")


async def debit(
    session: AsyncSession,
    lot_id: int,
    customer_id: int,
    points: int,
    operation_id: int,
    kind: EntryKind,
    now: datetime,
) -> None:
    """Take `points` from one lot; the conditional update refuses to overdraw it."""
    if points <= 0:
        return
    await debit_only(session, lot_id, points)
    session.add(
        LedgerEntry(
            lot_id=lot_id,
            customer_id=customer_id,
            operation_id=operation_id,
            kind=kind,
            delta=-points,
            created_at=now,
        )
    )


async def credit(
    session: AsyncSession,
    lot_id: int,
    customer_id: int,
    points: int,
    operation_id: int,
    kind: EntryKind,
    now: datetime,
) -> None:
    """Give points back to a lot (refunds); never above the lot's original amount."""
    if points <= 0:
        return
    result = await session.execute(
        update(Lot)
        .where(Lot.id == lot_id, Lot.remaining + points <= Lot.amount)
        .values(remaining=Lot.remaining + points)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InsufficientFunds(f"lot {lot_id} cannot take back {points}")
    session.add(
        LedgerEntry(
            lot_id=lot_id,
            customer_id=customer_id,
            operation_id=operation_id,
            kind=kind,
            delta=points,
            created_at=now,
        )
    )


async def spend_regular(
    session: AsyncSession,
    customer_id: int,
    points: int,
    operation_id: int,
    kind: EntryKind,
    now: datetime,
    *,
    strict: bool = True,
) -> int:
    """Draw regular (non-certificate) points soonest-expiring first; return what was taken.

    With strict=False takes as much as there is (refund reversals record the rest as a
    shortfall); with strict=True raises InsufficientFunds when the balance is short.
    """
    if points <= 0:
        return 0
    lots = (
        await session.execute(
            select(Lot.id, Lot.remaining)
            .where(Lot.customer_id == customer_id, Lot.kind != LotKind.CERTIFICATE, spendable(now))
            .order_by(*SPEND_ORDER)
        )
    ).all()
    available = sum(r.remaining for r in lots)
    if strict and available < points:
        raise InsufficientFunds(f"balance {available} < {points}")
    taken = 0
    for lot_id, remaining in lots:
        if taken >= points:
            break
        part = min(remaining, points - taken)
        await debit(session, lot_id, customer_id, part, operation_id, kind, now)
        taken += part
    return taken
