"""Writing off expired points (DOMAIN.md, "Points lots and the ledger").

Set-based: one INSERT … SELECT writes an EXPIRE entry for every lot past its expiry, one
UPDATE zeroes exactly those lots. Lots past their expiry are never debited or credited by
purchases or refunds (see `ledger.live`), so nothing else touches them in between.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, literal, select, update

from models.kernel.context import Domain
from models.kernel.tables import EntryKind, LedgerEntry, Lot, Operation, OperationKind
from models.program.store import current_program


async def expire_lots(dom: Domain, now: datetime | None = None) -> tuple[int, int]:
    """Write off every expired remainder; returns (lots, points)."""
    moment = now or dom.clock.now()
    due = (Lot.expired_at.is_(None), Lot.expires_at.is_not(None), Lot.expires_at <= moment,
           Lot.remaining > 0)
    async with dom.db.transaction() as session:
        if not dom.db.is_sqlite:
            # One writer at a time even if two schedulers raced past their leases.
            await session.execute(select(func.pg_advisory_xact_lock(7_406_001)))
        remainders = select(Lot.remaining).where(*due)
        if not dom.db.is_sqlite:
            # Lock the due lots first: a till debiting one of them commits before this reads its
            # remainder, and none can be debited between the entries below and the update.
            # (SQLite: this transaction holds the database's write lock already.)
            remainders = remainders.order_by(Lot.id).with_for_update()
        sub = remainders.subquery()
        count, points = (await session.execute(
            select(func.count(), func.coalesce(func.sum(sub.c.remaining), 0))
        )).one()
        if not count:
            return 0, 0
        version, _ = await current_program(session)
        op = Operation(kind=OperationKind.EXPIRY, program_version=version, created_at=moment,
                       points_delta=-int(points), channel="job", comment="expired points")
        session.add(op)
        await session.flush()
        await session.execute(
            insert(LedgerEntry).from_select(
                ["lot_id", "customer_id", "operation_id", "kind", "delta", "created_at"],
                select(Lot.id, Lot.customer_id, literal(op.id), literal(EntryKind.EXPIRE.value),
                       -Lot.remaining, literal(moment, type_=LedgerEntry.created_at.type))
                .where(*due),
            )
        )
        await session.execute(
            update(Lot)
            .where(Lot.id.in_(select(LedgerEntry.lot_id).where(LedgerEntry.operation_id == op.id)))
            .values(remaining=0, expired_at=moment)
            .execution_options(synchronize_session=False)
        )
        return int(count), int(points)
