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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import I18n
from sandbox.server import SandboxServer
from sandbox.world import Sandbox
from tests.sandbox.conftest import CASE_A

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


CASE_A_TEXT = CASE_A.read_text(encoding="utf-8")
CSV_BASE = "phone;name;balance\r\n89160000101;Ольга;500\r\n89160000102;Пётр;\r\n"


async def attach(chat: Any, name: str, data: bytes, mime: str) -> None:
    """📎 in the chat's composer: the file goes to the bot as a Telegram document."""
    await chat.locator("input[name=document]").set_input_files({"name": name, "mimeType": mime, "buffer": data})


async def test_import_and_a_program_change_by_file(page: Any) -> None:
    owner = page.locator("section.chat[data-role=owner]")
    await type_into(owner, "/import")
    await expect(owner.locator(".messages")).to_contain_text("phone,name")
    await attach(owner, "base.csv", CSV_BASE.encode("cp1251"), "text/csv")
    await expect(owner.locator(".msg.user a.doc")).to_contain_text("base.csv")
    await expect(owner.locator(".messages")).to_contain_text("будет создано клиентов: 2")
    await click_button(owner, ru("import-button-confirm", n=2))
    await expect(owner.locator(".messages")).to_contain_text("Загружено клиентов: 2")
    await shot(page, "07-import-by-file")

    await type_into(owner, "/program")
    await expect(owner.locator(".messages")).to_contain_text("версия 1")
    toml = CASE_A_TEXT
    await attach(owner, "program.toml", toml.replace("points = 300", "points = 500", 1).encode(), "application/toml")
    await expect(owner.locator(".messages")).to_contain_text(f"{ru('program-set-welcome-points')}: 300 → 500")
    await click_button(owner, ru("program-button-apply"))
    await expect(owner.locator(".messages")).to_contain_text(ru("program-applied", version=2).split(".")[0])
    await shot(page, "08-program-by-file")


async def test_a_staff_invite_link_is_clicked_and_followed_by_a_new_cashier(page: Any) -> None:
    owner = page.locator("section.chat[data-role=owner]")
    await type_into(owner, "/staff")
    await click_button(owner, ru("staff-btn-invite"))
    link = owner.locator("a.deeplink").last  # a bare URL in the text: shown as a link
    await expect(link).to_contain_text("start=staff_")
    await link.click()
    await page.locator("#menu button[data-as=new]").click()
    newcomer = page.locator("section.chat[data-role=cashier]:not([hidden])")
    await expect(page.locator(".column.staff .tab.active")).to_have_text("Пётр")
    await expect(newcomer.locator(".msg.user")).to_contain_text("/start staff_")
    welcome = re.sub("<[^>]+>", "", ru("staff-welcome", name="Пётр")).split("!")[0]
    await expect(newcomer.locator(".messages")).to_contain_text(welcome)
    await expect(owner.locator(".messages")).to_contain_text("Пётр")
    await shot(page, "09-staff-invite-followed")


def _clock_value(text: str) -> datetime:
    return datetime.strptime(text.split(" ", 1)[1], "%d.%m.%Y %H:%M")


async def test_the_header_clock_ticks_and_follows_the_jumps(page: Any) -> None:
    label = page.locator("#clock-label")
    await page.clock.install()  # the page's own time, moved by the test (the server's is untouched)
    await page.reload()
    await expect(page.locator("body.live")).to_have_count(1)
    before = _clock_value(await label.text_content())
    await page.clock.fast_forward("03:00:00")
    await expect(label).not_to_have_text(re.compile(re.escape(before.strftime("%H:%M")) + "$"))
    ticked = _clock_value(await label.text_content())
    assert timedelta(hours=3) <= ticked - before <= timedelta(hours=3, minutes=2)
    await page.locator("#clock button[data-days='1']").click()
    await expect(page.locator("#status")).to_contain_text("Время:")
    # The server's business time a day later (its clock never saw the page's three hours).
    jumped = _clock_value(await label.text_content())
    assert timedelta(0) <= jumped - (before + timedelta(days=1)) <= timedelta(minutes=2), (before, jumped)


async def test_the_page_reloads_its_chats_after_the_server_restarts(page: Any, sandbox_server: SandboxServer,
                                                                     tmp_path: Path) -> None:
    customer = page.locator("section.chat[data-role=customer]").first
    await type_into(customer, "/start")
    await expect(customer.locator(".msg.bot")).not_to_have_count(0)
    old_instance = sandbox_server.sandbox.instance
    port = sandbox_server.port
    await sandbox_server.stop()
    await expect(page.locator("body.live")).to_have_count(0)
    (tmp_path / "again").mkdir()
    restarted = SandboxServer(Sandbox(CASE_A, data_dir=tmp_path / "again", per_chat_interval=0.05), port=port)
    await restarted.start()
    try:
        await expect(page.locator("body")).to_have_attribute("data-instance", restarted.sandbox.instance)
        assert restarted.sandbox.instance != old_instance
        await expect(page.locator("body.live")).to_have_count(1)
        await expect(customer.locator(".msg")).to_have_count(0)  # the new server's (empty) chats
        await type_into(customer, "/start")
        await expect(customer.locator(".msg.bot")).not_to_have_count(0)
    finally:
        await restarted.stop()
