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

RFM is in `models/rfm.py`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement as _Col

from models.clock import start_of_day
from models.context import Domain
from models.programs_store import current_program
from models.rfm import RfmSummary, rfm_summary
from models.tables import (
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
)

BROUGHT_SOURCES = (SourceKind.CAMPAIGN, SourceKind.SOURCE)
MAX_MONTHS = 60  # the monthly series is capped; a longer period shows its last 60 months


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """An exact share; None when the denominator is zero (shown as a dash)."""
    return Fraction(numerator, denominator) if denominator else None


# --- Period and scope -------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    first_day: date
    last_day: date
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive

    @classmethod
    def of(cls, first_day: date, last_day: date, dom: Domain) -> Period:
        if last_day < first_day:
            raise ValueError("the period ends before it starts")
        return cls(first_day, last_day, start_of_day(first_day, dom.tz),
                   start_of_day(last_day + timedelta(days=1), dom.tz))


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
        if kind in ("campaign", "staff") and value.isdigit():
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
        return ratio(self.revenue, self.purchases)

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
    points_paid: int
    enrolled: int
    ratings: int
    ratings_sum: int

    @property
    def operations(self) -> int:
        return self.purchases + self.sales_no_card

    @property
    def average_check(self) -> Fraction | None:
        return ratio(self.revenue, self.operations)

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
    name: str
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

def net_revenue() -> _Col[int]:
    return Operation.amount_kopecks - Operation.refunded_kopecks


def net_points_paid() -> _Col[int]:
    """Points paid in kopecks, less the share refunds gave back (as `refund_purchase` does)."""
    paid = Operation.amount_kopecks - Operation.cash_kopecks
    return paid - (paid * Operation.refunded_kopecks) // Operation.amount_kopecks


def live_purchases(start: datetime | None, end: datetime) -> ColumnElement[bool]:
    """Purchases in [start, end) that are not fully refunded."""
    cond = and_(
        Operation.kind == OperationKind.PURCHASE,
        Operation.created_at < end,
        Operation.refunded_kopecks < Operation.amount_kopecks,
    )
    return and_(cond, Operation.created_at >= start) if start is not None else cond


def per_customer(start: datetime | None, end: datetime) -> Any:
    """One row per buyer: purchases, revenue, points paid, certificate revenue in the period."""
    rev = net_revenue()
    return (
        select(
            Operation.customer_id.label("customer_id"),
            func.count().label("n"),
            func.sum(rev).label("rev"),
            func.sum(net_points_paid()).label("pts"),
            func.sum(case((Operation.certificate_lot_id.is_not(None), rev), else_=0)).label("cert_rev"),
        )
        .where(live_purchases(start, end), Operation.customer_id.is_not(None))
        .group_by(Operation.customer_id)
    )


def _sum(expr: Any) -> Any:
    return func.coalesce(func.sum(expr), 0)


def _count_if(cond: Any) -> Any:
    return _sum(case((cond, 1), else_=0))


async def core_figures(
    session: AsyncSession, period: Period, scope: Scope | None, group: Any = None
) -> dict[Any, dict[str, int]]:
    """The core figures, overall (group None) or per value of a customer column, in one pass."""
    pc = per_customer(period.start, period.end).subquery("pc")
    in_base = and_(Customer.created_at < period.end,
                   or_(Customer.erased_at.is_(None), Customer.erased_at >= period.end))
    joined = Customer.created_at >= period.start
    referred = Customer.referrer_id.is_not(None)
    bought = pc.c.n.is_not(None)
    columns = [
        _count_if(in_base).label("customers"),
        _count_if(and_(in_base, joined)).label("new_customers"),
        _count_if(and_(in_base, TelegramAccount.linked_at.is_not(None),
                       TelegramAccount.linked_at < period.end)).label("digitised"),
        func.count(pc.c.customer_id).label("buyers"),
        _sum(pc.c.n).label("purchases"),
        _sum(pc.c.rev).label("revenue"),
        _sum(pc.c.pts).label("points_paid"),
        _sum(pc.c.cert_rev).label("certificate_revenue"),
        _count_if(pc.c.n >= 2).label("repeat_buyers"),
        _count_if(pc.c.n > 4).label("frequent_buyers"),
        _count_if(and_(in_base, joined, referred)).label("referred_customers"),
        _count_if(and_(joined, referred, bought)).label("referred_buyers"),
        _sum(case((referred, pc.c.rev), else_=0)).label("referred_revenue"),
        _sum(case((Customer.source_kind.in_(BROUGHT_SOURCES), pc.c.rev), else_=0)).label("brought_revenue"),
    ]
    key = (group if group is not None else literal("all")).label("key")
    stmt = (
        select(key, *columns)
        .select_from(Customer)
        .outerjoin(pc, pc.c.customer_id == Customer.id)
        .outerjoin(TelegramAccount, TelegramAccount.customer_id == Customer.id)
        .where(Customer.created_at < period.end)
    )
    if scope is not None:
        stmt = stmt.where(scope.customer_filter())
    if group is not None:
        stmt = stmt.group_by(group)
    rows = (await session.execute(stmt)).mappings().all()
    return {row["key"]: {k: int(v or 0) for k, v in row.items() if k != "key"} for row in rows}


