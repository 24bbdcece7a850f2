"""Telegram Payments in the fake: invoices, pre-checkout queries and successful payments.

The checks follow the real Bot API server (tdlib/telegram-bot-api ``Client.cpp``:
``get_input_message_invoice``, ``get_labeled_price_parts``, ``get_suggested_tip_amounts``;
TDLib ``InputInvoice.cpp``) and the errors Telegram's servers answer with
(``CURRENCY_TOTAL_AMOUNT_INVALID``, ``INVOICE_PAYLOAD_INVALID``, ``PAYMENT_PROVIDER_INVALID``,
``STARS_INVOICE_INVALID``, ``START_PARAM_INVALID``, ``REPLY_MARKUP_BUY_EMPTY``). Where the real
wording of a server-side refusal is not public (title/description length, tip order) the
message says plainly what is wrong.

The flow a test drives (see :meth:`fakegram.FakeUser.pay`): the user pays an invoice ->
the bot gets a ``pre_checkout_query`` -> it must answer ``answerPreCheckoutQuery`` once,
within :data:`PRE_CHECKOUT_TIMEOUT` seconds of the server clock -> only with ``ok=True``
the bot gets a message with ``successful_payment`` in the payer's private chat. Nobody
outside the fake can produce that message (``inject_message`` refuses it).
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .errors import bad_request

if TYPE_CHECKING:
    from .methods import Params
    from .models import ChatMessage

__all__ = [
    "CURRENCIES",
    "PRE_CHECKOUT_TIMEOUT",
    "Currency",
    "InvoiceRecord",
    "PaymentAttempt",
    "PaymentRecord",
    "format_amount",
    "parse_invoice",
]

#: The Bot API must receive the answer to a pre-checkout query within 10 seconds.
PRE_CHECKOUT_TIMEOUT = 10.0

#: TDLib's ``check_currency_amount``: any single amount is at most 10^15 - 1 in absolute value.
_MAX_ANY_AMOUNT = 999_999_999_999_999

_PROVIDER_TOKEN = re.compile(r"\d+:(TEST|LIVE):\S+")
_START_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_STARS = "XTR"


@dataclass(frozen=True)
class Currency:
    """One entry of Telegram's ``currencies.json`` (amounts in the smallest units)."""

    code: str
    exp: int  # digits after the decimal point
    min_amount: int
    max_amount: int


#: A snapshot of https://core.telegram.org/bots/payments/currencies.json for the currencies
#: the project may use. Telegram keeps the limits near US$1 and US$10,000 and moves them with
#: exchange rates; a test that needs other limits edits ``FakeTelegram.currencies``.
CURRENCIES: dict[str, Currency] = {
    "RUB": Currency("RUB", 2, 8653, 86_530_475),
    "USD": Currency("USD", 2, 100, 1_000_000),
    "EUR": Currency("EUR", 2, 84, 848_788),
    # Telegram Stars: whole stars; the Bot API caps a Stars price at 10,000 (subscriptions).
    "XTR": Currency("XTR", 0, 1, 10_000),
}


def format_amount(amount: int, currency: Currency | str) -> str:
    """``15000, RUB`` -> ``"150.00 RUB"`` (what the Pay button says)."""
    exp = currency.exp if isinstance(currency, Currency) else CURRENCIES[currency].exp
    code = currency.code if isinstance(currency, Currency) else currency
    if exp == 0:
        return f"{amount} {code}"
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**exp)
    return f"{sign}{whole}.{part:0{exp}d} {code}"


@dataclass
class InvoiceRecord:
    """An invoice the bot created: a message (``sendInvoice``) or a link (``createInvoiceLink``)."""

    id: str
    title: str
    description: str
    payload: str
    provider_token: str
    currency: str
    prices: list[dict[str, Any]]
    total_amount: int
    max_tip_amount: int = 0
    suggested_tip_amounts: list[int] = field(default_factory=list)
    start_parameter: str = ""
    provider_data: str | None = None
    photo_url: str | None = None
    need_name: bool = False
    need_phone_number: bool = False
    need_email: bool = False
    need_shipping_address: bool = False
    send_phone_number_to_provider: bool = False
    send_email_to_provider: bool = False
    is_flexible: bool = False
    chat_id: int | None = None  # the chat of an invoice message
    message_id: int | None = None
    link: str | None = None  # https://t.me/$... for createInvoiceLink
    payments: list[PaymentRecord] = field(default_factory=list)

    @property
    def is_test(self) -> bool:
        """Sent with a provider's TEST token (Telegram marks such invoices as tests)."""
        return ":TEST:" in self.provider_token

    @property
    def pay_button_text(self) -> str:
        """The default button Telegram shows: ``Pay 150.00 RUB``."""
        return f"Pay {format_amount(self.total_amount, self.currency)}"

    def to_json(self) -> dict[str, Any]:
        """The ``Invoice`` object of the message (what Telegram echoes)."""
        return {
            "title": self.title,
            "description": self.description,
            "start_parameter": self.start_parameter,
            "currency": self.currency,
            "total_amount": self.total_amount,
        }


