"""The last router: whatever nobody else handled gets a polite, translated answer.

Stickers, voice, photos out of context, unknown commands, stray text, and callback data
nobody recognises (a stale keyboard, or forged data — logged with the user id). The
errors handler here is the dispatcher-wide safety net (aiogram propagates error events
through every router): the person gets "something went wrong", the log gets the
traceback, and the update never surfaces as an unhandled exception.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot import keyboards
from bot.i18n import I18n, Translator, default_i18n, resolve_locale
from bot.middlewares import Actor

log = logging.getLogger(__name__)
router = Router(name="fallback")

@router.callback_query()
async def unknown_callback(callback: CallbackQuery, t: Translator, actor: Actor | None) -> None:
    # Nobody recognised it: a keyboard from an old version, or data forged by hand.
    data = callback.data or ""
    log.warning("fallback: stale or forged callback data %r from user %s", data[:80],
                actor.telegram_id if actor else callback.from_user.id)
    await callback.answer(t("fallback-stale-button"), show_alert=False)


@router.message()
async def anything(message: Message, t: Translator, actor: Actor | None, i18n: I18n) -> None:
    if message.chat.type != "private":
        return  # groups: answer only what is addressed to us (handled by other routers)
    if actor is not None and actor.is_staff:
        # Staff and owners: never the customer's texts; what the till understands instead.
        text = t("fallback-unknown-command") if (message.text or "").startswith("/") else (
            t("staff-not-understood") + "\n\n" + t("staff-find-ways"))
        await message.answer(text, reply_markup=keyboards.role_menu(t, actor))
        return
    registered = actor is not None and actor.customer_id is not None
    if keyboards.is_button(i18n, message.text, *keyboards.STAFF_KEYS, *keyboards.OWNER_KEYS):
        # A key of the till's keyboard from someone who is no longer staff (revoked): not theirs.
        await message.answer(t("not-allowed"), reply_markup=keyboards.role_menu(t, actor))
        return
    markup = keyboards.main_menu(t) if registered else None
    if message.text and message.text.startswith("/"):
        key = "fallback-unknown-command"
    elif message.text:
        key = "fallback-text" if registered else "fallback-text-guest"
    else:
        key = "fallback-media" if registered else "fallback-text-guest"
    await message.answer(t(key), reply_markup=markup)


@router.errors()
async def on_error(event: ErrorEvent, bot: Bot, i18n: I18n | None = None) -> bool:
    update = event.update
    user = None
    chat_id = None
    if update.message is not None:
        user, chat_id = update.message.from_user, update.message.chat.id
    elif update.callback_query is not None:
        user = update.callback_query.from_user
        message = update.callback_query.message
        chat_id = message.chat.id if message is not None else user.id
    log.error("unhandled error on update %s from user %s", update.update_id, user.id if user else None,
              exc_info=event.exception)
    i18n = i18n or default_i18n()
    locale = resolve_locale(user.language_code if user else None, None)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(i18n.get(locale, "error-generic"))
        elif chat_id is not None and chat_id > 0:
            await bot.send_message(chat_id, i18n.get(locale, "error-generic"))
    except TelegramAPIError:
        pass  # Telegram itself is failing; the log has the story
    return True
