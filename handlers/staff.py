"""Staff at the till: invites, the till's /start, finding the customer, checkout, refunds,
/me, /sale.

Thin handlers: parse, call `models.till`, render (`handlers.staff_views`). Included
before the customer router, so every handler that is not meant for everyone carries the
`IsStaff` filter (the role the middleware re-read from the database for this update):
for anyone else the update falls through to the customer router. Works in private chats
and in the staff group (settings.staff_chat_id); the bot must be an admin of the group
(or have privacy mode off) to see photos and plain texts there (docs/TELEGRAM.md, "Chats").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from html import escape
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject

from bot import role_commands
from bot.config import Settings
from bot.deeplinks import make_link, parse_deep_link
from bot.i18n import I18n, Translator
from bot.keyboards import NO_PREVIEW, edit_pressed, staff_menu
from bot.middlewares import Actor
from bot.qr import ImageTooLarge, NotAnImage, decode_qr_async, extract_customer_code
from bot.sender import wake_sender
from bot.services import Services
from handlers.common import NOT_A_COMMAND, IsOwner, esc
from handlers.errors import answer_domain_errors
from handlers.owner_views import owner_menu_keyboard, owner_menu_text
from handlers.staff_keyboards import (
    STAFF_PREFIXES,
    CheckoutCb,
    PhoneConfirmCb,
    PhoneNewCb,
    ReceiptCb,
    RefundCb,
    StaffAdminCb,
    StaffNameCb,
    cancel_keyboard,
    certificates_keyboard,
    confirm_keyboard,
    new_phone_keyboard,
    quote_keyboard,
    receipt_keyboard,
    refund_confirm_keyboard,
    refund_keyboard,
    rename_keyboard,
    staff_list_keyboard,
)
from handlers.staff_views import (
    confirmation_text,
    customer_found,
    error_text,
    me_text,
    quote_text,
    receipt_text,
    refund_preview_text,
    refund_text,
)
from models import till as domain
from models.kernel import Domain, DomainError, InvalidPhone, foreign_digits, is_digits, normalize_phone, parse_amount
from models.purchase import RefundResult
from models.till import AwaitingCustomer, CheckoutView, Committed, Requoted, StaffActor

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 20 * 1024 * 1024  # getFile's limit (docs: TELEGRAM.md, "Limits")
_CODE_RE = re.compile(r"^\s*([0-9]{3})[ \-]?([0-9]{3})\s*$")  # [0-9]: \d also reads other scripts' digits
_NUMBER_LIKE = re.compile(r"[\d\s+\-().,]+")  # \d on purpose: digits of any script, to answer them
MAX_POINTS_DIGITS = 12  # more is no number of points anybody has
MAX_ID_DIGITS = 18  # an operation number fits a 64-bit column


class Till(StatesGroup):
    amount = State()  # data: customer_id, found_by, code
    points = State()  # data: quote_id
    refund_amount = State()  # data: operation_id
    refund_number = State()  # a bare /refund: the purchase number (and an amount) comes next
    sale_amount = State()
    name = State()


# --- Filters -----------------------------------------------------------------------------------

class IsStaff(Filter):
    """Active staff or owner right now (re-read from the database by the middleware)."""

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and actor.is_staff


class TillChat(Filter):
    """A private chat or the staff group; other groups are not a till."""

    async def __call__(self, event: TelegramObject, settings: Settings | None = None) -> bool:
        message = event.message if isinstance(event, CallbackQuery) else event
        chat = getattr(message, "chat", None)
        if chat is None:
            return False
        return bool(chat.type == "private" or (settings is not None and chat.id == settings.staff_chat_id))


class LooksLikeCode(Filter):
    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        match = _CODE_RE.match(message.text or "")
        return {"typed_code": match.group(1) + match.group(2)} if match else False


class ForeignDigits(Filter):
    """A code, phone or amount typed with digits other than 0-9 (an Arabic or full-width keyboard)."""

    async def __call__(self, message: Message) -> bool:
        text = message.text or ""
        return bool(_NUMBER_LIKE.fullmatch(text)) and foreign_digits(text)


class LooksLikePhone(Filter):
    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        text = message.text or ""
        if sum(ch in "0123456789" for ch in text) < 10:
            return False
        try:
            return {"phone": normalize_phone(text)}
        except InvalidPhone:
            return False


router = Router(name="staff")
public = Router(name="staff-public")  # invites and the customer's phone confirmation
owner = Router(name="staff-owner")
till = Router(name="staff-till")
denied = Router(name="staff-denied")  # staff buttons pressed by anyone else
for sub in (owner, till):
    sub.message.filter(IsStaff(), TillChat())
    sub.callback_query.filter(IsStaff(), TillChat())
owner.message.filter(IsOwner())
owner.callback_query.filter(IsOwner())
router.include_routers(public, owner, till, denied)


# --- Small helpers -------------------------------------------------------------------------------

def as_staff(actor: Actor) -> StaffActor:
    return StaffActor(telegram_id=actor.telegram_id, staff_id=actor.staff_id, is_owner=actor.is_owner)


_edit = edit_pressed  # bot/keyboards.py


# A domain error a staff handler lets through: the sentence for it (handlers/errors.py), as a
# reply to a message, as an alert on a button. Handlers answering otherwise keep their `except`.

async def _answer_error(callback: CallbackQuery, t: Translator, exc: DomainError) -> None:
    await callback.answer(error_text(t, exc), show_alert=True)


async def _reply_error(message: Message, t: Translator, exc: DomainError) -> None:
    await message.answer(error_text(t, exc))


answer_domain_errors(router, message=_reply_error, callback=_answer_error)


def _alert_chat(settings: Settings) -> int | None:
    return settings.staff_chat_id


# --- Invites (anyone may open one) ---------------------------------------------------------------

@public.message(CommandStart(deep_link=True, magic=F.args.regexp(r"^staff_[A-Za-z0-9_-]{8,40}$")),
                F.chat.type == "private")
async def accept_invite(message: Message, command: CommandObject, dom: Domain, t: Translator,
                        state: FSMContext, services: Services, bot: Bot, i18n: I18n) -> None:
    """The new member's first message explains the three ways to find a customer and brings the
    till's keyboard; the name they go by comes next, with the button to change it. The owner's
    notice was written with the join (models/till/); then their own command list."""
    assert message.from_user is not None and command.args is not None
    token = command.args.removeprefix("staff_")
    member = await domain.accept_invite(dom, token, message.from_user.id, message.from_user.full_name)
    wake_sender(services)
    await state.clear()
    await message.answer("\n\n".join((t("staff-welcome", name=escape(member.display_name)), t("staff-find-ways"),
                                       t("staff-keys-hint"))), reply_markup=staff_menu(t))
    await message.answer(t("staff-name-is", name=escape(member.display_name)), reply_markup=rename_keyboard(t))
    await role_commands.set_for(bot, i18n, message.chat.id, role_commands.STAFF)


# --- The customer's answer to a phone lookup (pressed in the customer's own chat) -------------

@public.callback_query(PhoneConfirmCb.filter())
async def phone_confirmation_answer(callback: CallbackQuery, callback_data: PhoneConfirmCb, dom: Domain,
                                    t: Translator, settings: Settings) -> None:
    try:
        answer = await domain.answer_phone_confirmation(
            dom, callback_data.confirmation_id, callback.from_user.id, callback_data.accept,
            alert_chat_id=_alert_chat(settings))
    except domain.NotAllowed:
        log.warning("phone confirmation %s pressed by %s, not its customer",
                    callback_data.confirmation_id, callback.from_user.id)
        await callback.answer(t("not-allowed"), show_alert=True)
        return
    except DomainError as exc:
        await _edit(callback, error_text(t, exc))
        await callback.answer()
        return
    key = {"confirmed": "staff-customer-confirmed", "declined": "staff-customer-declined",
           "failed": "staff-customer-answer-failed", "stale": "staff-customer-answer-failed",
           "cancelled": "staff-customer-answer-cancelled"}.get(
        answer.status, "staff-customer-answer-stale")
    args = {"points": t("points", n=answer.result.points_paid)} if answer.result else {}
    await _edit(callback, t(key, **args))
    await callback.answer()


# --- Owner: the staff list, invites, revocation ---------------------------------------------

async def staff_list_view(dom: Domain, actor: Actor, t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    """/staff's text and buttons (also the owner menu's Staff, handlers/owner.py)."""
    members = await domain.list_staff(dom, as_staff(actor))
    lines = [t("staff-list-head")] + [
        t("staff-list-row", name=escape(m.display_name), role=t(f"staff-role-{m.role}")) for m in members]
    return "\n".join(lines), staff_list_keyboard(t, members)


@owner.message(Command("staff"))
async def staff_list(message: Message, dom: Domain, actor: Actor, t: Translator) -> None:
    text, markup = await staff_list_view(dom, actor, t)
    await message.answer(text, reply_markup=markup)


@owner.callback_query(StaffAdminCb.filter(F.action == "invite"))
async def staff_invite(callback: CallbackQuery, dom: Domain, actor: Actor, t: Translator,
                       services: Services) -> None:
    invite = await domain.create_invite(dom, as_staff(actor))
    link = make_link(services.bot_username, "staff_invite", invite.token)
    if isinstance(callback.message, Message):
        await callback.message.answer(t("staff-invite-created", link=link))
    await callback.answer()


@owner.callback_query(StaffAdminCb.filter(F.action == "revoke"))
async def staff_revoke(callback: CallbackQuery, callback_data: StaffAdminCb, dom: Domain, actor: Actor,
                       t: Translator, bot: Bot) -> None:
    member = await domain.revoke_staff(dom, as_staff(actor), callback_data.staff_id)
    text, markup = await staff_list_view(dom, actor, t)
    await _edit(callback, text, markup)
    await callback.answer(t("staff-revoked", name=member.display_name))
    if member.telegram_id is not None:  # back to the customer's default command list
        await role_commands.clear_for(bot, member.telegram_id)


# --- Staff: name, /me -------------------------------------------------------------------------

@till.callback_query(StaffNameCb.filter())
async def ask_name(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await state.set_state(Till.name)
    if isinstance(callback.message, Message):
        await callback.message.answer(t("staff-ask-name"))
    await callback.answer()


@till.message(Till.name, F.text, NOT_A_COMMAND)
async def set_name(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator) -> None:
    try:
        member = await domain.rename_staff(dom, as_staff(actor), message.text or "")
    except DomainError:
        await message.answer(t("staff-ask-name"))
        return
    await state.clear()
    await message.answer(t("staff-name-set", name=escape(member.display_name)))


@till.message(Command("me"))
async def me(message: Message, dom: Domain, actor: Actor, t: Translator, services: Services) -> None:
    stats = await domain.staff_stats(dom, as_staff(actor))
    link = make_link(services.bot_username, "enrol", stats.referral_code)
    await message.answer(me_text(t, stats, link), link_preview_options=NO_PREVIEW)


# --- Finding the customer ---------------------------------------------------------------------

async def _open_customer(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator,
                         *, code: str | None = None, phone_card: domain.CustomerCard | None = None,
                         found_by: str) -> None:
    card = phone_card or await domain.find_by_code(dom, as_staff(actor), code or "", found_by)
    await state.set_state(Till.amount)
    await state.set_data({"customer_id": card.customer_id, "found_by": found_by, "code": code})
    await message.answer(customer_found(t, card, found_by), reply_markup=cancel_keyboard(t))


@till.message(CommandStart(deep_link=True, magic=F.args.regexp(r"^c_[0-9]{6}$")))
async def scanned_card(message: Message, command: CommandObject, state: FSMContext, dom: Domain, actor: Actor,
                       t: Translator) -> None:
    """The phone camera opened the card's QR (a t.me deep link with the code)."""
    await _open_customer(message, state, dom, actor, t, code=(command.args or "")[2:], found_by="qr")


