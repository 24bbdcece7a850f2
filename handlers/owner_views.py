"""What the owner's handlers share: the callback data factory, filters, small renderers.

Callback data never carries authority: every owner handler sits behind the `IsOwner`
filter (the role re-read from the database for this update, bot/middlewares.py).
"""

from __future__ import annotations

import io

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.keyboards import edit_pressed
from bot.middlewares import Actor
from bot.services import Services
from handlers.common import NOT_A_COMMAND, esc  # noqa: F401 (re-exported for the owner routers)
from models.owner import OwnerActor, messages_waiting

PREFIX = "ow"
SEP = "|"  # values carry "tier_cashback:1", "campaign:12": ":" cannot be the separator
MAX_FILE_BYTES = 20 * 1024 * 1024  # getFile's limit (TELEGRAM.md, "Limits")


class OwnerCb(CallbackData, prefix=PREFIX, sep=SEP):
    """`ow|<action>|<value>` — every owner button."""

    action: str
    value: str = ""


def owner_actor(actor: Actor) -> OwnerActor:
    return OwnerActor(telegram_id=actor.telegram_id, staff_id=actor.staff_id)


def button(text: str, action: str, value: str | int = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=OwnerCb(action=action, value=str(value)).pack())


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def in_rows(buttons: list[InlineKeyboardButton], width: int = 2) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


# The owner's menu (/owner, the owner's /start, the "Owner menu" key): every owner tool, in the
# order of the owner's day. Each button's handler sits in its area's router.
OWNER_MENU = ("program", "campaigns", "promocodes", "broadcast", "broadcasts", "find", "report", "staff",
              "import", "export", "audit", "api")


def owner_menu_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard(*in_rows([button(t(f"owner-menu-{name}"), "menu", name) for name in OWNER_MENU]))


async def owner_menu_text(t: Translator, services: Services) -> str:
    text = t("owner-menu")
    waiting = await messages_waiting(services.dom)
    if waiting:  # Telegram has not taken them for a while (an outage, a revoked token)
        text += "\n\n" + t("owner-outbox-waiting", count=waiting)
    return text


edit = edit_pressed  # one implementation for every area (bot/keyboards.py)


async def reply(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(text, reply_markup=markup)


async def download(bot: Bot, file_id: str) -> bytes:
    buffer = io.BytesIO()
    await bot.download(file_id, destination=buffer)
    return buffer.getvalue()


def chunks(lines: list[str], limit: int = 3500) -> list[str]:
    """Lines joined into messages below Telegram's 4096-character limit."""
    out: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > limit:
            out.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        out.append(current)
    return out
