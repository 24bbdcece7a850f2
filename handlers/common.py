"""Commands that work in every state and for everyone: /cancel, /help, /language, /menu.

This router is included first (bot/app.py), so these commands win over any conversation
step: `/cancel` always gets a person out of wherever they are.
"""

from __future__ import annotations

import html
import logging

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot import keyboards
from bot.i18n import LOCALES, I18n, Translator
from bot.keyboards import Button
from bot.middlewares import Actor
from bot.services import Services
from models.customers import set_language as set_account_language

log = logging.getLogger(__name__)
router = Router(name="common")
# For a free-text step: a command typed there runs (its handler may sit in a router further down)
# instead of being taken for the answer ("/find" must not become a campaign's name).
NOT_A_COMMAND = ~F.text.startswith("/")


def esc(value: object) -> str:
    """User-supplied text inside our HTML messages (None is nothing)."""
    return "" if value is None else html.escape(str(value), quote=False)


class IsOwner(Filter):
    """The owner right now (OWNER_IDS in settings; the role the middleware re-read)."""

    async def __call__(self, event: TelegramObject, actor: Actor | None = None) -> bool:
        return actor is not None and actor.is_owner


@router.message(Command("cancel"))
@router.message(F.chat.type == "private", Button("button-cancel"))
async def cancel(message: Message, state: FSMContext, actor: Actor | None, t: Translator) -> None:
    """Staff and owners get the till's keyboard back (never the customer's "press /start")."""
    had_state = await state.get_state() is not None
    await state.clear()
    text = t("cancelled") if had_state else t("common-nothing-to-cancel")
    if message.chat.type != "private":
        await message.answer(text)
    elif actor is not None and (actor.is_staff or actor.customer_id is not None):
        await message.answer(text, reply_markup=keyboards.role_menu(t, actor))
    else:
        await message.answer(f"{text}\n{t('common-start-hint')}", reply_markup=keyboards.remove())


@router.message(Command("help"))
async def help_(message: Message, actor: Actor | None, t: Translator) -> None:
    """A member's help, then their role's; staff who are not members get only their role's
    (the guest's "press /start to register" is not for them)."""
    registered = actor is not None and actor.customer_id is not None
    staff = actor is not None and actor.is_staff
    parts = [t("common-help")] if registered else ([] if staff else [t("common-help-guest")])
    if staff:
        parts.append(t("common-help-staff"))
    if actor is not None and actor.is_owner:
        parts.append(t("common-help-owner"))
    await message.answer("\n\n".join(parts))


@router.message(Command("menu"))
async def menu(message: Message, actor: Actor | None, t: Translator, state: FSMContext) -> None:
    if actor is not None and actor.is_staff and message.chat.type == "private":
        await state.clear()
        await message.answer(t("staff-find-ways"), reply_markup=keyboards.role_menu(t, actor))
        return
    if actor is None or actor.customer_id is None or message.chat.type != "private":
        await message.answer(t("common-start-hint"))
        return
    await state.clear()
    await message.answer(t("menu-prompt"), reply_markup=keyboards.main_menu(t))


@router.message(Command("language"))
async def language(message: Message, t: Translator) -> None:
    await message.answer(t("common-choose-language"), reply_markup=keyboards.language_choice())


@router.callback_query(keyboards.LanguageCb.filter())
async def set_language(callback: CallbackQuery, callback_data: keyboards.LanguageCb, actor: Actor | None,
                       services: Services, i18n: I18n, bot: Bot) -> None:
    locale = callback_data.locale
    if actor is None or locale not in LOCALES:
        await callback.answer(i18n.get(actor.locale if actor else "ru", "fallback-stale-button"))
        return
    await set_account_language(services.dom, actor.telegram_id, locale)
    t = i18n.translator(locale)
    await callback.answer(t("common-language-set"))
    chat_id = callback.message.chat.id if callback.message else actor.telegram_id
    # The keyboard on screen, redrawn in the new language (the till's for staff and owners).
    markup = keyboards.role_menu(t, actor) if actor.is_staff or actor.customer_id is not None else None
    await bot.send_message(chat_id, t("common-language-set"), reply_markup=markup)