@dataclass
class PaymentRecord:
    """A completed payment: what the bot got in ``successful_payment``."""

    telegram_payment_charge_id: str
    provider_payment_charge_id: str
    user_id: int
    invoice: InvoiceRecord
    total_amount: int
    tip_amount: int
    order_info: dict[str, Any] | None
    message: ChatMessage | None = None  # the service message in the payer's chat
    deliveries: int = 0  # how many times the fake delivered it (duplicates included)

    def to_json(self) -> dict[str, Any]:
        """The ``SuccessfulPayment`` object."""
        data: dict[str, Any] = {
            "currency": self.invoice.currency,
            "total_amount": self.total_amount,
            "invoice_payload": self.invoice.payload,
            "telegram_payment_charge_id": self.telegram_payment_charge_id,
            "provider_payment_charge_id": self.provider_payment_charge_id,
        }
        if self.order_info:
            data["order_info"] = self.order_info
        return data


PaymentState = Literal["pending", "paid", "declined", "expired"]


@dataclass
class PaymentAttempt:
    """A user pressed Pay: the pre-checkout query sent to the bot and what became of it.

    ``state``: ``pending`` (waiting for ``answerPreCheckoutQuery``), ``paid`` (the bot said
    ok; ``payment`` is set), ``declined`` (the bot said not ok; ``error_message`` is what the
    user saw) or ``expired`` (no answer within 10 s of the server clock, or a late one).
    """

    query_id: str
    user_id: int
    invoice: InvoiceRecord
    total_amount: int
    tip_amount: int
    order_info: dict[str, Any] | None
    sent_at: float  # server clock
    state: PaymentState = "pending"
    error_message: str | None = None
    answered_at: float | None = None
    payment: PaymentRecord | None = None

    @property
    def deadline(self) -> float:
        return self.sent_at + PRE_CHECKOUT_TIMEOUT

    @property
    def done(self) -> bool:
        return self.state != "pending"

    @property
    def ok(self) -> bool:
        return self.state == "paid"

    def to_json(self, user: dict[str, Any]) -> dict[str, Any]:
        """The ``PreCheckoutQuery`` object of the update."""
        data: dict[str, Any] = {
            "id": self.query_id,
            "from": user,
            "currency": self.invoice.currency,
            "total_amount": self.total_amount,
            "invoice_payload": self.invoice.payload,
        }
        if self.order_info:
            data["order_info"] = self.order_info
        return data


# ----------------------------------------------------------------- validation


def _flag(p: Params, name: str) -> bool:
    return p.get_bool(name)


def _amount(value: Any, what: str) -> int:
    # JSON integers only: Telegram wants the smallest units, "integer, not float/double".
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"can't parse {what}: Field \"amount\" must be of type Number")
    return value


def _prices(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):  # form fields arrive decoded (methods.JSON_FIELDS)
        raise bad_request("expected an Array of labeled prices")
    prices: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse labeled price: LabeledPrice must be an Object")
        label = item.get("label")
        if not isinstance(label, str):
            raise bad_request("can't parse labeled price: Field \"label\" must be of type String")
        if not label:
            raise bad_request("can't parse labeled price: LabeledPrice label must be non-empty")
        amount = _amount(item.get("amount"), "labeled price")
        if abs(amount) > _MAX_ANY_AMOUNT:
            raise bad_request("too big amount of the currency specified")
        prices.append({"label": label, "amount": amount})
    if not prices:
        raise bad_request("there must be at least one price")
    return prices


def _tips(p: Params) -> tuple[int, list[int]]:
    max_tip = p.get("max_tip_amount")
    if max_tip in (None, ""):
        max_tip_amount = 0
    else:
        try:
            max_tip_amount = int(str(max_tip))
        except ValueError:
            raise bad_request('can\'t parse "max_tip_amount" as Number') from None
    if max_tip_amount < 0 or max_tip_amount > _MAX_ANY_AMOUNT:
        raise bad_request("invalid max_tip_amount of the currency specified")
    raw = p.get("suggested_tip_amounts")
    if raw in (None, ""):
        return max_tip_amount, []
    if not isinstance(raw, list):
        raise bad_request("expected an Array of suggested tip amounts")
    tips: list[int] = []
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise bad_request("suggested tip amount must be of type Number or String")
        try:
            tips.append(int(value))
        except ValueError:
            raise bad_request("can't parse suggested tip amount as Number") from None
    for tip in tips:
        if tip <= 0:
            raise bad_request("suggested tip amount must be positive")
        if tip > max_tip_amount:
            raise bad_request("suggested tip amount can't be bigger than max_tip_amount")
    if len(tips) > 4:
        raise bad_request("there can be at most 4 suggested tip amounts")
    if any(b <= a for a, b in itertools.pairwise(tips)):
        raise bad_request("suggested tip amounts must be passed in a strictly increased order")
    return max_tip_amount, tips


