"""What the owner's handlers share: the callback data factories, filters, small renderers.

Callback data never carries authority: every owner handler sits behind the `IsOwner`
filter (the role re-read from the database for this update, bot/middlewares.py).
"""

from __future__ import annotations

import io
from typing import Literal

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.keyboards import edit_pressed
from bot.markups import CallbackId as Id
from bot.middlewares import Actor
from bot.services import Services
from handlers.common import NOT_A_COMMAND, esc  # noqa: F401 (re-exported for the owner routers)
from models.owner import ExportFormat, ExportWhat, OwnerActor, messages_waiting

MAX_FILE_BYTES = 20 * 1024 * 1024  # getFile's limit (TELEGRAM.md, "Limits")

# --- Callback data: one factory per owner screen -------------------------------------------
# Packed as `<prefix>:<field>:...`, well within Telegram's 64 bytes (tests/bot/test_callback_data.py).

class MenuCb(CallbackData, prefix="om"):
    """The owner menu's buttons (`OWNER_MENU`)."""

    item: str


class ProgramCb(CallbackData, prefix="op"):
    """/program: edit a setting (`tier` for the per-tier ones), download, apply or drop the change."""

    action: Literal["set", "download", "apply", "drop"]
    setting: str = ""
    tier: Id | None = None


class CampaignCb(CallbackData, prefix="oc"):
    """/campaigns: a new campaign or source, a campaign's link, stop; the recap's Create and Cancel."""

    action: Literal["new", "source", "show", "stop", "create", "drop"]
    campaign_id: Id = 0


class BroadcastCb(CallbackData, prefix="ob"):
    """/broadcast: no button, the segment's kind and value, Send and Cancel; the progress's Stop."""

    action: Literal["no_button", "kind", "value", "send", "drop", "stop"]
    kind: str = ""
    value: str = ""
    broadcast_id: Id = 0


class ImportCb(CallbackData, prefix="oi"):
    """/import: confirm or drop the planned import."""

    action: Literal["confirm", "drop"]


class ExportCb(CallbackData, prefix="oe"):
    """/export: what and in which format."""

    what: ExportWhat
    fmt: ExportFormat


class CardCb(CallbackData, prefix="ou"):
    """/find and the customer's card: open, page the history, adjust, pin a tier, block."""

    action: Literal["show", "history", "adjust", "pin", "pin_set", "block", "unblock"]
    customer_id: Id
    page: Id = 0
    tier: Id | None = None  # pin_set: None unpins


class AuditCb(CallbackData, prefix="oa"):
    """/audit: a page of the log."""

    page: Id


class PromoCb(CallbackData, prefix="oq"):
    """/promocodes: stop a code."""

    promo_id: Id


OWNER_CALLBACKS: tuple[type[CallbackData], ...] = (MenuCb, ProgramCb, CampaignCb, BroadcastCb, ImportCb, ExportCb,
                                                   CardCb, AuditCb, PromoCb)
OWNER_PREFIXES = frozenset(cb.__prefix__ for cb in OWNER_CALLBACKS)
# Before the factories above, every owner button was one `OwnerCb`, packed `ow|<action>|<value>`.
# Such buttons may still be on screens after the upgrade: handlers/owner.py answers them as outdated.
LEGACY_PREFIX = "ow|"


def is_owner_button(data: str | None) -> bool:
    """Callback data of an owner screen (the factories above, or a button from before them)."""
    value = data or ""
    return value.startswith(LEGACY_PREFIX) or value.partition(":")[0] in OWNER_PREFIXES


def owner_actor(actor: Actor) -> OwnerActor:
    return OwnerActor(telegram_id=actor.telegram_id, staff_id=actor.staff_id)


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def in_rows(buttons: list[InlineKeyboardButton], width: int = 2) -> list[list[InlineKeyboardButton]]:
    return [buttons[i:i + width] for i in range(0, len(buttons), width)]


# The owner's menu (/owner, the owner's /start, the "Owner menu" key): every owner tool, in the
# order of the owner's day. Each button's handler sits in its area's router.
OWNER_MENU = ("program", "campaigns", "promocodes", "broadcast", "broadcasts", "find", "report", "staff",
              "import", "export", "audit", "api")


def owner_menu_keyboard(t: Translator) -> InlineKeyboardMarkup:
    return keyboard(*in_rows([button(t(f"owner-menu-{name}"), MenuCb(item=name)) for name in OWNER_MENU]))


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
