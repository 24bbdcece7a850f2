"""/api: the owner creates, lists and revokes API keys for cash registers (issue 8).

Included by handlers/owner.py under its owner-only router; every handler re-checks
`actor.is_owner` anyway (DOMAIN.md, "Roles") and key changes are audited by
models/partner/api_keys.py. A new key is shown once: only its hash is stored.
"""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.middlewares import Actor
from bot.services import Services
from handlers.owner_views import MenuCb
from handlers.staff_keyboards import RowId
from models.kernel import NotFound, record_alone
from models.partner import ApiKeyNameTaken, InvalidApiKeyName, create_api_key, list_api_keys, revoke_api_key

router = Router(name="owner-api")


class ApiKeyCb(CallbackData, prefix="apikey"):
    action: str  # "revoke" (ask), "confirm", "keep"
    key_id: RowId


async def _refuse(services: Services, actor: Actor | None, action: str) -> None:
    await record_alone(services.dom, "api_key.denied", actor_telegram_id=actor.telegram_id if actor else None,
                             actor_role=actor.role if actor else "unknown", target=action)


def _keys_text(t: Translator, keys: list, company: int | None) -> str:  # type: ignore[type-arg]
    lines = [t("api-keys-title")]
    if not keys:
        lines.append(t("api-keys-empty"))
    for key in keys:
        lines.append(t("api-key-line", name=html.escape(key.name), created=t.day(key.created_at)))
    if company is not None:
        lines.append(t("api-company", company=str(company)))
    lines.append(t("api-usage"))
    return "\n".join(lines)


def _revoke_keyboard(t: Translator, keys: list) -> InlineKeyboardMarkup | None:  # type: ignore[type-arg]
    rows = [[InlineKeyboardButton(text=t("api-revoke-button", name=key.name),
                                  callback_data=ApiKeyCb(action="revoke", key_id=key.id).pack())] for key in keys]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


@router.message(Command("api"))
async def api_command(message: Message, command: CommandObject, actor: Actor | None, services: Services,
                      t: Translator) -> None:
    if actor is None or not actor.is_owner:
        await _refuse(services, actor, "/api")
        await message.answer(t("not-allowed"))
        return
    if message.chat.type != "private":
        # A new key is shown once, in full: never in the staff group or any other shared chat.
        await message.answer(t("api-private-only"))
        return
    verb, _, name = (command.args or "").strip().partition(" ")
    name = name.strip()
    if verb == "create" and name:
        await _create(message, actor, services, t, name)
    elif verb == "revoke" and name:
        await _revoke(message, actor, services, t, name)
    elif verb:
        await message.answer(t("api-usage"))
    else:
        await _list(message, services, t)


async def _list(message: Message, services: Services, t: Translator) -> None:
    keys = await list_api_keys(services.dom)
    company = keys[0].company_id if keys else None
    await message.answer(_keys_text(t, keys, company), reply_markup=_revoke_keyboard(t, keys))


@router.callback_query(MenuCb.filter(F.item == "api"))
async def api_from_menu(callback: CallbackQuery, actor: Actor | None, services: Services, t: Translator) -> None:
    """The owner menu's "Cash register keys": what /api does."""
    if actor is None or not actor.is_owner:
        await _refuse(services, actor, "button:menu")
        await callback.answer(t("not-allowed"), show_alert=True)
        return
    if isinstance(callback.message, Message):
        await _list(callback.message, services, t)
    await callback.answer()


async def _create(message: Message, actor: Actor, services: Services, t: Translator, name: str) -> None:
    try:
        key = await create_api_key(services.dom, name, created_by=actor.telegram_id, actor_role="owner")
    except InvalidApiKeyName:
        await message.answer(t("api-name-invalid"))
        return
    except ApiKeyNameTaken:
        await message.answer(t("api-name-taken", name=html.escape(name)))
        return
    await message.answer(t("api-created", name=html.escape(key.name), company=str(key.company_id),
                           key=key.secret))


async def _revoke(message: Message, actor: Actor, services: Services, t: Translator, name: str) -> None:
    try:
        info = await revoke_api_key(services.dom, name, revoked_by=actor.telegram_id, actor_role="owner")
    except NotFound:
        await message.answer(t("api-not-found", name=html.escape(name)))
        return
    await message.answer(t("api-revoked", name=html.escape(info.name)))


@router.callback_query(ApiKeyCb.filter())
async def api_key_button(callback: CallbackQuery, callback_data: ApiKeyCb, actor: Actor | None,
                         services: Services, t: Translator) -> None:
    if actor is None or not actor.is_owner:
        await _refuse(services, actor, f"button:{callback_data.action}")
        await callback.answer(t("not-allowed"), show_alert=True)
        return
    keys = {key.id: key for key in await list_api_keys(services.dom)}
    key = keys.get(callback_data.key_id)
    if key is None:
        await callback.answer(t("api-gone"), show_alert=True)
        return
    message = callback.message if isinstance(callback.message, Message) else None
    if callback_data.action == "revoke":
        markup = InlineKeyboardMarkup(inline_keyboard=[[
            InlineKeyboardButton(text=t("button-yes"),
                                 callback_data=ApiKeyCb(action="confirm", key_id=key.id).pack()),
            InlineKeyboardButton(text=t("button-no"), callback_data=ApiKeyCb(action="keep", key_id=key.id).pack()),
        ]])
        await callback.answer()
        if message is not None:
            await message.answer(t("api-revoke-confirm", name=html.escape(key.name)), reply_markup=markup)
        return
    if callback_data.action == "confirm":
        await revoke_api_key(services.dom, key.name, revoked_by=actor.telegram_id, actor_role="owner")
        await callback.answer()
        if message is not None:
            await message.edit_text(t("api-revoked", name=html.escape(key.name)))
        return
    await callback.answer(t("cancelled"))
    if message is not None:
        await message.edit_reply_markup(reply_markup=None)


__all__ = ["ApiKeyCb", "router"]
