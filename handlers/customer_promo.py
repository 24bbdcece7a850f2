"""A promo code typed by the customer: `/promo CODE` (DOMAIN.md "Promo codes", models/campaigns/promo.py).

The code gives a certificate (points to pay with, valid for the code's days), once per
person. A command without a code asks for one; every refusal names its reason in the
customer's words (unknown, not started yet, over, used up, already used, ...).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot.i18n import Translator
from bot.middlewares import Actor
from bot.services import Services
from handlers.customer_menu import member
from handlers.customer_views import esc
from models.campaigns import REASONS, redeem_promo
from models.kernel import PromoUnavailable

router = Router(name="customer-promo")


@router.message(Command("promo"))
async def promo(message: Message, command: CommandObject, actor: Actor | None, t: Translator,
                services: Services) -> None:
    customer_id = await member(message, actor, t)
    if customer_id is None or actor is None:
        return
    code = (command.args or "").strip()
    if not code:
        await message.answer(t("promo-ask"))
        return
    dom = services.dom
    try:
        got = await redeem_promo(dom, customer_id, code, telegram_id=actor.telegram_id)
    except PromoUnavailable as exc:
        reason = exc.detail if exc.detail in REASONS else "unknown"
        await message.answer(t(f"promo-refused-{reason.replace('_', '-')}", code=esc(code[:40])))
        return
    until = t.day(got.expires_at.astimezone(dom.tz)) if got.expires_at else "—"
    await message.answer(t("promo-accepted", code=esc(got.code), points=got.points, date=until,
                           percent=got.max_redeem_percent))
