"""Staff at the till, end to end: the real bot against fakegram on a real database."""

from __future__ import annotations

from sqlalchemy import func, select

from fakegram import FakeUser
from models.tables import Operation, OperationKind
from tests.helpers import fresh_code

from .conftest import BotEnv


async def purchases(env: BotEnv) -> int:
    async with env.db.reading() as s:
        return int((await s.execute(select(func.count(Operation.id))
                                    .where(Operation.kind == OperationKind.PURCHASE))).scalar() or 0)


async def cashier(env: BotEnv, name: str = "Мария") -> FakeUser:
    user = env.customer(name)
    await env.add_staff(user, name)
    return user


async def test_qr_deep_link_checkout_in_two_taps(botenv: BotEnv) -> None:
    env = botenv
    anna = env.customer("Анна")
    customer = await env.register(anna)
    staff = await cashier(env)
    code = await fresh_code(env.dom, customer)
    await staff.start(f"c_{code}")
    found = await staff.expect_text("Анна")
    assert "300" in found.content
    await staff.send("1000")
    quote = await staff.expect_text("Чек")
    assert "100" in quote.content
    await env.press(staff, "Списать 100 баллов")
    confirm = await staff.expect_text("К оплате")
    assert "900" in confirm.content
    await env.press(staff, "Подтвердить")
    receipt = await staff.expect_text("Покупка №")
    assert any("Возврат" in b for b in receipt.button_texts)
    await env.settle()
    assert await purchases(env) == 1
