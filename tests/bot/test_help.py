"""/help says what each role can do: guests, customers, staff and owners."""

from __future__ import annotations

from .conftest import BotEnv


async def test_help_by_role(botenv: BotEnv) -> None:
    guest = botenv.customer("Гость")
    await guest.send("/help")
    reply = await guest.expect()
    assert "/start" in reply.text and "/sale" not in reply.text
    cashier = botenv.customer("Кассир")
    await botenv.add_staff(cashier)
    await cashier.send("/help")
    reply = await cashier.expect()
    assert "/sale" in reply.text and "/report" not in reply.text
    await botenv.owner.send("/help")
    reply = await botenv.owner.expect()
    assert "/report" in reply.text and "/broadcast" in reply.text
    english = botenv.customer("Ann", language_code="en")
    await english.send("/help")
    assert "/start" in (await english.expect()).text
