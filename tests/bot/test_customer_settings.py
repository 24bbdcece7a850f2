"""Settings through the real bot: language switch, birthday, deleting one's data."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models.kernel.tables import Customer, TelegramAccount
from models.ledger.invariants import check_ledger
from models.purchase.purchases import adjust_points

from .conftest import BotEnv


async def test_language_switch_changes_menus_and_notifications(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)
    await anna.send("⚙️ Настройки")
    await anna.expect_text("Настройки")
    await anna.press("Язык / Language")
    await anna.expect_text("Choose your language")
    answer = await anna.press("English")
    assert answer.text == "Language: English."
    confirmation = await anna.expect_text("Language: English.")
    assert "💳 My card" in confirmation.button_texts
    async with botenv.db.reading() as s:
        assert (await s.get(TelegramAccount, anna.id)).language == "en"  # type: ignore[union-attr]
    # The old Russian keyboard still works, and answers now come in English.
    await anna.send("💰 Баланс и история")
    assert "Balance: <b>" not in (reply := await anna.expect()).text and "Balance: 300 points" in reply.text
    # Notifications are rendered in the recipient's language at send time.
    await adjust_points(botenv.dom, customer_id, 25, "гостевой бонус")
    await anna.expect_text("Your balance was changed: +25 points")
    # /language works from anywhere, back to Russian.
    await anna.send("/language")
    await anna.press("Русский")
    await anna.expect_text("Язык: русский.")


async def test_birthday_can_be_set_once_in_settings(botenv: BotEnv) -> None:
    boris = botenv.customer("Борис")
    customer_id = await botenv.register(boris)
    await boris.send("/settings")
    await boris.expect_text("Настройки")
    await boris.press("Указать день рождения")
    await boris.expect_text("Напишите дату рождения")
    await boris.send("29.02.2027")
    await boris.expect_text("Не понял дату")
    await boris.send("29.02.1996")
    await boris.expect_text("Сохранено: 29.02.1996")
    async with botenv.db.reading() as s:
        assert (await s.get(Customer, customer_id)).birthday == date(1996, 2, 29)  # type: ignore[union-attr]
    await boris.send("/settings")
    text = (await boris.expect_text("Настройки")).text
    assert "День рождения: 29.02.1996" in text
    assert "Указать день рождения" not in boris.last_bot_message().button_texts  # type: ignore[union-attr]


@pytest.mark.botenv(postgres=True)
async def test_deleting_my_data_after_confirmation(botenv: BotEnv) -> None:
    vera = botenv.customer("Вера")
    customer_id = await botenv.register(vera, birthday="01.02.1990")
    await vera.send("/settings")
    await vera.expect_text("Настройки")
    await vera.press("Удалить мои данные")
    confirm = await vera.expect_text("Удалить ваши данные?")
    assert "300 баллов сгорят" in confirm.text
    await vera.press("Нет, оставить")
    await vera.expect_text("ничего не удаляем")
    assert await botenv.customer_id(vera) == customer_id
    await vera.send("/settings")
    await vera.press("Удалить мои данные")
    await vera.expect_text("Удалить ваши данные?")
    await vera.press("Да, удалить")
    await vera.expect_text("Ваши данные удалены")
    async with botenv.db.reading() as s:
        row = await s.get(Customer, customer_id)
        account = await s.get(TelegramAccount, vera.id)
    assert row is not None and row.erased_at is not None
    assert (row.name, row.phone, row.birthday) == (None, None, None)
    assert account is not None and account.customer_id is None
    assert not await check_ledger(botenv.db)  # the books still balance
    # The menu no longer works; registering again makes a new member without a second welcome bonus.
    await vera.send("💳 Моя карта")
    await vera.expect_text("нажмите /start")
    new_id = await botenv.register(vera)
    assert new_id != customer_id
    async with botenv.db.reading() as s:
        assert (await s.execute(select(Customer.phone).where(Customer.id == new_id))).scalar_one() == vera.phone
    await vera.send("/balance")
    assert "Баланс: 0 баллов" in (await vera.expect()).text
