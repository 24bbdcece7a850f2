"""The report from running totals (customers' totals, `till_hours`) equals the report computed
straight from the operations (`reference=True`, the former queries), on a business built
through the real operations: the simulator, then refunds (partial, partial up to the whole
check, full refunds of a customer's last purchase), a certificate purchase refunded in part,
an import with purchase history, an imported customer buying, an erasure, sales without a card.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.commands.simulate import scheduler_jobs
from bot.report_render import report_as_dict
from models.customers.accounts import erase_customer
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.db import Database
from models.kernel.tables import Customer, Operation, OperationKind, Staff, TillHour
from models.owner.imports import apply_import
from models.program.rules import Program
from models.purchase.purchases import (
    PurchaseRequest,
    commit_purchase,
    record_sale_without_card,
    refund_purchase,
)
from models.reports.report import build_report
from models.reports.simulator import SimulationConfig, simulate
from tests.helpers import assert_invariants

CONFIG = SimulationConfig(customers=45, months=3, seed=11, start=date(2026, 1, 5), refund_probability=0.12,
                          repeat_probability=0.7, mean_gap_days=12.0)
IMPORT_CSV = (
    "phone,name,birthday,balance,total_spent,purchases,source\n"
    "+79160007001,Ольга,1985-03-15,500,\"60 000,50\",7,\n"
    "+79160007002,Пётр,,,12000,2,\n"
)


async def _purchases(dom: Domain, **where: object) -> list[Operation]:
    async with dom.db.reading() as s:
        stmt = select(Operation).where(Operation.kind == OperationKind.PURCHASE,
                                       Operation.refunded_kopecks < Operation.amount_kopecks)
        for name, value in where.items():
            stmt = stmt.where(getattr(Operation, name) == value)
        return list((await s.execute(stmt.order_by(Operation.id))).scalars())


async def _more_operations(dom: Domain) -> None:
    """After the simulation: every kind of change the running totals must follow."""
    clock = dom.clock
    assert isinstance(clock, ManualClock)
    live = await _purchases(dom)
    per_customer: dict[int, list[Operation]] = {}
    for op in live:
        per_customer.setdefault(op.customer_id or 0, []).append(op)
    regulars = [ops for cid, ops in sorted(per_customer.items()) if cid and len(ops) >= 2]
    assert len(regulars) >= 3, "the simulation should give repeat buyers"
    clock.advance(hours=5)
    # A customer's last purchase refunded fully: their last live purchase moves back.
    await refund_purchase(dom, regulars[0][-1].id, override_window=True)
    # Partial, then the rest (the purchase stops counting), on another customer's last purchase.
    last = regulars[1][-1]
    await refund_purchase(dom, last.id, last.amount_kopecks // 3, override_window=True)
    clock.advance(minutes=7)
    await refund_purchase(dom, last.id, override_window=True)
    # A partial refund of an earlier purchase (revenue and points shrink, the count stays).
    earlier = regulars[2][0]
    await refund_purchase(dom, earlier.id, earlier.amount_kopecks // 2 + 1, override_window=True)
    with_certificate = [op for op in live if op.certificate_lot_id is not None]
    if with_certificate:
        cert = with_certificate[0]
        await refund_purchase(dom, cert.id, cert.amount_kopecks // 4, override_window=True)
    # An import with history, then an imported customer buys and gets part of it back.
    clock.advance(hours=2)
    await apply_import(dom, IMPORT_CSV.encode(), "base.csv")
    async with dom.db.reading() as s:
        imported = (await s.execute(select(Customer.id).where(Customer.phone == "+79160007001"))).scalar_one()
        staff_id = (await s.execute(select(Staff.id).order_by(Staff.id))).scalars().first()
    clock.advance(minutes=30)
    bought = await commit_purchase(dom, PurchaseRequest(customer_id=imported, amount_kopecks=1_500_000,
                                                        staff_id=staff_id))
    await refund_purchase(dom, bought.operation_id, 250_000, override_window=True)
    await record_sale_without_card(dom, 730_000, staff_id=staff_id)
    await record_sale_without_card(dom, 410_000, staff_id=None)
    # An erased buyer: personal data goes, the purchase history stays in the figures.
    await erase_customer(dom, regulars[3][0].customer_id if len(regulars) > 3 else regulars[2][0].customer_id or 0)
    clock.advance(days=2)
    await commit_purchase(dom, PurchaseRequest(customer_id=regulars[0][0].customer_id or 0,
                                               amount_kopecks=990_000, staff_id=staff_id))


async def _assert_same(dom: Domain, first: date | None, last: date | None, by: str | None = None) -> None:
    fast = await build_report(dom, first, last, by=by)
    reference = await build_report(dom, first, last, by=by, reference=True)
    assert report_as_dict(fast) == report_as_dict(reference), (first, last, by)
    assert fast.rfm == reference.rfm, (first, last, by)
    assert fast == reference, (first, last, by)


async def test_report_from_running_totals_equals_report_from_operations(db: Database, case_a: Program) -> None:
    dom = Domain(db=db, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), tz=ZoneInfo("Europe/Moscow"))
    await simulate(dom, case_a, CONFIG, jobs=scheduler_jobs(dom))
    await _more_operations(dom)
    await assert_invariants(dom)  # the running totals equal the operations (models/ledger/running_totals.py)

    today = dom.clock.now().astimezone(dom.tz).date()
    report = await build_report(dom, None, None)
    assert report.overall.purchases > 20 and report.rfm is not None and report.rfm.movement
    assert report.no_card_sales > 0 and any(row.revenue for row in report.staff)

    await _assert_same(dom, None, None)  # all time, as /report and the bench run it
    month = CONFIG.start.replace(day=1) if CONFIG.start else today
    while month <= today:  # each calendar month (the monthly job), later purchases after its end
        following = (month + timedelta(days=32)).replace(day=1)
        await _assert_same(dom, month, following - timedelta(days=1))
        month = following
    await _assert_same(dom, date(2026, 1, 20), date(2026, 3, 10))  # starts and ends mid-month
    await _assert_same(dom, None, date(2026, 2, 14))  # from the beginning, purchases after the end
    await _assert_same(dom, date(2026, 2, 1), None)
    await _assert_same(dom, None, None, by="source:campaign")
    await _assert_same(dom, date(2026, 2, 1), None, by="source:import")
    async with dom.db.reading() as s:
        staff_id = (await s.execute(select(Staff.id).order_by(Staff.id))).scalars().first()
    await _assert_same(dom, None, None, by=f"staff:{staff_id}")
    # A time zone whose midnight is not a whole UTC hour: till figures come from the operations.
    await _assert_same(replace(dom, tz=ZoneInfo("Asia/Kolkata")), None, None)
    await _assert_same(replace(dom, tz=ZoneInfo("Asia/Kolkata")), date(2026, 2, 1), date(2026, 2, 28))

    # And the fast report really reads the totals: skew them and it differs from the operations.
    async with dom.db.transaction() as s:
        await s.execute(update(Customer).where(Customer.revenue_kopecks > 0).values(
            revenue_kopecks=Customer.revenue_kopecks + 100))
        await s.execute(update(TillHour).values(plain_rev=TillHour.plain_rev + 100))
    fast = await build_report(dom, None, None)
    reference = await build_report(dom, None, None, reference=True)
    assert fast.overall.revenue > reference.overall.revenue and fast.no_card_revenue > reference.no_card_revenue