@till.message(CommandStart(), F.chat.type == "private")
async def role_start(message: Message, command: CommandObject, state: FSMContext, actor: Actor, t: Translator,
                     services: Services) -> None:
    """/start for staff and owners: their own screen, never the customer's consent.

    A staff member may also be a registered member of the program. /start still shows the
    till (that is what they open the bot for at work), with their own card one key away
    ("My card", /card; a colleague serves it, models/till/ check_not_own_account); one who
    is not a member yet is told how to become one (/join). A member opening a campaign link
    gets it as any member does (handlers/customer_registration.py).
    """
    if actor.customer_id is not None and parse_deep_link(command.args).kind == "campaign":
        raise SkipHandler()
    await state.clear()
    name = esc(actor.staff_name or actor.first_name)
    if actor.is_owner:
        await message.answer(t("owner-home", name=name), reply_markup=staff_menu(t, owner=True))
        await message.answer(await owner_menu_text(t, services), reply_markup=owner_menu_keyboard(t))
        return
    member_line = t("staff-home-own-card") if actor.customer_id is not None else t("staff-home-join")
    await message.answer("\n\n".join((t("staff-home", name=name), t("staff-find-ways"), t("staff-keys-hint"),
                                       member_line)), reply_markup=staff_menu(t))


async def find_help(message: Message, state: FSMContext, actor: Actor, t: Translator) -> None:
    """The "Find a customer" key: the three ways (handlers/role_keys.py)."""
    await state.clear()
    await message.answer(t("staff-find-ways"), reply_markup=staff_menu(t, owner=actor.is_owner))


