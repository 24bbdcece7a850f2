"""The member's menu: card, balance and history, certificates, invite friends.

Every screen is reachable from the reply keyboard (bot/keyboards.py `main_menu`) and by a
command (/card, /balance, /certificates, /invite). A person who is not registered yet is
sent to /start.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.deeplinks import make_link
from bot.i18n import Translator
from bot.keyboards import NO_PREVIEW, Button
from bot.markups import CallbackId
from bot.middlewares import Actor
from bot.services import Services
from handlers.customer_views import delete_quietly, esc, load_program, send_card
from models.customers import referral_code_of
from models.kernel import CustomerErased, CustomerNotFound
from models.ledger import HISTORY_PAGE, certificates_of, history_page, next_expiry, referral_stats
from models.program import text_in

log = logging.getLogger(__name__)
router = Router(name="customer-menu")
MAX_PAGE = 99_999  # a forged page beyond it shows the first page


class HistoryCb(CallbackData, prefix="hist"):
    """A page of balance and history: "hist:<page>", as before the factory."""

    page: CallbackId


async def member(message: Message, actor: Actor | None, t: Translator) -> int | None:
    """The customer id, or None after telling a guest to register first."""
    if actor is None or message.chat.type != "private":
        return None
    if actor.customer_id is None:
        if actor.is_staff:  # staff are not told to /start: that is their till
            await message.answer(t("staff-no-own-card"), reply_markup=keyboards.role_menu(t, actor))
        else:
            await message.answer(t("common-start-hint"), reply_markup=keyboards.remove())
        return None
    return actor.customer_id


# --- the card -----------------------------------------------------------------------


@router.message(Command("card"))
@router.message(Button("menu-card"))
async def card(message: Message, actor: Actor | None, t: Translator, services: Services, bot: Bot,
               state: FSMContext) -> None:
    customer_id = await member(message, actor, t)
    if customer_id is None:
        return
    await state.clear()
    await send_card(bot, message.chat.id, services, t, customer_id)


@router.callback_query(keyboards.RefreshCardCb.filter())
async def refresh_card(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services,
                       bot: Bot) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    try:
        sent = await send_card(bot, actor.telegram_id, services, t, actor.customer_id)
    except (CustomerNotFound, CustomerErased):
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    if sent is None:  # no new code now: the card on screen still works
        await callback.answer()
        return
    await callback.answer(t("card-refreshed"))
    if isinstance(callback.message, Message):
        # The old card's code was just superseded: take the stale picture away.
        await delete_quietly(bot, callback.message.chat.id, callback.message.message_id)


# --- balance and history ----------------------------------------------------------------


@router.message(Command("balance", "history"))
@router.message(Button("menu-balance"))
async def balance(message: Message, actor: Actor | None, t: Translator, services: Services) -> None:
    customer_id = await member(message, actor, t)
    if customer_id is None:
        return
    text, markup = await render_history(services, t, customer_id, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(HistoryCb.filter())
async def history_page_cb(callback: CallbackQuery, callback_data: HistoryCb, actor: Actor | None, t: Translator,
                          services: Services) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    page = callback_data.page if 0 <= callback_data.page <= MAX_PAGE else 0
    text, markup = await render_history(services, t, actor.customer_id, page)
    await callback.answer()
    await keyboards.edit_pressed(callback, text, markup)  # a double tap changes nothing: not an error


async def render_history(services: Services, t: Translator, customer_id: int,
                         page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    dom = services.dom
    page_data = await history_page(dom, customer_id, page)
    soon = await next_expiry(dom, customer_id)
    lines = [t("history-balance", n=page_data.balance.regular)]
    if page_data.balance.pending:
        lines.append(t("history-pending", n=page_data.balance.pending))
    if page_data.balance.certificates:
        lines.append(t("history-certificates", n=page_data.balance.certificates))
    if soon is not None:
        lines.append(t("history-next-expiry", n=soon[0], date=t.day(soon[1].astimezone(dom.tz))))
    lines.append("")
    if not page_data.items:
        lines.append(t("history-empty"))
    for item in page_data.items:
        sign = "+" if item.points >= 0 else "−"
        day, what = t.day(item.created_at.astimezone(dom.tz)), t(f"history-kind-{item.label}")
        if item.label == "purchase" and item.spent and item.earned:
            # What the receipt said: paid with points and cashback, not their difference.
            line = t("history-line-paid-and-earned", date=day, what=what, spent=item.spent, earned=item.earned)
        else:
            line = t("history-line", date=day, what=what, sign=sign, points=abs(item.points))
        if item.amount_kopecks:
            line += " " + t("history-check", amount=t.money(item.amount_kopecks))
        if item.expires_at is not None and item.points > 0:
            line += " " + t("history-until", date=t.day(item.expires_at.astimezone(dom.tz)))
        lines.append(line)
    pages = max((page_data.total + HISTORY_PAGE - 1) // HISTORY_PAGE, 1)
    if pages > 1:
        lines.append("")
        lines.append(t("history-page", page=page_data.page + 1, pages=pages))
    buttons = []
    if page_data.page > 0:
        buttons.append(InlineKeyboardButton(text=t("history-newer"),
                                            callback_data=HistoryCb(page=page_data.page - 1).pack()))
    if page_data.page + 1 < pages:
        buttons.append(InlineKeyboardButton(text=t("history-older"),
                                            callback_data=HistoryCb(page=page_data.page + 1).pack()))
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None


# --- certificates ------------------------------------------------------------------------


@router.message(Command("certificates"))
@router.message(Button("menu-certificates"))
async def certificates(message: Message, actor: Actor | None, t: Translator, services: Services) -> None:
    customer_id = await member(message, actor, t)
    if customer_id is None:
        return
    dom = services.dom
    certs = await certificates_of(dom, customer_id)
    if not certs:
        await message.answer(t("certificates-none"))
        return
    lines = [t("certificates-title")]
    for cert in certs:
        until = t.day(cert.expires_at.astimezone(dom.tz)) if cert.expires_at else "—"
        lines.append(t("certificates-line", kind=cert.kind, n=cert.remaining, cap=cert.cap, date=until))
    await message.answer("\n".join(lines))


# --- invite friends ------------------------------------------------------------------------


@router.message(Command("invite"))
@router.message(Button("menu-invite"))
async def invite(message: Message, actor: Actor | None, t: Translator, services: Services) -> None:
    customer_id = await member(message, actor, t)
    if customer_id is None:
        return
    dom = services.dom
    _, program = await load_program(dom)
    code = await referral_code_of(dom, customer_id)
    link = make_link(services.bot_username, "referral", code)
    levels = max(len(program.referral.level_percents), 1)
    stats = await referral_stats(dom, customer_id, levels)
    lines = [t("invite-title", business=esc(text_in(program.business.name, t.locale)))]
    if program.referral.level_percents:
        lines.append(t("invite-terms", percents=", ".join(f"{p.normalize():f}%" for p in
                                                          program.referral.level_percents)))
    if program.referral.first_purchase_points:
        lines.append(t("invite-first-purchase", n=program.referral.first_purchase_points))
    lines.append(t("invite-link", link=link))
    lines.append("")
    for level in stats:
        lines.append(t("invite-level", level=level.level, invited=level.invited, bought=level.bought,
                       n=level.points))
    invitation = t("invite-share-text", business=text_in(program.business.name, t.locale),
                   points=program.welcome.points)
    share = f"https://t.me/share/url?url={quote(link, safe='')}&text={quote(invitation, safe='')}"
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t("invite-button-share"), url=share)]])
    await message.answer("\n".join(lines), reply_markup=markup, link_preview_options=NO_PREVIEW)
