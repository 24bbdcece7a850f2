"""Staff at the till, end to end: the real bot against fakegram on a real database."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import qrcode
from PIL import Image
from sqlalchemy import func, select

from bot.card import card_data, render_card
from bot.deeplinks import make_link
from fakegram import ChatMessage, FakeUser
from handlers.staff_keyboards import StaffNameCb
from models.campaigns.certificates import issue_certificate
from models.kernel.tables import AuditEntry, CertificateKind, Operation, OperationKind, Staff
from models.program.store import current_program
from models.purchase.purchases import PurchaseRequest, commit_purchase
from models.till.access import StaffActor
from models.till.checkout import choose_points, confirm_checkout, start_checkout
from tests.helpers import balance, fresh_code

from .conftest import BotEnv

CONFIRM = "✅ Подтвердить"
# End-to-end scenarios run on SQLite only (CI time); a full checkout and the concurrent
# confirmations also run on PostgreSQL when TEST_POSTGRES_URL is set.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


async def count(env: BotEnv, kind: OperationKind = OperationKind.PURCHASE) -> int:
    async with env.db.reading() as s:
        return int((await s.execute(select(func.count(Operation.id)).where(Operation.kind == kind))).scalar() or 0)


async def last_purchase(env: BotEnv) -> Operation:
    async with env.db.reading() as s:
        return (await s.execute(select(Operation).where(Operation.kind == OperationKind.PURCHASE)
                                .order_by(Operation.id.desc()).limit(1))).scalar_one()


async def cashier(env: BotEnv, name: str = "Мария") -> FakeUser:
    user = env.customer(name)
    await env.add_staff(user, name)
    return user


async def customer_with_code(env: BotEnv, name: str = "Анна") -> tuple[FakeUser, int, str]:
    user = env.customer(name)
    customer_id = await env.register(user)
    return user, customer_id, await fresh_code(env.dom, customer_id)


async def checkout_to_receipt(env: BotEnv, staff: FakeUser, amount: str, choice: str) -> None:
    await staff.expect_text("Введите сумму чека")
    await staff.send(amount)
    await staff.expect_text("Чек")
    await env.press(staff, choice)
    await staff.expect_text("К оплате")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Покупка №")


def card_png(env: BotEnv, code: str) -> bytes:
    return render_card(card_data(
        env.t(), business_name="Case A", customer_name="Анна", tier_name="Статус 1", balance=300,
        next_tier_name="Статус 2", progress=(0, 5_000_000), progress_text="", code=code,
        qr_payload=make_link(env.tg.bot_username, "card", code)))


def plain_png(qr_text: str | None = None) -> bytes:
    image = qrcode.make(qr_text).get_image().convert("RGB") if qr_text else Image.new("RGB", (400, 300), "#3366aa")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- finding the customer ---------------------------------------------------------------------

async def test_qr_deep_link_checkout_in_two_taps(botenv: BotEnv) -> None:
    env = botenv
    anna, customer, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.start(f"c_{code}")
    found = await staff.expect_text("Анна")
    assert "300" in found.content
    await staff.send("1000")
    quote = await staff.expect_text("Чек")
    assert "100" in quote.content and "10%" in quote.content  # the most allowed and why
    await env.press(staff, "Списать 100 баллов")  # tap 1
    confirm = await staff.expect_text("К оплате")
    assert "900" in confirm.content and "+27" in confirm.content
    await env.press(staff, CONFIRM)  # tap 2
    receipt = await staff.expect_text("Покупка №")
    assert any("Возврат" in b for b in receipt.button_texts)
    await env.settle()
    assert await count(env) == 1
    assert await balance(env.dom, customer) == 300 - 100 + 27
    assert any(m.reply_markup for m in anna.chat.bot_messages())  # the push with the rating buttons
    # The same code again: used.
    await staff.send(code)
    await staff.expect_text("уже использован")


@sqlite_only
async def test_photo_of_the_card_and_bad_pictures(botenv: BotEnv) -> None:
    env = botenv
    _, customer, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.send_photo(plain_png())
    await staff.expect_text(env.text(staff, "qr-not-found"))
    await staff.send_photo(plain_png("https://example.com/promo"))
    await staff.expect_text(env.text(staff, "qr-foreign"))
    await staff.send_document(b"%PDF-1.4 not an image at all", "check.pdf", "application/pdf")
    await staff.expect_text(env.text(staff, "qr-not-an-image"))
    await staff.send_photo(card_png(env, code))
    await staff.expect_text("Введите сумму чека")
    await staff.send("12 250")
    await staff.expect_text("Чек")
    await env.press(staff, "Без баллов")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Покупка №")
    assert (await last_purchase(env)).found_by == "qr"
    # In the staff group: a card is recognised, other pictures get no chatter.
    await env.staff_chat.send_photo(staff, plain_png())
    await env.staff_chat.send_photo(staff, card_png(env, await fresh_code(env.dom, customer)))
    found = await env.staff_chat.expect()
    assert "Введите сумму чека" in found.content


@sqlite_only
async def test_typed_code_expired_and_unknown(botenv: BotEnv) -> None:
    env = botenv
    _, _, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.send("000 000" if code != "000000" else "111 111")
    await staff.expect_text("Такого кода нет")
    env.clock.advance(timedelta(minutes=46))
    await staff.send(f"{code[:3]} {code[3:]}")
    await staff.expect_text("Срок действия кода истёк")


@sqlite_only
async def test_phone_lookup_formats_and_customer_confirmation(botenv: BotEnv) -> None:
    env = botenv
    anna = env.customer("Анна", phone="+79161234567")
    customer = await env.register(anna)
    staff = await cashier(env)
    for typed in ("+7 916 123-45-67", "8 (916) 123 45 67", "89161234567"):
        await staff.send(typed)
        found = await staff.expect_text("Анна")
        assert "подтверждением клиента" in found.content
        await env.press(staff, "Отмена")
        await staff.expect_text("Расчёт отменён")
    await staff.send("9161234567")
    await staff.expect_text("Анна")
    await staff.send("1000")
    await staff.expect_text("подтвердить оплату баллами")
    await env.press(staff, "Списать 100 баллов")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Ждём подтверждения клиента")
    request = await anna.expect_text("Кассир хочет оплатить")
    assert request.button_texts == ["Подтвердить", "Отклонить"]
    assert await count(env) == 0
    await env.press(anna, "Подтвердить")
    await anna.expect_text("Подтверждено")
    await staff.expect_text("Клиент подтвердил")
    await env.settle()
    op = await last_purchase(env)
    assert op.points_paid == 100 and op.found_by == "phone"
    assert await balance(env.dom, customer) == 300 - 100 + 27
    # Declined: nothing is charged and the cashier is told.
    await staff.send("+79161234567")
    await staff.expect_text("Анна")
    await staff.send("500")
    await staff.expect_text("Чек")
    await env.press(staff, "Списать 50 баллов")
    await env.press(staff, CONFIRM)
    await anna.expect_text("Кассир хочет оплатить")
    await env.press(anna, "Отклонить")
    await anna.expect_text("Ничего не списано")
    await staff.expect_text("Клиент отказался")
    assert await count(env) == 1


@sqlite_only
async def test_unknown_phone_creates_a_phone_only_customer_who_joins_later(botenv: BotEnv) -> None:
    env = botenv
    staff = await cashier(env)
    await staff.send("+7 (926) 555-44-33")
    await staff.expect_text("Клиента с номером +79265554433 нет")
    await env.press(staff, "Создать и начислить")
    await staff.expect_text("можно только начислить")
    await staff.send("2000")
    confirm = await staff.expect_text("К оплате")  # nothing to choose: straight to the confirmation
    assert "+60" in confirm.content
    await env.press(staff, CONFIRM)
    await staff.expect_text("Покупка №")
    newcomer = env.customer("Олег", phone="+79265554433")
    customer = await env.register(newcomer)
    assert await balance(env.dom, customer) == 60 + 300
    async with env.db.reading() as s:
        assert (await s.get(Operation, (await last_purchase(env)).id)).customer_id == customer  # type: ignore[union-attr]


# --- checkout choices -------------------------------------------------------------------------

@sqlite_only
async def test_other_number_no_points_and_certificate_choice(botenv: BotEnv) -> None:
    env = botenv
    _, customer, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.send(code)
    await staff.expect_text("Анна")
    await staff.send("1000")
    await staff.expect_text("Чек")
    await env.press(staff, "Другое число")
    await staff.expect_text("Не больше 100")
    await staff.send("150")
    await staff.expect_text("больше баллов, чем можно")
    await staff.send("40")
    await staff.expect_text("Баллами: 40")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Покупка №")
    assert (await last_purchase(env)).points_paid == 40

    async with env.db.transaction() as s:
        version, _ = await current_program(s)
        for points, pct, days in ((500, 20, 5), (1000, 50, 30)):
            await issue_certificate(s, customer_id=customer, kind=CertificateKind.OWNER, points=points,
                                    max_redeem_percent=Decimal(pct), validity_days=days,
                                    program_version=version, now=env.clock.now())
    await staff.send(await fresh_code(env.dom, customer))
    await staff.expect_text("Сертификаты")
    await staff.send("1000")
    quote = await staff.expect_text("Сертификат:")
    assert "20%" in quote.content
    await env.press(staff, "Другой сертификат")
    await env.press(staff, "1\u00a0000 · 50%")
    quote = await staff.expect_text("50%")
    await env.press(staff, "Списать")
    await staff.expect_text("К оплате")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Покупка №")
    op = await last_purchase(env)
    assert op.certificate_lot_id is not None and op.points_paid == 500 + 100  # 50% of 1 000 ₽ + the 10% status cap


async def test_double_tap_and_two_staff_confirming_in_the_group(botenv: BotEnv) -> None:
    env = botenv
    _, customer, code = await customer_with_code(env)
    maria, petr = await cashier(env, "Мария"), await cashier(env, "Пётр")
    group = env.staff_chat
    await group.send(maria, code)
    await group.expect_text("Анна")
    await group.send(maria, "1000")
    await group.expect_text("Чек")
    await group.press(maria, "Списать 100 баллов")
    confirm = await group.expect_text("К оплате")
    data = confirm.callback_data(CONFIRM)
    await asyncio.gather(group.press_callback(maria, data, confirm.message_id),
                         group.press_callback(petr, data, confirm.message_id),
                         group.press_callback(maria, data, confirm.message_id))
    await env.settle()
    assert await count(env) == 1
    assert await balance(env.dom, customer) == 227
    assert "Покупка №" in (group.chat.last_bot_message() or confirm).content


@sqlite_only
async def test_stale_quote_is_shown_again(botenv: BotEnv) -> None:
    env = botenv
    _, customer, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.send(code)
    await staff.expect_text("Анна")
    await staff.send("3000")
    await staff.expect_text("Чек")
    await env.press(staff, "Списать 300 баллов")
    await staff.expect_text("К оплате")
    await commit_purchase(env.dom, PurchaseRequest(customer_id=customer, amount_kopecks=200_000, points=200,
                                                   phone_confirmed=True))
    answer = await env.press(staff, CONFIRM)
    assert "изменился" in (answer.text or "")  # type: ignore[union-attr]
    quote = await staff.expect_text("Новые цифры")
    assert "Списать 154 балла" in quote.button_texts  # 100 left + 3% of 1 800 ₽
    await env.press(staff, "Списать 154 балла")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Покупка №")
    assert (await last_purchase(env)).points_paid == 154


# --- refunds ----------------------------------------------------------------------------------

@sqlite_only
async def test_refunds_full_partial_window_and_command(botenv: BotEnv) -> None:
    env = botenv
    anna, customer, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.send(code)
    await checkout_to_receipt(env, staff, "1000", "Без баллов")
    await env.press(staff, "Возврат")
    await staff.expect_text("Можно вернуть до")
    await env.press(staff, "Вернуть часть")
    await staff.send("abc")
    await staff.expect_text("Это не сумма")
    await staff.send("400")
    preview = await staff.expect_text("Оформить?")  # a partial refund is shown first (issue 16)
    assert "Клиенту вернётся 0 баллов, спишется кешбэка 12 баллов" in preview.content, preview.content
    assert await count(env, OperationKind.REFUND) == 0
    await env.press(staff, "✅ Вернуть 400\u00a0₽")
    done = await staff.expect_text("Возврат по покупке")
    assert "Остаток чека" in done.content
    await env.press(staff, "Вернуть всё")
    await staff.expect_text("600")
    await env.settle()
    assert await count(env, OperationKind.REFUND) == 2
    told = [m for m in await env.outbox() if m.chat_id == anna.id and m.payload.get("key") == "notify-refund"]
    assert len(told) == 2  # the customer is told about each refund
    notice = [m for m in env.tg.chat(anna.id).bot_messages() if "Оформлен возврат" in m.content][-1]
    assert f"Баланс: {await balance(env.dom, customer)} балл" in notice.content, notice.content  # issue 16

    await staff.send(await fresh_code(env.dom, customer))
    await checkout_to_receipt(env, staff, "2000", "Без баллов")
    op = (await last_purchase(env)).id
    env.clock.advance(timedelta(days=15))
    await env.press(staff, "Возврат")
    await env.press(staff, "Вернуть всё")
    await env.settle()
    assert await count(env, OperationKind.REFUND) == 2
    await staff.command("refund", f"{op} 500")
    await staff.expect_text("только владелец")
    await env.owner.command("refund", f"{op} 500")
    await env.owner.expect_text("Оформить?")
    await env.press(env.owner, "Отмена")
    await env.owner.expect_text("Возврат не оформлен")
    await env.owner.command("refund", f"{op} 500")
    await env.press(env.owner, "✅ Вернуть 500\u00a0₽")
    await env.owner.expect_text("Возврат по покупке")
    await env.owner.command("refund", f"{op}")
    await env.owner.expect_text("1\u00a0500")
    await env.owner.command("refund", "abc")
    await env.owner.expect_text("Формат: /refund")
    assert await count(env, OperationKind.REFUND) == 4


# --- roles ------------------------------------------------------------------------------------

@sqlite_only
async def test_invite_revoke_and_forged_callbacks(botenv: BotEnv) -> None:
    env = botenv
    owner = env.owner
    await owner.command("staff")
    await owner.expect_text("Сотрудники")
    await env.press(owner, "Ссылка-приглашение")
    invite = await owner.expect_text("действует 24 часа")
    payload = re.search(r"start=(staff_[A-Za-z0-9_-]+)", invite.content)
    assert payload is not None
    newbie = env.customer("Ольга")
    await newbie.start(payload.group(1))
    await newbie.expect_text("Добро пожаловать в команду")
    await env.press(newbie, "Изменить имя")
    await newbie.send("Ольга К.")
    await newbie.expect_text("Ольга К.")
    other = env.customer("Чужой")
    await other.start(payload.group(1))
    await other.expect_text("уже присоединились")

    anna, _, code = await customer_with_code(env)
    await newbie.send(code)
    await newbie.expect_text("Анна")
    await newbie.send("1000")
    quote = await newbie.expect_text("Чек")
    # A customer forging the staff button's callback data: nothing happens, it is logged.
    forged = await anna.press_callback(quote.callback_data("Без баллов"))
    assert forged.text == env.text(anna, "not-allowed")
    assert await count(env) == 0
    # The owner revokes her; her old buttons stop working at once.
    await owner.command("staff")
    await owner.expect_text("Ольга К.")
    await env.press(owner, "Отозвать: Ольга К.")
    await env.settle()
    async with env.db.reading() as s:
        assert not (await s.execute(select(Staff.active).where(Staff.telegram_id == newbie.id))).scalar_one()
    refused = await newbie.press_callback(quote.callback_data("Без баллов"), quote.message_id)
    assert refused.text == env.text(newbie, "not-allowed")
    await newbie.send(await fresh_code(env.dom, (await env.customer_id(anna)) or 0))
    await env.settle()
    assert not any("Введите сумму" in m.content for m in newbie.chat.bot_messages()[-1:])
    async with env.db.reading() as s:
        refusals = (await s.execute(select(func.count(AuditEntry.id))
                                    .where(AuditEntry.action == "staff.callback_refused"))).scalar()
    assert refusals == 2
    assert await count(env) == 0


@sqlite_only
async def test_own_account_is_refused(botenv: BotEnv) -> None:
    env = botenv
    maria = env.customer("Мария")
    own = await env.register(maria)
    await env.add_staff(maria, "Мария")
    await maria.send(await fresh_code(env.dom, own))
    await maria.expect_text("своей собственной карте")


# --- fraud, /me, sale without a card --------------------------------------------------------

@sqlite_only
async def test_fraud_alert_reaches_the_staff_group_and_me_numbers(botenv: BotEnv) -> None:
    env = botenv
    _, customer, _ = await customer_with_code(env)
    staff = await cashier(env)
    async with env.db.reading() as s:
        staff_id = (await s.execute(select(Staff.id).where(Staff.telegram_id == staff.id))).scalar_one()
    actor = StaffActor(telegram_id=staff.id, staff_id=staff_id)
    for _ in range(5):  # the limit is 5 operations a day for one customer
        view = await start_checkout(env.dom, actor, customer, 10_000, found_by="code",
                                    code=await fresh_code(env.dom, customer))
        await choose_points(env.dom, actor, view.quote_id, 0)
        await confirm_checkout(env.dom, actor, view.quote_id, alert_chat_id=env.settings.staff_chat_id)
    await staff.send(await fresh_code(env.dom, customer))
    await checkout_to_receipt(env, staff, "1000", "Без баллов")
    await env.staff_chat.expect_text("Необычная активность")
    await staff.command("sale", "700")
    await staff.expect_text("Продажа без карты")
    await staff.command("me")
    me = await staff.expect_text("ваши показатели")
    assert "Покупок: 6" in me.content and "продаж без карты: 1" in me.content
    assert "start=e_" in me.content


@sqlite_only
async def test_personal_link_enrolment_counts_in_me(botenv: BotEnv) -> None:
    env = botenv
    staff = await cashier(env)
    await staff.command("me")
    first = await staff.expect_text("ваши показатели")
    link = re.search(r"start=(e_[a-z0-9]+)", first.content)
    assert link is not None and "Новых клиентов через вас: 0" in first.content
    await env.register(env.customer("Гость"), payload=link.group(1))
    await staff.command("me")
    again = await staff.expect_text("ваши показатели")
    assert "Новых клиентов через вас: 1" in again.content


@sqlite_only
async def test_a_command_while_renaming_is_not_taken_for_the_name(botenv: BotEnv) -> None:
    env = botenv
    staff = await cashier(env)
    await staff.command("me")
    await staff.expect_text("ваши показатели")
    await staff.press_callback(StaffNameCb(action="change").pack())
    await staff.expect_text(env.text(staff, "staff-ask-name"))
    await staff.command("me")
    await staff.expect_text("ваши показатели")
    async with env.db.reading() as s:
        name = (await s.execute(select(Staff.display_name).where(Staff.telegram_id == staff.id))).scalar_one()
    assert name == "Мария"
    await staff.send("Мария К.")
    await staff.expect_text("Мария К.")


async def _phone_request_for_50_points(
    env: BotEnv,
) -> tuple[FakeUser, int, FakeUser, ChatMessage, ChatMessage]:
    """Anna registers; a cashier finds her by phone, "other number" 50 points, Confirm: she is
    asked. Returns (Anna, her customer id, the cashier, the quote message — whose buttons stay
    live — and Anna's request)."""
    anna = env.customer("Анна", phone="+79161234567")
    customer = await env.register(anna)
    staff = await cashier(env)
    await staff.send("+79161234567")
    await staff.expect_text("Анна")
    await staff.send("1000")
    quote = await staff.expect_text("Чек")
    await env.press(staff, "Другое число")
    await staff.expect_text("Не больше 100")
    await staff.send("50")
    await staff.expect_text("Баллами: 50")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Ждём подтверждения клиента")
    request = await anna.expect_text("Кассир хочет оплатить")
    return anna, customer, staff, quote, request


@sqlite_only
async def test_cancelled_checkout_cannot_be_confirmed_by_the_customer_later(botenv: BotEnv) -> None:
    env = botenv
    anna, customer, staff, quote, _ = await _phone_request_for_50_points(env)
    # The cashier cancels (the quote's own Cancel button is still there) ...
    await staff.press_callback(quote.callback_data("Отмена"), quote.message_id)
    await staff.expect_text("Расчёт отменён")
    # ... and the customer's late "Confirm" must not charge anything.
    await env.press(anna, "Подтвердить")
    await anna.expect_text(env.text(anna, "staff-customer-answer-cancelled"))
    await env.settle()
    assert await count(env) == 0
    assert await balance(env.dom, customer) == 300
    # The cancelled quote's other buttons no longer lead to a purchase either.
    refused = await staff.press_callback(quote.callback_data("Без баллов"), quote.message_id)
    assert refused.text == env.text(staff, "staff-error-quote-expired")
    assert await count(env) == 0


@sqlite_only
async def test_a_new_phone_request_replaces_the_earlier_one(botenv: BotEnv) -> None:
    env = botenv
    anna, customer, staff, quote, first = await _phone_request_for_50_points(env)
    # The cashier changes their mind on the quote's still-live buttons: 100 points.
    await staff.press_callback(quote.callback_data("Списать 100 баллов"), quote.message_id)
    await staff.expect_text("Баллами: 100")
    await env.press(staff, CONFIRM)
    await staff.expect_text("Ждём подтверждения клиента")
    await anna.expect_text("Кассир хочет оплатить")
    # The customer answers the first (outdated) request: it no longer charges anything.
    await anna.press_callback(first.callback_data("Подтвердить"), first.message_id)
    await anna.expect_text(env.text(anna, "staff-customer-answer-cancelled"))
    await env.settle()
    assert await count(env) == 0
    await env.press(anna, "Подтвердить")
    await anna.expect_text("Подтверждено")
    await env.settle()
    assert (await last_purchase(env)).points_paid == 100
    assert await balance(env.dom, customer) == 300 - 100 + 27


@sqlite_only
async def test_digit_like_characters_are_not_taken_for_numbers(botenv: BotEnv) -> None:
    """"²" passes str.isdigit() but int() refuses it: a clear message, not a crash."""
    env = botenv
    _, _, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.command("refund", "²")
    await staff.expect_text("Формат: /refund")
    await staff.send(code)
    await staff.expect_text("Анна")
    await staff.send("1000")
    await staff.expect_text("Чек")
    await env.press(staff, "Другое число")
    await staff.expect_text("Не больше 100")
    await staff.send("²")
    await staff.expect_text(env.text(staff, "staff-points-not-a-number"))


async def test_a_command_at_the_amount_prompt_runs(botenv: BotEnv) -> None:
    """At the check-amount prompt, /refund and /sale are commands, not a malformed amount."""
    env = botenv
    _, _, code = await customer_with_code(env)
    staff = await cashier(env)
    await staff.send(code)
    await staff.expect_text("Анна")  # the bot now waits for the check amount
    await staff.command("refund")  # bare: asks for the purchase number (issue 16)
    await staff.expect_text(env.text(staff, "staff-ask-refund-number"))
    await staff.command("sale")
    await staff.expect_text(env.text(staff, "staff-ask-sale-amount"))