@till.message(StateFilter(None), F.text, LooksLikeCode())
async def typed_code(message: Message, typed_code: str, state: FSMContext, dom: Domain, actor: Actor,
                     t: Translator) -> None:
    await _open_customer(message, state, dom, actor, t, code=typed_code, found_by="code")


@till.message(StateFilter(None), F.text, ForeignDigits())
async def typed_foreign_digits(message: Message, t: Translator) -> None:
    """Not a code nor a phone for us: say which digits to use instead of ignoring it."""
    await message.answer(t("input-digits"))


@till.message(StateFilter(None), F.text, LooksLikePhone())
async def typed_phone(message: Message, phone: str, state: FSMContext, dom: Domain, actor: Actor,
                      t: Translator) -> None:
    card = await domain.find_by_phone(dom, as_staff(actor), phone)
    if card is None:
        await message.answer(t("staff-phone-unknown", phone=phone), reply_markup=new_phone_keyboard(t, phone))
        return
    await _open_customer(message, state, dom, actor, t, phone_card=card, found_by="phone")


@till.callback_query(PhoneNewCb.filter())
async def create_by_phone(callback: CallbackQuery, callback_data: PhoneNewCb, state: FSMContext, dom: Domain,
                          actor: Actor, t: Translator) -> None:
    card = await domain.create_customer_by_phone(dom, as_staff(actor), "+" + callback_data.phone)
    await state.set_state(Till.amount)
    await state.set_data({"customer_id": card.customer_id, "found_by": "phone", "code": None})
    await _edit(callback, customer_found(t, card, "phone"), cancel_keyboard(t))
    await callback.answer()


