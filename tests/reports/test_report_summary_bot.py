"""Issue 16, "Reports people would read": `/report` sends a short summary with "Подробнее"
(every figure and the tables) and "Что это значит?" (the definitions); the definitions are
nowhere else in the bot's texts; the buttons carry their period, so they work without any
memory of the summary (a restart), refuse forged data with a sentence, and are the owner's
only. The monthly message from the scheduler is the same summary with the same buttons."""

from __future__ import annotations

from datetime import date

import pytest

from bot.i18n import Translator
from bot.report_render import FIGURE_KEYS, SUMMARY_KEYS
from models.automation.jobs import send_monthly_report
from models.purchase.purchases import PurchaseRequest, commit_purchase, record_sale_without_card
from models.reports.report import monthly_report_payload
from models.reports.rfm import SEGMENTS
from tests.bot.conftest import BotEnv, botenv  # noqa: F401
from tests.helpers import register

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

NB = "\u00a0"
# The figures of `sales()` in this month (02.03.2026 in the test clock), as each locale shows them.
SUMMARY = {
    "ru": ["Выручка по карте: 24 500 ₽", "Покупок по карте: 2", "Средний чек: 12 250 ₽", "Новых клиентов: 1",
           "Вернулись за повторной покупкой: 100%", "Оплачено баллами: 0 ₽", "Общая выгода от программы: "],
    "en": ["Card revenue: 24,500 ₽", "Purchases with the card: 2", "Average check: 12,250 ₽", "New customers: 1",
           "Came back for a repeat purchase: 100%", "Paid with points: 0 ₽", "Total benefit of the program: "],
}
DETAILS = {
    "ru": ["Клиентов в базе: 1", "С картой в Telegram: 1 (100%)", "Совершили покупки: 1 (100%)",
           "Покупок на покупателя: 2,0", "Фактическая скидка: 0,00%", "Продаж без карты: 1 (10 000 ₽)",
           "Мария: покупок по карте 2, без карты 1, выручка 34 500 ₽, ср. чек по карте 12 250 ₽"],
    "en": ["Customers on file: 1", "With the card in Telegram: 1 (100%)", "Made purchases: 1 (100%)",
           "Purchases per buyer: 2.0", "Actual discount: 0.00%", "Sales without a card: 1 (10,000 ₽)",
           "Мария: 2 card purchases, 1 without a card, revenue 34,500 ₽, avg card check 12,250 ₽"],
}
DEFINITIONS = {
    "ru": ["Средний чек\nВыручка по карте, делённая на число покупок по карте.",
           "С картой в Telegram\nКлиенты, у которых на конец периода есть карта в Telegram"],
    "en": ["Average check\nCard revenue divided by the number of card purchases.",
           "With the card in Telegram\nCustomers who have the card in Telegram at the end of the period"],
}


def march_details(t: Translator) -> str:
    return t("report-details-title", **{"from": t.day(date(2026, 3, 1)), "to": t.day(date(2026, 3, 31))})


def nb(text: str) -> str:
    """Money and thousands are grouped with no-break spaces, and ₽ follows one."""
    return text.replace(" ₽", f"{NB}₽").replace("24 500", f"24{NB}500").replace("12 250", f"12{NB}250") \
        .replace("10 000", f"10{NB}000").replace("34 500", f"34{NB}500")


async def sales(env: BotEnv) -> None:
    cashier = env.customer("Мария")
    staff_id = await env.add_staff(cashier, "Мария")
    c = await register(env.dom)
    for _ in range(2):
        await commit_purchase(env.dom, PurchaseRequest(customer_id=c, amount_kopecks=1_225_000, staff_id=staff_id))
    await record_sale_without_card(env.dom, 1_000_000, staff_id=staff_id)


async def in_language(env: BotEnv, language: str) -> None:
    if language == "en":
        await env.choose_language(env.owner, "en")