def _required(p: Params, name: str) -> str:
    value = p.get_str(name)
    if not value:
        raise bad_request(f'parameter "{name}" is required')
    return value


def parse_invoice(
    p: Params,
    currencies: dict[str, Currency],
    *,
    invoice_id: str,
    accepted_tokens: set[str] | None = None,
) -> InvoiceRecord:
    """Validate the parameters of ``sendInvoice`` / ``createInvoiceLink`` like Telegram."""
    title = _required(p, "title")
    description = _required(p, "description")
    payload = _required(p, "payload")
    currency_code = _required(p, "currency")
    if p.get("prices") in (None, ""):
        raise bad_request('parameter "prices" is required')
    prices = _prices(p.get("prices"))
    max_tip_amount, tips = _tips(p)

    if not 1 <= len(title) <= 32:
        raise bad_request("invoice title must be 1-32 characters long")
    if not 1 <= len(description) <= 255:
        raise bad_request("invoice description must be 1-255 characters long")
    if not 1 <= len(payload.encode()) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")

    currency = currencies.get(currency_code)
    if currency is None:
        raise bad_request("CURRENCY_INVALID")
    total = sum(price["amount"] for price in prices)
    if total <= 0:
        raise bad_request("total price must be positive")
    if total > _MAX_ANY_AMOUNT:
        raise bad_request("total price is too big")

    token = p.get_str("provider_token") or ""
    if currency.code == _STARS:
        # Stars: no provider, exactly one price, no tips.
        if token or len(prices) != 1 or max_tip_amount or tips:
            raise bad_request("STARS_INVOICE_INVALID")
    elif not _PROVIDER_TOKEN.fullmatch(token) or (
        accepted_tokens is not None and token not in accepted_tokens
    ):
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    if not currency.min_amount <= total <= currency.max_amount:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")

    start_parameter = p.get_str("start_parameter") or ""
    if start_parameter and not _START_PARAMETER.fullmatch(start_parameter):
        raise bad_request("START_PARAM_INVALID")
    photo_url = p.get_str("photo_url")
    if photo_url is not None and not re.match(r"https?://\S+$", photo_url):
        photo_url = None  # TDLib drops a photo URL it cannot register, without an error

    send_phone = _flag(p, "send_phone_number_to_provider")
    send_email = _flag(p, "send_email_to_provider")
    is_flexible = _flag(p, "is_flexible")
    return InvoiceRecord(
        id=invoice_id,
        title=title,
        description=description,
        payload=payload,
        provider_token=token,
        currency=currency.code,
        prices=prices,
        total_amount=total,
        max_tip_amount=max_tip_amount,
        suggested_tip_amounts=tips,
        start_parameter=start_parameter,
        provider_data=p.get_str("provider_data"),
        photo_url=photo_url,
        # As TDLib does: sending a field to the provider implies asking for it.
        need_name=_flag(p, "need_name"),
        need_phone_number=_flag(p, "need_phone_number") or send_phone,
        need_email=_flag(p, "need_email") or send_email,
        need_shipping_address=_flag(p, "need_shipping_address") or is_flexible,
        send_phone_number_to_provider=send_phone,
        send_email_to_provider=send_email,
        is_flexible=is_flexible,
    )


def check_invoice_markup(markup: dict[str, Any] | None) -> None:
    """An invoice's inline keyboard must start with the Pay button (and have no other)."""
    if markup is None:
        return
    rows = markup.get("inline_keyboard")
    if rows is None:
        raise bad_request("inline keyboard expected")
    flat = [button for row in rows for button in row]
    if not flat or not flat[0].get("pay"):
        raise bad_request("REPLY_MARKUP_BUY_EMPTY")
    if any(button.get("pay") for button in flat[1:]):
        raise bad_request("BUTTON_TYPE_INVALID")


def new_charge_ids(is_test: bool) -> tuple[str, str]:
    """``telegram_payment_charge_id`` and ``provider_payment_charge_id`` (unique, opaque)."""
    telegram = f"{'test' if is_test else 'live'}_{secrets.token_hex(12)}"
    provider = f"fakegram_provider_{secrets.token_hex(8)}"
    return telegram, provider


def new_invoice_slug() -> str:
    """The ``$...`` part of an invoice link."""
    return secrets.token_urlsafe(18).replace("-", "a").replace("_", "b")