async def _photo_bytes(message: Message, bot: Bot) -> bytes | None:
    media = message.photo[-1] if message.photo else message.document
    if media is None:
        return None
    if media.file_size and media.file_size > MAX_FILE_BYTES:
        raise ImageTooLarge("over getFile's limit")
    data = await bot.download(media)
    return data.read() if data is not None else None


@till.message(StateFilter(None, Till.amount), F.photo | F.document)
async def photo_of_qr(message: Message, bot: Bot, state: FSMContext, dom: Domain, actor: Actor, t: Translator,
                      services: Services) -> None:
    """A photo of the card's QR (sent here or in the staff group), or an image file.

    In the staff group people also share pictures that are not cards: there the bot only
    answers when it found a card, so it never chats back at every photo.
    """
    quiet = message.chat.type != "private"
    problem: str | None = None
    code: str | None = None
    try:
        texts = await decode_qr_async(await _photo_bytes(message, bot) or b"")
    except ImageTooLarge:
        problem = "qr-too-large"
    except NotAnImage:
        problem = "qr-not-an-image"
    else:
        code = extract_customer_code(texts, services.bot_username)
        if code is None:
            problem = "qr-foreign" if texts else "qr-not-found"
    if code is None:
        if not quiet:
            await message.answer(t(problem or "qr-not-found"))
        return
    await state.clear()
    await _open_customer(message, state, dom, actor, t, code=code, found_by="qr")


