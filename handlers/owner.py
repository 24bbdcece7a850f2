"""The owner's tools (issue 6): /owner, /program, /campaigns, /broadcast, /broadcasts,
/import, /export, /find, /audit; the owner's menu also reaches /report (owner_reports.py),
/staff (staff.py) and /api (owner_api.py).

Included before the staff and customer routers (bot/app.py). Every handler of the area
lives under `owner_only`, whose router-level filter is `IsOwner` (the role the middleware
re-read for this update): for anyone else an update falls through to the staff and
customer routers untouched — except the owner's own commands and buttons, which the
`denied` router answers with "not allowed" and writes to the audit log (DOMAIN.md,
"Roles": every owner action re-checks the role on the server side).

Sub-modules: handlers/owner_program.py, owner_campaigns.py, owner_broadcasts.py,
owner_customers.py; the partner API's owner handlers (handlers/owner_api.py, /api) are
included when that module exists (they re-check the owner and audit refusals themselves).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.i18n import Translator
from bot.middlewares import Actor
from bot.services import Services
from handlers import (
    owner_api,
    owner_broadcasts,
    owner_campaigns,
    owner_customers,
    owner_program,
    owner_promo,
    owner_reports,
    staff,
)
from handlers.common import IsOwner
from handlers.owner_views import MenuCb, is_owner_button, owner_menu_keyboard, owner_menu_text, reply
from models.kernel import Domain
from models.owner import record_refusal

log = logging.getLogger(__name__)

# Refused (and audited) for anyone else; /api audits its own refusals (handlers/owner_api.py).
OWNER_COMMANDS: tuple[str, ...] = ("owner", "program", "campaigns", "broadcast", "broadcasts", "import", "export",
                                   "find", "audit", "promocodes", "report", "staff")

router = Router(name="owner")
owner_only = Router(name="owner-only")
owner_only.message.filter(IsOwner(), F.chat.type == "private")
owner_only.callback_query.filter(IsOwner())
denied = Router(name="owner-denied")


async def _attach_progress(handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                           event: TelegramObject, data: dict[str, Any]) -> Any:
    """Make sure broadcast progress messages are live in this process (after a restart too)."""
    services: Services | None = data.get("services")
    bot: Bot | None = data.get("bot")
    if services is not None and bot is not None:
        owner_broadcasts.ensure_progress(services, bot)
    return await handler(event, data)


router.message.outer_middleware(_attach_progress)
router.callback_query.outer_middleware(_attach_progress)


@owner_only.message(Command("owner"))
async def owner_menu(message: Message, t: Translator, services: Services) -> None:
    """Also the "Owner menu" key of the owner's keyboard (handlers/role_keys.py)."""
    await message.answer(await owner_menu_text(t, services), reply_markup=owner_menu_keyboard(t))


@owner_only.callback_query(MenuCb.filter(F.item == "report"))
async def report_from_menu(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    """The owner menu's Report: what /report does (handlers/owner_reports.py)."""
    await state.clear()
    await reply(callback, t("report-choose-period"), owner_reports.period_keyboard(t))
    await callback.answer()


@owner_only.callback_query(MenuCb.filter(F.item == "staff"))
async def staff_from_menu(callback: CallbackQuery, dom: Domain, actor: Actor, t: Translator) -> None:
    """The owner menu's Staff: what /staff does (handlers/staff.py)."""
    text, markup = await staff.staff_list_view(dom, actor, t)
    await reply(callback, text, markup)
    await callback.answer()


for sub in (owner_program.router, owner_campaigns.router, owner_broadcasts.router, owner_customers.router,
            owner_promo.router):
    owner_only.include_router(sub)
router.include_router(owner_only)
# The partner API's /api (another area). Its handlers re-check the owner themselves and audit
# refusals as "api_key.denied", so it sits beside owner_only rather than under its filter.
router.include_router(owner_api.router)


# --- Everyone else ------------------------------------------------------------------------------

@denied.message(Command(*OWNER_COMMANDS), F.chat.type == "private")
async def command_refused(message: Message, actor: Actor | None, t: Translator, services: Services) -> None:
    if actor is not None and actor.is_owner:
        # Not refused: the owner's /report and /staff are handled further on (owner_reports,
        # staff), and anything else goes on to the fallback.
        raise SkipHandler()
    await _refuse(services, message.from_user.id if message.from_user else 0, actor, (message.text or "")[:80])
    await message.answer(t("owner-refused"))


@denied.callback_query(F.data.func(is_owner_button))
async def button_refused(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services) -> None:
    if actor is not None and actor.is_owner:
        # The owner's own button that no screen takes: one from before the upgrade (`ow|...`),
        # a screen's button whose step is over, or garbled data. Outdated, not refused.
        log.info("owner: outdated or garbled button %r from the owner %s", (callback.data or "")[:80],
                 actor.telegram_id)
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    await _refuse(services, callback.from_user.id, actor, callback.data or "")
    await callback.answer(t("owner-refused"), show_alert=True)


async def _refuse(services: Services, telegram_id: int, actor: Actor | None, what: str) -> None:
    role = actor.role if actor is not None else "unknown"
    log.warning("owner action %r refused for %s (role %s)", what, telegram_id, role)
    await record_refusal(services.dom, telegram_id, role, what)


router.include_router(denied)
