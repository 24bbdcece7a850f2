"""The owner's /report in the bot: period buttons, the summary, the charts and the XLSX;
custom dates with bad input; nobody else can have it."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from models.purchase import PurchaseRequest, commit_purchase, record_sale_without_card
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
    await cashier.press_callback("rp:month", wait=False)
    await botenv.settle()
    assert not any("Отчёт за" in (m.text or "") for m in cashier.bot_messages())


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
