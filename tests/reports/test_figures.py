"""Every figure of the report on a small data set built through the domain.

Expected values are worked out by hand in the comments, not by re-running a query.
Data set (case A program: 300 welcome points, tier 1 = 3% cashback / 10% cap; campaign
`partner1` = a 500-point certificate, 20% cap), all in March 2026:

    A  walk-in              5 purchases: 10 000, 20 000, 5 000, 5 000, 10 000 ₽ (staff 1)
    B  referred by A        1 purchase 10 000 ₽ paying its 300 welcome points (staff 2)
    C  referred by B        no purchase                      (generation 2)
    D  campaign partner1    1 purchase 10 000 ₽ paying 300 regular + 500 certificate points (staff 2)
    E  source link insta    4 000 ₽ fully refunded; 6 000 ₽ refunded 1 000 ₽ (staff 1)
    F  phone-only (staff 1) 1 purchase 3 000 ₽ (staff 1), never linked to Telegram
    G  staff 2's link       no purchase; an owner certificate of 1 000 points
    two sales without a card of 8 000 ₽ (staff 2); ratings: A's first visit 5, B's visit 3
    link visits: partner1 opened by D and two others, insta by E
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import select

from bot.i18n import I18n
from bot.report_render import render_charts, render_summary, render_text, render_xlsx, report_as_dict
from models.campaigns.certificates import owner_certificate, record_link_visit
from models.customers.accounts import Attribution, Registration, create_phone_customer, register_customer
from models.kernel.context import Domain
from models.kernel.tables import Campaign, Operation, Rating, Role, Staff
from models.purchase.purchases import (
    PurchaseRequest,
    commit_purchase,
    record_sale_without_card,
    refund_purchase,
)
from models.reports.report import build_report
from tests.helpers import referral_code_of

RUB = 100


async def _staff(dom: Domain, name: str, code: str) -> int:
    async with dom.db.transaction() as s:
        member = Staff(display_name=name, role=Role.STAFF, referral_code=code, created_at=dom.clock.now())
        s.add(member)
        await s.flush()
        return member.id


async def _source_tag(dom: Domain, code: str) -> int:
    async with dom.db.transaction() as s:
        tag = Campaign(code=code, name="Instagram", is_source=True, points=0, created_at=dom.clock.now())
        s.add(tag)
        await s.flush()
        return tag.id


async def _reg(dom: Domain, tg: int, **attribution: str) -> int:
    reg = Registration(telegram_id=tg, phone=f"+7916555{tg:04d}", name=f"c{tg}",
                       attribution=Attribution(**attribution))
    return (await register_customer(dom, reg)).customer_id


async def _buy(dom: Domain, customer: int, roubles: int, staff: int, points: int | None = 0) -> int:
    dom.clock.advance(minutes=7)
    result = await commit_purchase(dom, PurchaseRequest(
        customer_id=customer, amount_kopecks=roubles * RUB, points=points, staff_id=staff,
        phone_confirmed=points != 0))
    return result.operation_id


async def _rate(dom: Domain, operation_id: int, score: int) -> None:
    async with dom.db.transaction() as s:
        op = (await s.execute(select(Operation).where(Operation.id == operation_id))).scalar_one()
        s.add(Rating(operation_id=op.id, customer_id=op.customer_id, staff_id=op.staff_id, score=score,
                     created_at=dom.clock.now()))


async def build_data_set(dom: Domain) -> dict[str, int]:
    s1 = await _staff(dom, "Анна", "staffanna")
    s2 = await _staff(dom, "Игорь", "staffigor")
    await _source_tag(dom, "insta")
    a = await _reg(dom, 1)
    b = await _reg(dom, 2, referral_code=await referral_code_of(dom, a))
    c = await _reg(dom, 3, referral_code=await referral_code_of(dom, b))
    for tg in (4, 90, 91):
        await record_link_visit(dom, "partner1", tg)
    d = await _reg(dom, 4, campaign_code="partner1")
    await record_link_visit(dom, "insta", 5)
    e = await _reg(dom, 5, campaign_code="insta")
    f = await create_phone_customer(dom, "+79165559006", staff_id=s1, name="F")
    g = await _reg(dom, 7, staff_code="staffigor")
    first_a = await _buy(dom, a, 10_000, s1)
    b_op = await _buy(dom, b, 10_000, s2, points=None)  # pays its 300 welcome points
    await _buy(dom, d, 10_000, s2, points=None)  # 300 regular + 500 certificate
    refunded = await _buy(dom, e, 4_000, s1)
    await refund_purchase(dom, refunded)
    partly = await _buy(dom, e, 6_000, s1)
    await refund_purchase(dom, partly, 1_000 * RUB)
    await _buy(dom, f, 3_000, s1)
    await record_sale_without_card(dom, 8_000 * RUB, staff_id=s2)
    await record_sale_without_card(dom, 8_000 * RUB, staff_id=s2)
    await _rate(dom, first_a, 5)
    await _rate(dom, b_op, 3)
    await owner_certificate(dom, g, 1000, Decimal(20), 15)
    for roubles in (20_000, 5_000, 5_000, 10_000):  # A's later visits, within March
        dom.clock.advance(days=2)
        await _buy(dom, a, roubles, s1)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "s1": s1, "s2": s2}


MARCH = (date(2026, 3, 1), date(2026, 3, 31))


async def test_every_figure_on_a_hand_built_data_set(dom: Domain) -> None:
    ids = await build_data_set(dom)
    r = await build_report(dom, *MARCH)
    o = r.overall
    assert o.customers == 7 and o.new_customers == 7
    assert o.digitised == 6  # F has no Telegram
    assert o.digitised_share == Fraction(6, 7)
    assert o.buyers == 5  # A, B, D, E (its 6 000 ₽ purchase), F
    assert o.buyers_share == Fraction(5, 7)
    assert o.purchases == 9  # A 5, B, D, E's partly refunded one, F; the fully refunded one does not count
    # 50 000 + 10 000 + 10 000 + (6 000 − 1 000) + 3 000
    assert o.revenue == 78_000 * RUB
    assert o.average_check == Fraction(78_000 * RUB, 9)
    assert o.purchases_per_buyer == Fraction(9, 5)
    assert o.points_paid == 1_100 * RUB  # B 300 + D 800
    assert o.actual_discount == Fraction(1_100, 78_000)
    assert o.certificate_revenue == 10_000 * RUB  # D's purchase used the campaign certificate
    assert (r.referred_customers, r.referred_buyers) == (2, 1)  # B and C; B bought
    assert r.referral_depth == 2 and r.referral_generations == [(1, 1), (2, 1)]
    assert r.referred_revenue == 10_000 * RUB
    assert r.brought_revenue == 15_000 * RUB  # D (campaign) 10 000 + E (source link) 5 000
    assert r.certificates["campaign"] == (1, 500) and r.certificates["owner"] == (1, 1000)
    assert r.certificates_issued == 2
    assert (r.ratings, r.average_rating) == (2, Fraction(4))
    assert r.saving == Fraction(6_700 * RUB)  # 10% × 78 000 − 1 100
    assert r.total_benefit == Fraction(31_700 * RUB)  # 6 700 + 10 000 + 15 000
    assert (r.no_card_sales, r.no_card_revenue) == (2, 16_000 * RUB)
    assert r.card_uplift == Fraction(78_000, 9) / 8_000 - 1  # +8.3%
    assert o.return_rate == Fraction(1, 5)  # only A bought twice or more
    assert o.frequent_share == Fraction(1, 7)  # A: 5 purchases
    # Concentration: buyers by revenue A 50 000, B 10 000, D 10 000, E 5 000, F 3 000.
    assert (r.top20_buyers, r.top20_revenue) == (1, 50_000 * RUB)  # ceil(5 / 5) = 1 buyer
    assert r.top20_share == Fraction(50_000, 78_000)
    assert r.buyers_for_60 == 1 and r.buyers_for_60_share == Fraction(1, 5)  # A alone passes 46 800

    staff = {row.staff_id: row for row in r.staff}
    s1, s2 = staff[ids["s1"]], staff[ids["s2"]]
    assert (s1.purchases, s1.sales_no_card, s1.revenue, s1.points_paid) == (7, 0, 58_000 * RUB, 0)
    assert (s1.enrolled, s1.ratings, s1.average_rating) == (1, 1, Fraction(5))  # F; A's rating
    assert (s2.purchases, s2.sales_no_card, s2.revenue, s2.points_paid) == (2, 2, 36_000 * RUB, 1_100 * RUB)
    # The average check is the one definition, card revenue / card purchases (20 000 / 2), not
    # the staff revenue with no-card sales over all operations (36 000 / 4).
    assert s2.operations == 4 and s2.card_revenue == 20_000 * RUB and s2.average_check == Fraction(10_000 * RUB)
    assert (s2.enrolled, s2.ratings, s2.average_rating) == (1, 1, Fraction(3))  # G; B's rating

    funnels = {c.code: c for c in r.funnels}
    p = funnels["partner1"]
    assert (p.opened, p.registered, p.certificates, p.buyers, p.revenue, p.cost_points) == (
        3, 1, 1, 1, 10_000 * RUB, 500)
    i = funnels["insta"]
    assert (i.opened, i.registered, i.certificates, i.buyers, i.revenue, i.cost_points) == (
        1, 1, 0, 1, 5_000 * RUB, 0)

    by_source = {g.key: g.figures for g in r.by_source}
    assert (by_source["walk_in"].customers, by_source["walk_in"].revenue) == (1, 50_000 * RUB)
    assert (by_source["referral"].customers, by_source["referral"].buyers) == (2, 1)
    assert by_source["campaign"].revenue == 10_000 * RUB and by_source["source"].revenue == 5_000 * RUB
    assert (by_source["staff"].customers, by_source["staff"].digitised, by_source["staff"].buyers) == (2, 1, 1)

    [march] = r.monthly
    assert (march.card_revenue, march.card_purchases) == (78_000 * RUB, 9)
    assert (march.no_card_revenue, march.no_card_sales) == (16_000 * RUB, 2)
    assert march.new_customers == {"walk_in": 1, "referral": 2, "campaign": 1, "source": 1, "staff": 2}


async def test_a_period_without_the_data_is_empty_and_a_cohort_narrows_it(dom: Domain) -> None:
    ids = await build_data_set(dom)
    february = await build_report(dom, date(2026, 2, 1), date(2026, 2, 28))
    assert february.overall.customers == 0 and february.overall.revenue == 0
    assert february.overall.average_check is None and february.saving == 0
    referral = await build_report(dom, *MARCH, by="source:referral")
    assert (referral.overall.customers, referral.overall.buyers) == (2, 1)  # B and C
    assert referral.overall.revenue == 10_000 * RUB
    assert referral.brought_revenue == 0 and referral.referred_revenue == 10_000 * RUB
    by_staff = await build_report(dom, *MARCH, by=f"staff:{ids['s1']}")
    assert by_staff.overall.customers == 1  # F, enrolled by staff 1 at the till
    assert by_staff.no_card_sales == 0  # staff 1 recorded none
    # The day after: April has no purchases; the customers are still in CRM.
    april = await build_report(dom, date(2026, 4, 1), date(2026, 4, 30))
    assert april.overall.customers == 7 and april.overall.new_customers == 0 and april.overall.buyers == 0


async def test_render_text_json_charts_and_xlsx(dom: Domain, i18n: I18n) -> None:
    await build_data_set(dom)
    r = await build_report(dom, *MARCH)
    en = render_text(r, i18n.translator("en"))
    assert "Customers on file: 7" in en
    assert "With the card in Telegram: 6 (86%)" in en
    assert "Purchases per buyer: 1.8" in en
    assert "Actual discount: 1.41%" in en
    assert "Average check: 8,667\u00a0₽" in en  # 78 000 / 9, to whole roubles
    assert "Saved compared with a direct discount: 6,700\u00a0₽" in en
    assert "Total benefit of the program: 31,700\u00a0₽" in en
    assert "Longest referral chain: 2 generations" in en
    assert "+8%" in en  # card vs no card
    assert "Share of revenue from the fifth of buyers" in en  # the definition is shown
    ru = render_text(r, i18n.translator("ru"))
    assert "Покупок на покупателя: 1,8" in ru and "Фактическая скидка: 1,41%" in ru
    data = report_as_dict(r)
    assert data["figures"]["revenue"] == 7_800_000 and data["saving"] == "670000.000000"
    charts = render_charts(r, i18n.translator("ru"))
    names = [name for name, _ in charts]
    assert names == ["revenue_by_month.png", "new_customers_by_source.png", "rfm_grid.png",
                     "referral_depth.png", "campaign_funnels.png"]
    assert all(png.startswith(b"\x89PNG") for _, png in charts)
    from io import BytesIO

    from openpyxl import load_workbook

    wb = load_workbook(BytesIO(render_xlsx(r, i18n.translator("en"))))
    assert {"Summary", "Sources", "Staff", "Campaigns", "By month", "RFM", "RFM movement"} <= set(wb.sheetnames)
    summary = {row[0]: row[1] for row in wb["Summary"].iter_rows(values_only=True)}
    assert summary["Purchases with the card"] == 9  # a number, not the text "9"


async def test_monthly_report_is_last_month(dom: Domain) -> None:
    from models.reports.report import monthly_report

    await build_data_set(dom)
    dom.clock.advance(days=31)  # into April
    report = await monthly_report(dom)
    assert (report.period.first_day, report.period.last_day) == MARCH
    assert report.overall.purchases == 9
    assert report.period.end - report.period.start == timedelta(days=31)


async def test_monthly_payload_for_the_scheduler(dom: Domain, i18n: I18n) -> None:
    from models.reports.report import monthly_report_payload

    await build_data_set(dom)
    async with dom.db.transaction() as session:
        payload = await monthly_report_payload(session, date(2026, 3, 1), dom.tz)
    assert payload["key"] == "report-monthly"
    assert payload["markup"] == {"kind": "report-summary", "first": "2026-03-01", "last": "2026-03-31"}
    args = payload["args"]
    assert (args["buyers"], args["purchases"], args["revenue"]) == (5, 9, 7_800_000)
    assert args["benefit"] == 3_170_000 and args["average"] == 866_700  # 78 000 / 9, to whole roubles
    text = i18n.get("en", "report-monthly", **args)
    # The same summary as /report, with its figure names (bot/report_render.py, SUMMARY_KEYS).
    summary = render_summary(await build_report(dom, *MARCH), i18n.translator("en")).split("\n")[2:]
    assert summary and all(line in text for line in summary), (summary, text)
    assert "Card revenue: 78,000\u00a0₽" in text and "Average check: 8,667\u00a0₽" in text


def test_split_message_keeps_lines_whole() -> None:
    from bot.report_render import split_message

    text = "\n".join(f"line {i} " + "x" * 50 for i in range(200))
    parts = split_message(text, 1000)
    assert all(len(p) <= 1000 for p in parts) and "\n".join(parts) == text
    assert split_message("y" * 2500, 1000) == ["y" * 1000, "y" * 1000, "y" * 500]


async def test_a_month_without_purchases_has_no_benefit_rather_than_a_loss(dom: Domain) -> None:
    """Issue 16: an empty month says there was nothing to measure; a negative benefit is said
    for what it is (points paid beyond a direct discount), never printed as a loss of money."""
    from dataclasses import replace

    await build_data_set(dom)
    february = await build_report(dom, date(2026, 2, 1), date(2026, 2, 28))
    assert february.benefit_state == "none"
    for locale, none in (("ru", "нет покупок за период"), ("en", "no purchases in the period")):
        text = render_text(february, I18n().translator(locale))
        assert none in text and "-0" not in text and "−0" not in text
    # Points paid half of a 1 000 ₽ check against a 10% direct discount: 100 − 500 = −400 ₽.
    spent = replace(february, overall=replace(february.overall, purchases=1, revenue=100_000, points_paid=50_000))
    assert spent.saving == -40_000 and spent.benefit_state == "negative"
    text = render_text(spent, I18n().translator("ru"))
    assert "нет: баллами оплатили на 400\u00a0₽ больше, чем стоила бы прямая скидка" in text, text
    assert "-400" not in text and "−400" not in text


async def test_points_paid_show_as_whole_roubles(dom: Domain) -> None:
    """Issue 16: "Оплачено баллами 263 ₽", not 263,27 ₽ (net of refunds it can carry kopecks)."""
    from dataclasses import replace

    report = await build_report(dom, date(2026, 2, 1), date(2026, 2, 28))
    paid = replace(report, overall=replace(report.overall, purchases=3, revenue=1_000_000, points_paid=26_327))
    text = render_text(paid, I18n().translator("ru"))
    assert "Оплачено баллами: 263\u00a0₽" in text, text
