"""Case A's "point B" counts reproduced, and RFM scores and segments worked out by hand."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import insert

from bot.i18n import I18n
from bot.report_render import render_text
from models.kernel.context import Domain
from models.kernel.tables import Customer, Operation, OperationKind, TelegramAccount
from models.ledger.running_totals import rebuild_running_totals
from models.purchase.purchases import PurchaseRequest, commit_purchase
from models.reports.report import build_report
from models.reports.rfm import SEGMENT_RULES, SEGMENTS, classify, customers_in_segment, rfm_segments
from tests.helpers import register

CHECK = 1_225_000  # 12 250 ₽


async def test_case_a_counts_show_92_57_and_1_9(dom: Domain, i18n: I18n) -> None:
    """1 158 customers, 1 064 with Telegram, 662 buyers, 1 250 purchases at 12 250 ₽ (SEEDS.md).

    The rows are inserted directly, for this data set only: 1 158 registrations and 1 250
    purchases through the domain take over a minute per backend on the shared CI machine,
    and what is tested here is the reading side. Every other report test, and the simulator,
    go through the domain operations.
    """
    now = dom.clock.now()
    day = now - timedelta(days=500)
    customers = [
        {"id": i, "phone": f"+7900{i:07d}", "name": "guest", "referral_code": f"ca{i:06d}",
         "created_at": day + timedelta(hours=i), "tier_index": 0}
        for i in range(1, 1159)
    ]
    accounts = [
        {"telegram_id": 10_000 + i, "customer_id": i, "first_name": "g", "created_at": day, "linked_at": day}
        for i in range(1, 1065)
    ]
    # 662 buyers: 588 with two purchases and 74 with one = 1 250 purchases.
    # Points: 381 purchases paid 1 225 points and one 306: 467 031 ₽ of 15 312 500 ₽ = 3.05%.
    operations = []
    for buyer in range(1, 663):
        for k in range(2 if buyer <= 588 else 1):
            n = len(operations)
            points = 1225 if n < 381 else (306 if n == 381 else 0)
            operations.append({
                "kind": OperationKind.PURCHASE, "customer_id": buyer, "program_version": 1,
                "created_at": day + timedelta(days=30 + k * 60, minutes=buyer), "amount_kopecks": CHECK,
                "cash_kopecks": CHECK - points * 100, "points_paid": points,
            })
    async with dom.db.transaction() as s:
        await s.execute(insert(Customer), customers)
        await s.execute(insert(TelegramAccount), accounts)
        await s.execute(insert(Operation), operations)
        await rebuild_running_totals(s)  # what the domain keeps per purchase, for rows written directly
    report = await build_report(dom, None, None)
    o = report.overall
    assert (o.customers, o.digitised, o.buyers, o.purchases) == (1158, 1064, 662, 1250)
    assert o.revenue == 1250 * CHECK and o.average_check == CHECK
    text = render_text(report, i18n.translator("en"), definitions=False)
    assert "Customers on file: 1,158" in text
    assert "With the card in Telegram: 1,064 (92%)" in text
    assert "Made purchases: 662 (57%)" in text
    assert "Purchases with the card: 1,250" in text
    assert "Average check: 12,250\u00a0₽" in text
    assert "Purchases per buyer: 1.9" in text
    assert "Actual discount: 3.05%" in text


def test_segment_rules_cover_every_cell_exactly_as_documented() -> None:
    cells = {(r, f, m): classify(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert set(cells.values()) == set(SEGMENTS)
    assert cells[(5, 5, 1)] == "champions" and cells[(3, 4, 2)] == "loyal"
    assert cells[(4, 1, 5)] == "new" and cells[(3, 1, 1)] == "potential" and cells[(5, 2, 3)] == "potential"
    assert cells[(2, 5, 4)] == "cant_lose" and cells[(2, 5, 3)] == "at_risk" and cells[(1, 3, 5)] == "at_risk"
    assert cells[(2, 2, 5)] == "hibernating" and cells[(1, 1, 5)] == "lost"
    assert len(SEGMENT_RULES) == 8


async def _buy(dom: Domain, customer: int, roubles: int) -> None:
    dom.clock.advance(minutes=3)
    await commit_purchase(dom, PurchaseRequest(customer_id=customer, amount_kopecks=roubles * 100))


async def test_rfm_scores_segments_and_movement(dom: Domain) -> None:
    """Five buyers, on five consecutive days of March (P1 first):

        P1: 5 × 10 000 ₽   P2: 4 × 1 000 ₽   P3: 1 × 3 000 ₽   P4: 3 × 5 000 ₽   P5: 1 × 2 000 ₽

    R (most recent first): P5 5, P4 4, P3 3, P2 2, P1 1.
    F (ascending RANK, ties share the lower score): P3 and P5 tie at one purchase → 1; P4 3; P2 4; P1 5.
    M: P5 1, P3 2, P2 3, P4 4, P1 5.
    Segments: P1 R1 F5 M5 can't lose; P2 R2 F4 M3 at risk; P3 R3 F1 potential; P4 R4 F3 loyal; P5 R5 F1 new.
    """
    people = [await register(dom) for _ in range(5)]
    plan = [(5, 10_000), (4, 1_000), (1, 3_000), (3, 5_000), (1, 2_000)]
    for who, (count, roubles) in zip(people, plan, strict=True):
        for _ in range(count):
            await _buy(dom, who, roubles)
        dom.clock.advance(days=1)
    march_10 = datetime(2026, 3, 10, 12, tzinfo=dom.clock.now().tzinfo)
    summary = await rfm_segments(dom, march_10)
    assert summary.buyers == 5
    counts = {row.segment: (row.customers, row.revenue) for row in summary.segments}
    assert counts["cant_lose"] == (1, 5_000_000) and counts["at_risk"] == (1, 400_000)
    assert counts["potential"] == (1, 300_000) and counts["loyal"] == (1, 1_500_000)
    assert counts["new"] == (1, 200_000) and counts["champions"] == (0, 0)
    assert summary.grid == {(1, 5): 1, (2, 4): 1, (3, 1): 1, (4, 3): 1, (5, 1): 1}
    assert summary.movement == {("none", s): 1 for s in ("cant_lose", "at_risk", "potential", "loyal", "new")}
    p1, p2, p3, p4, p5 = people
    assert await customers_in_segment(dom, "cant_lose", march_10) == [p1]
    assert await customers_in_segment(dom, "new", march_10) == [p5]
    assert await customers_in_segment(dom, "at_risk", march_10) == [p2]
    assert await customers_in_segment(dom, "loyal", march_10) == [p4]
    assert await customers_in_segment(dom, "champions", march_10) == []

    # April: P3 buys again (3 000 ₽). Now R: P3 5, P5 4, P4 3, P2 2, P1 1; F: P5 1, P3 2, P4 3, P2 4,
    # P1 5; M: P5 1, P2 2, P3 3, P4 4, P1 5 — every buyer stays in their segment (P3: R5 F2 potential).
    dom.clock.set(datetime(2026, 4, 5, 9, tzinfo=dom.clock.now().tzinfo))
    await _buy(dom, p3, 3_000)
    april_10 = datetime(2026, 4, 10, 12, tzinfo=dom.clock.now().tzinfo)
    april = await rfm_segments(dom, april_10)
    assert april.grid == {(1, 5): 1, (2, 4): 1, (5, 2): 1, (3, 3): 1, (4, 1): 1}
    assert april.movement == {(s, s): 1 for s in ("cant_lose", "at_risk", "potential", "loyal", "new")}
    report = await build_report(dom, date(2026, 4, 1), date(2026, 4, 9))
    assert report.rfm is not None and report.rfm.movement == april.movement
