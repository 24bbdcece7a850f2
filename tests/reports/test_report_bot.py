"""The owner's /report in the bot: period buttons, the summary, the charts and the XLSX;
custom dates with bad input; nobody else can have it. (The summary's buttons, "Подробнее" and
"Что это значит?": tests/reports/test_report_summary_bot.py.)"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from models.purchase.purchases import (
    PurchaseRequest,
    commit_purchase,
    record_sale_without_card,
    refund_purchase,
)
from tests.bot.conftest import BotEnv, botenv  # noqa: F401
from tests.helpers import register

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def test_owner_gets_text_charts_and_xlsx(botenv: BotEnv) -> None:  # noqa: F811
    c = await register(botenv.dom)
    await commit_purchase(botenv.dom, PurchaseRequest(customer_id=c, amount_kopecks=1_225_000))
    await commit_purchase(botenv.dom, PurchaseRequest(customer_id=c, amount_kopecks=1_225_000))
    await record_sale_without_card(botenv.dom, 1_000_000, staff_id=None)
    owner = botenv.owner
    await owner.send("/report")
    await owner.expect_text(botenv.text(owner, "report-choose-period"))
    await botenv.press(owner, botenv.text(owner, "report-period-month"))
    summary = await owner.expect_text("24\u00a0500", timeout=20)  # two card purchases of 12,250 ₽
    assert "Средний чек: 12\u00a0250\u00a0₽" in summary.text
    assert summary.button_texts == ["Подробнее", "Что это значит?"]
    await botenv.tg.wait_for(lambda: any(m.document_name for m in owner.bot_messages()), timeout=20)
    photos = [m for m in owner.bot_messages() if m.photo is not None]
    assert len(photos) >= 3
    [xlsx] = [m for m in owner.bot_messages() if m.document_name]
    assert xlsx.document_name is not None and xlsx.document_name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(xlsx.document))
    assert len(book.sheetnames) >= 3


async def test_custom_dates_and_bad_input(botenv: BotEnv) -> None:  # noqa: F811
    owner = botenv.owner
    await owner.send("/report")
    await botenv.press(owner, botenv.text(owner, "report-period-custom"))
    await owner.expect_text(botenv.text(owner, "report-custom-prompt")[:20])
    for bad in ("вчера", "31.02.2026 - 01.03.2026", "10.03.2026 - 01.03.2026"):
        await owner.send(bad)
        await owner.expect_text(botenv.text(owner, "report-custom-bad")[:20])
    await owner.send("01.02.2026 - 28.02.2026")
    await owner.expect_text("01.02.2026", timeout=20)


async def test_customers_and_staff_cannot_get_reports(botenv: BotEnv) -> None:  # noqa: F811
    customer = botenv.customer("Анна")
    await botenv.register(customer)
    await customer.send("/report")
    reply = await customer.expect()
    assert "Отчёт" not in (reply.text or "")
    cashier = botenv.customer("Кассир")
    await botenv.add_staff(cashier)
    for data in ("rp:month", "rpm:20260301:20260331", "rpd"):
        await cashier.press_callback(data, wait=False)
    await botenv.settle()
    assert not any("Отчёт за" in (m.text or "") or "Что значат" in (m.text or "") for m in cashier.bot_messages())


async def test_a_single_chart_is_sent_as_a_photo(botenv: BotEnv, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """Telegram refuses an album of one: a report with one chart sends it as a photo, and the
    XLSX still follows."""
    from concurrent.futures import ThreadPoolExecutor

    from bot import report_render
    from bot.report_pool import ReportRenderer

    real = report_render.render_charts
    monkeypatch.setattr(report_render, "render_charts", lambda report, t: real(report, t)[:1])
    botenv.services.renderer = ReportRenderer(lambda: ThreadPoolExecutor(1))  # in this process: patched
    c = await register(botenv.dom)
    await commit_purchase(botenv.dom, PurchaseRequest(customer_id=c, amount_kopecks=1_225_000))
    owner = botenv.owner
    await owner.send("/report")
    await botenv.press(owner, botenv.text(owner, "report-period-month"))
    await botenv.tg.wait_for(lambda: any(m.document_name for m in owner.bot_messages()), timeout=20)
    assert len([m for m in owner.bot_messages() if m.photo is not None]) == 1
    botenv.services.renderer.close()


async def test_one_average_check_in_me_the_report_its_staff_line_and_the_xlsx(botenv: BotEnv) -> None:  # noqa: F811
    """Issue 16, "Figures that agree": for the same data the cashier's /me, the owner's
    /report, its staff line and the XLSX's staff sheet show one average check (card revenue /
    card purchases, docs/REPORTS.md). Before, they said 20 000 ₽, 22 500 ₽ and 31 667 ₽."""
    cashier = botenv.customer("Мария")
    staff_id = await botenv.add_staff(cashier, "Мария")
    c = await register(botenv.dom)
    ops = [await commit_purchase(botenv.dom, PurchaseRequest(customer_id=c, amount_kopecks=rub * 100,
                                                             staff_id=staff_id))
           for rub in (10_000, 20_000, 30_000)]
    await refund_purchase(botenv.dom, ops[0].operation_id)  # fully refunded: no longer a purchase
    await refund_purchase(botenv.dom, ops[2].operation_id, 500_000)  # 30 000 ₽ → 25 000 ₽
    await record_sale_without_card(botenv.dom, 5_000_000, staff_id=staff_id)  # compared separately
    average = "22\u00a0500\u00a0₽"  # (20 000 + 25 000) / 2

    await cashier.send("/me")
    me = await cashier.expect_text("средний чек")
    assert me.text.count(f"средний чек {average}") == 2, me.text  # today and this month

    owner = botenv.owner
    await owner.send("/report")
    await botenv.press(owner, botenv.text(owner, "report-period-month"))
    summary = await owner.expect_text("Средний чек", timeout=20)
    assert f"Средний чек: {average}" in summary.text, summary.text
    await botenv.tg.wait_for(lambda: any(m.document_name for m in owner.bot_messages()), timeout=20)
    await botenv.press(owner, "Подробнее")  # the staff table is in the detailed report
    details = await owner.expect_text("Подробный отчёт", timeout=20)
    assert f"Средний чек: {average}" in details.text, details.text
    assert (f"Мария: покупок по карте 2, без карты 1, выручка 95\u00a0000\u00a0₽, ср. чек по карте {average}"
            in details.text), details.text
    [xlsx] = [m for m in owner.bot_messages() if m.document_name]
    sheet = load_workbook(io.BytesIO(xlsx.document))[botenv.text(owner, "xlsx-staff")]
    [row] = [r for r in sheet.iter_rows(values_only=True) if r[0] == "Мария"]
    assert 22_500 in row, row
