"""Amounts, points, codes, phones, dates and ids take the digits 0-9 only (issue 14, section 4).

Python's int(), Decimal(), str.isdigit() and the regex \\d all read Arabic-Indic ("١٠٠٠") and
full-width ("１０００") digits as numbers. Before, a cashier whose keyboard typed them recorded a
1,000 ₽ check, paid 100 points, and a phone typed that way became a customer whose number matched
nobody's. Now every parser answers "type it with the digits 0-9" and nothing is recorded; the
same keyboards' ASCII digits still work. Forged callback data with such digits or with ids beyond
a 64-bit column get "this button no longer works", not a traceback (the harness fails a test that
logs an error).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models.kernel.tables import Customer, Operation, OperationKind
from models.owner.tools import edit_setting
from models.program.rules import Program
from tests.helpers import balance, fresh_code

from .conftest import BotEnv

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def fw(text: str) -> str:
    return text.translate(FULLWIDTH)


def ar(text: str) -> str:
    return text.translate(ARABIC)


async def operations(env: BotEnv, kind: OperationKind) -> list[Operation]:
    async with env.db.reading() as session:
        return list((await session.execute(select(Operation).where(Operation.kind == kind))).scalars())


async def customer_count(env: BotEnv) -> int:
    async with env.db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(Customer))).scalar() or 0)


async def test_a_checkout_typed_with_other_digits_is_refused_until_typed_with_0_9(botenv: BotEnv) -> None:
    env = botenv
    digits = env.text(env.owner, "input-digits")
    amount_digits = env.text(env.owner, "staff-amount-digits")
    anna = env.customer("Анна")
    anna_id = await env.register(anna)
    code = await fresh_code(env.dom, anna_id)
    staff = env.customer("Мария")
    await env.add_staff(staff, "Мария")

    await staff.send(ar(code))  # the card's code typed on an Arabic keyboard
    await staff.expect_text(equals=digits)
    await staff.send(fw(code[:3] + " " + code[3:]))
    await staff.expect_text(equals=digits)
    await staff.send(ar("+79161234567"))  # a phone nobody has: not a new customer
    await staff.expect_text(equals=digits)
    assert await customer_count(env) == 1

    await staff.send(code)
    await staff.expect_text("Анна")
    for typed in (fw("1000"), ar("1000"), fw("12 250,50"), "1000" + ar("0")):
        await staff.send(typed)
        await staff.expect_text(equals=amount_digits)
    await staff.send("1000")
    await staff.expect_text("Чек")
    await env.press(staff, "Другое число")
    await staff.expect_text("Не больше 100")
    await staff.send(ar("100"))
    await staff.expect_text(equals=digits)
    await staff.send(fw("50"))
    await staff.expect_text(equals=digits)
    await staff.send("50")
    await staff.expect_text("К оплате")
    await env.press(staff, "✅ Подтвердить")
    receipt = await staff.expect_text("Покупка №")
    purchases = await operations(env, OperationKind.PURCHASE)
    assert [(p.amount_kopecks, p.points_paid) for p in purchases] == [(100_000, 50)]
    number = str(purchases[0].id)

    await staff.command("refund", ar(number))
    await staff.expect_text(equals=digits)
    await staff.command("refund", f"{number} {fw('100')}")
    await staff.expect_text(equals=amount_digits)
    await staff.command("refund", "9" * 30)  # beyond any id: the usage, not a database overflow
    await staff.expect_text("Формат: /refund")
    await staff.command("sale", ar("500"))
    await staff.expect_text(equals=amount_digits)
    assert await operations(env, OperationKind.REFUND) == []
    assert await operations(env, OperationKind.SALE_NO_CARD) == []
    assert "Чек: 1\xa0000\xa0₽" in receipt.text
    await env.settle()


async def test_birthdays_typed_with_other_digits_are_refused(botenv: BotEnv) -> None:
    env = botenv
    digits = env.text(env.owner, "input-digits")
    anna = env.customer("Анна")
    await anna.start()
    await env.press(anna, env.text(anna, "reg-button-agree"))
    await env.press(anna, env.text(anna, "reg-button-share-phone"))
    await env.press(anna, env.text(anna, "reg-button-keep-name"))
    await anna.expect_text("Когда у вас день рождения")
    await anna.send(ar("31.12.1990"))
    await anna.expect_text(equals=digits)
    await anna.send(fw("1990-12-31"))
    await anna.expect_text(equals=digits)
    await anna.send("31.12.1990")
    await anna.expect_text("Покажите QR-код")
    async with env.db.reading() as session:
        customer = (await session.execute(select(Customer))).scalar_one()
    assert customer.birthday == date(1990, 12, 31)


async def test_the_owners_adjustment_takes_0_9_and_stays_within_the_maximum(botenv: BotEnv) -> None:
    env = botenv
    anna = env.customer("Анна", phone="+79160000911")
    anna_id = await env.register(anna)
    owner = env.owner
    await owner.send("/find 8 916 000-09-11")
    await owner.expect_text("Клиент #")
    await env.press(owner, "Начислить / списать")
    await owner.expect_text("причину")
    await owner.send(f"+{ar('200')} компенсация")
    await owner.expect_text(equals=env.text(owner, "input-digits"))
    await owner.send("+3000000000 компенсация")  # today: accepted up to 10,000,000; now the program's max
    await owner.expect_text(equals=env.text(owner, "owner-adjust-too-large", max=100_000))
    await owner.send("-100001 ошибка")
    await owner.expect_text("не больше 100")
    assert await balance(env.dom, anna_id) == 300
    await owner.send("+200 компенсация")
    await owner.expect_text("Готово: 200")
    assert await balance(env.dom, anna_id) == 500


async def test_forged_callbacks_with_odd_digits_or_huge_ids_are_stale_buttons(botenv: BotEnv) -> None:
    env = botenv
    anna = env.customer("Анна")
    await env.register(anna)
    stale = env.text(anna, "fallback-stale-button")
    for data in ("hist:²", "hist:" + ar("1"), "rate:²:3", "rate:1:" + ar("3"), "review:site:²",
                 "review:site:" + ar("0")):
        await anna.press_callback(data)  # answered (history page 0, "stale", "unknown site"), no crash
    for data in ("pc:99999999999999999999:1", "pc:" + ar("1") + ":1"):
        assert (await anna.press_callback(data)).text == stale, data
    staff = env.customer("Мария")
    await env.add_staff(staff, "Мария")
    for data in ("co:confirm:99999999999999999999:0", "rc:full:" + "9" * 25, "co:max:" + ar("1") + ":0"):
        answer = await staff.press_callback(data)
        assert answer.text in (stale, env.text(staff, "not-allowed")), (data, answer.text)
    await env.settle()
    assert not env.errors


def test_program_settings_by_buttons_take_0_9_only(case_a: Program) -> None:
    from models.kernel.errors import InvalidProgram

    for raw in ("²", ar("500"), fw("500"), "1_000"):
        with pytest.raises(InvalidProgram):
            edit_setting(case_a, "welcome_points", raw)
    for raw in (ar("5"), fw("5.5")):
        with pytest.raises(InvalidProgram):
            edit_setting(case_a, "tier_cashback:0", raw)
    assert edit_setting(case_a, "welcome_points", "500").welcome.points == 500


def test_report_ranges_and_imports_take_0_9_only() -> None:
    from handlers.owner_reports import parse_range
    from models.owner.imports import parse_roubles, parse_whole

    assert parse_range("01.03.2026 - 31.03.2026") == (date(2026, 3, 1), date(2026, 3, 31))
    assert parse_range(ar("01.03.2026 - 31.03.2026")) is None
    assert parse_roubles("1000,50") == 100_050
    for raw in (fw("1000"), ar("1000"), "1_000", "1e3"):
        with pytest.raises(ValueError):
            parse_roubles(raw)
        with pytest.raises(ValueError):
            parse_whole(raw, 10**9)


def test_settings_take_ids_and_tokens_with_0_9_only() -> None:
    from bot.config import SettingsError, load_settings

    for overrides in ({"owner_ids": ar("111")}, {"bot_token": ar("123456") + ":ABCDEFGHIJKLMNOP"}):
        with pytest.raises(SettingsError):
            load_settings(_env_file=None, **overrides)
    assert load_settings(_env_file=None, owner_ids="111, 222").owner_ids == frozenset({111, 222})
