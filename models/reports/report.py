"""Result figures (DOMAIN.md, "Result figures (reports)"): every figure of the case studies'
"point B" tables, for any period, computed by set-based SQL in the database.

Nothing here loops over customers or operations in Python: every figure is an aggregate
(`GROUP BY`, window functions, one recursive CTE for the referral tree) and Python only
combines a handful of result rows. The same SQL runs on SQLite (≥ 3.25 for windows) and
PostgreSQL.

Definitions (written down once; `bot/locales/*/reports.ftl` shows each with its figure and
docs/REPORTS.md explains them for the owner):

* A period is a range of calendar days in the business's time zone, both ends included;
  instants are compared half-open `[start of first day, start of the day after the last)`.
* Revenue is the sum of check amounts (money and points together) net of refunds. A refund
  reduces the purchase it refunds (`amount − refunded`), so revenue belongs to the period
  of the purchase and a fully refunded purchase stops counting as a purchase at all.
* Points paid are measured in money (`amount − cash`, i.e. points × point value) and are
  netted the way refunds return them: `paid − floor(paid × refunded / amount)`.
* Customers in CRM, digitised and the cohort figures are *as of the end of the period*
  (customers created before it and not erased by then); buyers, purchases and revenue are
  *within* the period; "new" figures count customers who joined within the period.
* Buyers: customers with at least one (not fully refunded) purchase in the period.
  Return rate = buyers with ≥ 2 purchases / buyers; "more than 4 purchases" is a share of
  customers in CRM (case B: "16% of the base made more than 4 purchases").
* Saving versus a direct discount = baseline % × revenue − points paid, the baseline from
  `program.reports.baseline_discount_percent` (current program version).
* Brought by the program = customers whose first touch was a campaign or a source link
  (not referral, walk-in, staff or import), so nothing is counted twice in total benefit
  = saving + revenue from referred customers + revenue from brought customers.
* Concentration: buyers ordered by revenue in the period (ties by id); the top 20% is the
  first ceil(n / 5) of them; "buyers making 60%" is the smallest number of top buyers whose
  revenue reaches 60% of the total, as a share of buyers.
* Referral depth: the longest chain of referrals among customers in CRM, in generations
  (a friend of a customer is generation 1, their friend generation 2, ...).
* Certificates issued: certificate lots created in the period, by kind (birthday, win-back,
  campaign, owner). Ratings: ratings given in the period.
* Card versus no card: the average card check against the average check of sales recorded
  without a card (`sale_no_card` operations) in the same period.
* Staff table: per staff member, card purchases and sales without a card they ran in the
  period, their revenue, average check, points paid, customers they enrolled (joined in
  the period) and the ratings of their visits.
* Campaign funnel (per campaign or source link): link opened (first visits in the period),
  registered through it, certificates of it issued, bought (distinct customers who either
  registered through it or paid with its certificate and made a purchase in the period),
  revenue of those purchases, and its cost: points of its certificates spent, net of refunds.
* `by` restricts every customer-based figure to a cohort: a source kind, a campaign, or the
  customers a staff member enrolled (staff scope also restricts sales without a card to
  that staff member). The staff table and the funnels stay complete.

RFM is in `models/reports/rfm.py`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Integer,
    MetaData,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from models.campaigns.promo import PromoUses, promo_uses
from models.kernel.base import BigId, UTCDateTime
from models.kernel.clock import start_of_day
from models.kernel.context import Domain
from models.kernel.dates import previous_month
from models.kernel.tables import (
    Campaign,
    CertificateKind,
    Customer,
    EntryKind,
    LedgerEntry,
    LinkVisit,
    Lot,
    LotKind,
    Operation,
    OperationKind,
    Rating,
    SourceKind,
    Staff,
    TelegramAccount,
    TillHour,
)
from models.kernel.text import is_digits
from models.ledger.figures import average_check, net_points_paid, net_revenue, ratio
from models.ledger.running_totals import TILL_COLUMNS
from models.program.rules import LocalText
from models.program.store import current_program
from models.reports.rfm import RfmSummary, previous_month_end, summary_from_buyer_table, summary_from_buyers

BROUGHT_SOURCES = (SourceKind.CAMPAIGN, SourceKind.SOURCE)
# The years a report period may span: 01.01.0001 or 31.12.9999 have no day boundary in the
# business's time zone (datetime overflows), and no business has data outside these anyway.
REPORT_YEARS = range(1970, 2100)
MAX_MONTHS = 60  # the monthly series is capped; a longer period shows its last 60 months


# --- Period and scope -------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    from_beginning: bool = False  # starts at the first activity: nothing before it to exclude

    @classmethod
    def of(cls, first_day: date, last_day: date, dom: Domain) -> Period:
        return cls.in_zone(first_day, last_day, dom.tz)

    @classmethod
    def in_zone(cls, first_day: date, last_day: date, tz: ZoneInfo) -> Period:
        if last_day < first_day:
            raise ValueError("the period ends before it starts")
        return cls(first_day, last_day, start_of_day(first_day, tz), start_of_day(last_day + timedelta(days=1), tz))


@dataclass(frozen=True)
class Scope:
    """A cohort filter: kind "source" (value a SourceKind), "campaign" (id) or "staff" (id)."""

    kind: str
    value: str | int

    @classmethod
    def parse(cls, text: str | Scope | None) -> Scope | None:
        """"source:referral", "campaign:12", "staff:3" (the command line and the bot)."""
        if text is None or isinstance(text, Scope):
            return text
        kind, _, value = text.partition(":")
        if kind == "source":
            return cls(kind, SourceKind(value).value)
        if kind in ("campaign", "staff") and is_digits(value) and len(value) <= 18:
            return cls(kind, int(value))
        raise ValueError(f"unknown scope {text!r}: use source:<kind>, campaign:<id> or staff:<id>")

    def customer_filter(self) -> ColumnElement[bool]:
        if self.kind == "source":
            return Customer.source_kind == SourceKind(str(self.value))
        if self.kind == "campaign":
            return Customer.campaign_id == int(self.value)
        return Customer.enrolled_by_staff_id == int(self.value)


# --- Result rows ------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """The core figures of one cohort (all customers, a source, a campaign)."""

    customers: int = 0  # in CRM at the end of the period
    new_customers: int = 0  # joined within the period
    digitised: int = 0  # linked to Telegram at the end of the period
    buyers: int = 0
    purchases: int = 0
    revenue: int = 0  # kopecks, net of refunds
    points_paid: int = 0  # kopecks (points × point value), net of refunds
    certificate_revenue: int = 0  # revenue of purchases that used a certificate
    repeat_buyers: int = 0  # ≥ 2 purchases
    frequent_buyers: int = 0  # > 4 purchases

    @property
    def digitised_share(self) -> Fraction | None:
        return ratio(self.digitised, self.customers)

    @property
    def buyers_share(self) -> Fraction | None:
        return ratio(self.buyers, self.customers)

    @property
    def average_check(self) -> Fraction | None:
        return average_check(self.revenue, self.purchases)

    @property
    def purchases_per_buyer(self) -> Fraction | None:
        return ratio(self.purchases, self.buyers)

    @property
    def actual_discount(self) -> Fraction | None:
        return ratio(self.points_paid, self.revenue)

    @property
    def return_rate(self) -> Fraction | None:
        return ratio(self.repeat_buyers, self.buyers)

    @property
    def frequent_share(self) -> Fraction | None:
        return ratio(self.frequent_buyers, self.customers)


@dataclass(frozen=True)
class GroupFigures:
    key: str  # source kind, campaign id, ...
    label: str
    figures: Figures


@dataclass(frozen=True)
class StaffRow:
    staff_id: int
    name: str
    active: bool
    purchases: int
    sales_no_card: int
    revenue: int  # card purchases (net) + sales without a card
    card_revenue: int  # card purchases (net): the average check's basis, as everywhere
    points_paid: int
    enrolled: int
    ratings: int
    ratings_sum: int

    @property
    def operations(self) -> int:
        return self.purchases + self.sales_no_card

    @property
    def average_check(self) -> Fraction | None:
        return average_check(self.card_revenue, self.purchases)

    @property
    def average_rating(self) -> Fraction | None:
        return ratio(self.ratings_sum, self.ratings)

    @property
    def card_share(self) -> Fraction | None:
        return ratio(self.purchases, self.operations)


@dataclass(frozen=True)
class CampaignFunnel:
    campaign_id: int
    code: str
    name: LocalText  # a preset campaign's name per language (models.program.rules.Program.campaign_name)
    is_source: bool
    opened: int
    registered: int
    certificates: int
    buyers: int
    revenue: int
    cost_points: int  # points of its certificates spent in the period, net of refunds


@dataclass(frozen=True)
class MonthRow:
    month: date  # first day of the month (business time zone)
    card_revenue: int
    card_purchases: int
    no_card_revenue: int
    no_card_sales: int
    new_customers: dict[str, int]  # by source kind


@dataclass(frozen=True)
class Report:
    period: Period
    generated_at: datetime
    scope: Scope | None
    baseline_percent: Decimal
    point_value_kopecks: int
    overall: Figures
    referred_customers: int  # joined in the period through a referral
    referred_buyers: int  # of them, bought in the period
    referred_revenue: int  # revenue in the period from customers with a referrer
    referral_depth: int
    referral_generations: list[tuple[int, int]]  # (generation, customers)
    brought_revenue: int  # campaign and source-link customers
    certificates: dict[str, tuple[int, int]]  # kind -> (count, points)
    ratings: int
    ratings_sum: int
    no_card_sales: int
    no_card_revenue: int
    top20_revenue: int  # revenue of the top 20% of buyers
    top20_buyers: int
    buyers_for_60: int  # how many top buyers make 60% of revenue
    by_source: list[GroupFigures]
    staff: list[StaffRow]
    funnels: list[CampaignFunnel]
    monthly: list[MonthRow]
    rfm: RfmSummary | None = None
    promos: list[PromoUses] = field(default_factory=list)  # uses per promo code in the period
    extra: dict[str, Any] = field(default_factory=dict)

    # --- derived figures (exact; rounded only when shown) ---
    @property
    def certificates_issued(self) -> int:
        return sum(count for count, _ in self.certificates.values())

    @property
    def average_rating(self) -> Fraction | None:
        return ratio(self.ratings_sum, self.ratings)

    @property
    def saving(self) -> Fraction:
        """Baseline % × revenue − points paid, in kopecks."""
        return Fraction(self.baseline_percent) * self.overall.revenue / 100 - self.overall.points_paid

    @property
    def total_benefit(self) -> Fraction:
        return self.saving + self.referred_revenue + self.brought_revenue

    @property
    def benefit_state(self) -> str:
        """How to read the total benefit: "none" (no card purchases and no revenue from
        referred or brought customers: nothing to measure, not a loss), "negative" (points
        paid more than a direct discount would have cost, with nothing to outweigh it), or
        "positive". docs/REPORTS.md."""
        if self.overall.purchases == 0 and not self.referred_revenue and not self.brought_revenue:
            return "none"
        return "negative" if self.total_benefit < 0 else "positive"

    @property
    def no_card_average(self) -> Fraction | None:
        return ratio(self.no_card_revenue, self.no_card_sales)

    @property
    def card_uplift(self) -> Fraction | None:
        """How much higher the card average check is than the no-card one (0.41 = +41%)."""
        card, plain = self.overall.average_check, self.no_card_average
        if card is None or not plain:
            return None
        return card / plain - 1

    @property
    def top20_share(self) -> Fraction | None:
        return ratio(self.top20_revenue, self.overall.revenue)

    @property
    def buyers_for_60_share(self) -> Fraction | None:
        return ratio(self.buyers_for_60, self.overall.buyers)


# --- SQL building blocks ----------------------------------------------------------------

class Unindexed(ColumnElement[Any]):
    """A column SQLite must not use an index for: rendered `+column` on SQLite, as is elsewhere.

    Why: a report over a long period reads most of the operations. SQLite's planner still
    picks the (kind, created_at) or (customer_id, created_at) index for such a range or a
    GROUP BY, and then fetches every row by a random lookup, 3-5× slower than reading the
    table in order and sorting (measured in bench/report.py). PostgreSQL estimates the
    range from its statistics and chooses well, so nothing changes there.
    """

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012

    def __init__(self, column: Any) -> None:
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _unindexed_default(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))


LONG_PERIOD = timedelta(days=92)  # longer than this, SQLite reads the operations in order
POSTGRES_WORK_MEM = "64MB"  # per sort or hash in the report's transaction (PostgreSQL only)

def live_purchases(start: datetime | None, end: datetime, *, scan: bool = False) -> ColumnElement[bool]:
    """Purchases in [start, end) that are not fully refunded (`scan`: without SQLite's indexes)."""
    kind = Unindexed(Operation.kind) if scan else Operation.kind
    created = Unindexed(Operation.created_at) if scan else Operation.created_at
    cond = and_(kind == OperationKind.PURCHASE, created < end, Operation.refunded_kopecks < Operation.amount_kopecks)
    return and_(cond, created >= start) if start is not None else cond


def _sum(expr: Any) -> Any:
    return func.coalesce(func.sum(expr), 0)


def _count_if(cond: Any) -> Any:
    return _sum(case((cond, 1), else_=0))


# One row per customer who bought before the end of the period: the period's figures and
# the RFM inputs (as of the end, and as of the end of the previous month), all from ONE
# pass over the operations. Everything per customer reads this small table afterwards
# instead of grouping the operations again. Temporary: private to the connection, dropped
# with the transaction on PostgreSQL and explicitly on SQLite.
REPORT_BUYERS = Table(
    "report_buyers", MetaData(),
    Column("customer_id", BigId, primary_key=True, autoincrement=False),
    Column("n_p", Integer), Column("rev_p", BigInteger), Column("pts_p", BigInteger), Column("cert_rev_p", BigInteger),
    Column("last_at", UTCDateTime), Column("n", Integer), Column("monetary", BigInteger),
    Column("last_prev", UTCDateTime), Column("n_prev", Integer), Column("m_prev", BigInteger),
    # From running totals only: purchases after the end and after the previous month's end.
    Column("a_n", Integer), Column("p_n", Integer),
    prefixes=["TEMPORARY"], postgresql_on_commit="DROP",
)
BUYER_COLUMNS = ("customer_id", "n_p", "rev_p", "pts_p", "cert_rev_p", "last_at", "n", "monetary",
                 "last_prev", "n_prev", "m_prev")

def buyer_aggregates(period: Period, previous: datetime, scope: Scope | None) -> Any:
    """The SELECT that fills REPORT_BUYERS (GROUP BY customer over purchases before the end)."""
    net = net_revenue()
    before = Operation.created_at < previous
    customer = Unindexed(Operation.customer_id)  # every purchase up to the end: read the table in order
    with_certificate = Operation.certificate_lot_id.is_not(None)
    if period.from_beginning:  # every purchase is in the period: no per-row test (a third less work)
        period_columns = [func.count(), func.sum(net), func.sum(net_points_paid()),
                          _sum(case((with_certificate, net), else_=0))]
    else:
        in_period = Operation.created_at >= period.start
        period_columns = [_count_if(in_period), _sum(case((in_period, net), else_=0)),
                          _sum(case((in_period, net_points_paid()), else_=0)),
                          _sum(case((and_(in_period, with_certificate), net), else_=0))]
    stmt = (
        select(
            customer,
            *period_columns,
            func.max(Operation.created_at), func.count(), func.sum(net),
            func.max(case((before, Operation.created_at))), _count_if(before), _sum(case((before, net), else_=0)),
        )
        .where(live_purchases(None, period.end, scan=True), Operation.customer_id.is_not(None))
        .group_by(customer)
    )
    if scope is not None:
        stmt = stmt.join(Customer, Customer.id == Operation.customer_id).where(scope.customer_filter())
    return stmt


def _is_sqlite(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "sqlite"


async def fill_buyers(
    session: AsyncSession, period: Period, previous: datetime, scope: Scope | None, *, reference: bool = False
) -> Table:
    await drop_buyers(session)  # a report earlier in the same transaction or connection
    await session.run_sync(lambda sync: REPORT_BUYERS.create(sync.connection()))
    if reference:  # straight from the operations: every purchase before the end, grouped by customer
        await session.execute(insert(REPORT_BUYERS).from_select(
            list(BUYER_COLUMNS), buyer_aggregates(period, previous, scope)))
    else:
        await fill_buyers_from_totals(session, period, previous, scope)
    return REPORT_BUYERS


def _last_live_before(bound: datetime) -> Any:
    """The buyer row's last purchase (not fully refunded) before `bound`: an index seek backwards."""
    return (
        select(Operation.created_at)
        .where(Operation.customer_id == REPORT_BUYERS.c.customer_id, Operation.kind == OperationKind.PURCHASE,
               Operation.refunded_kopecks < Operation.amount_kopecks, Operation.created_at < bound)
        .order_by(Operation.created_at.desc()).limit(1).scalar_subquery()
    )


async def fill_buyers_from_totals(
    session: AsyncSession, period: Period, previous: datetime, scope: Scope | None
) -> None:
    """REPORT_BUYERS from the customers' running totals, less what purchases after the end and
    after the previous month's end contributed: one pass over the recent purchases only (and,
    for a period that does not start at the beginning, over the period's), not the history."""
    net, pts = net_revenue(), net_points_paid()
    cert = Operation.certificate_lot_id.is_not(None)
    after_end = Operation.created_at >= period.end
    after_prev = Operation.created_at >= previous
    in_period = and_(Operation.created_at >= period.start, Operation.created_at < period.end)
    low = previous if period.from_beginning else min(previous, period.start)
    long = period.end - low > LONG_PERIOD
    customer = Unindexed(Operation.customer_id) if long else Operation.customer_id
    recent = select(
        customer.label("customer_id"),
        _count_if(after_end).label("a_n"), _sum(case((after_end, net), else_=0)).label("a_m"),
        _sum(case((after_end, pts), else_=0)).label("a_pts"),
        _sum(case((and_(after_end, cert), net), else_=0)).label("a_cert"),
        _count_if(after_prev).label("p_n"), _sum(case((after_prev, net), else_=0)).label("p_m"),
        _count_if(in_period).label("n_p"), _sum(case((in_period, net), else_=0)).label("rev_p"),
        _sum(case((in_period, pts), else_=0)).label("pts_p"),
        _sum(case((and_(in_period, cert), net), else_=0)).label("cert_rev_p"),
    ).where(
        (Unindexed(Operation.kind) if long else Operation.kind) == OperationKind.PURCHASE,
        (Unindexed(Operation.created_at) if long else Operation.created_at) >= low,
        Operation.refunded_kopecks < Operation.amount_kopecks, Operation.customer_id.is_not(None),
    ).group_by(customer).subquery("recent")
    # ONE statement reads the totals and subtracts the recent purchases: on PostgreSQL each
    # statement has its own snapshot, and a purchase committed between two statements would be
    # in the totals but not among the purchases subtracted.
    c, r = Customer.__table__.c, recent.c

    def z(column: Any) -> Any:
        return func.coalesce(column, 0)

    live = c.purchase_count - c.base_purchase_count
    n, monetary = live - z(r.a_n), c.revenue_kopecks - z(r.a_m)
    if period.from_beginning:  # every purchase before the end is in the period
        period_columns = [n, monetary, c.points_paid_kopecks - z(r.a_pts), c.certificate_revenue_kopecks - z(r.a_cert)]
    else:
        period_columns = [z(r.n_p), z(r.rev_p), z(r.pts_p), z(r.cert_rev_p)]
    stmt = (
        select(c.id, *period_columns, c.last_live_purchase_at, n, monetary,
               c.last_live_purchase_at, live - z(r.p_n), c.revenue_kopecks - z(r.p_m), z(r.a_n), z(r.p_n))
        .select_from(Customer.__table__.outerjoin(recent, r.customer_id == c.id))
        .where(live > z(r.a_n))
    )
    if scope is not None:
        stmt = stmt.where(scope.customer_filter())
    await session.execute(insert(REPORT_BUYERS).from_select([*BUYER_COLUMNS, "a_n", "p_n"], stmt))
    b = REPORT_BUYERS.c
    # Buyers who bought after a boundary: their last purchase before it, one index seek each.
    await session.execute(REPORT_BUYERS.update().where(b.a_n > 0).values(last_at=_last_live_before(period.end)))
    await session.execute(REPORT_BUYERS.update().where(b.p_n > 0).values(
        last_prev=case((b.n_prev > 0, _last_live_before(previous)))))


async def drop_buyers(session: AsyncSession) -> None:
    # Qualified with the temporary schema, so a real table of that name could never be dropped.
    schema = "temp" if _is_sqlite(session) else "pg_temp"
    await session.execute(text(f"DROP TABLE IF EXISTS {schema}.report_buyers"))


async def core_figures(
    session: AsyncSession, period: Period, scope: Scope | None, buyers: Table, group: Any = None
) -> dict[Any, dict[str, int]]:
    """The core figures, overall (group None) or per value of a customer column, in one pass
    over the customers (each looks up its Telegram link and its row of `buyers` by key)."""
    b = buyers.c
    in_base = and_(Customer.created_at < period.end,
                   or_(Customer.erased_at.is_(None), Customer.erased_at >= period.end))
    joined = Customer.created_at >= period.start
    referred = Customer.referrer_id.is_not(None)
    bought = b.n_p > 0
    columns = [
        _count_if(in_base).label("customers"),
        _count_if(and_(in_base, joined)).label("new_customers"),
        _count_if(and_(in_base, TelegramAccount.linked_at.is_not(None),
                       TelegramAccount.linked_at < period.end)).label("digitised"),
        _count_if(bought).label("buyers"),
        _sum(b.n_p).label("purchases"),
        _sum(b.rev_p).label("revenue"),
        _sum(b.pts_p).label("points_paid"),
        _sum(b.cert_rev_p).label("certificate_revenue"),
        _count_if(b.n_p >= 2).label("repeat_buyers"),
        _count_if(b.n_p > 4).label("frequent_buyers"),
        _count_if(and_(in_base, joined, referred)).label("referred_customers"),
        _count_if(and_(joined, referred, bought)).label("referred_buyers"),
        _sum(case((referred, b.rev_p), else_=0)).label("referred_revenue"),
        _sum(case((Customer.source_kind.in_(BROUGHT_SOURCES), b.rev_p), else_=0)).label("brought_revenue"),
    ]
    key = (group if group is not None else literal("all")).label("key")
    stmt = (
        select(key, *columns)
        .select_from(Customer)
        .outerjoin(buyers, b.customer_id == Customer.id)
        .outerjoin(TelegramAccount, TelegramAccount.customer_id == Customer.id)
        .where(Customer.created_at < period.end)
    )
    if scope is not None:
        stmt = stmt.where(scope.customer_filter())
    if group is not None:
        stmt = stmt.group_by(group)
    rows = (await session.execute(stmt)).mappings().all()
    return {row["key"]: {k: int(v or 0) for k, v in row.items() if k != "key"} for row in rows}


async def core_figures_by_source(
    session: AsyncSession, period: Period, scope: Scope | None, buyers: Table
) -> dict[Any, dict[str, int]]:
    """`core_figures(..., group=Customer.source_kind)` in three cheaper passes: the customers
    alone, the Telegram links (each finds its customer by key) and the buyer rows (each finds
    its customer by key), instead of every customer looking up a link and a buyer row."""
    b = buyers.c
    long = period.end - period.start > LONG_PERIOD
    created = Unindexed(Customer.created_at) if long else Customer.created_at
    in_base = and_(Customer.created_at < period.end,
                   or_(Customer.erased_at.is_(None), Customer.erased_at >= period.end))
    joined = Customer.created_at >= period.start
    referred = Customer.referrer_id.is_not(None)
    scoped = [scope.customer_filter()] if scope is not None else []
    out: dict[Any, dict[str, int]] = {}

    async def add(stmt: Any) -> None:
        for row in (await session.execute(stmt.group_by(Customer.source_kind))).mappings():
            values = out.setdefault(row["key"], dict.fromkeys(_CORE_NAMES, 0))
            values.update({k: int(v or 0) for k, v in row.items() if k != "key"})

    key = Customer.source_kind.label("key")
    await add(select(
        key, _count_if(in_base).label("customers"), _count_if(and_(in_base, joined)).label("new_customers"),
        _count_if(and_(in_base, joined, referred)).label("referred_customers"),
    ).where(created < period.end, *scoped))
    await add(select(key, func.count().label("digitised")).select_from(TelegramAccount).join(
        Customer, Customer.id == TelegramAccount.customer_id,
    ).where(in_base, TelegramAccount.linked_at.is_not(None), TelegramAccount.linked_at < period.end, *scoped))
    bought = b.n_p > 0
    await add(select(
        key, _count_if(bought).label("buyers"), _sum(b.n_p).label("purchases"), _sum(b.rev_p).label("revenue"),
        _sum(b.pts_p).label("points_paid"), _sum(b.cert_rev_p).label("certificate_revenue"),
        _count_if(b.n_p >= 2).label("repeat_buyers"), _count_if(b.n_p > 4).label("frequent_buyers"),
        _count_if(and_(joined, referred, bought)).label("referred_buyers"),
        _sum(case((referred, b.rev_p), else_=0)).label("referred_revenue"),
        _sum(case((Customer.source_kind.in_(BROUGHT_SOURCES), b.rev_p), else_=0)).label("brought_revenue"),
    ).select_from(buyers).join(Customer, Customer.id == b.customer_id).where(
        Customer.created_at < period.end, *scoped))
    return out


_FIGURE_FIELDS = tuple(Figures.__dataclass_fields__)
_CORE_NAMES = (*_FIGURE_FIELDS, "referred_customers", "referred_buyers", "referred_revenue", "brought_revenue")


def _figures(values: dict[str, int] | None) -> Figures:
    values = values or {}
    return Figures(**{name: values.get(name, 0) for name in _FIGURE_FIELDS})


async def referral_generations(session: AsyncSession, end: datetime) -> list[tuple[int, int]]:
    """Customers per referral generation, by a recursive CTE walking down from the roots.

    The walk runs over the referred customers only (a small share of the base), so each
    step joins that set rather than every customer."""
    referred = (
        select(Customer.id.label("id"), Customer.referrer_id.label("referrer_id"))
        .where(Customer.referrer_id.is_not(None), Customer.created_at < end)
        .cte("referred")
    )
    parent = referred.alias("parent")
    first = referred.alias("first")
    tree = (
        select(first.c.id.label("id"), literal(1).label("gen"))
        .outerjoin(parent, parent.c.id == first.c.referrer_id)
        .where(parent.c.id.is_(None))  # the referrer was not referred: a friend of a root
        .cte("tree", recursive=True)
    )
    step = referred.alias("step")
    tree = tree.union_all(
        select(step.c.id, tree.c.gen + 1)
        .join(tree, step.c.referrer_id == tree.c.id)
        .where(tree.c.gen < 100)  # a guard: chains are acyclic by construction
    )
    rows = (await session.execute(
        select(tree.c.gen, func.count()).group_by(tree.c.gen).order_by(tree.c.gen)
    )).all()
    return [(int(g), int(n)) for g, n in rows]


async def concentration(session: AsyncSession, buyers: Table) -> tuple[int, int, int]:
    """(top-20% buyers, their revenue, buyers needed for 60% of revenue) by window functions."""
    b = buyers.c
    order = (b.rev_p.desc(), b.customer_id)
    ranked = select(
        b.rev_p.label("rev"),
        func.row_number().over(order_by=order).label("rn"),
        func.sum(b.rev_p).over(order_by=order, rows=(None, 0)).label("cum"),
        func.count().over().label("n"),
        func.sum(b.rev_p).over().label("total"),
    ).where(b.n_p > 0).subquery("ranked")
    top = ranked.c.rn * 5 <= ranked.c.n + 4  # rn <= ceil(n / 5)
    before_60 = (ranked.c.cum - ranked.c.rev) * 5 < ranked.c.total * 3  # still short of 60% before it
    row = (await session.execute(select(
        _count_if(top), _sum(case((top, ranked.c.rev), else_=0)), _count_if(before_60)
    ))).one()
    return int(row[0]), int(row[1]), int(row[2])


async def certificates_by_kind(
    session: AsyncSession, period: Period, scope: Scope | None
) -> dict[str, tuple[int, int]]:
    stmt = (
        select(Lot.certificate_kind, func.count(), _sum(Lot.amount))
        .where(Lot.kind == LotKind.CERTIFICATE, Lot.created_at >= period.start, Lot.created_at < period.end)
        .group_by(Lot.certificate_kind)
    )
    if scope is not None:
        stmt = stmt.join(Customer, Customer.id == Lot.customer_id).where(scope.customer_filter())
    out = {kind.value: (0, 0) for kind in CertificateKind}
    for kind, count, points in (await session.execute(stmt)).all():
        out[(kind.value if kind is not None else "owner")] = (int(count), int(points))
    return out


async def ratings_by_staff(
    session: AsyncSession, period: Period, scope: Scope | None
) -> dict[int | None, tuple[int, int]]:
    """Ratings given in the period per staff member (None: no staff member recorded)."""
    stmt = select(Rating.staff_id, func.count(), _sum(Rating.score)).where(
        Rating.created_at >= period.start, Rating.created_at < period.end).group_by(Rating.staff_id)
    if scope is not None:
        stmt = stmt.join(Customer, Customer.id == Rating.customer_id).where(scope.customer_filter())
    return {staff: (int(n), int(total)) for staff, n, total in (await session.execute(stmt)).all()}


@dataclass(frozen=True)
class _Till:
    """Operations in the period per (staff member, month): the staff table and the monthly series."""

    card_n: int
    card_rev: int
    points: int
    plain_n: int
    plain_rev: int


def _month_ends(months: list[date], period: Period, tz: ZoneInfo) -> list[datetime]:
    ends = [start_of_day(m + timedelta(days=calendar.monthrange(m.year, m.month)[1]), tz) for m in months]
    if ends:
        ends[-1] = period.end
    return ends


def _on_the_hour(instant: datetime) -> bool:
    return instant.minute == 0 and instant.second == 0 and instant.microsecond == 0


async def till_totals(
    session: AsyncSession, period: Period, tz: ZoneInfo, scope: Scope | None, *, reference: bool = False
) -> dict[tuple[int | None, int], _Till]:
    """The period's purchases and sales without a card per staff member and month (a few
    hundred rows at most): from `till_hours` when every boundary is a whole UTC hour (time
    zones with whole-hour offsets) and no cohort is asked for, else ONE pass over the
    period's operations."""
    months = month_starts(period)
    ends = _month_ends(months, period, tz)
    start = period.start
    # Bucket -1: the months before the series' last MAX_MONTHS (the staff table and the
    # no-card figures cover the whole period, the series shows only its months).
    bounds, first = ends[:-1], 0
    if months and start_of_day(months[0], tz) > start:
        bounds, first = [start_of_day(months[0], tz), *bounds], -1
    if scope is None and not reference and all(_on_the_hour(t) for t in (start, *bounds, period.end)):
        t = TillHour.__table__.c
        hours = select(t.staff_key, _bucket(t.hour, bounds, first).label("b"),
                       *(t[name] for name in TILL_COLUMNS)).where(
            t.hour >= start, t.hour < period.end).subquery("hours")
        rows = (await session.execute(
            select(hours.c.staff_key, hours.c.b, *(_sum(hours.c[name]) for name in TILL_COLUMNS))
            .group_by(hours.c.staff_key, hours.c.b)
        )).all()
        # _Till's order: card_n, card_rev, points, plain_n, plain_rev (= TILL_COLUMNS)
        return {(staff or None, int(b)): _Till(*(int(v) for v in values)) for staff, b, *values in rows}
    long = period.end - period.start > LONG_PERIOD
    kind = Unindexed(Operation.kind) if long else Operation.kind
    created = Unindexed(Operation.created_at) if long else Operation.created_at
    live = and_(Operation.kind == OperationKind.PURCHASE, Operation.refunded_kopecks < Operation.amount_kopecks)
    no_card = Operation.kind == OperationKind.SALE_NO_CARD
    inner = select(
        (Unindexed(Operation.staff_id) if long else Operation.staff_id).label("staff_id"),
        _bucket(Operation.created_at, bounds, first).label("b"),
        case((live, 1), else_=0).label("card_n"), case((live, net_revenue()), else_=0).label("card_rev"),
        case((live, net_points_paid()), else_=0).label("pts"),
        case((no_card, 1), else_=0).label("plain_n"),
        case((no_card, Operation.amount_kopecks), else_=0).label("plain_rev"),
    ).where(created >= start, created < period.end,
            kind.in_([OperationKind.PURCHASE, OperationKind.SALE_NO_CARD]))
    if scope is not None:
        if scope.kind == "staff":
            inner = inner.outerjoin(Customer, Customer.id == Operation.customer_id).where(or_(
                and_(no_card, Operation.staff_id == int(scope.value)), scope.customer_filter()))
        else:
            inner = inner.join(Customer, Customer.id == Operation.customer_id).where(scope.customer_filter())
    ops = inner.subquery("ops")
    # Grouped outside the CASE: PostgreSQL does not match bound parameters across clauses.
    rows = (await session.execute(
        select(ops.c.staff_id, ops.c.b, _sum(ops.c.card_n), _sum(ops.c.card_rev), _sum(ops.c.pts),
               _sum(ops.c.plain_n), _sum(ops.c.plain_rev)).group_by(ops.c.staff_id, ops.c.b)
    )).all()
    return {(staff, int(b)): _Till(*(int(v) for v in values)) for staff, b, *values in rows}


async def staff_table(
    session: AsyncSession, period: Period, tills: dict[tuple[int | None, int], _Till],
    ratings: dict[int | None, tuple[int, int]],
) -> list[StaffRow]:
    per_staff: dict[int, list[int]] = {}
    for (staff, _), till in tills.items():  # a few hundred aggregated rows, not operations
        if staff is not None:
            acc = per_staff.setdefault(staff, [0, 0, 0, 0, 0])
            acc[0] += till.card_n
            acc[1] += till.plain_n
            acc[2] += till.card_rev + till.plain_rev
            acc[3] += till.points
            acc[4] += till.card_rev
    enrolled = dict((await session.execute(
        select(Customer.enrolled_by_staff_id, func.count())
        .where(Customer.enrolled_by_staff_id.is_not(None),
               Customer.created_at >= period.start, Customer.created_at < period.end)
        .group_by(Customer.enrolled_by_staff_id)
    )).all())
    rows = []
    for member in (await session.execute(select(Staff).order_by(Staff.id))).scalars():
        o = per_staff.get(member.id, [0, 0, 0, 0, 0])
        r = ratings.get(member.id, (0, 0))
        e = int(enrolled.get(member.id, 0))
        if not member.active and not any(o) and not e and not r[0]:
            continue  # a revoked member with nothing in the period
        rows.append(StaffRow(
            staff_id=member.id, name=member.display_name, active=member.active,
            purchases=o[0], sales_no_card=o[1], revenue=o[2], card_revenue=o[4], points_paid=o[3],
            enrolled=e, ratings=r[0], ratings_sum=r[1],
        ))
    rows.sort(key=lambda row: (-row.revenue, row.staff_id))
    return rows


async def campaign_funnels(session: AsyncSession, period: Period, buyers: Table | None) -> list[CampaignFunnel]:
    """`buyers`: the report's buyer table, or None when it holds a cohort only (the funnels stay
    complete: the registrations' purchases are then grouped from the period's operations)."""
    start, end = period.start, period.end
    opened = dict((await session.execute(
        select(LinkVisit.campaign_id, func.count())
        .where(LinkVisit.created_at >= start, LinkVisit.created_at < end).group_by(LinkVisit.campaign_id)
    )).all())
    registered = dict((await session.execute(
        select(Customer.campaign_id, func.count())
        .where(Customer.campaign_id.is_not(None), Customer.created_at >= start, Customer.created_at < end)
        .group_by(Customer.campaign_id)
    )).all())
    issued = dict((await session.execute(
        select(Lot.campaign_id, func.count())
        .where(Lot.campaign_id.is_not(None), Lot.created_at >= start, Lot.created_at < end)
        .group_by(Lot.campaign_id)
    )).all())
    # A purchase belongs to a campaign's funnel if its customer registered through the campaign
    # or it was paid with the campaign's certificate. Registration: the customer's row of
    # `buyers`. Certificate: from the campaign's lots through their redeem entries to the
    # purchases (all indexed), counting only customers who did not register through it.
    through_registration: Any
    if buyers is not None:
        b = buyers.c
        through_registration = select(
            Customer.campaign_id.label("campaign_id"), Customer.id.label("customer_id"), b.rev_p.label("rev")
        ).join(buyers, b.customer_id == Customer.id).where(Customer.campaign_id.is_not(None), b.n_p > 0)
    else:
        through_registration = (
            select(Customer.campaign_id.label("campaign_id"), Customer.id.label("customer_id"),
                   _sum(net_revenue()).label("rev"))
            .join(Operation, Operation.customer_id == Customer.id)
            .where(Customer.campaign_id.is_not(None), live_purchases(start, end))
            .group_by(Customer.campaign_id, Customer.id)
        )
    redeemed = select(Lot.campaign_id.label("campaign_id"), LedgerEntry.operation_id.label("op_id")).join(
        LedgerEntry, LedgerEntry.lot_id == Lot.id
    ).where(Lot.campaign_id.is_not(None), LedgerEntry.kind == EntryKind.REDEEM).distinct().subquery("redeemed")
    through_certificate = (
        select(redeemed.c.campaign_id, Operation.customer_id, _sum(net_revenue()).label("rev"))
        .join(Operation, Operation.id == redeemed.c.op_id)
        .join(Customer, Customer.id == Operation.customer_id)
        .where(live_purchases(start, end),
               or_(Customer.campaign_id.is_(None), Customer.campaign_id != redeemed.c.campaign_id))
        .group_by(redeemed.c.campaign_id, Operation.customer_id)
    )
    attributed = union_all(through_registration, through_certificate).subquery("attributed")
    bought = {row[0]: row[1:] for row in (await session.execute(
        select(attributed.c.campaign_id, func.count(func.distinct(attributed.c.customer_id)),
               _sum(attributed.c.rev)).group_by(attributed.c.campaign_id)
    )).all()}
    cost: dict[int, int] = dict((await session.execute(  # type: ignore[arg-type]
        select(Lot.campaign_id, -_sum(LedgerEntry.delta))
        .join(LedgerEntry, LedgerEntry.lot_id == Lot.id)
        .where(Lot.campaign_id.is_not(None), LedgerEntry.kind.in_([EntryKind.REDEEM, EntryKind.RETURN]),
               LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .group_by(Lot.campaign_id)
    )).all())
    funnels = []
    _, program = await current_program(session)
    for c in (await session.execute(select(Campaign).order_by(Campaign.id))).scalars():
        got = bought.get(c.id, (0, 0))
        funnels.append(CampaignFunnel(
            campaign_id=c.id, code=c.code, name=program.campaign_name(c.code, c.name), is_source=c.is_source,
            opened=int(opened.get(c.id, 0)), registered=int(registered.get(c.id, 0)),
            certificates=int(issued.get(c.id, 0)), buyers=int(got[0]), revenue=int(got[1]),
            cost_points=int(cost.get(c.id, 0) or 0),
        ))
    return funnels


def month_starts(period: Period) -> list[date]:
    first = date(period.first_day.year, period.first_day.month, 1)
    months = []
    cursor = first
    while cursor <= period.last_day:
        months.append(cursor)
        days = calendar.monthrange(cursor.year, cursor.month)[1]
        cursor = cursor + timedelta(days=days)
    return months[-MAX_MONTHS:]


def _bucket(column: Any, bounds: list[datetime], first: int = 0) -> Any:
    """The index of the month an instant falls in (bounds are the months' ends, ascending):
    a balanced tree of CASEs, so a row costs log2(months) comparisons, not one per month."""
    if not bounds:
        return literal(first)
    mid = len(bounds) // 2
    return case(
        (column < bounds[mid], _bucket(column, bounds[:mid], first)),
        else_=_bucket(column, bounds[mid + 1:], first + mid + 1),
    )


async def monthly_series(
    session: AsyncSession, period: Period, tz: ZoneInfo, scope: Scope | None,
    tills: dict[tuple[int | None, int], _Till],
) -> list[MonthRow]:
    months = month_starts(period)
    if not months:
        return []
    ends = _month_ends(months, period, tz)
    start = max(period.start, start_of_day(months[0], tz))
    per_month: dict[int, list[int]] = {}
    for (_, b), till in tills.items():
        acc = per_month.setdefault(b, [0, 0, 0, 0])
        acc[0] += till.card_rev
        acc[1] += till.card_n
        acc[2] += till.plain_rev
        acc[3] += till.plain_n
    new_inner = select(_bucket(Customer.created_at, ends[:-1]).label("b"), Customer.source_kind.label("kind")).where(
        Customer.created_at >= start, Customer.created_at < period.end)
    if scope is not None:
        new_inner = new_inner.where(scope.customer_filter())
    new = new_inner.subquery("new")
    joined: dict[int, dict[str, int]] = {}
    for b, kind, count in (await session.execute(
        select(new.c.b, new.c.kind, func.count()).group_by(new.c.b, new.c.kind)
    )).all():
        joined.setdefault(int(b), {})[SourceKind(kind).value] = int(count)
    rows = []
    for i, month in enumerate(months):
        r = per_month.get(i, [0, 0, 0, 0])
        rows.append(MonthRow(month, r[0], r[1], r[2], r[3], joined.get(i, {})))
    return rows


async def first_activity(session: AsyncSession) -> datetime | None:
    """The earliest customer or operation: where an all-time report starts."""
    a = (await session.execute(select(func.min(Customer.created_at)))).scalar()
    # Per kind: each is one seek in the (kind, created_at) index, where a plain min() reads the table.
    firsts = (await session.execute(select(*(
        select(func.min(Operation.created_at)).where(Operation.kind == kind).scalar_subquery()
        for kind in OperationKind
    )))).one()
    found = [d for d in (a, *firsts) if d is not None]
    if not found:
        return None
    # min() over raw values: SQLite returns a string for an aggregate of a datetime column.
    return min(_as_datetime(d) for d in found)


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


async def resolve_period(dom: Domain, period_from: date | None, period_to: date | None) -> Period:
    """None from: since the first customer or operation; None to: today (business time zone)."""
    today = dom.clock.now().astimezone(dom.tz).date()
    last = period_to or today
    first = period_from
    if first is None:
        async with dom.db.reading() as session:
            earliest = await first_activity(session)
        first = earliest.astimezone(dom.tz).date() if earliest else last
        first = min(first, last)
    period = Period.of(first, last, dom)
    return replace(period, from_beginning=True) if period_from is None else period


async def build_report(
    dom: Domain,
    period_from: date | None,
    period_to: date | None,
    *,
    by: Scope | str | None = None,
    with_rfm: bool = True,
    reference: bool = False,
) -> Report:
    """Every result figure for the period (both days included), optionally for one cohort."""
    scope = Scope.parse(by)
    period = await resolve_period(dom, period_from, period_to)
    async with dom.db.reading() as session:
        return await compute_report(session, period, dom.tz, dom.clock.now(), scope=scope, with_rfm=with_rfm,
                                    reference=reference)


async def compute_report(
    session: AsyncSession, period: Period, tz: ZoneInfo, now: datetime,
    *, scope: Scope | None = None, with_rfm: bool = True, reference: bool = False,
) -> Report:
    """The report inside the caller's session (the scheduler's monthly job passes its own).

    `reference`: compute every per-customer and per-till figure straight from the operations
    instead of the running totals (tests and `bench/report.py --verify` compare the two)."""
    previous = previous_month_end(period.end, tz)
    _, program = await current_program(session)
    if not _is_sqlite(session):
        # PostgreSQL's default 4 MB per sort sends the buyer pass and the RFM rankings of a large
        # base to disk; this is per transaction and ends with it (docs/PERFORMANCE.md, "Reports").
        await session.execute(text(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'"))
    buyers = await fill_buyers(session, period, previous, scope, reference=reference)
    try:
        by_source_rows = (
            await core_figures(session, period, scope, buyers, group=Customer.source_kind) if reference
            else await core_figures_by_source(session, period, scope, buyers))
        # Every core figure is a sum or a count: the overall row is the sum of the sources' rows.
        core = {name: sum(row[name] for row in by_source_rows.values()) for name in _CORE_NAMES} \
            if by_source_rows else {}
        generations = await referral_generations(session, period.end)
        top20_buyers, top20_revenue, buyers_for_60 = await concentration(session, buyers)
        certificates = await certificates_by_kind(session, period, scope)
        ratings = await ratings_by_staff(session, period, scope)
        all_ratings = await ratings_by_staff(session, period, None) if scope is not None else ratings
        tills = await till_totals(session, period, tz, None, reference=reference)
        scoped_tills = await till_totals(session, period, tz, scope) if scope is not None else tills
        staff = await staff_table(session, period, tills, all_ratings)
        funnels = await campaign_funnels(session, period, buyers if scope is None else None)
        promos = await promo_uses(session, period.start, period.end) if scope is None else []
        monthly = await monthly_series(session, period, tz, scope, scoped_tills)
        summary = summary_from_buyers if reference else summary_from_buyer_table
        rfm = await summary(session, buyers, period.end, previous) if with_rfm else None
    finally:
        await drop_buyers(session)
    by_source = [
        GroupFigures(kind.value, kind.value, _figures(by_source_rows.get(kind.value) or by_source_rows.get(kind)))
        for kind in SourceKind
    ]
    return Report(
        period=period, generated_at=now, scope=scope,
        baseline_percent=program.reports.baseline_discount_percent,
        point_value_kopecks=program.points.point_value_kopecks,
        overall=_figures(core),
        referred_customers=core.get("referred_customers", 0), referred_buyers=core.get("referred_buyers", 0),
        referred_revenue=core.get("referred_revenue", 0),
        referral_depth=max((g for g, _ in generations), default=0), referral_generations=generations,
        brought_revenue=core.get("brought_revenue", 0), certificates=certificates,
        ratings=sum(n for n, _ in ratings.values()), ratings_sum=sum(s for _, s in ratings.values()),
        no_card_sales=sum(t.plain_n for t in scoped_tills.values()),
        no_card_revenue=sum(t.plain_rev for t in scoped_tills.values()),
        top20_revenue=top20_revenue, top20_buyers=top20_buyers, buyers_for_60=buyers_for_60,
        by_source=by_source, staff=staff, funnels=funnels, monthly=monthly, rfm=rfm, promos=promos,
    )


async def monthly_report(dom: Domain, month: date | None = None) -> Report:
    """The report for one calendar month (default: the previous one), for the scheduler's
    monthly job (DOMAIN.md, "Result figures"; case A: "monthly RFM analytics")."""
    if month is None:
        first, last = previous_month(dom.clock.now().astimezone(dom.tz).date())
    else:
        first = month.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return await build_report(dom, first, last)


def _month_period(month: date, tz: ZoneInfo) -> Period:
    first = month.replace(day=1)
    return Period.in_zone(first, first.replace(day=calendar.monthrange(first.year, first.month)[1]), tz)


async def monthly_report_payload(session: AsyncSession, month: date, tz: ZoneInfo) -> dict[str, Any]:
    """The owners' monthly message (an outbox payload, rendered in the owner's language when
    sent): the scheduler's `MonthlyReportBuilder` (`JobRunner(monthly_report=...)`)."""
    from models.kernel.outbox import message_payload

    period = _month_period(month, tz)
    # As of the month's end, not the wall clock: the same month gives the same message however
    # late the job runs (catch-up, the sandbox's clock, the simulator).
    report = await compute_report(session, period, tz, period.end)
    o = report.overall

    def percent(value: Fraction | None) -> float:
        """For Fluent, which formats it in the owner's locale: whole percents from 10%, one
        decimal below (as `/report` shows shares, bot/report_render.py)."""
        if value is None:
            return 0.0
        exact = Decimal(value.numerator * 100) / Decimal(value.denominator)
        places = Decimal(1) if abs(exact) >= 10 else Decimal("0.1")
        return float(exact.quantize(places, rounding=ROUND_HALF_UP))

    def roubles(kopecks: Fraction | int | None) -> int:  # whole roubles, half up, still in kopecks
        value = Fraction(kopecks or 0)
        exact = Decimal(value.numerator) / Decimal(value.denominator * 100)
        return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * 100

    # The same short summary as `/report` (bot/report_render.py, SUMMARY_KEYS), with its buttons
    # ("Подробнее", "Что это значит?": handlers/owner_reports.py) for this month.
    return message_payload("report-monthly", {
        "month": f"{month.month:02d}.{month.year}", "revenue": o.revenue, "purchases": o.purchases,
        "average": roubles(o.average_check), "new": o.new_customers, "buyers": o.buyers,
        "returning": percent(o.return_rate), "points_paid": roubles(o.points_paid),
        "benefit": roubles(report.total_benefit), "shortfall": roubles(-report.total_benefit),
        "benefit_state": report.benefit_state,
    }, markup={"kind": "report-summary", "first": period.first_day.isoformat(), "last": period.last_day.isoformat()})
