"""A staff member's own figures (/me): today and this month (docs/REPORTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.context import Domain
from models.kernel.tables import Customer, Operation, OperationKind, Rating
from models.ledger.figures import average_check, live_purchase, net_revenue
from models.till.access import StaffActor, require_staff
from models.till.fraud import business_day_bounds
from models.till.team import ensure_staff_referral_code


@dataclass(frozen=True)
class PeriodStats:
    purchases: int  # card purchases, fully refunded ones excluded (models/ledger/figures.py, as in /report)
    revenue_kopecks: int  # their check amounts (money and points), net of refunds
    average_check: Fraction | None  # models.ledger.figures.average_check, as in /report
    points_paid: int
    points_accrued: int
    refunds: int
    sales_without_card: int
    enrolled: int  # customers enrolled through the staff member's link (or created at the till)
    ratings: int
    average_rating: Decimal | None


@dataclass(frozen=True)
class StaffStats:
    name: str
    referral_code: str
    today: PeriodStats
    month: PeriodStats


async def _period(session: AsyncSession, staff_id: int, start: datetime, end: datetime) -> PeriodStats:
    within = and_(Operation.created_at >= start, Operation.created_at < end, Operation.staff_id == staff_id)
    is_purchase = Operation.kind == OperationKind.PURCHASE
    live = live_purchase()
    row = (await session.execute(select(
        func.count(Operation.id).filter(live),
        func.coalesce(func.sum(case((live, net_revenue()), else_=0)), 0),
        func.coalesce(func.sum(case((is_purchase, Operation.points_paid), else_=0)), 0),
        func.coalesce(func.sum(case((is_purchase, Operation.cashback), else_=0)), 0),
        func.count(Operation.id).filter(Operation.kind == OperationKind.REFUND),
        func.count(Operation.id).filter(Operation.kind == OperationKind.SALE_NO_CARD),
    ).where(within))).one()
    purchases, revenue, paid, accrued, refunds, sales = (int(v or 0) for v in row)
    enrolled = int((await session.execute(select(func.count(Customer.id)).where(
        Customer.enrolled_by_staff_id == staff_id, Customer.created_at >= start, Customer.created_at < end
    ))).scalar() or 0)
    rating = (await session.execute(select(func.count(Rating.id), func.avg(Rating.score)).where(
        Rating.staff_id == staff_id, Rating.created_at >= start, Rating.created_at < end
    ))).one()
    ratings = int(rating[0] or 0)
    average = Decimal(str(rating[1])).quantize(Decimal("0.1")) if ratings else None
    return PeriodStats(purchases, revenue, average_check(revenue, purchases), paid, accrued, refunds, sales,
                       enrolled, ratings, average)


async def staff_stats(dom: Domain, actor: StaffActor) -> StaffStats:
    now = dom.clock.now()
    async with dom.db.reading() as session:
        staff = await require_staff(session, actor)
        staff_id, name = staff.id, staff.display_name
    code = await ensure_staff_referral_code(dom, staff_id)
    day_start, day_end, _ = business_day_bounds(dom, now)
    month_start = day_start.replace(day=1)
    async with dom.db.reading() as session:
        today = await _period(session, staff_id, day_start, day_end)
        month = await _period(session, staff_id, month_start, day_end)
    return StaffStats(name, code, today, month)
