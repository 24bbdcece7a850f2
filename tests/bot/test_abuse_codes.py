"""A customer cannot hoard the 6-digit code space through the card (issue 14 §3): the bot
refuses new codes past the per-customer limit with a clear answer, and when no number is
free it says so instead of failing (docs/RULES.md, "The customer code")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.customers import accounts as customers
from models.customers.accounts import resolve_code
from models.kernel.tables import CustomerCode

from .conftest import BotEnv
from .test_customer_menu import code_in


async def _codes(env: BotEnv, customer_id: int) -> int:
    async with env.db.reading() as s:
        return int((await s.execute(select(func.count()).select_from(CustomerCode)
                                    .where(CustomerCode.customer_id == customer_id))).scalar_one())


async def test_card_refresh_stops_at_the_hourly_limit_and_resumes(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)  # the card after registration: code 1
    last = ""
    for _ in range(customers.CODES_PER_HOUR - 1):
        await anna.send("💳 Моя карта")
        card = await anna.expect()
        assert card.photo is not None
        last = code_in(card.caption)
    assert await _codes(botenv, customer_id) == customers.CODES_PER_HOUR

    await anna.send("💳 Моя карта")
    refused = await anna.expect()
    assert refused.photo is None
    assert refused.text == "Слишком много новых кодов, подождите 60 мин."
    # Nothing was issued or retired: the last card still works.
    assert await _codes(botenv, customer_id) == customers.CODES_PER_HOUR
    assert await resolve_code(botenv.dom, last) == customer_id

    # Refresh on the last card is refused the same way and the card is left in place.
    await anna.press("Обновить код")
    assert (await anna.expect()).text == "Слишком много новых кодов, подождите 60 мин."
    assert await resolve_code(botenv.dom, last) == customer_id

    botenv.clock.advance(timedelta(minutes=31))
    await anna.send("💳 Моя карта")
    refused = await anna.expect()
    assert refused.text == "Слишком много новых кодов, подождите 29 мин."

    botenv.clock.advance(timedelta(minutes=30))  # the first code left the hour
    await anna.send("💳 Моя карта")
    card = await anna.expect()
    assert card.photo is not None and code_in(card.caption) != last


async def test_card_when_no_code_is_free(botenv: BotEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customers, "CODE_SPACE", 2)  # two numbers: 000000 and 000001
    anna = botenv.customer("Анна")
    anna_id = await botenv.register(anna)
    boris = botenv.customer("Борис", language_code="en")
    await botenv.register(boris)
    async with botenv.db.reading() as s:
        anna_code = (await s.execute(select(CustomerCode.code)
                                     .where(CustomerCode.customer_id == anna_id))).scalar_one()

    await anna.send("💳 Моя карта")
    refused = await anna.expect()
    assert refused.photo is None
    assert refused.text == "Сейчас не удалось выдать новый код. Попробуйте через несколько минут."
    assert await resolve_code(botenv.dom, anna_code) == anna_id  # her code was not retired

    await boris.send("/card")
    refused = await boris.expect()
    assert refused.text == "A new code could not be issued right now. Please try again in a few minutes."