def definitions_of(env: BotEnv, language: str) -> list[str]:
    t = env.t(language)
    return [t(f"{key}.def", percent="10") for key in FIGURE_KEYS] + [t(f"rfm-{s}.def") for s in SEGMENTS]


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_summary_then_details_and_definitions(botenv: BotEnv, language: str) -> None:  # noqa: F811
    await sales(botenv)
    await in_language(botenv, language)
    t = botenv.t(language)
    owner = botenv.owner
    await owner.send("/report")
    await botenv.press(owner, t("report-period-month"))
    this_month = {"from": t.day(date(2026, 3, 1)), "to": t.day(date(2026, 3, 2))}
    summary = await owner.expect_text(t("report-title", **this_month), timeout=20)
    lines = summary.text.split("\n")
    for figure in SUMMARY[language]:
        assert any(line.startswith(nb(figure)) for line in lines), (figure, summary.text)
    assert len([line for line in lines if line.strip()]) == 1 + len(SUMMARY_KEYS)  # the title and the figures
    assert summary.button_texts == [t("report-button-more"), t("report-button-definitions")]
    for figure in DETAILS[language]:
        assert nb(figure) not in summary.text  # the rest is behind "Подробнее"
    definitions = definitions_of(botenv, language)
    assert not any(d[:30] in summary.text for d in definitions), summary.text
    # The charts and the workbook follow the summary, as before.
    await botenv.tg.wait_for(lambda: any(m.document_name for m in owner.bot_messages()), timeout=20)
    assert [m for m in owner.bot_messages() if m.photo is not None]

    await botenv.press(owner, t("report-button-more"))
    details = await owner.expect_text(t("report-details-title", **this_month), timeout=20)
    for figure in SUMMARY[language] + DETAILS[language]:
        assert nb(figure) in details.text, (figure, details.text)
    for key in FIGURE_KEYS:  # every figure of the report, none left out
        assert f"{t(key)}: " in details.text, key
    assert t("report-section-staff") in details.text and t("report-section-sources") in details.text
    assert not any(d[:30] in details.text for d in definitions), details.text

    await botenv.press(owner, t("report-button-definitions"))
    meaning = await owner.expect_text(t("report-definitions-title"))
    for text in DEFINITIONS[language]:
        assert text in meaning.text, meaning.text
    for key in FIGURE_KEYS:
        assert t(key) in meaning.text, key
    for definition in definitions:
        assert definition in meaning.text, definition


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_buttons_need_no_memory_and_refuse_forged_periods(botenv: BotEnv, language: str) -> None:  # noqa: F811
    """The button carries the period: pressed with no summary sent in this process (as after a
    restart) it recomputes that period; damaged dates get a sentence, never a traceback."""
    await sales(botenv)
    await in_language(botenv, language)
    t = botenv.t(language)
    owner = botenv.owner
    await owner.press_callback("rpm:20260301:20260331")
    details = await owner.expect_text(march_details(t), timeout=20)
    assert nb(DETAILS[language][-1]) in details.text
    await owner.press_callback("rpd")
    await owner.expect_text(t("report-definitions-title"))
    for forged in ("rpm:20260231:20260301", "rpm:20260331:20260301", "rpm:00010101:00011231",
                   "rpm:2026-03-01:2026-03-31", "rpm:x:y"):
        answer = await owner.press_callback(forged)
        assert answer.text == t("report-stale") and answer.answer is not None and answer.answer.show_alert, forged
    for damaged in ("rpm:20260301", "rpm:1:2:3", "rpd:extra"):  # not even the button's shape
        answer = await owner.press_callback(damaged)
        assert answer.text == t("fallback-stale-button"), damaged
    await botenv.settle()
    assert not [m for m in owner.bot_messages() if m.text and t("error-generic") in m.text]
    assert len([m for m in owner.bot_messages() if m.text and m.text.startswith("📋")]) == 1


async def test_a_customer_or_a_cashier_gets_nothing_of_the_report(botenv: BotEnv) -> None:  # noqa: F811
    await sales(botenv)
    customer = botenv.customer("Анна")
    await botenv.register(customer)
    cashier = botenv.customer("Кассир")
    await botenv.add_staff(cashier)
    t = botenv.t("ru")
    for user in (customer, cashier):
        for data in ("rpm:20260301:20260331", "rpd"):
            answer = await user.press_callback(data)
            assert answer.text == t("fallback-stale-button"), data
        await botenv.settle()
        texts = "\n".join(m.text or "" for m in user.bot_messages())
        assert "📋" not in texts and t("report-definitions-title") not in texts
        assert t("report-revenue") not in texts and t("report-average-check.def") not in texts


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_monthly_message_is_the_same_summary_with_the_buttons(botenv: BotEnv, language: str) -> None:  # noqa: F811
    await sales(botenv)
    await in_language(botenv, language)
    t = botenv.t(language)
    owner = botenv.owner
    await send_monthly_report(botenv.dom, date(2026, 4, 1), [owner.id], monthly_report_payload)
    monthly = await owner.expect_text({"ru": "📊 Итоги за 03.2026", "en": "📊 Results for 03.2026"}[language],
                                      timeout=20)
    for figure in SUMMARY[language]:
        assert nb(figure) in monthly.text, (figure, monthly.text)
    assert not any(d[:30] in monthly.text for d in definitions_of(botenv, language))
    assert monthly.button_texts == [t("report-button-more"), t("report-button-definitions")]
    await botenv.press(owner, t("report-button-more"))
    details = await owner.expect_text(march_details(t), timeout=20)
    for figure in DETAILS[language]:
        assert nb(figure) in details.text, (figure, details.text)
    await botenv.press(owner, t("report-button-definitions"))
    await owner.expect_text(t("report-definitions-title"))
