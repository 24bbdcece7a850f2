"""The sandbox in a real browser: Chromium from the system packages driven by Playwright.

Case A, all by clicking and typing in the page: a customer registers, the cashier opens the
card's QR link and completes a checkout, the clock moves 31 days and the win-back
certificate arrives in the customer's chat. A screenshot of each step is saved to
artifacts/sandbox/ (gitignored; CI keeps it as a test artefact).

Needs /usr/bin/chromium (`apt-get install -y chromium`) and the `playwright` Python
package (its bundled driver; no browser download: `executable_path` is the system one).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import I18n
from sandbox.server import SandboxServer

CHROMIUM = Path(os.environ.get("SANDBOX_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "sandbox"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 15_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"the browser test needs the system Chromium at {CHROMIUM} "
                                       "(apt-get install -y chromium)")
playwright_api = pytest.importorskip("playwright.async_api",
                                     reason="the browser test needs the playwright package (pip install playwright)")
expect = playwright_api.expect


def ru(key: str, **args: Any) -> str:
    """A button label exactly as the handlers render it (bot/locales/ru/*.ftl)."""
    return I18n().get("ru", key, **args)


@pytest.fixture
async def page(sandbox_server: SandboxServer) -> AsyncIterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(WAIT_MS)
            await page.goto(sandbox_server.url)
            await expect(page.locator("body.live")).to_have_count(1)  # the WebSocket is connected
            yield page
        finally:
            await browser.close()


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def type_into(chat: Any, text: str) -> None:
    box = chat.locator("form.composer input[name=text]")
    await box.fill(text)
    await box.press("Enter")
    await expect(box).to_have_value("")  # the server accepted it


async def click_button(chat: Any, label: str) -> None:
    """The newest button (inline or reply keyboard) with this exact label in the chat."""
    button = chat.locator("button.btn", has_text=label).last
    await expect(button).to_be_visible()
    await button.click()


async def test_register_scan_checkout_and_winback_in_the_browser(page: Any) -> None:
    customer = page.locator("section.chat[data-role=customer]").first
    cashier = page.locator("section.chat[data-role=cashier]")
    await shot(page, "01-start")

    # Registration by clicking: /start, consent, share the phone, keep the name, skip the birthday.
    await type_into(customer, "/start")
    await click_button(customer, ru("reg-button-agree"))
    await click_button(customer, ru("reg-button-share-phone"))
    await click_button(customer, ru("reg-button-keep-name"))
    await click_button(customer, ru("reg-button-skip-birthday"))
    await expect(customer.locator("img.photo")).to_have_count(1)  # the card
    qr_link = customer.locator(".qr a.deeplink").last  # the card's QR, decoded: t.me/<bot>?start=c_<code>
    await expect(qr_link).to_contain_text("start=c_")
    await shot(page, "02-registered")

    # The cashier "scans" the card: opens its deep link as the cashier.
    await qr_link.click()
    await page.locator("#menu button[data-as=cashier]").click()
    await expect(cashier.locator(".messages")).to_contain_text("Анна")
    await shot(page, "03-cashier-found-the-card")

    # Checkout: the amount, pay the most points allowed, confirm.
    await type_into(cashier, "1000")
    await expect(cashier.locator(".messages")).to_contain_text("Чек")
    await click_button(cashier, ru("staff-btn-pay-max", points=100))
    await expect(cashier.locator(".messages")).to_contain_text("К оплате")
    await click_button(cashier, ru("staff-btn-confirm"))
    await expect(cashier.locator(".messages")).to_contain_text("Покупка №")
    await expect(customer.locator(".messages")).to_contain_text("Покупка на")  # the push to the customer
    await shot(page, "04-checkout-done")

    # A low rating reaches the staff group (STAFF_CHAT_ID), shown as a tab beside the cashier.
    await click_button(customer, "1⭐")
    group_tab = page.locator(".tab", has_text="Группа")
    await expect(group_tab).to_have_class(re.compile("unread"))
    await group_tab.click()
    group = page.locator("section.chat[data-role=group]")
    await expect(group.locator(".messages")).to_contain_text("Низкая оценка: 1 из 5")
    await shot(page, "04b-low-rating-alert-in-the-staff-group")

    # 31 days later the win-back job has given the customer a certificate.
    await page.locator("#clock button[data-days='31']").click()
    await expect(page.locator("#status")).to_contain_text("winback", timeout=60_000)
    await expect(customer.locator(".messages")).to_contain_text("давно не виделись", timeout=30_000)
    await shot(page, "05-winback-certificate")


async def test_more_customers_the_command_menu_and_a_photo_of_the_card(page: Any) -> None:
    await page.locator("#add-customer").click()
    boris_tab = page.locator(".tab", has_text="Борис")
    await expect(boris_tab).to_have_class("tab active")
    boris = page.locator("section.chat[data-role=customer]:not([hidden])")
    await expect(boris.locator("header")).to_contain_text("Борис")

    # The bot's command menu (setMyCommands), as Telegram's "/" button shows it.
    await boris.locator("button.commands").click()
    await page.locator("#menu button", has_text="/start").click()
    await click_button(boris, ru("reg-button-agree"))
    await click_button(boris, ru("reg-button-share-phone"))
    await click_button(boris, ru("reg-button-keep-name"))
    await click_button(boris, ru("reg-button-skip-birthday"))
    await expect(boris.locator("img.photo")).to_have_count(1)

    # The cashier photographs the card instead of following its link: the bot reads the QR.
    await boris.locator("a.forward").last.click()
    await page.locator("#menu button[data-as=cashier]").click()
    cashier = page.locator("section.chat[data-role=cashier]")
    await expect(cashier.locator("img.photo")).to_have_count(1)
    await expect(cashier.locator(".messages")).to_contain_text("Борис")
    await page.locator(".tab", has_text="Анна").click()
    await expect(page.locator("section.chat[data-role=customer]:not([hidden]) header")).to_contain_text("Анна")
    await shot(page, "06-second-customer-photo-scan")
