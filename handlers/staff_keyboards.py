"""Callback data factories and keyboards of the staff area.

Buttons carry ids only (a quote, an operation, a confirmation); everything else is read
from the database when pressed, and every press re-checks the presser's role.
"""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from pydantic import Field

from bot.i18n import Translator
from bot.markups import register_markup
from handlers.staff_views import percent_text
from models.till import CheckoutView, StaffMember

# An id in callback data: a forged number beyond a 64-bit column fails to unpack (the press falls
# through to "stale button") instead of reaching the database as an overflow and a traceback.
RowId = Annotated[int, Field(ge=0, le=2**63 - 1)]

# Prefixes of callbacks only staff may press; a press by anyone else is refused and logged.
STAFF_PREFIXES = ("co", "rc", "rf", "pn", "sa", "sn")


class CheckoutCb(CallbackData, prefix="co"):
    action: str  # max, none, other, cert, pick, confirm, back, cancel
    quote_id: RowId
    arg: RowId = 0  # a certificate lot id for "pick"


class ReceiptCb(CallbackData, prefix="rc"):
    action: str  # ask, full, part
    operation_id: RowId


class RefundCb(CallbackData, prefix="rf"):
    """A partial refund's confirmation: `go` refunds `amount` kopecks, `no` does nothing."""

    action: str  # go, no
    operation_id: RowId
    amount: RowId


class PhoneNewCb(CallbackData, prefix="pn"):
    phone: str  # E.164 digits without "+"


class StaffAdminCb(CallbackData, prefix="sa"):
    action: str  # invite, revoke
    staff_id: RowId = 0


class StaffNameCb(CallbackData, prefix="sn"):
    action: str  # change


class PhoneConfirmCb(CallbackData, prefix="pc"):
    """Pressed by the customer in their own chat; checked against the confirmation's customer."""

    confirmation_id: RowId
    accept: bool