_FIGURE_FIELDS = tuple(Figures.__dataclass_fields__)


def _figures(values: dict[str, int] | None) -> Figures:
    values = values or {}
    return Figures(**{name: values.get(name, 0) for name in _FIGURE_FIELDS})


async def referral_generations(session: AsyncSession, end: datetime) -> list[tuple[int, int]]:
    """Customers per referral generation, by a recursive CTE walking down from the roots."""
    parent = Customer.__table__.alias("parent")
    child = Customer.__table__.alias("child")
    roots = (
        select(child.c.id.label("id"), literal(1).label("gen"))
        .join(parent, parent.c.id == child.c.referrer_id)
        .where(parent.c.referrer_id.is_(None), child.c.created_at < end)
        .cte("tree", recursive=True)
    )
    step = child.alias("step")
    tree = roots.union_all(
        select(step.c.id, roots.c.gen + 1)
        .join(roots, step.c.referrer_id == roots.c.id)
        .where(step.c.created_at < end, roots.c.gen < 100)  # 100: a guard, chains are acyclic
    )
    rows = (await session.execute(
        select(tree.c.gen, func.count()).group_by(tree.c.gen).order_by(tree.c.gen)
    )).all()
    return [(int(g), int(n)) for g, n in rows]


async def concentration(
    session: AsyncSession, period: Period, scope: Scope | None
) -> tuple[int, int, int]:
    """(top-20% buyers, their revenue, buyers needed for 60% of revenue) by window functions."""
    pc_stmt = per_customer(period.start, period.end)
    if scope is not None:
        pc_stmt = pc_stmt.join(Customer, Customer.id == Operation.customer_id).where(scope.customer_filter())
    pc = pc_stmt.subquery("pc")
    order = (pc.c.rev.desc(), pc.c.customer_id)
    ranked = select(
        pc.c.rev.label("rev"),
        func.row_number().over(order_by=order).label("rn"),
        func.sum(pc.c.rev).over(order_by=order, rows=(None, 0)).label("cum"),
        func.count().over().label("n"),
        func.sum(pc.c.rev).over().label("total"),
    ).subquery("ranked")
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


async def ratings_received(session: AsyncSession, period: Period, scope: Scope | None) -> tuple[int, int]:
    stmt = select(func.count(), _sum(Rating.score)).where(
        Rating.created_at >= period.start, Rating.created_at < period.end)
    if scope is not None:
        stmt = stmt.join(Customer, Customer.id == Rating.customer_id).where(scope.customer_filter())
    count, total = (await session.execute(stmt)).one()
    return int(count), int(total)


async def sales_without_card(session: AsyncSession, period: Period, scope: Scope | None) -> tuple[int, int]:
    stmt = select(func.count(), _sum(Operation.amount_kopecks)).where(
        Operation.kind == OperationKind.SALE_NO_CARD,
        Operation.created_at >= period.start, Operation.created_at < period.end)
    if scope is not None and scope.kind == "staff":
        stmt = stmt.where(Operation.staff_id == int(scope.value))
    count, total = (await session.execute(stmt)).one()
    return int(count), int(total)


