"""The ledger's invariants (DOMAIN.md, "Points lots and the ledger"), checked with SQL.

Run by tests after every operation and by anyone with `loyalty-bot check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, or_, select

from models.kernel.db import Database
from models.kernel.tables import Customer, EntryKind, LedgerEntry, Lot, Operation, OperationKind
from models.ledger.running_totals import check_running_totals


@dataclass(frozen=True)
class Problem:
    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.subject}: {self.detail}"


async def check_ledger(db: Database, limit: int = 100) -> list[Problem]:
    problems: list[Problem] = []
    entries = (
        select(
            LedgerEntry.lot_id.label("lot_id"),
            func.sum(LedgerEntry.delta).label("total"),
            func.sum(LedgerEntry.delta).filter(LedgerEntry.kind == EntryKind.GRANT).label("granted"),
            func.count().filter(LedgerEntry.kind == EntryKind.GRANT).label("grants"),
        )
        .group_by(LedgerEntry.lot_id)
        .subquery()
    )
    async with db.reading() as session:
        rows = (await session.execute(
            select(Lot.id, Lot.amount, Lot.remaining, entries.c.total, entries.c.granted, entries.c.grants)
            .outerjoin(entries, entries.c.lot_id == Lot.id)
            .where(or_(
                entries.c.total.is_(None),
                Lot.remaining != entries.c.total,
                Lot.amount != entries.c.granted,
                entries.c.grants != 1,
                Lot.remaining < 0,
                Lot.remaining > Lot.amount,
            ))
            .limit(limit)
        )).all()
        for lot_id, amount, remaining, total, granted, grants in rows:
            problems.append(Problem(
                "remaining = amount + its entries", f"lot {lot_id}",
                f"amount {amount}, remaining {remaining}, entries sum {total}, "
                f"granted {granted} in {grants} grant entries",
            ))
        wrong_owner = (await session.execute(
            select(LedgerEntry.id, LedgerEntry.lot_id)
            .join(Lot, Lot.id == LedgerEntry.lot_id)
            .where(Lot.customer_id != LedgerEntry.customer_id)
            .limit(limit)
        )).all()
        for entry_id, lot_id in wrong_owner:
            problems.append(Problem("an entry belongs to its lot's customer", f"entry {entry_id}",
                                    f"lot {lot_id} has another customer"))
        redeemed = (
            select(LedgerEntry.operation_id.label("op"), (-func.sum(LedgerEntry.delta)).label("paid"))
            .where(LedgerEntry.kind == EntryKind.REDEEM)
            .group_by(LedgerEntry.operation_id)
            .subquery()
        )
        mismatched = (await session.execute(
            select(Operation.id, Operation.points_paid, redeemed.c.paid)
            .outerjoin(redeemed, redeemed.c.op == Operation.id)
            .where(Operation.kind == OperationKind.PURCHASE,
                   func.coalesce(redeemed.c.paid, 0) != Operation.points_paid)
            .limit(limit)
        )).all()
        for op_id, paid, entries_paid in mismatched:
            problems.append(Problem("points paid = redeem entries", f"operation {op_id}",
                                    f"operation says {paid}, ledger says {entries_paid or 0}"))
        over = (await session.execute(
            select(Operation.id).where(
                Operation.kind == OperationKind.PURCHASE,
                or_(Operation.points_paid < 0,
                    Operation.cash_kopecks < 0,
                    Operation.refunded_kopecks > Operation.amount_kopecks),
            ).limit(limit)
        )).all()
        for (op_id,) in over:
            problems.append(Problem("points paid ≤ check, refunds ≤ check", f"operation {op_id}", ""))
        totals = (
            select(
                Operation.customer_id.label("cid"),
                func.sum(case((Operation.kind == OperationKind.PURCHASE, Operation.cash_kopecks),
                              else_=-Operation.cash_kopecks)).label("paid"),
                func.count().filter(Operation.kind == OperationKind.PURCHASE,
                                    Operation.refunded_kopecks < Operation.amount_kopecks).label("count"),
            )
            .where(Operation.kind.in_([OperationKind.PURCHASE, OperationKind.REFUND]),
                   Operation.customer_id.is_not(None))
            .group_by(Operation.customer_id)
            .subquery()
        )
        drifted = (await session.execute(
            select(Customer.id, Customer.paid_total_kopecks, Customer.purchase_count, totals.c.paid, totals.c.count)
            .outerjoin(totals, totals.c.cid == Customer.id)
            .where(or_(
                Customer.paid_total_kopecks != Customer.base_paid_kopecks + func.coalesce(totals.c.paid, 0),
                Customer.purchase_count != Customer.base_purchase_count + func.coalesce(totals.c.count, 0),
            ))
            .limit(limit)
        )).all()
        for cid, paid, count, ops_paid, ops_count in drifted:
            problems.append(Problem("running totals = operations", f"customer {cid}",
                                    f"stored {paid} kopecks / {count} purchases, operations say "
                                    f"{ops_paid or 0} / {ops_count or 0} (plus imported history)"))
        problems.extend(Problem(*found) for found in await check_running_totals(session, limit))
    return problems
