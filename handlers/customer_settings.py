"""Settings: language, birthday (once, if unset), promotional broadcasts on/off, deleting one's
data (DOMAIN.md, "Customers")."""

from __future__ import annotations

import contextlib
import logging
from datetime import date
from typing import Literal

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import keyboards
from bot.i18n import Translator
from bot.keyboards import Button
from bot.middlewares import Actor
from bot.services import Services
from handlers.customer_menu import member
from handlers.customer_registration import birthday_error_key
from handlers.customer_views import drop_keyboard
from models.customers import (
    balance_now,
    erase_customer,
    parse_birthday,
    set_birthday,
    set_broadcasts,
    settings_of,
)
from models.kernel import CustomerErased, CustomerNotFound, InvalidDate

log = logging.getLogger(__name__)
router = Router(name="customer-settings")


class SettingsFlow(StatesGroup):
    birthday = State()


class SettingsCb(CallbackData, prefix="set"):
    """The settings screen's buttons: "set:lang", "set:birthday", "set:erase" as before the factory."""

    action: Literal["lang", "birthday", "erase"]


class EraseCb(CallbackData, prefix="set-er"):
    """Yes / No under "erase my data?" (before the factory "set:erase:yes|no": such an old
    confirmation gets the fallback's "this button no longer works", never an erasure)."""

    erase: bool


class BroadcastsCb(CallbackData, prefix="set-bc"):
    """Turn promotional broadcasts on or off (`on`: the wanted state)."""

    on: bool


@router.message(Command("settings"))
@router.message(Button("menu-settings"))
async def settings_menu(message: Message, actor: Actor | None, t: Translator, services: Services,
                        state: FSMContext) -> None:
    customer_id = await member(message, actor, t)
    if customer_id is None:
        return
    await state.clear()
    shown = await settings_of(services.dom, customer_id)
    text, markup = settings_screen(t, shown.birthday, shown.broadcasts_off)
    await message.answer(text, reply_markup=markup)


def settings_screen(t: Translator, birthday: date | None, broadcasts_off: bool) -> tuple[str, InlineKeyboardMarkup]:
    lines = [t("settings-title")]
    rows = [[InlineKeyboardButton(text=t("settings-button-language"), callback_data=SettingsCb(action="lang").pack())]]
    if birthday is not None:
        lines.append(t("settings-birthday-set", date=t.day(birthday)))
    else:
        rows.append([InlineKeyboardButton(text=t("settings-button-birthday"),
                                          callback_data=SettingsCb(action="birthday").pack())])
    lines.append(t("settings-broadcasts-off" if broadcasts_off else "settings-broadcasts-on"))
    rows.append([InlineKeyboardButton(
        text=t("settings-button-broadcasts-on" if broadcasts_off else "settings-button-broadcasts-off"),
        callback_data=BroadcastsCb(on=broadcasts_off).pack())])
    rows.append([InlineKeyboardButton(text=t("settings-button-erase"),
                                      callback_data=SettingsCb(action="erase").pack())])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


@router.callback_query(BroadcastsCb.filter())
async def toggle_broadcasts(callback: CallbackQuery, callback_data: BroadcastsCb, actor: Actor | None,
                            t: Translator, services: Services) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    try:
        await set_broadcasts(services.dom, actor.customer_id, on=callback_data.on, telegram_id=actor.telegram_id)
        shown = await settings_of(services.dom, actor.customer_id)
    except (CustomerNotFound, CustomerErased):
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    await callback.answer(t("settings-broadcasts-saved-on" if callback_data.on else "settings-broadcasts-saved-off"))
    text, markup = settings_screen(t, shown.birthday, shown.broadcasts_off)
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # "message is not modified": a double tap
            await callback.message.edit_text(text, reply_markup=markup)


@router.callback_query(SettingsCb.filter(F.action == "lang"))
async def choose_language(callback: CallbackQuery, t: Translator, bot: Bot) -> None:
    await callback.answer()
    await bot.send_message(callback.from_user.id, t("common-choose-language"),
                           reply_markup=keyboards.language_choice())


@router.callback_query(SettingsCb.filter(F.action == "birthday"))
async def ask_birthday(callback: CallbackQuery, actor: Actor | None, t: Translator, state: FSMContext,
                       bot: Bot) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    await callback.answer()
    await state.set_state(SettingsFlow.birthday)
    await bot.send_message(actor.telegram_id, t("settings-ask-birthday"), reply_markup=keyboards.cancel_only(t))


@router.message(StateFilter(SettingsFlow.birthday), F.text)
async def got_birthday(message: Message, actor: Actor | None, t: Translator, services: Services,
                       state: FSMContext) -> None:
    if actor is None or actor.customer_id is None:
        await state.clear()
        return
    today = services.dom.clock.now().astimezone(services.dom.tz).date()
    try:
        day = parse_birthday((message.text or "")[:40], today)
        await set_birthday(services.dom, actor.customer_id, day)
    except InvalidDate as exc:
        if exc.detail == "already_set":
            await state.clear()
            await message.answer(t("settings-birthday-already"), reply_markup=keyboards.main_menu(t))
        else:
            await message.answer(t(birthday_error_key(exc)))
        return
    await state.clear()
    await message.answer(t("settings-birthday-saved", date=t.day(day)), reply_markup=keyboards.main_menu(t))


@router.message(StateFilter(SettingsFlow.birthday))
async def birthday_expected(message: Message, t: Translator) -> None:
    await message.answer(t("settings-ask-birthday"))


@router.callback_query(SettingsCb.filter(F.action == "erase"))
async def confirm_erase(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services,
                        bot: Bot) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    bal = await balance_now(services.dom, actor.customer_id)
    await callback.answer()
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t("settings-button-erase-yes"), callback_data=EraseCb(erase=True).pack()),
        InlineKeyboardButton(text=t("settings-button-erase-no"), callback_data=EraseCb(erase=False).pack()),
    ]])
    await bot.send_message(actor.telegram_id, t("settings-erase-confirm", n=bal.total), reply_markup=markup)


@router.callback_query(EraseCb.filter())
async def erase(callback: CallbackQuery, callback_data: EraseCb, actor: Actor | None, t: Translator,
                services: Services, state: FSMContext, bot: Bot) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    await callback.answer()
    await drop_keyboard(callback.message)
    if not callback_data.erase:
        await bot.send_message(actor.telegram_id, t("settings-erase-kept"), reply_markup=keyboards.main_menu(t))
        return
    try:
        written_off = await erase_customer(services.dom, actor.customer_id)
    except (CustomerNotFound, CustomerErased):
        written_off = 0
    await state.clear()
    log.info("settings: customer %s erased their data (%d points written off)", actor.customer_id, written_off)
    await bot.send_message(actor.telegram_id, t("settings-erased"), reply_markup=keyboards.remove())
