"""Reply keyboards of each role, the customer's inline keyboards, and a filter that matches a
menu button in any language.

Reply-keyboard buttons arrive as plain text, so a handler cannot know which language the
keyboard was drawn in (the person may have switched since): `Button("menu-card")`
matches the button's text in every locale. Each button of a role's keyboard routes to the
handler of its command (handlers/role_keys.py for staff and owners).
"""

from __future__ import annotations

import functools
from typing import Any, Literal

from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.i18n import I18n, Translator, default_i18n
from bot.middlewares import Actor

# A message whose links should not unfold into a preview (a policy link, a personal link).
# `link_preview_options` replaces the deprecated boolean flag for this (Bot API 7.0).
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)

MENU_KEYS = ("menu-card", "menu-balance", "menu-certificates", "menu-invite", "menu-review", "menu-settings")
# The till's keyboard (staff and owners): find a customer, /sale, /refund, /me; then the owner's
# own keys (/owner, /report); "menu-card" (their own member card, /card) closes both.
STAFF_KEYS = ("staff-key-find", "staff-key-sale", "staff-key-refund", "staff-key-me")
OWNER_KEYS = ("owner-key-menu", "owner-key-report")


@functools.cache
def button_texts(i18n: I18n, key: str) -> frozenset[str]:
    """The label of `key` in every locale (I18n instances hash by identity)."""
    return frozenset(i18n.get(locale, key) for locale in i18n.locales)


class Button(Filter):
    """A message whose text is the label of one of `keys` in any locale."""

    def __init__(self, *keys: str) -> None:
        self.keys = keys

    async def __call__(self, message: Message, **data: Any) -> bool:
        if not message.text:
            return False
        i18n = data.get("i18n") or default_i18n()
        return any(message.text in button_texts(i18n, key) for key in self.keys)


def is_button(i18n: I18n, text: str | None, *keys: str) -> bool:
    return bool(text) and any(text in button_texts(i18n, key) for key in keys)


def main_menu(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(keyboard=[
        [KeyboardButton(text=t("menu-card")), KeyboardButton(text=t("menu-balance"))],
        [KeyboardButton(text=t("menu-certificates")), KeyboardButton(text=t("menu-invite"))],
        [KeyboardButton(text=t("menu-review")), KeyboardButton(text=t("menu-settings"))],
    ], resize_keyboard=True, is_persistent=True)


def staff_menu(t: Translator, *, owner: bool = False) -> ReplyKeyboardMarkup:
    """The till's keyboard; an owner's has the owner's menu and the report too."""
    find, sale, refund, me = (KeyboardButton(text=t(key)) for key in STAFF_KEYS)
    rows = [[find, sale], [refund, me]]
    if owner:
        rows.append([KeyboardButton(text=t(key)) for key in OWNER_KEYS])
    rows.append([KeyboardButton(text=t("menu-card"))])
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def role_menu(t: Translator, actor: Actor | None) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The keyboard a person should have on screen: the till's for staff and owners (also when
    they are members: their own card is a key there), the member's menu for a registered
    customer, none for a guest."""
    if actor is not None and actor.is_staff:
        return staff_menu(t, owner=actor.is_owner)
    return main_menu(t) if actor is not None and actor.customer_id is not None else remove()


def remove() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()


# --- The customer's inline buttons (callback data factories) ------------------------------
# Each packs as before the factories ("reg:agree", "card:refresh", "lang:ru"), so the buttons
# already on people's screens keep working.

class ConsentCb(CallbackData, prefix="reg"):
    """Registration's "I agree" (consent to personal-data processing)."""

    action: Literal["agree"]


class RefreshCardCb(CallbackData, prefix="card"):
    """The card's "new code"."""

    action: Literal["refresh"]


class LanguageCb(CallbackData, prefix="lang"):
    """/language: the chosen locale (checked against the bot's locales by the handler)."""

    locale: str


def consent(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t("reg-button-agree"), callback_data=ConsentCb(action="agree").pack())]])


def share_phone(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(keyboard=[
        [KeyboardButton(text=t("reg-button-share-phone"), request_contact=True)],
        [KeyboardButton(text=t("button-cancel"))],
    ], resize_keyboard=True, one_time_keyboard=True)


def keep_name(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=t("reg-button-keep-name"))]],
                               resize_keyboard=True, one_time_keyboard=True,
                               input_field_placeholder=t("reg-name-placeholder"))


def skip_birthday(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=t("reg-button-skip-birthday"))]],
                               resize_keyboard=True, one_time_keyboard=True,
                               input_field_placeholder="31.12.1990")


def cancel_only(t: Translator) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=t("button-cancel"))]], resize_keyboard=True)


def card_refresh(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t("card-button-refresh"), callback_data=RefreshCardCb(action="refresh").pack())]])


def language_choice() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="Русский", callback_data=LanguageCb(locale="ru").pack()),
        InlineKeyboardButton(text="English", callback_data=LanguageCb(locale="en").pack()),
    ]])


async def edit_pressed(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message whose button was pressed; a double tap that changes nothing is not an error."""
    if not isinstance(callback.message, Message):
        return
    if callback.message.text is None:
        # A photo or a document (the card), where edit_text is a 400: answer with a new message.
        # Our own text buttons never sit there; forged callback data can.
        await callback.message.answer(text, reply_markup=markup)
        return
    try:
        await callback.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise
