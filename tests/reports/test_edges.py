"""Edge cases of the report found by an audit: a cohort must leave the funnels complete, a
period longer than the monthly series still counts all of its operations, and the bot's
custom period refuses dates that have no day boundaries to compute."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

from openpyxl import load_workbook

from bot.i18n import I18n
from bot.report_render import render_xlsx
from handlers.owner_reports import parse_range
from models.kernel.context import Domain
from models.purchase.purchases import record_sale_without_card
from models.reports.report import MAX_MONTHS, build_report
from tests.reports.test_figures import MARCH, RUB, build_data_set


async def test_a_cohort_leaves_the_funnels_complete(dom: Domain) -> None:
    await build_data_set(dom)
    full = await build_report(dom, *MARCH)
    for by in ("source:referral", "source:walk_in"):
        for reference in (False, True):
            scoped = await build_report(dom, *MARCH, by=by, reference=reference)
            assert scoped.funnels == full.funnels  # docs/REPORTS.md: "the funnels stay complete"
    partner = {f.code: f for f in full.funnels}["partner1"]
    assert (partner.buyers, partner.revenue) == (1, 10_000 * RUB)


async def test_a_period_longer_than_the_monthly_series_counts_every_operation(dom: Domain) -> None:
    ids = await build_data_set(dom)  # everything in March 2026
    last = date(2031, 6, 30)  # 64 months: the series shows the last 60, the figures cover all
    for reference in (False, True):
        r = await build_report(dom, MARCH[0], last, reference=reference)
        assert len(r.monthly) == MAX_MONTHS
        assert r.overall.revenue == 78_000 * RUB
        assert (r.no_card_sales, r.no_card_revenue) == (2, 16_000 * RUB)
        staff = {row.staff_id: row for row in r.staff}
        assert staff[ids["s1"]].purchases == 7 and staff[ids["s2"]].sales_no_card == 2
        assert sum(m.card_revenue for m in r.monthly) == 0  # March 2026 is not among the months shown
    await record_sale_without_card(dom, 1_000 * RUB, staff_id=ids["s2"])
    r = await build_report(dom, MARCH[0], last)
    assert (r.no_card_sales, r.no_card_revenue) == (3, 17_000 * RUB)


def test_custom_range_refuses_dates_without_day_boundaries() -> None:
    assert parse_range("01.03.2026 - 31.03.2026") == (date(2026, 3, 1), date(2026, 3, 31))
    for text in ("01.01.2026 - 31.12.9999", "01.01.0001 - 31.03.2026", "01.01.0001 - 02.01.0001"):
        assert parse_range(text) is None, text


async def test_xlsx_months_are_dates(dom: Domain, i18n: I18n) -> None:
    await build_data_set(dom)
    r = await build_report(dom, *MARCH)
    wb = load_workbook(BytesIO(render_xlsx(r, i18n.translator("en"))))
    [(month, revenue, purchases)] = [row[:3] for row in wb["By month"].iter_rows(min_row=2, values_only=True)]
    assert month == datetime(2026, 3, 1)  # a date cell, not the text "2026-03"
    assert (revenue, purchases) == (78_000, 9)