# --- Checkout ------------------------------------------------------------------------------------

@till.message(Till.amount, F.text, NOT_A_COMMAND)
async def typed_amount(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator) -> None:
    data = await state.get_data()
    amount = parse_amount(message.text or "", await domain.max_check(dom))
    view = await domain.start_checkout(
        dom, as_staff(actor), int(data["customer_id"]), amount, found_by=str(data["found_by"]),
        code=data.get("code"), chat_id=message.chat.id)
    await state.clear()
    await _show_quote_message(message, t, view)


async def _show_quote_message(message: Message, t: Translator, view: CheckoutView) -> None:
    if not view.can_redeem or view.quote.max_points == 0:
        # Nothing to choose: straight to the confirmation (one tap fewer).
        await message.answer(quote_text(t, view) + "\n\n" + confirmation_text(t, view),
                             reply_markup=confirm_keyboard(t, view.quote_id))
        return
    await message.answer(quote_text(t, view), reply_markup=quote_keyboard(t, view))


@till.callback_query(CheckoutCb.filter(F.action.in_({"max", "none"})))
async def choose_points(callback: CallbackQuery, callback_data: CheckoutCb, dom: Domain, actor: Actor,
                        t: Translator) -> None:
    points = None if callback_data.action == "max" else 0
    view = await domain.choose_points(dom, as_staff(actor), callback_data.quote_id, points)
    await _show_confirmation(callback, t, view)
    await callback.answer()


async def _show_confirmation(callback: CallbackQuery, t: Translator, view: CheckoutView) -> None:
    if view.operation_id is not None:
        await callback.answer(t("staff-error-already-done"), show_alert=True)
        return
    await _edit(callback, confirmation_text(t, view), confirm_keyboard(t, view.quote_id))


@till.callback_query(CheckoutCb.filter(F.action == "other"))
async def ask_points(callback: CallbackQuery, callback_data: CheckoutCb, state: FSMContext, dom: Domain,
                     t: Translator) -> None:
    view = await domain.get_checkout(dom, callback_data.quote_id)
    await state.set_state(Till.points)
    await state.set_data({"quote_id": callback_data.quote_id})
    if isinstance(callback.message, Message):
        await callback.message.answer(t("staff-ask-points", max=view.quote.max_points),
                                      reply_markup=cancel_keyboard(t, callback_data.quote_id))
    await callback.answer()


@till.message(Till.points, F.text, NOT_A_COMMAND)
async def typed_points(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator) -> None:
    quote_id = int((await state.get_data())["quote_id"])
    text = (message.text or "").strip().replace(" ", "").replace("\u00a0", "")
    if foreign_digits(text):
        await message.answer(t("input-digits"))
        return
    if not is_digits(text) or len(text) > MAX_POINTS_DIGITS:
        await message.answer(t("staff-points-not-a-number"))
        return
    view = await domain.choose_points(dom, as_staff(actor), quote_id, int(text))
    await state.clear()
    await message.answer(confirmation_text(t, view), reply_markup=confirm_keyboard(t, quote_id))


