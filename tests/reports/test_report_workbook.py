"""The report's XLSX, opened with openpyxl: numbers are number cells with a number format
(roubles grouped, shares as percents), the period and the months are date cells, and the
headers speak the owner's language. The data set is tests/reports/test_figures.py's, whose
figures are worked out by hand there."""

from __future__ import annotations

import re
from datetime import datetime
from io import BytesIO
from typing import Any

from openpyxl import load_workbook

from bot.i18n import I18n
from bot.report_render import render_xlsx
from models.kernel.context import Domain
from models.reports.report import build_report
from tests.reports.test_figures import MARCH, build_data_set

LOOKS_NUMERIC = re.compile(r"[-+−]?[0-9][0-9\s\u00a0.,]*\s*(%|₽)?")


def _summary(wb: Any, name: str) -> dict[str, Any]:
    return {row[0].value: row[1] for row in wb[name].iter_rows(min_row=3)}


def _no_number_is_text(wb: Any) -> None:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    assert not LOOKS_NUMERIC.fullmatch(cell.value.strip()), (ws.title, cell.coordinate, cell.value)
                elif isinstance(cell.value, int | float) and cell.row > 1 and ws.title not in ("RFM",):
                    assert cell.number_format != "General", (ws.title, cell.coordinate, cell.value)


async def test_the_report_workbook_has_numbers_dates_and_russian_headers(dom: Domain, i18n: I18n) -> None:
    await build_data_set(dom)
    report = await build_report(dom, *MARCH)
    wb = load_workbook(BytesIO(render_xlsx(report, i18n.translator("ru"))))
    assert wb.sheetnames[:5] == ["Сводка", "Источники", "Сотрудники", "Кампании", "По месяцам"]
    summary = _summary(wb, "Сводка")
    period_from, period_to = summary["Период: с"], summary["Период: по"]
    assert (period_from.value, period_to.value) == (datetime(2026, 3, 1), datetime(2026, 3, 31))
    assert period_from.is_date and period_from.number_format == "DD.MM.YYYY"
    purchases = summary["Покупок по карте"]
    assert (purchases.value, purchases.data_type, purchases.number_format) == (9, "n", "#,##0")
    revenue = summary["Выручка по карте"]
    assert (revenue.value, revenue.number_format) == (78_000, '#,##0 "₽"')
    average = summary["Средний чек"]  # 78 000 / 9: the exact value; the format shows 8 667
    assert abs(average.value - 78_000 / 9) < 1e-9 and average.number_format == '#,##0 "₽"'
    discount = summary["Фактическая скидка"]
    assert abs(discount.value - 1_100 / 78_000) < 1e-12 and discount.number_format == "0.00%"
    digitised_share = next(cell for name, cell in summary.items() if name and "доля" in name)
    assert abs(digitised_share.value - 6 / 7) < 1e-12 and digitised_share.number_format == "0.0%"
    assert summary["Из пришедших по рекомендации купили"].value == 1
    assert summary["Сертификатов: кампании"].value == 1 and summary["Сертификатов: от владельца"].value == 1
    assert summary["Общая выгода от программы"].value == 31_700
    uplift = summary["Средний чек: с картой и без"]
    assert abs(uplift.value - (78_000 / 9 / 8_000 - 1)) < 1e-12 and uplift.number_format == "+0%;-0%;0%"
    assert summary["Средний чек без карты"].value == 8_000
    # Definitions are in the workbook, next to their figure.
    definitions = {row[0].value: row[2].value for row in wb["Сводка"].iter_rows(min_row=3)}
    assert definitions["Средний чек"] == i18n.get("ru", "report-average-check.def")

    sources = wb["Источники"]
    header = [c.value for c in sources[1]]
    assert header[3] == "С картой в Telegram" and "Оцифровано" not in header
    rows = {row[0].value: row for row in sources.iter_rows(min_row=2)}
    walk_in = rows["С улицы"]
    assert (walk_in[1].value, walk_in[6].value, walk_in[6].number_format) == (1, 50_000, "#,##0")
    months = wb["По месяцам"]
    assert [c.value for c in months[1]][:3] == ["Месяц", "Выручка по карте, ₽", "Покупок по карте"]
    month = months["A2"]
    assert month.value == datetime(2026, 3, 1) and month.is_date and month.number_format == "MM.YYYY"
    staff = {row[0].value: row for row in wb["Сотрудники"].iter_rows(min_row=2)}
    assert (staff["Игорь"][5].value, staff["Игорь"][5].number_format) == (10_000, "#,##0")
    assert (staff["Анна"][9].value, staff["Анна"][9].number_format) == (5, "0.0")
    _no_number_is_text(wb)


async def test_the_report_workbook_in_english(dom: Domain, i18n: I18n) -> None:
    await build_data_set(dom)
    report = await build_report(dom, *MARCH)
    wb = load_workbook(BytesIO(render_xlsx(report, i18n.translator("en"))))
    assert wb.sheetnames[:5] == ["Summary", "Sources", "Staff", "Campaigns", "By month"]
    summary = _summary(wb, "Summary")
    assert summary["Period: from"].number_format == "D MMM YYYY"
    assert summary["Card revenue"].value == 78_000
    assert summary["Purchases with the card"].value == 9
    assert wb["By month"]["A2"].number_format == "MMM YYYY"
    assert [c.value for c in wb["Sources"][1]][3] == "With the card in Telegram"
    for ws in wb.worksheets:  # nothing Russian but the data (names people typed)
        for row in ws.iter_rows(max_row=1):
            for cell in row:
                assert not re.search("[а-яё]", str(cell.value or ""), re.IGNORECASE), (ws.title, cell.value)
    _no_number_is_text(wb)


async def test_a_month_without_purchases_says_so_in_the_workbook(dom: Domain, i18n: I18n) -> None:
    await build_data_set(dom)
    from datetime import date

    april = await build_report(dom, date(2026, 4, 1), date(2026, 4, 30))
    wb = load_workbook(BytesIO(render_xlsx(april, i18n.translator("ru"))))
    summary = _summary(wb, "Сводка")
    assert summary["Общая выгода от программы"].value == i18n.get("ru", "report-benefit-none")
    assert summary["Средний чек"].value is None  # no purchases: no average, not 0 ₽
    assert summary["Клиентов в базе"].value == 7
