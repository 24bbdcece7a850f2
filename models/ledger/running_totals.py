"""Running totals the reports read instead of the operations (docs/REPORTS.md, "How it is computed").

Two places, both written by the operations themselves in their own transaction:

* per customer (`customers.revenue_kopecks`, `points_paid_kopecks`, `certificate_revenue_kopecks`,
  `last_live_purchase_at`, and the existing `purchase_count − base_purchase_count`): all-time
  figures of the customer's purchases net of refunds;
* per UTC hour × staff member (`till_hours`): card purchases and sales without a card, net of
  refunds, in the hour the purchase was made.

Every quantity is defined exactly as the report's reference queries define it over the
operations (`models/reports/report.py`: `net_revenue`, `net_points_paid`), so a report from the
totals equals a report from the operations; `check_running_totals` (run by `loyalty-bot
check` and the tests' invariants) and `rebuild_running_totals` (bulk loads, the bench)
use the same definitions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.tables import Customer, Operation, OperationKind, TillHour
from models.ledger.figures import net_points_paid, net_revenue

TILL = cast(Table, TillHour.__table__)
CUSTOMERS = cast(Table, Customer.__table__)
TILL_COLUMNS = ("card_n", "card_rev", "card_pts", "plain_n", "plain_rev")


def hour_of(when: datetime) -> datetime:
    """The UTC hour an instant falls in (the key of `till_hours`)."""
    return when.replace(minute=0, second=0, microsecond=0)


def net_points(amount: int, cash: int, refunded: int) -> int:
    """Points paid in money net of refunds: `paid − floor(paid × refunded / amount)`."""
    paid = amount - cash
    return paid - (paid * refunded) // amount if amount else 0


def _till_upsert(dialect: str) -> Any:
    stmt: Any = (pg_insert if dialect == "postgresql" else sqlite_insert)(TILL).values(
        {name: bindparam(name, type_=TILL.c[name].type) for name in ("hour", "staff_key", *TILL_COLUMNS)})
    return stmt.on_conflict_do_update(
        index_elements=[TILL.c.hour, TILL.c.staff_key],
        set_={name: TILL.c[name] + stmt.excluded[name] for name in TILL_COLUMNS},
    )


_UPSERTS = {dialect: _till_upsert(dialect) for dialect in ("postgresql", "sqlite")}  # built once: the hot path


async def add_to_till(session: AsyncSession, when: datetime, staff_id: int | None, **deltas: int) -> None:
    """One upsert adding `deltas` (card_n, card_rev, card_pts, plain_n, plain_rev) to the hour's row."""
    params: dict[str, Any] = {name: int(deltas.get(name, 0)) for name in TILL_COLUMNS}
    params.update(hour=hour_of(when), staff_key=staff_id or 0)
    await session.execute(_UPSERTS[session.get_bind().dialect.name], params)


async def last_live_purchase(session: AsyncSession, customer_id: int, *, excluding: int | None = None) -> Any:
    """The time of the customer's last purchase that is not fully refunded (None: none)."""
    stmt = (
        select(Operation.created_at)
        .where(Operation.customer_id == customer_id, Operation.kind == OperationKind.PURCHASE,
               Operation.refunded_kopecks < Operation.amount_kopecks)
        .order_by(Operation.created_at.desc()).limit(1)
    )
    if excluding is not None:
        stmt = stmt.where(Operation.id != excluding)
    return (await session.execute(stmt)).scalar()


# --- The same quantities straight from the operations (rebuild and check) -------------------

def customer_totals_from_operations(customers: list[int] | None = None) -> Any:
    """Per customer with purchases (or only those listed): what the running totals must hold."""
    live = Operation.refunded_kopecks < Operation.amount_kopecks
    stmt = (
        select(
            Operation.customer_id.label("cid"),
            func.count().filter(live).label("live"),
            func.sum(net_revenue()).label("revenue"),
            func.sum(net_points_paid()).label("points"),
            func.coalesce(func.sum(case((Operation.certificate_lot_id.is_not(None), net_revenue()), else_=0)), 0)
            .label("certificate"),
            func.max(case((live, Operation.created_at))).label("last_live"),
            func.max(Operation.created_at).label("last_any"),
        )
        .where(Operation.kind == OperationKind.PURCHASE, Operation.customer_id.is_not(None))
        .group_by(Operation.customer_id)
    )
    if customers is not None:
        stmt = stmt.where(Operation.customer_id.in_(customers))
    return stmt.subquery("totals")


def _hour_sql(dialect: str) -> Any:
    if dialect == "sqlite":  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        return func.substr(Operation.created_at, 1, 13).concat(literal(":00:00.000000"))
    return func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", Operation.created_at)))