async def staff_table(session: AsyncSession, period: Period) -> list[StaffRow]:
    in_period = and_(Operation.created_at >= period.start, Operation.created_at < period.end)
    live = and_(Operation.kind == OperationKind.PURCHASE, Operation.refunded_kopecks < Operation.amount_kopecks)
    no_card = Operation.kind == OperationKind.SALE_NO_CARD
    ops = {row[0]: row[1:] for row in (await session.execute(
        select(
            Operation.staff_id,
            _count_if(live), _count_if(no_card),
            _sum(case((live, net_revenue()), (no_card, Operation.amount_kopecks), else_=0)),
            _sum(case((live, net_points_paid()), else_=0)),
        )
        .where(in_period, Operation.staff_id.is_not(None),
               Operation.kind.in_([OperationKind.PURCHASE, OperationKind.SALE_NO_CARD]))
        .group_by(Operation.staff_id)
    )).all()}
    enrolled = dict((await session.execute(
        select(Customer.enrolled_by_staff_id, func.count())
        .where(Customer.enrolled_by_staff_id.is_not(None),
               Customer.created_at >= period.start, Customer.created_at < period.end)
        .group_by(Customer.enrolled_by_staff_id)
    )).all())
    ratings = {row[0]: row[1:] for row in (await session.execute(
        select(Rating.staff_id, func.count(), _sum(Rating.score))
        .where(Rating.staff_id.is_not(None), Rating.created_at >= period.start, Rating.created_at < period.end)
        .group_by(Rating.staff_id)
    )).all()}
    rows = []
    for staff in (await session.execute(select(Staff).order_by(Staff.id))).scalars():
        o = ops.get(staff.id, (0, 0, 0, 0))
        r = ratings.get(staff.id, (0, 0))
        e = int(enrolled.get(staff.id, 0))
        if not staff.active and not any(o) and not e and not r[0]:
            continue  # a revoked member with nothing in the period
        rows.append(StaffRow(
            staff_id=staff.id, name=staff.display_name, active=staff.active,
            purchases=int(o[0]), sales_no_card=int(o[1]), revenue=int(o[2]), points_paid=int(o[3]),
            enrolled=e, ratings=int(r[0]), ratings_sum=int(r[1]),
        ))
    rows.sort(key=lambda row: (-row.revenue, row.staff_id))
    return rows


