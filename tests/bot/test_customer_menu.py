"""The member's screens through the real bot: card and its code, history pages,
certificates, and a referral chain of three levels."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.qr import decode_qr
from models.customers.accounts import resolve_code
from models.kernel.errors import CodeExpired
from models.kernel.tables import Customer
from models.purchase.purchases import PurchaseRequest, adjust_points, commit_purchase

from .conftest import BotEnv


def code_in(caption: str | None) -> str:
    found = re.search(r"(\d{3}) (\d{3})", caption or "")
    assert found is not None, caption
    return found.group(1) + found.group(2)


@pytest.mark.botenv(postgres=True)
async def test_card_shows_a_working_code_and_refresh_replaces_it(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)
    await anna.send("💳 Моя карта")
    card = await anna.expect()
    assert card.photo is not None
    first = code_in(card.caption)
    assert len(first) == 6
    # The QR carries the same code as a deep link to this bot.
    assert f"https://t.me/{botenv.tg.bot_username}?start=c_{first}" in decode_qr(card.photo)
    assert await resolve_code(botenv.dom, first) == customer_id

    answer = await anna.press("Обновить код")
    assert answer.text == "Новый код готов."
    await botenv.settle()
    fresh = anna.last_bot_message()
    assert fresh is not None and fresh.photo is not None and fresh.message_id != card.message_id
    second = code_in(fresh.caption)
    assert second != first
    assert anna.chat.messages[[m.message_id for m in anna.chat.messages].index(card.message_id)].deleted
    with pytest.raises(CodeExpired):
        await resolve_code(botenv.dom, first)  # the old code stopped working at once
    assert await resolve_code(botenv.dom, second) == customer_id

    # 45 minutes later the code has expired (program: code_validity_minutes).
    botenv.clock.advance(timedelta(minutes=46))
    with pytest.raises(CodeExpired):
        await resolve_code(botenv.dom, second)
    anna.skip_pending()
    await anna.send("/card")
    third = code_in((await anna.expect()).caption)
    assert await resolve_code(botenv.dom, third) == customer_id


async def test_history_is_paginated_newest_first(botenv: BotEnv) -> None:
    boris = botenv.customer("Борис")
    customer_id = await botenv.register(boris)
    for n in range(1, 11):
        botenv.clock.advance(timedelta(days=1))
        await adjust_points(botenv.dom, customer_id, n, f"bonus {n}")
    await botenv.settle()
    boris.skip_pending()
    await boris.send("💰 Баланс и история")
    first = await boris.expect_text("Баланс:")
    assert "355 баллов" in first.text  # 300 welcome + 1 + 2 + ... + 10
    lines = [line for line in first.text.splitlines() if " · " in line]
    assert len(lines) == 8
    assert lines[0].startswith("12.03.2026 · Корректировка · +10")
    assert "до 12.03.2027" in lines[0]
    assert "Страница 1 из 2" in first.text
    assert "Ближайшее сгорание: 300 баллов — 02.03.2027" in first.text
    await boris.press("Старее")
    older = await boris.expect()
    assert older.edited and "Страница 2 из 2" in older.text
    older_lines = [line for line in older.text.splitlines() if " · " in line]
    assert older_lines[-1].startswith("02.03.2026 · Приветственный бонус · +300")
    await boris.press("Новее")
    assert "Страница 1 из 2" in (await boris.expect()).text
    # A forged page number is clamped, not an error.
    await boris.press_callback("hist:99999")
    assert "Страница 2 из 2" in (await boris.expect()).text


async def test_history_double_tap_or_stale_page_button_is_not_an_error(botenv: BotEnv) -> None:
    gleb = botenv.customer("Глеб")
    await botenv.register(gleb)
    await gleb.send("💰 Баланс и история")
    shown = await gleb.expect_text("Баланс:")
    # A second tap on the same page (or forged data for the page already shown) changes
    # nothing on screen: the button is answered and nothing fails.
    record = await gleb.press_callback("hist:0", shown.message_id)
    assert record.answered
    await botenv.settle()
    assert botenv.errors == []


async def test_certificates_screen(botenv: BotEnv) -> None:
    vera = botenv.customer("Вера", language_code="en")
    await botenv.register(vera)
    await vera.send("/certificates")
    assert "no valid certificates" in (await vera.expect()).text
    await vera.start("g_partner1")
    await vera.expect_text("campaign certificate has been added")
    await vera.send("🎁 Certificates")
    text = (await vera.expect_text("Your certificates")).text
    assert "🎁 Campaign: 500 points · up to 20% of a check · valid until 1 Apr 2026" in text


@pytest.mark.botenv(postgres=True)
async def test_referral_chain_of_three_levels(botenv: BotEnv) -> None:
    """A invites B, B invites C, C invites D; D buys for 10,000 ₽ (case A: 5%, 1%, 1%)."""
    people = [botenv.customer(name) for name in ("Алла", "Белла", "Вика", "Гоша")]
    ids: list[int] = []
    for person in people:
        payload = None
        if ids:
            async with botenv.db.reading() as s:
                code = (await s.execute(select(Customer.referral_code).where(Customer.id == ids[-1]))).scalar_one()
            payload = f"r_{code}"
        ids.append(await botenv.register(person, payload=payload))
    alla, bella, vika, gosha = people
    result = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=ids[3], amount_kopecks=1_000_000))
    assert [(r.level, r.points) for r in result.referral_rewards] == [(1, 500), (2, 100), (3, 100)]
    await botenv.settle()
    assert "уровень 1) сделал покупку: +500 баллов" in (await vika.expect_text("сделал покупку")).text
    assert "уровень 2) сделал покупку: +100 баллов" in (await bella.expect_text("сделал покупку")).text
    assert "уровень 3) сделал покупку: +100 баллов" in (await alla.expect_text("сделал покупку")).text
    receipt = await gosha.expect_text("Покупка на 10\u00a0000\u00a0₽")
    assert "Начислено: +300 баллов" in receipt.text  # 3% cashback at the first tier
    assert receipt.button_texts[:5] == ["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]

    await alla.send("👥 Пригласить друзей")
    invite = await alla.expect()
    assert "Уровень 1: приглашено 1, купили 0, вам начислено 0 баллов" in invite.text
    assert "Уровень 3: приглашено 1, купили 1, вам начислено 100 баллов" in invite.text
    assert f"https://t.me/{botenv.tg.bot_username}?start=r_" in invite.text
    share = invite.button("Поделиться ссылкой")
    assert share is not None and share["url"].startswith("https://t.me/share/url?url=https%3A%2F%2Ft.me%2F")


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_history_says_what_the_receipt_said_and_names_an_expired_certificate(
        botenv: BotEnv, language: str) -> None:
    """Issue 16: a purchase paid with points shows the points paid and the cashback, as on the
    receipt (not their difference); an unused certificate that ran out is the certificate
    expiring, not "points expired"."""
    from decimal import Decimal

    from models.campaigns.certificates import owner_certificate
    from models.ledger.expiry import expire_lots

    anna = botenv.customer("Анна", language_code=language)
    anna_id = await botenv.register(anna)
    await commit_purchase(botenv.dom, PurchaseRequest(customer_id=anna_id, amount_kopecks=100_000, points=100,
                                                      phone_confirmed=True))
    await owner_certificate(botenv.dom, anna_id, 500, Decimal(100), 3)
    botenv.clock.advance(timedelta(days=4))
    await expire_lots(botenv.dom)
    await botenv.settle()
    anna.skip_pending()
    await anna.send(botenv.text(anna, "menu-balance"))
    history = await anna.expect_text(botenv.text(anna, "history-kind-purchase"))
    paid_and_earned = botenv.text(anna, "history-line-paid-and-earned", date="", what="", spent=100, earned=27)
    assert paid_and_earned.split("·", 2)[-1].strip() in history.text, history.text  # 3% of 900 ₽
    assert botenv.text(anna, "history-kind-certificate-expiry") in history.text, history.text
    assert botenv.text(anna, "history-kind-expiry") not in history.text