@till.callback_query(CheckoutCb.filter(F.action == "cert"))
async def list_certificates(callback: CallbackQuery, callback_data: CheckoutCb, dom: Domain,
                            t: Translator) -> None:
    view = await domain.get_checkout(dom, callback_data.quote_id)
    await _edit(callback, quote_text(t, view) + "\n\n" + t("staff-choose-certificate"),
                certificates_keyboard(t, view))
    await callback.answer()


@till.callback_query(CheckoutCb.filter(F.action == "pick"))
async def pick_certificate(callback: CallbackQuery, callback_data: CheckoutCb, dom: Domain, actor: Actor,
                           t: Translator) -> None:
    view = await domain.choose_certificate(dom, as_staff(actor), callback_data.quote_id, callback_data.arg)
    await _edit(callback, quote_text(t, view), quote_keyboard(t, view))
    await callback.answer()


@till.callback_query(CheckoutCb.filter(F.action == "back"))
async def back_to_quote(callback: CallbackQuery, callback_data: CheckoutCb, dom: Domain, t: Translator) -> None:
    view = await domain.get_checkout(dom, callback_data.quote_id)
    await _edit(callback, quote_text(t, view), quote_keyboard(t, view))
    await callback.answer()


@till.callback_query(CheckoutCb.filter(F.action == "cancel"))
async def cancel_checkout(callback: CallbackQuery, callback_data: CheckoutCb, state: FSMContext, dom: Domain,
                          actor: Actor, t: Translator) -> None:
    if callback_data.quote_id:  # 0: nothing stored yet (before the amount)
        cancelled = await domain.cancel_checkout(dom, as_staff(actor), callback_data.quote_id)
        if not cancelled:
            await callback.answer(t("staff-error-already-done"), show_alert=True)
            return
    await state.clear()
    await _edit(callback, t("staff-checkout-cancelled"))
    await callback.answer()


@till.callback_query(CheckoutCb.filter(F.action == "confirm"))
async def confirm(callback: CallbackQuery, callback_data: CheckoutCb, dom: Domain, actor: Actor, t: Translator,
                  settings: Settings) -> None:
    # One use case, one transaction for the usual tap; a reset choice comes back as Requoted.
    outcome = await domain.confirm_checkout(dom, as_staff(actor), callback_data.quote_id,
                                            alert_chat_id=_alert_chat(settings))
    if isinstance(outcome, Committed):
        await _edit(callback, receipt_text(t, outcome.result), receipt_keyboard(t, outcome.result.operation_id))
        await callback.answer(t("staff-purchase-done"))
    elif isinstance(outcome, Requoted):
        await _edit(callback, quote_text(t, outcome.view, requoted=True), quote_keyboard(t, outcome.view))
        await callback.answer(t("staff-quote-requoted"), show_alert=True)
    elif isinstance(outcome, AwaitingCustomer):
        until = outcome.expires_at.astimezone(dom.tz).strftime("%H:%M")
        await _edit(callback, confirmation_text(t, outcome.view) + "\n\n" + t("staff-waiting-customer", until=until),
                    None)
        await callback.answer()


# --- Refunds ------------------------------------------------------------------------------------

async def _do_refund(dom: Domain, actor: Actor, settings: Settings, operation_id: int, amount: int | None,
                     key: str | None) -> RefundResult:
    return await domain.refund(dom, as_staff(actor), operation_id, amount, idempotency_key=key,
                               alert_chat_id=_alert_chat(settings))


@till.callback_query(ReceiptCb.filter(F.action == "ask"))
async def refund_ask(callback: CallbackQuery, callback_data: ReceiptCb, dom: Domain, t: Translator) -> None:
    amount, refundable = await domain.purchase_for_refund(dom, callback_data.operation_id)
    if refundable <= 0:
        await callback.answer(t("staff-error-refund-not-allowed"), show_alert=True)
        return
    if isinstance(callback.message, Message):
        await callback.message.answer(
            t("staff-refund-ask", operation=str(callback_data.operation_id), amount=amount, refundable=refundable),
            reply_markup=refund_keyboard(t, callback_data.operation_id, refundable))
    await callback.answer()


