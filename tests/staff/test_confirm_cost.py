"""Issue 15's measured target for one cashier's Confirm tap through the real bot: at most 2
transactions and 20 statements (the actor's one read, then `confirm_checkout`'s one
transaction: quote, purchase, quote tied to it, audit, fraud limits). Counts, not times.
The outbox sender is off so that only the tap is counted, not the notification it queued."""

from __future__ import annotations

import pytest

from models.customers.accounts import create_phone_customer
from models.kernel.db import count_statements
from tests.helpers import fresh_code

from .conftest import BotEnv

CONFIRM = "✅ Подтвердить"


@pytest.mark.botenv(start_sender=False)
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
    assert counts.transactions <= 2, counts
    assert counts.statements <= 20, counts


@pytest.mark.botenv(start_sender=False)
async def test_a_confirm_with_nothing_to_choose_is_one_transaction_too(botenv: BotEnv) -> None:
    """A customer without Telegram, found by phone, can only earn: the screen goes straight to
    Confirm (the quote stored its "no points" choice), and the tap costs the same."""
    env = botenv
    await create_phone_customer(env.dom, "+79160000123", staff_id=None, name="Борис")
    staff = env.customer("Мария")
    await env.add_staff(staff, "Мария")
    await staff.send("+7 916 000-01-23")
    await staff.expect_text("Борис")
    await staff.send("700")
    screen = await staff.expect_text("Чек")
    assert "К оплате" in screen.content, screen.content  # no choice offered
    await env.settle()
    async with count_statements(env.db) as counts:
        await env.press(staff, CONFIRM)
        receipt = await staff.expect_text("Покупка №")
    assert "Кешбэк" in receipt.content, receipt.content
    assert counts.transactions <= 2, counts
    assert counts.statements <= 20, counts
