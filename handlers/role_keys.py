"""The keys of the till's keyboard (bot/keyboards.py `staff_menu`), for staff and owners.

A reply-keyboard key arrives as its label's text; each one routes to the handler of its
command, so pressing it does exactly what typing the command does: "Sale without a card" is
/sale, "Refund a purchase" /refund, "My figures" /me, "My card" /card, and the owner's
"Owner menu" /owner and "Report" /report; "Find a customer" shows the three ways to find one.

Included right after the common router (bot/app.py), before every area's conversation
steps: a key pressed while the bot waits for an amount or a campaign's name is the key, not
the answer. Only for staff and owners right now (the role re-read for this update); a key
pressed by anyone else (a revoked cashier's old keyboard) falls through to the fallback.
"""

from __future__ import annotations

from aiogram import F, Router

from bot.keyboards import Button
from handlers import customer_menu, owner, owner_reports, staff
from handlers.common import IsOwner

router = Router(name="role-keys")
router.message.filter(F.chat.type == "private", staff.IsStaff())
router.message.register(staff.find_help, Button("staff-key-find"))
router.message.register(staff.sale_command, Button("staff-key-sale"))
router.message.register(staff.refund_command, Button("staff-key-refund"))
router.message.register(staff.me, Button("staff-key-me"))
router.message.register(customer_menu.card, Button("menu-card"))

owner_keys = Router(name="role-keys-owner")
owner_keys.message.filter(IsOwner())
owner_keys.message.register(owner.owner_menu, Button("owner-key-menu"))
owner_keys.message.register(owner_reports.ask_period, Button("owner-key-report"))
router.include_router(owner_keys)

__all__ = ["router"]
