"""Registration through the real bot: deep links, wrong contacts, bad birthdays."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models.tables import Customer, Lot, LotKind, TelegramAccount

from .conftest import BotEnv


async def test_plain_registration_gives_welcome_points_and_the_card(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    await anna.start()
    welcome = await anna.expect_text("Добро пожаловать")
    assert "300 баллов" in welcome.text
    consent = await anna.expect()
    assert "https://example.com/privacy" in str(consent.raw)
    await anna.press("Согласен")
    ask = await anna.expect_text("номером телефона")
    assert ask.reply_markup and ask.reply_markup["keyboard"][0][0]["request_contact"] is True
    await anna.press("Поделиться номером")
    name = await anna.expect_text("Как к вам обращаться")
    assert "Анна" in name.text
    await anna.send("Анна Петровна")
    await anna.expect_text("день рождения")
    await anna.send("31.12.1990")
    done = await anna.expect_text("Готово")
    assert "300 баллов" in done.text
    card = await anna.expect()
    assert card.photo is not None and card.photo.startswith(b"\x89PNG")
    assert "Обновить код" in card.button_texts
    async with botenv.db.reading() as s:
        customer = (await s.execute(select(Customer))).scalar_one()
        account = await s.get(TelegramAccount, anna.id)
    assert customer.name == "Анна Петровна"
    assert customer.birthday == date(1990, 12, 31)
    assert customer.phone == anna.phone
    assert account is not None and account.customer_id == customer.id and account.language == "ru"


async def test_register_helper(botenv: BotEnv) -> None:
    bob = botenv.customer("Bob", language_code="en")
    customer_id = await botenv.register(bob)
    async with botenv.db.reading() as s:
        lots = list((await s.execute(select(Lot).where(Lot.customer_id == customer_id))).scalars())
    assert [lot.kind for lot in lots] == [LotKind.WELCOME]