def till_from_operations(dialect: str, since: datetime | None = None, until: datetime | None = None) -> Any:
    live = (Operation.kind == OperationKind.PURCHASE) & (Operation.refunded_kopecks < Operation.amount_kopecks)
    purchase = Operation.kind == OperationKind.PURCHASE
    plain = Operation.kind == OperationKind.SALE_NO_CARD
    inner = select(
        _hour_sql(dialect).label("hour"), func.coalesce(Operation.staff_id, 0).label("staff_key"),
        case((live, 1), else_=0).label("card_n"),
        case((purchase, net_revenue()), else_=0).label("card_rev"),
        case((purchase, net_points_paid()), else_=0).label("card_pts"),
        case((plain, 1), else_=0).label("plain_n"),
        case((plain, Operation.amount_kopecks), else_=0).label("plain_rev"),
    ).where(Operation.kind.in_([OperationKind.PURCHASE, OperationKind.SALE_NO_CARD]))
    if since is not None:
        inner = inner.where(Operation.created_at >= since)
    if until is not None:
        inner = inner.where(Operation.created_at < until)
    ops = inner.subquery("ops")
    return select(
        ops.c.hour, ops.c.staff_key, *(func.sum(ops.c[name]).label(name) for name in TILL_COLUMNS)
    ).group_by(ops.c.hour, ops.c.staff_key)


async def rebuild_running_totals(session: AsyncSession) -> None:
    """Recompute every running total from the operations, set-based (bulk loads that bypass
    the domain, e.g. bench/report.py). Imported history (`base_*`) is kept."""
    dialect = session.get_bind().dialect.name
    t = customer_totals_from_operations()
    await session.execute(update(CUSTOMERS).values(
        revenue_kopecks=0, points_paid_kopecks=0, certificate_revenue_kopecks=0, last_live_purchase_at=None,
        purchase_count=CUSTOMERS.c.base_purchase_count,
    ))
    await session.execute(
        update(CUSTOMERS).where(CUSTOMERS.c.id == t.c.cid).values(
            revenue_kopecks=t.c.revenue, points_paid_kopecks=t.c.points, certificate_revenue_kopecks=t.c.certificate,
            last_live_purchase_at=t.c.last_live, last_purchase_at=t.c.last_any,
            purchase_count=CUSTOMERS.c.base_purchase_count + t.c.live,
        )
    )
    await session.execute(delete(TILL))
    await session.execute(insert(TILL).from_select(["hour", "staff_key", *TILL_COLUMNS],
                                                   till_from_operations(dialect)))


async def check_running_totals(
    session: AsyncSession, limit: int = 20, *, customers: list[int] | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> list[tuple[str, str, str]]:
    """(rule, subject, detail) for every customer or hour whose totals differ from the operations;
    `customers` and `since`/`until` (whole hours) restrict the check to a sample."""
    problems: list[tuple[str, str, str]] = []
    t = customer_totals_from_operations(customers)
    c = CUSTOMERS.c
    sample = [c.id.in_(customers)] if customers is not None else []
    drifted = (await session.execute(
        select(c.id, c.revenue_kopecks, c.points_paid_kopecks, c.certificate_revenue_kopecks,
               c.last_live_purchase_at, t.c.revenue, t.c.points, t.c.certificate, t.c.last_live)
        .outerjoin(t, t.c.cid == c.id)
        .where(*sample, (c.purchase_count - c.base_purchase_count != func.coalesce(t.c.live, 0))
               | (c.revenue_kopecks != func.coalesce(t.c.revenue, 0))
               | (c.points_paid_kopecks != func.coalesce(t.c.points, 0))
               | (c.certificate_revenue_kopecks != func.coalesce(t.c.certificate, 0))
               | (c.last_live_purchase_at.is_(None) != t.c.last_live.is_(None))
               | (c.last_live_purchase_at != t.c.last_live))
        .limit(limit)
    )).all()
    for row in drifted:
        problems.append(("report totals = operations", f"customer {row[0]}",
                         f"stored {tuple(row[1:5])}, operations say {tuple(row[5:9])}"))
    dialect = session.get_bind().dialect.name
    expected = till_from_operations(dialect, since, until).subquery("expected")
    hours = [TILL.c.hour >= since] if since is not None else []
    hours += [TILL.c.hour < until] if until is not None else []
    # Both directions: every stored hour matches the operations, and every hour with operations is stored.
    stored_vs_ops = (await session.execute(
        select(TILL.c.hour, TILL.c.staff_key).outerjoin(
            expected, (expected.c.hour == TILL.c.hour) & (expected.c.staff_key == TILL.c.staff_key)
        ).where(*hours, (func.coalesce(expected.c.card_n, 0) != TILL.c.card_n)
                | (func.coalesce(expected.c.card_rev, 0) != TILL.c.card_rev)
                | (func.coalesce(expected.c.card_pts, 0) != TILL.c.card_pts)
                | (func.coalesce(expected.c.plain_n, 0) != TILL.c.plain_n)
                | (func.coalesce(expected.c.plain_rev, 0) != TILL.c.plain_rev)).limit(limit)
    )).all()
    missing = (await session.execute(
        select(expected.c.hour, expected.c.staff_key).outerjoin(
            TILL, (expected.c.hour == TILL.c.hour) & (expected.c.staff_key == TILL.c.staff_key)
        ).where(TILL.c.staff_key.is_(None)).limit(limit)
    )).all()
    for hour, staff in [*stored_vs_ops, *missing]:
        problems.append(("till hours = operations", f"hour {hour} staff {staff}", "differs from the operations"))
    return problems