@till.callback_query(ReceiptCb.filter(F.action == "full"))
async def refund_full(callback: CallbackQuery, callback_data: ReceiptCb, dom: Domain, actor: Actor,
                      t: Translator, settings: Settings) -> None:
    result = await _do_refund(dom, actor, settings, callback_data.operation_id, None,
                              f"refund:{callback_data.operation_id}:full")
    await _edit(callback, refund_text(t, result))
    await callback.answer()


@till.callback_query(ReceiptCb.filter(F.action == "part"))
async def refund_partial(callback: CallbackQuery, callback_data: ReceiptCb, state: FSMContext,
                         t: Translator) -> None:
    await state.set_state(Till.refund_amount)
    await state.set_data({"operation_id": callback_data.operation_id})
    if isinstance(callback.message, Message):
        await callback.message.answer(t("staff-ask-refund-amount"))
    await callback.answer()


@till.message(Till.refund_amount, F.text, NOT_A_COMMAND)
async def typed_refund_amount(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator,
                              settings: Settings) -> None:
    operation_id = int((await state.get_data())["operation_id"])
    amount = parse_amount(message.text or "", await domain.max_check(dom))
    await _ask_partial_refund(message, dom, actor, t, operation_id, amount)
    await state.clear()


async def _ask_partial_refund(message: Message, dom: Domain, actor: Actor, t: Translator, operation_id: int,
                              amount: int) -> None:
    """A partial refund first shows what it will do (money, points back, cashback taken) and
    asks to confirm; nothing is refunded until then."""
    preview = await domain.preview_refund(dom, as_staff(actor), operation_id, amount)
    await message.answer(refund_preview_text(t, preview),
                         reply_markup=refund_confirm_keyboard(t, operation_id, preview.amount_kopecks))


@till.callback_query(RefundCb.filter(F.action == "go"))
async def refund_confirmed(callback: CallbackQuery, callback_data: RefundCb, dom: Domain, actor: Actor,
                           t: Translator, settings: Settings) -> None:
    # The confirmation message is the request: a second tap on it replays the same refund.
    message_id = callback.message.message_id if callback.message else 0
    result = await _do_refund(dom, actor, settings, callback_data.operation_id, callback_data.amount,
                              f"refund:{callback_data.operation_id}:{callback_data.amount}:{message_id}")
    await _edit(callback, refund_text(t, result))
    await callback.answer()


@till.callback_query(RefundCb.filter(F.action == "no"))
async def refund_declined(callback: CallbackQuery, t: Translator) -> None:
    await _edit(callback, t("staff-refund-not-done"))
    await callback.answer()


@dataclass(frozen=True)
class _RefundAsk:
    """What a cashier typed after /refund: the purchase's number and, for a partial refund, the amount."""
    operation_id: int
    amount_kopecks: int | None


async def _parse_refund(message: Message, dom: Domain, t: Translator, text: str, bad_number: str) -> _RefundAsk | None:
    """`N` or `N AMOUNT` (a leading # allowed); answers a bad number itself (None). A bad amount
    raises the domain's InvalidAmount, which the area answers."""
    parts = text.split(maxsplit=1)
    number = parts[0].lstrip("#") if parts else ""
    if foreign_digits(number):
        await message.answer(t("input-digits"))
        return None
    if not is_digits(number) or len(number) > MAX_ID_DIGITS:
        await message.answer(t(bad_number))
        return None
    amount = parse_amount(parts[1], await domain.max_check(dom)) if len(parts) > 1 else None
    return _RefundAsk(int(number), amount)


