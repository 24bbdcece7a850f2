"""The documentation's screenshots, taken in the sandbox by a real browser (`make screenshots`).

Starts a sandbox in this process (case A, a fresh database in a temporary directory), drives
its page with Playwright and the system Chromium like a person would — a customer registers,
the cashier finds the card and sells, the owner opens the menu and the report — and saves:

    docs/screenshots/staff-keyboard.png   the cashier's chat with the staff keyboard
    docs/screenshots/owner-menu.png       the owner's chat after /owner
    docs/screenshots/report-summary.png   the first message /report sends for "Этот месяц"

    python -m sandbox.screenshots [--out DIR] [--chromium PATH]

Needs the `playwright` package (the dev extra) and Chromium (`apt-get install -y chromium`;
no browser download). Re-run it after changing what these screens show.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bot.i18n import I18n
from sandbox.server import SandboxServer
from sandbox.world import Sandbox

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("SANDBOX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 30_000


def ru(key: str, **args: Any) -> str:
    return I18n().get("ru", key, **args)


async def _type(chat: Any, text: str) -> None:
    box = chat.locator("form.composer input[name=text]")
    await box.fill(text)
    await box.press("Enter")
    await box.page.wait_for_function("el => el.value === ''", arg=await box.element_handle())


async def _click(chat: Any, label: str) -> None:
    button = chat.locator("button.btn", has_text=label).last
    await button.wait_for(state="visible")
    await button.click()


async def _wait_text(chat: Any, text: str) -> None:
    await chat.locator(".messages .msg", has_text=text).last.wait_for(state="visible")


async def take(page: Any, out: Path) -> list[Path]:
    expect = __import__("playwright.async_api", fromlist=["expect"]).expect
    customer = page.locator("section.chat[data-role=customer]").first
    cashier = page.locator("section.chat[data-role=cashier]").first
    owner = page.locator("section.chat[data-role=owner]")
    saved: list[Path] = []
    await page.add_style_tag(content=".toast { display: none !important; }")  # passing notes, not the screen

    # A customer and one sale, so the report has something to say.
    await _type(customer, "/start")
    for label in ("reg-button-agree", "reg-button-share-phone", "reg-button-keep-name", "reg-button-skip-birthday"):
        await _click(customer, ru(label))
    link = customer.locator(".qr a.deeplink").last
    await link.wait_for(state="visible")
    await link.click()
    await page.locator("#menu button[data-as=cashier]").first.click()
    await _type(cashier, "1250")
    await _click(cashier, ru("staff-btn-no-points"))
    await _click(cashier, ru("staff-btn-confirm"))
    await _wait_text(cashier, "Покупка №")

    # The staff keyboard: what the cashier sees after /start.
    await _type(cashier, "/start")
    await expect(cashier.locator(".keyboard .rkb")).to_be_visible()
    await page.wait_for_timeout(500)  # the last bubble's scroll settles
    saved.append(out / "staff-keyboard.png")
    await cashier.screenshot(path=str(saved[-1]))

    # The owner's menu.
    await _type(owner, "/owner")
    await expect(owner.locator(".msg.bot .ikb").last).to_be_visible()
    await page.wait_for_timeout(500)
    saved.append(out / "owner-menu.png")
    await owner.screenshot(path=str(saved[-1]))

    # /report → "Этот месяц": the report's first message (after "preparing").
    await _type(owner, "/report")
    await _click(owner, ru("report-period-month"))
    working = owner.locator(".msg.bot", has_text=ru("report-working")).last
    await working.wait_for(state="visible")
    first = working.locator("xpath=following-sibling::div[contains(@class, 'msg') and contains(@class, 'bot')][1]")
    await first.wait_for(state="visible")
    await page.wait_for_timeout(1500)  # charts and the file arrive after it: let them land first
    # The chat scrolled so that this message starts at the top, as the owner reads it.
    await first.evaluate("el => { el.parentElement.scrollTop = el.offsetTop - el.parentElement.offsetTop - 8; }")
    saved.append(out / "report-summary.png")
    await owner.screenshot(path=str(saved[-1]))
    return saved


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the PNGs go (default {OUT})")
    parser.add_argument("--chromium", type=Path, default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    args = parser.parse_args(argv)
    if not args.chromium.exists():
        print(f"error: no Chromium at {args.chromium} (apt-get install -y chromium, or --chromium PATH)",
              file=sys.stderr)
        return 2
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        print("error: the playwright package is missing (make .venv/.installed-dev)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loyalty-screenshots-") as data_dir:
        sandbox = Sandbox(ROOT / "programs" / "case-a.toml", data_dir=Path(data_dir), per_chat_interval=0.05)
        async with SandboxServer(sandbox, port=0) as server, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(args.chromium), args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1440, "height": 900}, device_scale_factor=2)
                page.set_default_timeout(WAIT_MS)
                await page.goto(server.url)
                await page.locator("body.live").wait_for()
                for path in await take(page, args.out):
                    print(f"written {path}")
            finally:
                await browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