def _kb(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def cancel_keyboard(t: Translator, quote_id: int = 0) -> InlineKeyboardMarkup:
    return _kb([[InlineKeyboardButton(text=t("staff-btn-cancel"),
                                      callback_data=CheckoutCb(action="cancel", quote_id=quote_id).pack())]])


def quote_keyboard(t: Translator, view: CheckoutView) -> InlineKeyboardMarkup:
    qid = view.quote_id

    def button(text: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=CheckoutCb(action=action, quote_id=qid).pack())

    rows: list[list[InlineKeyboardButton]] = []
    if view.can_redeem and view.quote.max_points > 0:
        rows.append([button(t("staff-btn-pay-max", points=view.quote.max_points), "max")])
        rows.append([button(t("staff-btn-pay-other"), "other"), button(t("staff-btn-no-points"), "none")])
        if view.several_certificates:
            rows.append([button(t("staff-btn-certificate"), "cert")])
    else:
        rows.append([button(t("staff-btn-accrue"), "none")])
    rows.append([button(t("staff-btn-cancel"), "cancel")])
    return _kb(rows)


def certificates_keyboard(t: Translator, view: CheckoutView) -> InlineKeyboardMarkup:
    rows = []
    for option in view.quote.certificates:
        if option.allowed <= 0:
            continue
        mark = "✓ " if view.quote.certificate and view.quote.certificate.lot_id == option.lot_id else ""
        until = t.day(option.expires_at) if option.expires_at else "—"
        text = mark + t("staff-btn-certificate-option", points=option.remaining,
                        percent=percent_text(option.max_redeem_percent), until=until)
        rows.append([InlineKeyboardButton(text=text, callback_data=CheckoutCb(
            action="pick", quote_id=view.quote_id, arg=option.lot_id).pack())])
    rows.append([InlineKeyboardButton(text=t("staff-btn-back"),
                                      callback_data=CheckoutCb(action="back", quote_id=view.quote_id).pack())])
    return _kb(rows)


def confirm_keyboard(t: Translator, quote_id: int) -> InlineKeyboardMarkup:
    return _kb([
        [InlineKeyboardButton(text=t("staff-btn-confirm"),
                              callback_data=CheckoutCb(action="confirm", quote_id=quote_id).pack())],
        [InlineKeyboardButton(text=t("staff-btn-back"),
                              callback_data=CheckoutCb(action="back", quote_id=quote_id).pack()),
         InlineKeyboardButton(text=t("staff-btn-cancel"),
                              callback_data=CheckoutCb(action="cancel", quote_id=quote_id).pack())],
    ])


def receipt_keyboard(t: Translator, operation_id: int) -> InlineKeyboardMarkup:
    return _kb([[InlineKeyboardButton(text=t("staff-btn-refund"),
                                      callback_data=ReceiptCb(action="ask", operation_id=operation_id).pack())]])


def refund_keyboard(t: Translator, operation_id: int, refundable: int) -> InlineKeyboardMarkup:
    return _kb([
        [InlineKeyboardButton(text=t("staff-btn-refund-full", amount=refundable),
                              callback_data=ReceiptCb(action="full", operation_id=operation_id).pack())],
        [InlineKeyboardButton(text=t("staff-btn-refund-partial"),
                              callback_data=ReceiptCb(action="part", operation_id=operation_id).pack())],
    ])


def refund_confirm_keyboard(t: Translator, operation_id: int, amount: int) -> InlineKeyboardMarkup:
    return _kb([[
        InlineKeyboardButton(text=t("staff-btn-refund-go", amount=amount),
                             callback_data=RefundCb(action="go", operation_id=operation_id, amount=amount).pack()),
        InlineKeyboardButton(text=t("staff-btn-refund-no"),
                             callback_data=RefundCb(action="no", operation_id=operation_id, amount=amount).pack()),
    ]])


def new_phone_keyboard(t: Translator, e164: str) -> InlineKeyboardMarkup:
    return _kb([
        [InlineKeyboardButton(text=t("staff-btn-create-phone"),
                              callback_data=PhoneNewCb(phone=e164.lstrip("+")).pack())],
        [InlineKeyboardButton(text=t("staff-btn-cancel"),
                              callback_data=CheckoutCb(action="cancel", quote_id=0).pack())],
    ])


def staff_list_keyboard(t: Translator, members: list[StaffMember]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=t("staff-btn-invite"),
                                  callback_data=StaffAdminCb(action="invite").pack())]]
    for member in members:
        if member.role == "owner":
            continue
        rows.append([InlineKeyboardButton(text=t("staff-btn-revoke", name=member.display_name),
                                          callback_data=StaffAdminCb(action="revoke", staff_id=member.id).pack())])
    return _kb(rows)


def rename_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return _kb([[InlineKeyboardButton(text=t("staff-btn-rename"),
                                      callback_data=StaffNameCb(action="change").pack())]])


def phone_confirm_keyboard(t: Translator, confirmation_id: int) -> InlineKeyboardMarkup:
    """Sent to the customer (through the outbox) after a phone lookup with points."""
    return _kb([[
        InlineKeyboardButton(text=t("button-confirm"),
                             callback_data=PhoneConfirmCb(confirmation_id=confirmation_id, accept=True).pack()),
        InlineKeyboardButton(text=t("button-decline"),
                             callback_data=PhoneConfirmCb(confirmation_id=confirmation_id, accept=False).pack()),
    ]])


# --- Keyboards attached to outbox messages (bot/markups.py registry) ------------------------

@register_markup("phone_confirm")
def phone_confirm_markup(t: Translator, *, confirmation_id: int) -> InlineKeyboardMarkup:
    return phone_confirm_keyboard(t, int(confirmation_id))


@register_markup("staff_receipt")
def staff_receipt_markup(t: Translator, *, operation_id: int) -> InlineKeyboardMarkup:
    return receipt_keyboard(t, int(operation_id))
