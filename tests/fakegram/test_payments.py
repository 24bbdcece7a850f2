"""Payments through fakegram with the real aiogram Bot: sendInvoice / createInvoiceLink and
Telegram's checks, the pre-checkout query (answer once, within 10 s of the server clock), the
successful_payment message (duplicates on demand, never forgeable from outside)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)

from fakegram import FakeTelegram, PaymentAttempt

PROVIDER = "381764678:TEST:100500"
CERTIFICATE = [LabeledPrice(label="Подарочный сертификат", amount=100_000)]  # 1 000 ₽


class ManualClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def shop_router(recorded: dict[str, int]) -> Router:
    """A tiny shop: /buy sends an invoice, the pre-checkout is declined for "soldout" payloads,
    and each successful payment is recorded once per telegram_payment_charge_id."""
    router = Router()

    @router.message(Command("buy"))
    async def buy(message: Message, bot: Bot) -> None:
        payload = (message.text or "").partition(" ")[2] or "cert:1000"
        await bot.send_invoice(
            message.chat.id, title="Сертификат", description="Сертификат на 1 000 ₽",
            payload=payload, provider_token=PROVIDER, currency="RUB", prices=CERTIFICATE,
            max_tip_amount=50_000, suggested_tip_amounts=[10_000, 20_000],
            need_name=True, need_phone_number=True,
        )

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        if query.invoice_payload.startswith("soldout"):
            await query.answer(ok=False, error_message="Сертификаты закончились")
        else:
            await query.answer(ok=True)

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        payment = message.successful_payment
        assert payment is not None
        charge = payment.telegram_payment_charge_id
        if charge in recorded:
            await message.answer(f"already recorded {charge}")
            return
        recorded[charge] = payment.total_amount
        await message.answer(f"paid {payment.total_amount} {payment.currency} "
                             f"for {payment.invoice_payload}")

    return router


@pytest_asyncio.fixture
async def shop(tg: FakeTelegram) -> AsyncIterator[dict[str, int]]:
    recorded: dict[str, int] = {}
    dp = Dispatcher()
    dp.include_router(shop_router(recorded))
    async with tg.polling(dp):
        yield recorded


@pytest.mark.asyncio
async def test_pay_an_invoice_then_a_duplicate_successful_payment(
    tg: FakeTelegram, shop: dict[str, int]
) -> None:
    alice = tg.user(id=10, first_name="Alice", last_name="Smith", phone="+79990000010")
    await alice.command("buy")
    invoice = await alice.expect()
    assert invoice.kind == "invoice" and invoice.invoice == {
        "title": "Сертификат", "description": "Сертификат на 1 000 ₽", "start_parameter": "",
        "currency": "RUB", "total_amount": 100_000,
    }
    assert invoice.button_texts == ["Pay 1000.00 RUB"]  # Telegram's default Pay button
    assert "reply_markup" not in invoice.raw  # ... which it does not echo back
    assert "<invoice 'Сертификат' 100000 RUB>" in alice.transcript()

    attempt = await alice.press("Pay 1000.00 RUB")  # the Pay button opens the payment form
    assert isinstance(attempt, PaymentAttempt) and attempt.state == "paid"
    reply = await alice.expect()
    assert reply.text == "paid 100000 RUB for cert:1000"
    payment = attempt.payment
    assert payment is not None and payment.message is not None
    assert payment.message.successful_payment == {
        "currency": "RUB", "total_amount": 100_000, "invoice_payload": "cert:1000",
        "telegram_payment_charge_id": payment.telegram_payment_charge_id,
        "provider_payment_charge_id": payment.provider_payment_charge_id,
        "order_info": {"name": "Alice Smith", "phone_number": "79990000010"},
    }
    assert payment.telegram_payment_charge_id.startswith("test_")  # a TEST provider token
    assert not payment.message.from_bot and payment.message.sender_id == alice.id
    query = tg.calls("answerPreCheckoutQuery")[0]
    assert query.params["ok"] is True and query.status == 200

    # Telegram repeats the update: same message, same charge id; the bot must not count it twice.
    tg.redeliver_payment(payment)
    assert (await alice.expect()).text == f"already recorded {payment.telegram_payment_charge_id}"
    assert shop == {payment.telegram_payment_charge_id: 100_000} and payment.deliveries == 2

    kinds = [(e.kind, e.data.get("state")) for e in tg.events
             if e.kind in ("pre_checkout_query", "payment")]
    assert kinds == [("pre_checkout_query", None), ("payment", "paid")]

    # The user cannot pay the same invoice message again: Telegram shows the receipt.
    with pytest.raises(AssertionError, match="paid already"):
        await alice.pay(invoice)


@pytest.mark.asyncio
async def test_tips_order_info_and_a_declined_pre_checkout(
    tg: FakeTelegram, shop: dict[str, int]
) -> None:
    bob = tg.user(id=11, first_name="Bob", phone="+79990000011")
    await bob.command("buy")
    await bob.expect()
    with pytest.raises(ValueError, match="tip must be 0-50000"):
        await bob.pay(tip=50_001)
    attempt = await bob.pay(tip=20_000, order_info={"name": "Robert"})
    assert attempt.ok and attempt.total_amount == 120_000
    assert (await bob.expect()).text == "paid 120000 RUB for cert:1000"
    assert attempt.payment is not None and attempt.payment.order_info == {
        "name": "Robert", "phone_number": "79990000011"}

    await bob.command("buy", "soldout:1")
    await bob.expect()
    declined = await bob.pay()
    assert declined.state == "declined" and declined.error_message == "Сертификаты закончились"
    assert declined.payment is None
    await bob.expect_no_reply(0.2)
    assert len(tg.payments) == 1 and not [m for m in bob.messages if m.successful_payment
                                          and m.successful_payment["invoice_payload"] == "soldout:1"]


@pytest.mark.asyncio
async def test_pre_checkout_query_must_be_answered_once_within_ten_seconds() -> None:
    clock = ManualClock()
    async with FakeTelegram(clock=clock) as tg:
        bot = tg.make_bot()
        try:
            carol = tg.user(id=12, first_name="Carol", phone="+79990000012", email="c@example.org")
            await bot.send_invoice(carol.id, title="Кофе", description="Капучино", payload="p1",
                                   provider_token=PROVIDER, currency="RUB", prices=CERTIFICATE,
                                   need_email=True)
            late = await carol.pay(wait=False)
            fresh = await carol.pay(wait=False)  # the invoice is unpaid yet: a second try
            updates = await bot.get_updates(timeout=0)
            query = updates[0].pre_checkout_query
            assert query is not None and query.id == late.query_id
            assert (query.from_user.id, query.currency, query.total_amount, query.invoice_payload) \
                == (carol.id, "RUB", 100_000, "p1")
            assert query.order_info is not None and query.order_info.email == "c@example.org"

            with pytest.raises(TelegramBadRequest, match='parameter "error_message" is required'):
                await bot.answer_pre_checkout_query(fresh.query_id, ok=False)
            clock.now += 10.5  # past Telegram's 10 s
            with pytest.raises(TelegramBadRequest, match="query is too old"):
                await bot.answer_pre_checkout_query(late.query_id, ok=True)
            assert late.state == "expired" and fresh.state == "expired" and not tg.payments

            retry = await carol.pay(wait=False)
            clock.now += 9.9
            assert await bot.answer_pre_checkout_query(retry.query_id, ok=True)
            assert retry.state == "paid" and len(tg.payments) == 1
            with pytest.raises(TelegramBadRequest, match="query is too old"):  # only once
                await bot.answer_pre_checkout_query(retry.query_id, ok=True)
            with pytest.raises(TelegramBadRequest, match="query is too old"):
                await bot.answer_pre_checkout_query("123", ok=True)
            paid = [u.message for u in await bot.get_updates(timeout=0) if u.message]
            assert paid and paid[-1].successful_payment is not None
            assert paid[-1].successful_payment.order_info is not None
        finally:
            await bot.session.close()


@pytest.mark.asyncio
async def test_successful_payment_cannot_be_forged(tg: FakeTelegram, bot: Bot) -> None:
    mallory = tg.user(id=66)
    staff = tg.group(title="Staff")
    forged = {"currency": "RUB", "total_amount": 100, "invoice_payload": "cert:1000",
              "telegram_payment_charge_id": "x", "provider_payment_charge_id": "y"}
    with pytest.raises(ValueError, match="only Telegram can send successful_payment"):
        await mallory.send_raw({"successful_payment": forged})
    with pytest.raises(ValueError, match="only Telegram can send"):
        await staff.send_raw(mallory, {"successful_payment": forged})
    with pytest.raises(ValueError, match="only Telegram can send invoice"):
        await mallory.send_raw({"invoice": {"title": "x"}})
    assert tg.pending_update_count == 0 and not mallory.messages


async def raw_call(tg: FakeTelegram, method: str, **fields: Any) -> dict[str, Any]:
    """A Bot API call with hand-made form fields (what a buggy client could send)."""
    async with aiohttp.ClientSession() as http, http.post(
        f"{tg.base_url}/bot{tg.token}/{method}", data={k: str(v) for k, v in fields.items()}
    ) as response:
        return dict(await response.json())


def invoice_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "title": "Сертификат", "description": "На 1 000 ₽", "payload": "cert:1000",
        "provider_token": PROVIDER, "currency": "RUB", "prices": CERTIFICATE,
    }
    kwargs.update(overrides)
    return kwargs


def prices(*amounts: int) -> list[LabeledPrice]:
    return [LabeledPrice(label=f"item {i}", amount=a) for i, a in enumerate(amounts)]


pay_first = InlineKeyboardMarkup(inline_keyboard=[
    [InlineKeyboardButton(text="Оплатить 1 000 ₽", pay=True)],
    [InlineKeyboardButton(text="Условия", url="https://example.com/terms")],
])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"title": ""}, 'parameter "title" is required'),
        ({"title": "x" * 33}, "invoice title must be 1-32 characters"),
        ({"description": "x" * 256}, "invoice description must be 1-255 characters"),
        ({"payload": "я" * 65}, "INVOICE_PAYLOAD_INVALID"),  # 130 bytes > 128
        ({"currency": "ZZZ"}, "CURRENCY_INVALID"),
        ({"prices": []}, "there must be at least one price"),
        ({"prices": [LabeledPrice(label="", amount=100_000)]}, "label must be non-empty"),
        ({"prices": prices(8652)}, "CURRENCY_TOTAL_AMOUNT_INVALID"),  # RUB minimum is 86,53 ₽
        ({"prices": prices(86_530_476)}, "CURRENCY_TOTAL_AMOUNT_INVALID"),
        ({"prices": prices(10_000, -20_000)}, "total price must be positive"),
        ({"provider_token": None}, "PAYMENT_PROVIDER_INVALID"),
        ({"provider_token": "not-a-token"}, "PAYMENT_PROVIDER_INVALID"),
        ({"max_tip_amount": -1}, "invalid max_tip_amount"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [0]}, "tip amount must be positive"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [200]}, "bigger than max_tip_amount"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [1, 2, 3, 4, 5]}, "at most 4 suggested"),
        ({"max_tip_amount": 100, "suggested_tip_amounts": [20, 10]}, "strictly increased order"),
        ({"start_parameter": "not a deep link!"}, "START_PARAM_INVALID"),
        ({"currency": "XTR", "prices": prices(50)}, "STARS_INVOICE_INVALID"),  # token given
        ({"currency": "XTR", "provider_token": "", "prices": prices(50, 50)},
         "STARS_INVOICE_INVALID"),
        ({"reply_markup": InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text="Условия", url="https://example.com/terms")]])},
         "REPLY_MARKUP_BUY_EMPTY"),
        ({"reply_markup": InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text="A", pay=True), InlineKeyboardButton(text="B", pay=True)]])},
         "BUTTON_TYPE_INVALID"),
    ],
)
async def test_send_invoice_checks_like_telegram(
    tg: FakeTelegram, bot: Bot, overrides: dict[str, Any], error: str
) -> None:
    alice = tg.user(id=10)
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.send_invoice(alice.id, **invoice_kwargs(**overrides))
    if not {"reply_markup", "start_parameter"} & overrides.keys():  # same checks for links
        with pytest.raises(TelegramBadRequest, match=error):
            await bot.create_invoice_link(**invoice_kwargs(**overrides))
    assert not alice.bot_messages() and not tg.invoices


@pytest.mark.asyncio
async def test_what_telegram_accepts_and_shows(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    for total in (8653, 86_530_475):  # the RUB limits themselves are fine
        await bot.send_invoice(alice.id, **invoice_kwargs(prices=prices(total)))
    sent = await bot.send_invoice(
        alice.id, **invoice_kwargs(prices=prices(120_000, -20_000), reply_markup=pay_first,
                                   start_parameter="gift-1000", photo_url="not a url",
                                   max_tip_amount=30_000, suggested_tip_amounts=[10_000, 30_000],
                                   send_email_to_provider=True))
    assert sent.invoice is not None and sent.invoice.total_amount == 100_000
    assert sent.invoice.start_parameter == "gift-1000"
    assert sent.reply_markup is not None and sent.reply_markup.inline_keyboard[0][0].pay
    record = tg.invoice_of(alice.last_bot_message())  # type: ignore[arg-type]
    assert record.photo_url is None  # an unusable photo URL is dropped, like TDLib does
    assert record.need_email and record.suggested_tip_amounts == [10_000, 30_000]
    tg.payment_provider_tokens = {"1744374395:LIVE:cafe"}  # only the café's own provider
    with pytest.raises(TelegramBadRequest, match="PAYMENT_PROVIDER_INVALID"):
        await bot.send_invoice(alice.id, **invoice_kwargs())
    await bot.send_invoice(alice.id, **invoice_kwargs(provider_token="1744374395:LIVE:cafe"))
    assert not tg.invoice_of(alice.last_bot_message()).is_test  # type: ignore[arg-type]
    stars = await bot.send_invoice(alice.id, **invoice_kwargs(currency="XTR", provider_token="",
                                                              prices=prices(50)))
    assert stars.invoice is not None and stars.invoice.currency == "XTR"

    # A Pay button anywhere but an invoice is refused, also when editing.
    pay_only = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Pay", pay=True)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.send_message(alice.id, "pay me", reply_markup=pay_only)
    with pytest.raises(TelegramBadRequest, match="REPLY_MARKUP_BUY_EMPTY"):
        await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id,
                                            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[
                                                InlineKeyboardButton(text="x", callback_data="x")]]))

    # Amounts are integers in the smallest units; a float never gets through.
    answer = await raw_call(tg, "sendInvoice", chat_id=alice.id, title="t", description="d",
                            payload="p", provider_token=PROVIDER, currency="RUB",
                            prices='[{"label": "x", "amount": 1000.5}]')
    assert answer["error_code"] == 400
    assert 'Field "amount" must be of type Number' in answer["description"]
    answer = await raw_call(tg, "sendInvoice", chat_id=alice.id, title="t", description="d",
                            payload="p", provider_token=PROVIDER, currency="RUB", prices="{oops")
    assert answer["description"] == "Bad Request: can't parse prices JSON object"


@pytest.mark.asyncio
async def test_invoices_in_groups_and_invoice_links(tg: FakeTelegram, shop: dict[str, int]) -> None:
    dana, eve = tg.user(id=13, first_name="Dana", phone="+1"), tg.user(id=14, first_name="Eve",
                                                                       phone="+2")
    staff = tg.group(title="Staff")
    await staff.command(dana, "buy")
    assert (await staff.expect()).invoice is not None
    for payer in (dana, eve):  # a group invoice can be paid by several members
        attempt = await staff.pay(payer)
        assert attempt.ok and attempt.payment is not None and attempt.payment.message is not None
        assert attempt.payment.message.chat_id == payer.id  # delivered in the payer's chat
        assert (await payer.expect()).text == "paid 100000 RUB for cert:1000"
    await staff.expect_no_reply(0.1)

    bot = tg.make_bot()
    try:
        link = await bot.create_invoice_link(**invoice_kwargs(payload="link:1"))
        assert link.startswith("https://t.me/$")
    finally:
        await bot.session.close()
    for _ in range(2):  # a link can be paid again and again
        assert (await eve.pay(link)).ok
        assert (await eve.expect()).text == "paid 100000 RUB for link:1"
    assert len(tg.invoice_of(link).payments) == 2 and len(shop) == 4
