"""RFM analysis (case A: "monthly RFM analytics"; DOMAIN.md, "Result figures (reports)").

Over the *buyers* as of an instant (customers with at least one purchase before it that
is not fully refunded), three scores from 1 to 5 by quintiles:

* R (recency): the time of the last purchase; the most recent fifth scores 5.
* F (frequency): the number of purchases; the most frequent fifth scores 5.
* M (monetary): revenue (check amounts net of refunds); the biggest fifth scores 5.

A score is `1 + floor(5 × (rank − 1) / n)` where `rank` is SQL `RANK()` in ascending order
(for R: `5 − floor(5 × (rank − 1) / n)` with the most recent first): customers who tie get
the *same* score, unlike `NTILE`, which would split identical customers (say, everyone with
exactly one purchase) across quintiles at random. Ties share the lower F and M score (one
purchase is never "frequent") and the better R score (bought the same day = as recent). Both are window
functions that SQLite (≥ 3.25) and PostgreSQL run in the database.

Named segments, first matching rule wins (R and F decide; M separates "can't lose"):

| segment      | rule                         | meaning                                       |
|--------------|------------------------------|-----------------------------------------------|
| champions    | R 4–5, F 4–5                 | bought recently and often                     |
| loyal        | R 3–5, F 3–5                 | regular customers                             |
| new          | R 4–5, F 1                   | first purchase recently                       |
| potential    | R 3–5, F 1–2                 | recent, not yet regular                       |
| cant_lose    | R 1–2, F 4–5, M 4–5          | were the best customers, gone quiet           |
| at_risk      | R 1–2, F 3–5                 | were regular, gone quiet                      |
| hibernating  | R 2, F 1–2                   | bought once or twice a while ago              |
| lost         | R 1, F 1–2                   | bought once or twice long ago                 |

The rules are data (`SEGMENT_RULES`): the SQL `CASE` used to select a segment's customers
(broadcast targets) and the Python classification of the summary come from the same list.

Month-over-month movement: each buyer's segment as of the end of the previous month
against their segment now; customers who had not bought by then come from "none".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.clock import start_of_day
from models.context import Domain
from models.tables import Customer, Operation, OperationKind

Range = tuple[int, int]
ANY: Range = (1, 5)

# (segment, R range, F range, M range), first match wins; together they cover all 125 cells.
SEGMENT_RULES: tuple[tuple[str, Range, Range, Range], ...] = (
    ("champions", (4, 5), (4, 5), ANY),
    ("loyal", (3, 5), (3, 5), ANY),
    ("new", (4, 5), (1, 1), ANY),
    ("potential", (3, 5), (1, 2), ANY),
    ("cant_lose", (1, 2), (4, 5), (4, 5)),
    ("at_risk", (1, 2), (3, 5), ANY),
    ("hibernating", (2, 2), (1, 2), ANY),
    ("lost", (1, 1), (1, 2), ANY),
)
SEGMENTS: tuple[str, ...] = tuple(rule[0] for rule in SEGMENT_RULES)
NONE = "none"  # not a buyer yet (movement's "from")


def classify(r: int, f: int, m: int) -> str:
    for name, (r0, r1), (f0, f1), (m0, m1) in SEGMENT_RULES:
        if r0 <= r <= r1 and f0 <= f <= f1 and m0 <= m <= m1:
            return name
    raise ValueError(f"no segment for R{r} F{f} M{m}")  # unreachable: the rules cover every cell


def segment_case(r: Any, f: Any, m: Any) -> Any:
    """The same rules as a SQL CASE expression."""
    whens = [
        (and_(r.between(r0, r1), f.between(f0, f1), m.between(m0, m1)), name)
        for name, (r0, r1), (f0, f1), (m0, m1) in SEGMENT_RULES
    ]
    return case(*whens, else_=NONE)


def scores(as_of: datetime, scope: Any = None) -> Any:
    """A subquery: customer_id, r, f, m, monetary, last_at for every buyer as of `as_of`."""
    buyers = (
        select(
            Operation.customer_id.label("customer_id"),
            func.max(Operation.created_at).label("last_at"),
            func.count().label("n"),
            func.sum(Operation.amount_kopecks - Operation.refunded_kopecks).label("monetary"),
        )
        .where(
            Operation.kind == OperationKind.PURCHASE,
            Operation.created_at < as_of,
            Operation.refunded_kopecks < Operation.amount_kopecks,
            Operation.customer_id.is_not(None),
        )
        .group_by(Operation.customer_id)
    )
    if scope is not None:
        buyers = buyers.join(Customer, Customer.id == Operation.customer_id).where(scope.customer_filter())
    b = buyers.subquery("buyers")
    total = func.count().over()

    def quintile(column: Any) -> Any:
        return 1 + (func.rank().over(order_by=column) - 1) * 5 // total

    # Recency counts from the most recent down, so buyers who tie share the *better* score.
    recency = 5 - (func.rank().over(order_by=b.c.last_at.desc()) - 1) * 5 // total
    return select(
        b.c.customer_id, b.c.last_at, b.c.n, b.c.monetary,
        recency.label("r"), quintile(b.c.n).label("f"), quintile(b.c.monetary).label("m"),
    ).subquery("scores")


@dataclass(frozen=True)
class SegmentRow:
    segment: str
    customers: int
    revenue: int  # all-time revenue of these customers as of the date, kopecks


@dataclass(frozen=True)
class RfmSummary:
    as_of: datetime
    previous_as_of: datetime
    buyers: int
    segments: list[SegmentRow]
    grid: dict[tuple[int, int], int]  # (R, F) -> customers
    movement: dict[tuple[str, str], int] = field(default_factory=dict)  # (before, now) -> customers

    def segment(self, name: str) -> SegmentRow:
        return next(row for row in self.segments if row.segment == name)


def previous_month_end(as_of: datetime, tz: ZoneInfo) -> datetime:
    """The start of the month `as_of` falls in (the instant just before it closes the last day)."""
    last_day: date = (as_of - timedelta(microseconds=1)).astimezone(tz).date()
    return start_of_day(last_day.replace(day=1), tz)


def buyer_rows(as_of: datetime, previous: datetime, scope: Any = None) -> Any:
    """Per buyer, in one pass: last purchase, count and revenue as of `as_of` and as of `previous`."""
    net = Operation.amount_kopecks - Operation.refunded_kopecks
    before = Operation.created_at < previous
    stmt = (
        select(
            Operation.customer_id.label("customer_id"),
            func.max(Operation.created_at).label("last_at"), func.count().label("n"), func.sum(net).label("monetary"),
            func.max(case((before, Operation.created_at))).label("last_prev"),
            func.sum(case((before, 1), else_=0)).label("n_prev"),
            func.sum(case((before, net), else_=0)).label("m_prev"),
        )
        .where(
            Operation.kind == OperationKind.PURCHASE,
            Operation.created_at < as_of,
            Operation.refunded_kopecks < Operation.amount_kopecks,
            Operation.customer_id.is_not(None),
        )
        .group_by(Operation.customer_id)
    )
    if scope is not None:
        stmt = stmt.join(Customer, Customer.id == Operation.customer_id).where(scope.customer_filter())
    return stmt.subquery("buyer_rows")


async def summary_from_buyers(session: AsyncSession, buyers: Any, as_of: datetime, previous: datetime) -> RfmSummary:
    """Scores now and at the end of the previous month from per-buyer rows (columns last_at, n,
    monetary, last_prev, n_prev, m_prev), in one query: the window functions rank both at once
    (the "before" ranking partitioned to the customers who had bought by then)."""
    b = buyers.c
    total = func.count().over()
    had = case((b.n_prev > 0, 1), else_=0)
    total_before = func.count().over(partition_by=had)

    def quintile(column: Any, n: Any, partition: Any = None) -> Any:
        return 1 + (func.rank().over(partition_by=partition, order_by=column) - 1) * 5 // n

    def recency(column: Any, n: Any, partition: Any = None) -> Any:
        return 5 - (func.rank().over(partition_by=partition, order_by=column.desc()) - 1) * 5 // n

    scored = select(
        recency(b.last_at, total).label("r"), quintile(b.n, total).label("f"), quintile(b.monetary, total).label("m"),
        recency(b.last_prev, total_before, had).label("rp"), quintile(b.n_prev, total_before, had).label("fp"),
        quintile(b.m_prev, total_before, had).label("mp"), had.label("had"), b.monetary.label("money"),
    ).subquery("scored")
    c = scored.c
    labelled = select(
        c.r, c.f, c.m, c.money,
        case((c.had == 1, segment_case(c.rp, c.fp, c.mp)), else_=NONE).label("before"),
    ).subquery("labelled")
    cells = (await session.execute(
        select(labelled.c.r, labelled.c.f, labelled.c.m, labelled.c.before, func.count(),
               func.coalesce(func.sum(labelled.c.money), 0))
        .group_by(labelled.c.r, labelled.c.f, labelled.c.m, labelled.c.before)
    )).all()
    per_segment: dict[str, list[int]] = {name: [0, 0] for name in SEGMENTS}
    grid: dict[tuple[int, int], int] = {}
    movement: dict[tuple[str, str], int] = {}
    buyers_count = 0
    for r, f, m, before, count, money in cells:  # at most 125 score cells × 9 earlier segments
        name = classify(int(r), int(f), int(m))
        per_segment[name][0] += int(count)
        per_segment[name][1] += int(money)
        grid[(int(r), int(f))] = grid.get((int(r), int(f)), 0) + int(count)
        movement[(str(before), name)] = movement.get((str(before), name), 0) + int(count)
        buyers_count += int(count)
    return RfmSummary(
        as_of=as_of, previous_as_of=previous, buyers=buyers_count,
        segments=[SegmentRow(name, c, m) for name, (c, m) in per_segment.items()],
        grid=grid, movement=movement,
    )


async def rfm_summary(
    session: AsyncSession, as_of: datetime, tz: ZoneInfo, *, scope: Any = None
) -> RfmSummary:
    previous = previous_month_end(as_of, tz)
    return await summary_from_buyers(session, buyer_rows(as_of, previous, scope), as_of, previous)


async def rfm_segments(dom: Domain, as_of: datetime | None = None, *, scope: Any = None) -> RfmSummary:
    """The RFM summary as of an instant (default: now)."""
    async with dom.db.reading() as session:
        return await rfm_summary(session, as_of or dom.clock.now(), dom.tz, scope=scope)


async def customers_in_segment(
    session_or_dom: AsyncSession | Domain, segment: str, as_of: datetime | None = None
) -> list[int]:
    """Ids of the buyers in a segment as of an instant (broadcast targets, exports), ascending."""
    if segment not in SEGMENTS:
        raise ValueError(f"unknown RFM segment {segment!r}; one of {', '.join(SEGMENTS)}")
    if isinstance(session_or_dom, Domain):
        async with session_or_dom.db.reading() as session:
            return await _segment_ids(session, segment, as_of or session_or_dom.clock.now())
    if as_of is None:
        raise ValueError("as_of is required when a session is given")
    return await _segment_ids(session_or_dom, segment, as_of)


def segment_members(segment: str, as_of: datetime) -> Any:
    """SELECT id, name, phone of a segment's customers (an export; erased ones show no data)."""
    if segment not in SEGMENTS:
        raise ValueError(f"unknown RFM segment {segment!r}; one of {', '.join(SEGMENTS)}")
    s = scores(as_of)
    return (
        select(Customer.id, Customer.name, Customer.phone)
        .join(s, s.c.customer_id == Customer.id)
        .where(segment_case(s.c.r, s.c.f, s.c.m) == segment)
        .order_by(Customer.id)
    )


async def _segment_ids(session: AsyncSession, segment: str, as_of: datetime) -> list[int]:
    s = scores(as_of)
    rows = await session.execute(
        select(s.c.customer_id).where(segment_case(s.c.r, s.c.f, s.c.m) == segment).order_by(s.c.customer_id)
    )
    return [int(cid) for cid in rows.scalars()]
