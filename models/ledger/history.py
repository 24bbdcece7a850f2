"""What a customer sees about their own points: history, certificates, referral results.

Read-only queries for the customer's screens (handlers/customer_menu.py); framework-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select

from models.kernel.context import Domain
from models.kernel.tables import EntryKind, LedgerEntry, Lot, LotKind, Operation, OperationKind
from models.ledger import entries as ledger

HISTORY_PAGE = 8


@dataclass(frozen=True)
class HistoryItem:
    operation_id: int
    created_at: datetime
    label: str  # purchase, referral, refund, welcome, review, certificate, manual, expiry, erase, reward, import
    points: int  # the change of this customer's points by the operation (earned − spent)
    amount_kopecks: int  # the check of a purchase / the refunded part; 0 otherwise
    expires_at: datetime | None  # when the points this operation granted expire
    spent: int = 0  # points the operation took (a purchase paid with points: what the receipt says)
    earned: int = 0  # points it granted (the receipt's cashback)


@dataclass(frozen=True)
class HistoryPage:
    page: int
    total: int
    items: list[HistoryItem]
    balance: ledger.Balance


def _label(op: Operation, customer_id: int, lot_kind: LotKind | None) -> str:
    if op.kind is OperationKind.PURCHASE:
        return "purchase" if op.customer_id == customer_id else "referral"
    if op.kind is OperationKind.REFUND:
        return "refund" if op.customer_id == customer_id else "referral-refund"
    if op.kind is OperationKind.REWARD:
        if lot_kind is LotKind.WELCOME:
            return "welcome"
        if lot_kind is LotKind.REVIEW:
            return "review"
        if lot_kind is LotKind.CERTIFICATE:
            return "certificate"
        return "reward"
    if op.kind is OperationKind.MANUAL and op.comment.startswith("erased"):
        return "erase"
    if op.kind is OperationKind.EXPIRY and lot_kind is LotKind.CERTIFICATE:
        return "certificate-expiry"  # an unused certificate ran out, not "points expired"
    return {OperationKind.MANUAL: "manual", OperationKind.IMPORT: "import",
            OperationKind.EXPIRY: "expiry"}.get(op.kind, "reward")


async def history_page(dom: Domain, customer_id: int, page: int) -> HistoryPage:
    """Newest first: one line per operation that changed this customer's points."""
    now = dom.clock.now()
    async with dom.db.reading() as session:
        total = int((await session.execute(
            select(func.count(func.distinct(LedgerEntry.operation_id))).where(LedgerEntry.customer_id == customer_id)
        )).scalar() or 0)
        pages = max((total + HISTORY_PAGE - 1) // HISTORY_PAGE, 1)
        page = min(max(page, 0), pages - 1)
        rows = (await session.execute(
            select(LedgerEntry.operation_id, func.sum(LedgerEntry.delta), func.max(LedgerEntry.id),
                   func.coalesce(func.sum(case((LedgerEntry.delta < 0, -LedgerEntry.delta), else_=0)), 0),
                   func.coalesce(func.sum(case((LedgerEntry.delta > 0, LedgerEntry.delta), else_=0)), 0))
            .where(LedgerEntry.customer_id == customer_id)
            .group_by(LedgerEntry.operation_id)
            .order_by(func.max(LedgerEntry.id).desc())
            .offset(page * HISTORY_PAGE).limit(HISTORY_PAGE)
        )).all()
        op_ids = [r[0] for r in rows]
        ops = {op.id: op for op in (await session.execute(
            select(Operation).where(Operation.id.in_(op_ids)))).scalars()} if op_ids else {}
        lots: dict[int, tuple[LotKind, datetime | None]] = {}
        if op_ids:
            for op_id, kind, expires in (await session.execute(
                select(Lot.operation_id, Lot.kind, Lot.expires_at)
                .where(Lot.operation_id.in_(op_ids), Lot.customer_id == customer_id).order_by(Lot.id)
            )).all():
                lots.setdefault(op_id, (kind, expires))
            # An expiry creates no lot: the kind of the lots it wrote off names it.
            for op_id, kind in (await session.execute(
                select(LedgerEntry.operation_id, Lot.kind).join(Lot, Lot.id == LedgerEntry.lot_id)
                .where(LedgerEntry.operation_id.in_(op_ids), LedgerEntry.customer_id == customer_id,
                       LedgerEntry.kind == EntryKind.EXPIRE).order_by(LedgerEntry.id)
            )).all():
                lots.setdefault(op_id, (kind, None))
        items = []
        for op_id, delta, _, spent, earned in rows:
            op = ops[op_id]
            lot_kind, expires = lots.get(op_id, (None, None))
            own = op.customer_id == customer_id
            items.append(HistoryItem(
                operation_id=op_id, created_at=op.created_at, label=_label(op, customer_id, lot_kind),
                points=int(delta or 0), spent=int(spent or 0), earned=int(earned or 0),
                amount_kopecks=op.amount_kopecks if own and op.kind in (OperationKind.PURCHASE,
                                                                       OperationKind.REFUND) else 0,
                expires_at=expires))
        bal = await ledger.balance(session, customer_id, now)
    return HistoryPage(page=page, total=total, items=items, balance=bal)


async def next_expiry(dom: Domain, customer_id: int) -> tuple[int, datetime] | None:
    """The soonest-expiring live lot: (its remaining points, when)."""
    now = dom.clock.now()
    async with dom.db.reading() as session:
        row = (await session.execute(
            select(Lot.remaining, Lot.expires_at)
            .where(Lot.customer_id == customer_id, ledger.live(now), Lot.expires_at.is_not(None))
            .order_by(Lot.expires_at, Lot.id).limit(1)
        )).first()
    if row is None or row[1] is None:
        return None
    return int(row[0]), row[1]


@dataclass(frozen=True)
class CertificateLine:
    lot_id: int
    kind: str
    amount: int
    remaining: int
    cap: str  # percent, e.g. "20"
    expires_at: datetime | None


async def certificates_of(dom: Domain, customer_id: int) -> list[CertificateLine]:
    now = dom.clock.now()
    async with dom.db.reading() as session:
        lots = await ledger.live_certificates(session, customer_id, now)
    return [CertificateLine(
        lot_id=lot.id, kind=lot.certificate_kind.value if lot.certificate_kind else "owner", amount=lot.amount,
        remaining=lot.remaining, cap=f"{Decimal(lot.max_redeem_percent or '100').normalize():f}",
        expires_at=lot.expires_at) for lot in lots]


@dataclass(frozen=True)
class ReferralLevel:
    level: int
    invited: int
    bought: int
    points: int  # referral points this customer earned from purchases of that level


async def referral_stats(dom: Domain, customer_id: int, levels: int) -> list[ReferralLevel]:
    """Invited, bought and points earned per level of the referral chain (DOMAIN.md, "Referrals")."""
    from models.kernel.tables import Customer

    result: list[ReferralLevel] = []
    async with dom.db.reading() as session:
        parents = [customer_id]
        for level in range(1, levels + 1):
            ids = list((await session.execute(
                select(Customer.id).where(Customer.referrer_id.in_(parents)))).scalars()) if parents else []
            bought = int((await session.execute(
                select(func.count(func.distinct(Operation.customer_id)))
                .where(Operation.customer_id.in_(ids), Operation.kind == OperationKind.PURCHASE)
            )).scalar() or 0) if ids else 0
            points = int((await session.execute(
                select(func.coalesce(func.sum(Lot.amount), 0))
                .join(Operation, Operation.id == Lot.operation_id)
                .where(Lot.customer_id == customer_id, Lot.kind == LotKind.REFERRAL, Operation.customer_id.in_(ids))
            )).scalar() or 0) if ids else 0
            result.append(ReferralLevel(level=level, invited=len(ids), bought=bought, points=points))
            parents = ids
    return result
