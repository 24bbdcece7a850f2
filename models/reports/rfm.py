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

from sqlalchemy import and_, case, func, literal, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.clock import start_of_day
from models.kernel.context import Domain
from models.kernel.tables import Customer, Operation, OperationKind

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


def _live_purchases_before(as_of: datetime) -> list[Any]:
    """Purchases by a customer before `as_of` that are not fully refunded: what RFM counts."""
    return [
        Operation.kind == OperationKind.PURCHASE,
        Operation.created_at < as_of,
        Operation.refunded_kopecks < Operation.amount_kopecks,
        Operation.customer_id.is_not(None),
    ]


def scores(as_of: datetime, scope: Any = None) -> Any:
    """A subquery: customer_id, r, f, m, monetary, last_at for every buyer as of `as_of`."""
    buyers = (
        select(
            Operation.customer_id.label("customer_id"),
            func.max(Operation.created_at).label("last_at"),
            func.count().label("n"),
            func.sum(Operation.amount_kopecks - Operation.refunded_kopecks).label("monetary"),
        )
        .where(*_live_purchases_before(as_of))
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
        .where(*_live_purchases_before(as_of))
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


def _quintile_positions(n: int, descending: bool) -> list[int]:
    """0-based positions, in ascending order of the value, of the four quintile boundaries.

    With `RANK()` ascending, `1 + floor(5 × (rank − 1) / n) ≥ k + 1` exactly when at least
    j = ceil(k × n / 5) buyers have a smaller value, i.e. when the value is greater than the
    j-th smallest (position j − 1). For R (ranked descending), `5 − floor(5 × (rank − 1) / n)`
    drops below 6 − k exactly when the value is smaller than the j-th largest (position n − j).
    So four order statistics per score reproduce the window functions' scores exactly."""
    bounds = [-(-k * n // 5) for k in (1, 2, 3, 4)]
    return [n - j for j in bounds] if descending else [j - 1 for j in bounds]


async def _order_statistics(
    session: AsyncSession, column: Any, where: Any, positions: list[int], *, had_only: bool = False
) -> list[Any]:
    """The values at these 0-based positions of `column` sorted ascending (`had_only`: over the
    rows with n_prev > 0, which `where` says). SQLite: an index on the (temporary) buyer table
    and four OFFSET walks along it, which is cheaper there than a window's sort; PostgreSQL: one
    narrow `row_number()` sort (an index walk there would visit the heap for every row)."""
    if session.get_bind().dialect.name == "sqlite":
        name = column.name
        partial = " WHERE n_prev > 0" if had_only else ""
        await session.execute(text(f"CREATE INDEX IF NOT EXISTS ix_{column.table.name}_{name} "
                                   f"ON {column.table.name} ({name}){partial}"))
        return [(await session.execute(select(column).where(where).order_by(column).limit(1).offset(p))).scalar()
                for p in positions]
    ranked = select(column.label("v"), func.row_number().over(order_by=column).label("rn")).where(where).subquery()
    wanted = sorted({p + 1 for p in positions})
    found = dict((await session.execute(select(ranked.c.rn, ranked.c.v).where(ranked.c.rn.in_(wanted)))).all())
    return [found[p + 1] for p in positions]


async def summary_from_buyer_table(
    session: AsyncSession, buyers: Any, as_of: datetime, previous: datetime
) -> RfmSummary:
    """The same summary as `summary_from_buyers`, cheaper: instead of six `RANK()` windows over
    every buyer row, six narrow sorts find each score's four quintile boundaries
    (`_quintile_positions`), and one pass scores every buyer against them and counts the cells."""
    b = buyers.c
    had = b.n_prev > literal_column("0")  # inline, so SQLite can use the partial indexes below
    total, total_before = (await session.execute(
        select(func.count(), func.coalesce(func.sum(case((had, 1), else_=0)), 0)).select_from(buyers)
    )).one()
    total, total_before = int(total), int(total_before)
    if total == 0:
        return RfmSummary(as_of=as_of, previous_as_of=previous, buyers=0,
                          segments=[SegmentRow(name, 0, 0) for name in SEGMENTS], grid={}, movement={})

    async def bounds(column: Any, n: int, where: Any, descending: bool = False) -> list[Any]:
        if not n:
            return []
        return await _order_statistics(session, column, where, _quintile_positions(n, descending),
                                       had_only=where is not everyone)

    def up(column: Any, limits: list[Any]) -> Any:  # F and M: 1 + boundaries below the value
        return sum((case((column > t, 1), else_=0) for t in limits), literal(1))

    def down(column: Any, limits: list[Any]) -> Any:  # R: 5 − boundaries above the value
        return literal(5) - sum((case((column < t, 1), else_=0) for t in limits), literal(0))

    everyone = literal(True)
    r_now, f_now, m_now = (await bounds(b.last_at, total, everyone, True), await bounds(b.n, total, everyone),
                           await bounds(b.monetary, total, everyone))
    r_then, f_then, m_then = (await bounds(b.last_prev, total_before, had, True),
                              await bounds(b.n_prev, total_before, had), await bounds(b.m_prev, total_before, had))
    scored = select(
        down(b.last_at, r_now).label("r"), up(b.n, f_now).label("f"), up(b.monetary, m_now).label("m"),
        case((had, down(b.last_prev, r_then))).label("rp"), case((had, up(b.n_prev, f_then))).label("fp"),
        case((had, up(b.m_prev, m_then))).label("mp"), b.monetary.label("money"),
    ).subquery("scored")
    c = scored.c
    cells = (await session.execute(
        select(c.r, c.f, c.m, c.rp, c.fp, c.mp, func.count(), func.coalesce(func.sum(c.money), 0))
        .group_by(c.r, c.f, c.m, c.rp, c.fp, c.mp)
    )).all()
    per_segment: dict[str, list[int]] = {name: [0, 0] for name in SEGMENTS}
    grid: dict[tuple[int, int], int] = {}
    movement: dict[tuple[str, str], int] = {}
    buyers_count = 0
    for r, f, m, rp, fp, mp, count, money in cells:  # at most 125 × 126 cells
        name = classify(int(r), int(f), int(m))
        before = classify(int(rp), int(fp), int(mp)) if rp is not None else NONE
        per_segment[name][0] += int(count)
        per_segment[name][1] += int(money)
        grid[(int(r), int(f))] = grid.get((int(r), int(f)), 0) + int(count)
        movement[(before, name)] = movement.get((before, name), 0) + int(count)
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


async def segment_list(dom: Domain, segment: str, as_of: datetime) -> list[tuple[int, str, str]]:
    """A segment's customers as (id, name, phone), for `loyalty-bot report --segment` (erased: no data)."""
    query = segment_members(segment, as_of)  # ValueError for an unknown segment, before any read
    async with dom.db.reading() as session:
        return [(row.id, row.name or "", row.phone or "") async for row in await session.stream(query)]
