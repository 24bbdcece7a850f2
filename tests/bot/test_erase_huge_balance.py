"""A customer whose balance no 32-bit column holds deletes their data through the bot
(issue 14, section 4): before, two rewards of 2^31 − 1 made the erasure's write-off overflow on
PostgreSQL, the customer got "something went wrong" and stayed on file."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.kernel.tables import Customer, OperationKind
from models.program.rules import program_from_document
from models.program.store import current_program, set_program
from models.purchase.purchases import adjust_points
from tests.helpers import assert_invariants, balance

from .conftest import BotEnv

INT32_MAX = 2**31 - 1


@pytest.mark.botenv(postgres=True)
async def test_erasure_with_a_balance_beyond_32_bits_goes_through(botenv: BotEnv) -> None:
    async with botenv.db.reading() as session:
        _, program = await current_program(session)
    document = program.to_document()
    document["limits"]["max_reward_points"] = INT32_MAX  # a program that allows such gifts
    await set_program(botenv.dom, program_from_document(document), None, "huge gifts")
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)
    for _ in range(2):
        await adjust_points(botenv.dom, customer_id, INT32_MAX, "gift", kind=OperationKind.REWARD, notify=False)
    assert await balance(botenv.dom, customer_id) == 2 * INT32_MAX + 300
    await anna.send("/settings")
    await anna.expect_text("Настройки")
    await botenv.press(anna, botenv.text(anna, "settings-button-erase"))
    await anna.expect_text("Удалить ваши данные?")
    await botenv.press(anna, botenv.text(anna, "settings-button-erase-yes"))
    await anna.expect_text(equals=botenv.text(anna, "settings-erased"))
    await botenv.settle()
    async with botenv.db.reading() as session:
        customer = (await session.execute(select(Customer).where(Customer.id == customer_id))).scalar_one()
    assert customer.erased_at is not None and customer.phone is None and customer.name is None
    assert await balance(botenv.dom, customer_id) == 0
    await assert_invariants(botenv.dom)