@till.message(Command("refund"))
async def refund_command(message: Message, dom: Domain, actor: Actor, t: Translator, settings: Settings,
                         state: FSMContext, command: CommandObject | None = None) -> None:
    """`/refund <operation number> [amount]`: full, or partial with an amount (shown first, then
    confirmed). Bare (also the
    "Refund a purchase" key): asks for the number, then `typed_refund_number`."""
    if command is None or not command.args:
        await state.set_state(Till.refund_number)
        await message.answer(t("staff-ask-refund-number"))
        return
    ask = await _parse_refund(message, dom, t, command.args, "staff-refund-usage")
    if ask is None:
        return
    if ask.amount_kopecks is not None:
        await _ask_partial_refund(message, dom, actor, t, ask.operation_id, ask.amount_kopecks)
        return
    result = await _do_refund(dom, actor, settings, ask.operation_id, None,
                              f"refund:{message.chat.id}:{message.message_id}")
    await message.answer(refund_text(t, result))


@till.message(Till.refund_number, F.text, NOT_A_COMMAND)
async def typed_refund_number(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator,
                              settings: Settings) -> None:
    """After a bare /refund: a number asks what to refund (all or part, the receipt's question);
    a number and an amount ask to confirm that partial refund, as `/refund N AMOUNT` does."""
    ask = await _parse_refund(message, dom, t, message.text or "", "staff-refund-number-bad")
    if ask is None:
        return
    if ask.amount_kopecks is not None:
        await _ask_partial_refund(message, dom, actor, t, ask.operation_id, ask.amount_kopecks)
        await state.clear()
        return
    operation_id = ask.operation_id
    amount, refundable = await domain.purchase_for_refund(dom, operation_id)
    await state.clear()
    if refundable <= 0:
        await message.answer(t("staff-error-refund-not-allowed"))
        return
    await message.answer(t("staff-refund-ask", operation=str(operation_id), amount=amount, refundable=refundable),
                         reply_markup=refund_keyboard(t, operation_id, refundable))


# --- Sale without a card ------------------------------------------------------------------------

async def _record_sale(message: Message, dom: Domain, actor: Actor, t: Translator, text: str) -> None:
    amount = parse_amount(text, await domain.max_check(dom))
    op_id = await domain.sale_without_card(dom, as_staff(actor), amount,
                                           idempotency_key=f"sale:{message.chat.id}:{message.message_id}")
    await message.answer(t("staff-sale-done", operation=str(op_id), amount=amount))


@till.message(Command("sale"))
async def sale_command(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator,
                       command: CommandObject | None = None) -> None:
    """`/sale AMOUNT`; bare (also the "Sale without a card" key): asks for the amount."""
    if command is not None and command.args:
        await _record_sale(message, dom, actor, t, command.args)
        return
    await state.set_state(Till.sale_amount)
    await message.answer(t("staff-ask-sale-amount"))


@till.message(Till.sale_amount, F.text, LooksLikePhone())
async def sale_then_phone(message: Message, phone: str, state: FSMContext, dom: Domain, actor: Actor,
                          t: Translator) -> None:
    """A phone number where the sale's amount was asked: the customer has a card after all (a
    check is at most eight digits of rubles, docs/RULES.md), so they are looked up by the
    number, as at any other time."""
    await state.clear()
    await message.answer(t("staff-sale-phone"))
    await typed_phone(message, phone, state, dom, actor, t)


@till.message(Till.sale_amount, F.text, NOT_A_COMMAND)
async def typed_sale_amount(message: Message, state: FSMContext, dom: Domain, actor: Actor, t: Translator) -> None:
    await _record_sale(message, dom, actor, t, message.text or "")
    await state.clear()  # not reached when the amount is refused: the staff member types it again


# --- Anyone else pressing staff buttons ----------------------------------------------------------

@denied.callback_query(F.data.func(lambda data: (data or "").split(":", 1)[0] in STAFF_PREFIXES))
async def staff_button_denied(callback: CallbackQuery, dom: Domain, actor: Actor | None, t: Translator) -> None:
    """A customer (or a revoked member) pressing a staff button: nothing happens, it is logged."""
    log.warning("staff callback %r refused for %s (role %s)", callback.data, callback.from_user.id,
                actor.role if actor else None)
    await domain.refuse_staff_button(dom, callback.from_user.id, actor.role if actor else "unknown",
                                     callback.data or "")
    await callback.answer(t("not-allowed"), show_alert=True)
