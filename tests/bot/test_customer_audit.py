"""Customer-side regressions found in the audit: a customer who blocked the bot and came
back, and a foreign phone shared through Telegram's contact button."""

from __future__ import annotations

from sqlalchemy import select

from models.outbox import notify_customer
from models.tables import Customer, OutboxMessage, TelegramAccount

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
