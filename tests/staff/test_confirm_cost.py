"""Issue 15's measured target for one cashier's Confirm tap through the real bot: at most 2
transactions and 20 statements. NOT MET YET on this branch (the use-case rework did not fit
the time): the test is a strict xfail that records the current cost, so it starts passing
(and must then lose its marker) when `confirm_checkout` owns one transaction."""

from __future__ import annotations

import pytest

from models.db import count_statements
from tests.helpers import fresh_code

from .conftest import BotEnv

CONFIRM = "✅ Подтвердить"


@pytest.mark.xfail(strict=True, reason="issue 15 target not met yet: see docs/PERFORMANCE.md")
async def test_confirm_tap_costs_at_most_two_transactions(botenv: BotEnv) -> None:
    env = botenv
    anna = env.customer("Анна")
    customer_id = await env.register(anna)
    code = await fresh_code(env.dom, customer_id)
    staff = env.customer("Мария")
    await env.add_staff(staff, "Мария")
    await staff.start(f"c_{code}")
    await staff.expect_text("Анна")
    await staff.send("1000")
    await staff.expect_text("Чек")
    await env.press(staff, "Списать 100 баллов")
    await staff.expect_text("К оплате")
    await env.settle()
    async with count_statements(env.db) as counts:
        await env.press(staff, CONFIRM)
        await staff.expect_text("Покупка №")
    print(f"Confirm tap on {env.db.dialect}: {counts}")
    assert counts.transactions <= 2
    assert counts.statements <= 20
