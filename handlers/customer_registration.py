"""/start, deep links and registration (DOMAIN.md, "Customers"; issue 3, "Registration").

The conversation: welcome + consent (policy link) → own contact (Telegram's contact button;
`contact.user_id` must be the sender) → name (prefilled, editable) → birthday (optional,
dd.mm.yyyy) → welcome points, a campaign certificate if the link carried one, and the card.

Deep links (bot/deeplinks.py): r_ referral, g_ campaign (its certificate at the end of
registration, or at once for a member), s_ source tag, e_ a staff member's enrolment link, p_ a
promo code (redeemed at the end of registration, or at once for a member). c_<code> (the QR on
a card) opened by anyone who is not staff is someone else's card: we say so and show nothing
about its owner (staff get it in handlers/staff, which sees the update first). Unknown or
malformed payloads start normally and are logged.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TypedDict

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import keyboards
from bot.deeplinks import DeepLink, parse_deep_link
from bot.i18n import I18n, Translator
from bot.keyboards import NO_PREVIEW
from bot.middlewares import Actor
from bot.sender import wake_sender
from bot.services import Services
from handlers.customer_promo import promo_answer
from handlers.customer_views import drop_keyboard, esc, load_program, send_card, send_menu
from handlers.flow_data import FlowData
from models.campaigns import claim_campaign, record_link_visit
from models.customers import Attribution, Registered, Registration, parse_birthday, register_customer
from models.kernel import AlreadyRegistered, CampaignUnavailable, InvalidDate, InvalidPhone, PhoneTaken, normalize_phone
from models.program import text_in

log = logging.getLogger(__name__)
router = Router(name="customer-registration")

NAME_MAX = 60


class Reg(StatesGroup):
    consent = State()
    phone = State()
    name = State()
    birthday = State()


class AttributionData(TypedDict):
    """Where the person came from (the /start link), kept until registration completes."""

    referral: str | None
    campaign: str | None
    staff: str | None


class RegData(TypedDict, total=False):
    """Reg's conversation data: the attribution from /start, then the phone and the name;
    `promo`: the id of the promo code whose link started it (redeemed at the end)."""

    attribution: AttributionData
    promo: int
    phone: str
    name: str


reg_data = FlowData[RegData]()


# --- /start --------------------------------------------------------------------------


@router.message(CommandStart(), F.chat.type == "private")
async def start(message: Message, command: CommandObject, state: FSMContext, actor: Actor | None,
                services: Services, t: Translator, bot: Bot) -> None:
    if actor is None:
        return
    link = parse_deep_link(command.args)
    if link.kind == "unknown":
        log.info("start: unknown deep link %r from user %s", link.value, actor.telegram_id)
    await state.clear()
    if link.kind == "card":
        # Someone scanned a card with the phone camera: the owner's data is not theirs to see.
        await message.answer(t("start-foreign-card"))
    if link.kind in ("campaign", "source"):
        await record_link_visit(services.dom, link.value, actor.telegram_id)
    if actor.customer_id is not None:
        await _start_member(message, link, actor, services, t, bot)
        return
    await _begin_registration(message, link, state, services, t)


@router.message(Command("join"), F.chat.type == "private")
async def join(message: Message, state: FSMContext, actor: Actor | None, services: Services, t: Translator,
               bot: Bot) -> None:
    """Registration asked for by name: how staff and owners, whose /start is the till, become
    members of the program themselves (for a guest it is the same as /start)."""
    if actor is None:
        return
    if actor.customer_id is not None:
        await bot.send_message(message.chat.id, t("reg-already-member"), reply_markup=keyboards.role_menu(t, actor))
        return
    await state.clear()
    await _begin_registration(message, parse_deep_link(None), state, services, t)


async def _start_member(message: Message, link: DeepLink, actor: Actor, services: Services, t: Translator,
                        bot: Bot) -> None:
    assert actor.customer_id is not None
    if link.kind == "campaign":
        try:
            lot = await claim_campaign(services.dom, actor.customer_id, link.value)
        except CampaignUnavailable:
            await message.answer(t("start-campaign-unavailable"))
        else:
            await message.answer(t("start-campaign-granted") if lot is not None else t("start-campaign-already"))
            wake_sender(services)
    elif link.kind == "referral":
        await message.answer(t("start-referral-member"))
    elif link.kind == "promo":
        await message.answer(await promo_answer(services, t, actor.customer_id, actor.telegram_id,
                                                promo_id=int(link.value)))
    await send_menu(bot, message.chat.id, t, t("start-member", name=esc(actor.first_name)))


async def _begin_registration(message: Message, link: DeepLink, state: FSMContext, services: Services,
                              t: Translator) -> None:
    attribution = AttributionData(referral=link.value if link.kind == "referral" else None,
                                  campaign=link.value if link.kind in ("campaign", "source") else None,
                                  staff=link.value if link.kind == "enrol" else None)
    await state.set_state(Reg.consent)
    await reg_data.update(state, RegData(attribution=attribution))
    if link.kind == "promo":
        await reg_data.update(state, RegData(promo=int(link.value)))
    _, program = await load_program(services.dom)
    # The owner's description says what the program gives (the presets name the welcome
    # points there): it replaces the generated line instead of repeating it.
    description = text_in(program.business.description, t.locale).strip()
    lines = [t("reg-welcome", business=esc(text_in(program.business.name, t.locale)))]
    if description:
        lines.append(esc(description))
    elif program.welcome.points:
        lines.append(t("reg-welcome-points", n=program.welcome.points))
    await message.answer("\n".join(lines), reply_markup=keyboards.remove())
    policy = services.settings.policy_url(program.business.policy_url)
    text = t("reg-consent", url=esc(policy)) if policy else t("reg-consent-no-policy")
    await message.answer(text, reply_markup=keyboards.consent(t), link_preview_options=NO_PREVIEW)


# --- consent -------------------------------------------------------------------------


@router.callback_query(keyboards.ConsentCb.filter())
async def agree(callback: CallbackQuery, state: FSMContext, t: Translator, actor: Actor | None, bot: Bot) -> None:
    if actor is None or actor.customer_id is not None:
        await callback.answer(t("reg-already-member"))
        return
    if await state.get_state() != Reg.consent.state:
        await callback.answer(t("reg-start-again"), show_alert=True)
        return
    await callback.answer()
    await drop_keyboard(callback.message)
    await state.set_state(Reg.phone)
    await bot.send_message(actor.telegram_id, t("reg-ask-phone"), reply_markup=keyboards.share_phone(t))


@router.message(StateFilter(Reg.consent))
async def consent_expected(message: Message, t: Translator) -> None:
    await message.answer(t("reg-consent-expected"), reply_markup=keyboards.consent(t))


# --- phone ---------------------------------------------------------------------------


@router.message(StateFilter(Reg.phone), F.contact)
async def got_contact(message: Message, state: FSMContext, t: Translator) -> None:
    contact = message.contact
    assert contact is not None and message.from_user is not None
    # Only the sender's own card: otherwise anyone could take over another person's account
    # by sending their contact (TELEGRAM.md, "Chats").
    if contact.user_id != message.from_user.id:
        await message.answer(t("reg-phone-not-own"), reply_markup=keyboards.share_phone(t))
        return
    try:
        phone = contact_phone(contact.phone_number)
    except InvalidPhone:
        await message.answer(t("reg-phone-invalid"), reply_markup=keyboards.share_phone(t))
        return
    name = " ".join(p for p in (message.from_user.first_name, message.from_user.last_name) if p)[:NAME_MAX]
    await reg_data.update(state, RegData(phone=phone, name=name or contact.first_name[:NAME_MAX]))
    await state.set_state(Reg.name)
    await message.answer(t("reg-ask-name", name=esc(name or contact.first_name)), reply_markup=keyboards.keep_name(t))


def contact_phone(raw: str) -> str:
    """The E.164 number of a shared contact.

    Telegram gives the user's own number in international form, often without the "+"
    ("380501234567"), so it is read as international first and only then as typed in
    PHONE_REGION (models/kernel/phone.py).
    """
    text = raw.strip()
    if not text.startswith("+"):
        try:
            return normalize_phone("+" + text)
        except InvalidPhone:
            pass
    return normalize_phone(text)


@router.message(StateFilter(Reg.phone))
async def phone_expected(message: Message, t: Translator) -> None:
    await message.answer(t("reg-phone-expected"), reply_markup=keyboards.share_phone(t))


# --- name ----------------------------------------------------------------------------


@router.message(StateFilter(Reg.name), F.text)
async def got_name(message: Message, state: FSMContext, t: Translator, i18n: I18n) -> None:
    text = (message.text or "").strip()
    if not keyboards.is_button(i18n, text, "reg-button-keep-name"):
        name = " ".join(text.split())
        if not name or len(name) > NAME_MAX or name.startswith("/") or not any(ch.isalpha() for ch in name):
            await message.answer(t("reg-name-invalid", max=NAME_MAX), reply_markup=keyboards.keep_name(t))
            return
        await reg_data.update(state, RegData(name=name))
    await state.set_state(Reg.birthday)
    await message.answer(t("reg-ask-birthday"), reply_markup=keyboards.skip_birthday(t))


@router.message(StateFilter(Reg.name))
async def name_expected(message: Message, t: Translator) -> None:
    await message.answer(t("reg-name-expected"), reply_markup=keyboards.keep_name(t))


# --- birthday and the end ------------------------------------------------------------


@router.message(StateFilter(Reg.birthday), F.text)
async def got_birthday(message: Message, state: FSMContext, t: Translator, i18n: I18n, actor: Actor | None,
                       services: Services, bot: Bot) -> None:
    if actor is None:
        return
    text = (message.text or "").strip()
    birthday: date | None = None
    if not keyboards.is_button(i18n, text, "reg-button-skip-birthday"):
        today = services.dom.clock.now().astimezone(services.dom.tz).date()
        try:
            birthday = parse_birthday(text[:40], today)
        except InvalidDate as exc:
            await message.answer(t(birthday_error_key(exc)), reply_markup=keyboards.skip_birthday(t))
            return
    await finish(message, state, actor, services, t, bot, birthday)


@router.message(StateFilter(Reg.birthday))
async def birthday_expected(message: Message, t: Translator) -> None:
    await message.answer(t("reg-birthday-format"), reply_markup=keyboards.skip_birthday(t))


def birthday_error_key(exc: InvalidDate) -> str:
    return {"future": "reg-birthday-future", "too_old": "reg-birthday-too-old",
            "already_set": "settings-birthday-already", "digits": "input-digits"}.get(exc.detail, "reg-birthday-format")


async def finish(message: Message, state: FSMContext, actor: Actor, services: Services, t: Translator, bot: Bot,
                 birthday: date | None) -> None:
    data = await reg_data.get(state)
    attribution = data.get("attribution") or AttributionData(referral=None, campaign=None, staff=None)
    reg = Registration(
        telegram_id=actor.telegram_id, phone=str(data.get("phone")), name=str(data.get("name") or actor.first_name),
        birthday=birthday, language=actor.locale,
        attribution=Attribution(referral_code=attribution.get("referral"),
                                campaign_code=attribution.get("campaign"),
                                staff_code=attribution.get("staff")),
    )
    notes: list[str] = []
    try:
        result = await _register(services, reg, notes, t)
    except PhoneTaken:
        await state.clear()
        await message.answer(t("reg-phone-taken"), reply_markup=keyboards.remove())
        return
    except AlreadyRegistered:
        await state.clear()
        await send_menu(bot, message.chat.id, t, t("reg-already-member"))
        return
    await state.clear()
    lines = [t("reg-done", name=esc(reg.name))]
    if result.welcome_points:
        lines.append(t("reg-done-welcome", n=result.welcome_points))
    if result.campaign_points:
        lines.append(t("reg-done-campaign", n=result.campaign_points))
    if result.joined_existing:
        lines.append(t("reg-done-joined"))
    lines.extend(notes)
    if (promo := data.get("promo")) is not None:  # the link that brought them: its code now
        lines.append(await promo_answer(services, t, result.customer_id, actor.telegram_id, promo_id=int(promo)))
    # Staff and owners keep the till's keyboard (their card is a key there); members get theirs.
    markup = keyboards.staff_menu(t, owner=actor.is_owner) if actor.is_staff else keyboards.main_menu(t)
    await bot.send_message(message.chat.id, "\n".join(lines), reply_markup=markup)
    await send_card(bot, message.chat.id, services, t, result.customer_id)
    wake_sender(services)


async def _register(services: Services, reg: Registration, notes: list[str], t: Translator) -> Registered:
    result = await register_customer(services.dom, reg)
    if result.campaign_missed:
        # The campaign ended or ran out before this person registered: they join without it.
        notes.append(t("start-campaign-unavailable"))
    return result