async def campaign_funnels(session: AsyncSession, period: Period) -> list[CampaignFunnel]:
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
    # or it was paid with the campaign's certificate; UNION keeps each (purchase, campaign) once.
    base = select(Operation.id.label("op_id"), Operation.customer_id.label("customer_id"),
                  net_revenue().label("rev"))
    through_registration = base.add_columns(Customer.campaign_id.label("campaign_id")).join(
        Customer, Customer.id == Operation.customer_id
    ).where(live_purchases(start, end), Customer.campaign_id.is_not(None))
    through_certificate = base.add_columns(Lot.campaign_id.label("campaign_id")).join(
        Lot, Lot.id == Operation.certificate_lot_id
    ).where(live_purchases(start, end), Lot.campaign_id.is_not(None))
    attributed = union(through_registration, through_certificate).subquery("attributed")
    bought = {row[0]: row[1:] for row in (await session.execute(
        select(attributed.c.campaign_id, func.count(func.distinct(attributed.c.customer_id)),
               _sum(attributed.c.rev)).group_by(attributed.c.campaign_id)
    )).all()}
    cost = dict((await session.execute(
        select(Lot.campaign_id, -_sum(LedgerEntry.delta))
        .join(LedgerEntry, LedgerEntry.lot_id == Lot.id)
        .where(Lot.campaign_id.is_not(None), LedgerEntry.kind.in_([EntryKind.REDEEM, EntryKind.RETURN]),
               LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .group_by(Lot.campaign_id)
    )).all())
    funnels = []
    for c in (await session.execute(select(Campaign).order_by(Campaign.id))).scalars():
        b = bought.get(c.id, (0, 0))
        funnels.append(CampaignFunnel(
            campaign_id=c.id, code=c.code, name=c.name, is_source=c.is_source,
            opened=int(opened.get(c.id, 0)), registered=int(registered.get(c.id, 0)),
            certificates=int(issued.get(c.id, 0)), buyers=int(b[0]), revenue=int(b[1]),
            cost_points=int(cost.get(c.id, 0) or 0),
        ))
    return funnels


def month_starts(period: Period, dom: Domain) -> list[date]:
    first = date(period.first_day.year, period.first_day.month, 1)
    months = []
    cursor = first
    while cursor <= period.last_day:
        months.append(cursor)
        days = calendar.monthrange(cursor.year, cursor.month)[1]
        cursor = cursor + timedelta(days=days)
    return months[-MAX_MONTHS:]


def _bucket(column: Any, bounds: list[datetime]) -> Any:
    """The index of the month an instant falls in (bounds are the months' ends, ascending)."""
    if not bounds:
        return literal(0)
    return case(*[(column < bound, i) for i, bound in enumerate(bounds)], else_=len(bounds))


async def monthly_series(
    session: AsyncSession, period: Period, dom: Domain, scope: Scope | None
) -> list[MonthRow]:
    months = month_starts(period, dom)
    if not months:
        return []
    start = max(period.start, start_of_day(months[0], dom.tz))
    ends = [start_of_day(m + timedelta(days=calendar.monthrange(m.year, m.month)[1]), dom.tz) for m in months]
    ends[-1] = period.end
    # Buckets are computed in a subquery and grouped outside it: PostgreSQL does not match
    # the bound parameters of a CASE in SELECT with the same CASE in GROUP BY.
    live = and_(Operation.kind == OperationKind.PURCHASE, Operation.refunded_kopecks < Operation.amount_kopecks)
    no_card = Operation.kind == OperationKind.SALE_NO_CARD
    inner = select(
        _bucket(Operation.created_at, ends[:-1]).label("b"),
        case((live, net_revenue()), else_=0).label("card_rev"), case((live, 1), else_=0).label("card_n"),
        case((no_card, Operation.amount_kopecks), else_=0).label("plain_rev"),
        case((no_card, 1), else_=0).label("plain_n"),
    ).where(Operation.created_at >= start, Operation.created_at < period.end,
            Operation.kind.in_([OperationKind.PURCHASE, OperationKind.SALE_NO_CARD]))
    if scope is not None:
        if scope.kind == "staff":
            inner = inner.outerjoin(Customer, Customer.id == Operation.customer_id).where(or_(
                and_(no_card, Operation.staff_id == int(scope.value)), scope.customer_filter()))
        else:
            inner = inner.join(Customer, Customer.id == Operation.customer_id).where(scope.customer_filter())
    ops = inner.subquery("ops")
    by_month = {int(row[0]): row[1:] for row in (await session.execute(
        select(ops.c.b, _sum(ops.c.card_rev), _sum(ops.c.card_n), _sum(ops.c.plain_rev), _sum(ops.c.plain_n))
        .group_by(ops.c.b)
    )).all()}
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
        r = by_month.get(i, (0, 0, 0, 0))
        rows.append(MonthRow(month, int(r[0]), int(r[1]), int(r[2]), int(r[3]), joined.get(i, {})))
    return rows


async def first_activity(session: AsyncSession) -> datetime | None:
    """The earliest customer or operation: where an all-time report starts."""
    a = (await session.execute(select(func.min(Customer.created_at)))).scalar()
    b = (await session.execute(select(func.min(Operation.created_at)))).scalar()
    found = [d for d in (a, b) if d is not None]
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
    return Period.of(first, last, dom)


async def build_report(
    dom: Domain,
    period_from: date | None,
    period_to: date | None,
    *,
    by: Scope | str | None = None,
    with_rfm: bool = True,
) -> Report:
    """Every result figure for the period (both days included), optionally for one cohort."""
    scope = Scope.parse(by)
    period = await resolve_period(dom, period_from, period_to)
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        overall_row = (await core_figures(session, period, scope)).get("all")
        core = overall_row or {}
        by_source_rows = await core_figures(session, period, scope, group=Customer.source_kind)
        generations = await referral_generations(session, period.end)
        top20_buyers, top20_revenue, buyers_for_60 = await concentration(session, period, scope)
        certificates = await certificates_by_kind(session, period, scope)
        ratings, ratings_sum = await ratings_received(session, period, scope)
        no_card_sales, no_card_revenue = await sales_without_card(session, period, scope)
        staff = await staff_table(session, period)
        funnels = await campaign_funnels(session, period)
        monthly = await monthly_series(session, period, dom, scope)
        rfm = await rfm_summary(session, period.end, dom.tz, scope=scope) if with_rfm else None
    by_source = [
        GroupFigures(kind.value, kind.value, _figures(by_source_rows.get(kind.value) or by_source_rows.get(kind)))
        for kind in SourceKind
    ]
    return Report(
        period=period, generated_at=dom.clock.now(), scope=scope,
        baseline_percent=program.reports.baseline_discount_percent,
        point_value_kopecks=program.points.point_value_kopecks,
        overall=_figures(core),
        referred_customers=core.get("referred_customers", 0), referred_buyers=core.get("referred_buyers", 0),
        referred_revenue=core.get("referred_revenue", 0),
        referral_depth=max((g for g, _ in generations), default=0), referral_generations=generations,
        brought_revenue=core.get("brought_revenue", 0), certificates=certificates,
        ratings=ratings, ratings_sum=ratings_sum, no_card_sales=no_card_sales, no_card_revenue=no_card_revenue,
        top20_revenue=top20_revenue, top20_buyers=top20_buyers, buyers_for_60=buyers_for_60,
        by_source=by_source, staff=staff, funnels=funnels, monthly=monthly, rfm=rfm,
    )


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


async def monthly_report(dom: Domain, month: date | None = None) -> Report:
    """The report for one calendar month (default: the previous one), for the scheduler's
    monthly job (DOMAIN.md, "Result figures"; case A: "monthly RFM analytics")."""
    if month is None:
        first, last = previous_month(dom.clock.now().astimezone(dom.tz).date())
    else:
        first = month.replace(day=1)
        last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return await build_report(dom, first, last)
