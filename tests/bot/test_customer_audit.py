"""Customer-side regressions found in the audit: a customer who blocked the bot and came
back, and a foreign phone shared through Telegram's contact button."""

from __future__ import annotations

from sqlalchemy import select

from models.kernel.outbox import notify_customer
from models.kernel.tables import Customer, OutboxMessage, TelegramAccount

from .conftest import BotEnv


async def _notify(botenv: BotEnv, customer_id: int, tier: str) -> bool:
    async with botenv.db.transaction() as s:
        row = await notify_customer(s, customer_id, "notify-tier-up", botenv.clock.now(), args={"tier": tier})
    botenv.sender and botenv.sender.wake()
    await botenv.settle()
    return row is not None


async def test_a_customer_who_unblocks_the_bot_gets_notifications_again(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)
    await anna.block_bot(notify=False)
    await _notify(botenv, customer_id, "Серебро")  # 403: marked unreachable
    async with botenv.db.reading() as s:
        assert (await s.get(TelegramAccount, anna.id)).unreachable is True  # type: ignore[union-attr]
    # Telegram's "Restart" after unblocking sends /start: the chat works again.
    await anna.unblock_bot(notify=False)
    await anna.start()
    await anna.expect_text("С возвращением")
    await botenv.settle()
    anna.skip_pending()
    assert await _notify(botenv, customer_id, "Золото")
    message = await anna.expect_text("Золото")
    assert "Поздравляем" in message.text
    async with botenv.db.reading() as s:
        assert (await s.get(TelegramAccount, anna.id)).unreachable is False  # type: ignore[union-attr]
        assert len(list((await s.execute(select(OutboxMessage))).scalars())) >= 2


async def test_foreign_phone_from_the_contact_button_without_plus_is_accepted(botenv: BotEnv) -> None:
    # Telegram gives the user's own number in international form, often without the "+".
    oksana = botenv.customer("Оксана", phone="380501234567")
    customer_id = await botenv.register(oksana)
    async with botenv.db.reading() as s:
        customer = (await s.execute(select(Customer).where(Customer.id == customer_id))).scalar_one()
    assert customer.phone == "+380501234567"
    # A Russian number without the "+" is still read as Russian.
    ivan = botenv.customer("Иван", phone="79161234500")
    customer_id = await botenv.register(ivan)
    async with botenv.db.reading() as s:
        customer = (await s.execute(select(Customer).where(Customer.id == customer_id))).scalar_one()
    assert customer.phone == "+79161234500"


async def test_names_with_html_characters_reach_the_staff_chat(botenv: BotEnv) -> None:
    """Outbox texts go out with parse_mode HTML: a customer's or staff member's name must be
    escaped, or Telegram refuses the alert (400 can't parse entities) and staff never see it."""
    from models.kernel.tables import OutboxStatus
    from models.purchase.purchases import PurchaseRequest, commit_purchase

    cashier = botenv.customer("Кассир")
    staff_id = await botenv.add_staff(cashier, "Ира <касса 1>")
    anna = botenv.customer("Аня")
    customer_id = await botenv.register(anna, name="Аня <3 & Co")
    await commit_purchase(botenv.dom, PurchaseRequest(customer_id=customer_id, amount_kopecks=100_000,
                                                      staff_id=staff_id))
    await anna.expect_text("Оцените, пожалуйста, визит")
    await anna.press("1⭐")
    await botenv.settle()
    await anna.send("⭐ Оценить визит")
    await botenv.press(anna, "Отзыв на 2GIS (+100)")
    await anna.expect_text("Оставьте отзыв на 2GIS")
    await anna.send_photo(SCREENSHOT)
    await anna.expect_text("Скриншот отправлен")
    await botenv.settle()
    texts = [(m.text or m.caption or "") for m in botenv.staff_chat.bot_messages()]
    assert any("Низкая оценка" in t and "Аня <3 & Co" in t and "Ира <касса 1>" in t for t in texts), texts
    assert any("Отзыв на проверку" in t and "Аня <3 & Co" in t for t in texts), texts
    async with botenv.db.reading() as s:
        statuses = {m.status for m in (await s.execute(select(OutboxMessage))).scalars()}
    assert statuses == {OutboxStatus.SENT}


SCREENSHOT = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ffff3f0005fe02fe"
    "a7356d810000000049454e44ae426082")


async def test_birthday_greeting_reaches_a_customer_whose_name_has_html_characters(botenv: BotEnv) -> None:
    from datetime import date, timedelta

    from models.automation.jobs import birthday_certificates
    from models.program.store import current_program

    async with botenv.db.reading() as s:
        _, program = await current_program(s)
    assert program.birthday is not None
    today = botenv.clock.now().astimezone(botenv.dom.tz).date()
    birthday = today + timedelta(days=program.birthday.days_before)
    kate = botenv.customer("Катя")
    await botenv.register(kate, name="Катя <3", birthday=date(1990, birthday.month, birthday.day))
    issued = await birthday_certificates(botenv.dom, today)
    assert issued.issued == 1
    await botenv.settle()
    greeting = await kate.expect_text("с днём рождения")
    assert greeting.text.startswith("🎂 Катя <3,")


async def test_adjustment_notice_reaches_the_customer_when_the_reason_has_html_characters(botenv: BotEnv) -> None:
    """The reason an owner (or a till's API reward comment) gives is put into an HTML message:
    "<" or "&" in it must not make Telegram refuse the notice."""
    from models.purchase.purchases import adjust_points

    kate = botenv.customer("Катя")
    customer_id = await botenv.register(kate, name="Катя")
    await botenv.settle()
    await adjust_points(botenv.dom, customer_id, 50, "Бонус <за отзыв> & спасибо")
    await botenv.settle()
    notice = await kate.expect_text("Баланс изменён")
    assert "<за отзыв> & спасибо" in notice.text
