"""A promo code typed by the customer, `/promo CODE`, or in its link, `/start p_<id>` (DOMAIN.md
"Promo codes", models/campaigns/promo.py; a newcomer's link is redeemed when registration ends,
handlers/customer_registration.py).

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
    await message.answer(await promo_answer(services, t, customer_id, actor.telegram_id, code=code))


async def promo_answer(services: Services, t: Translator, customer_id: int, telegram_id: int, *,
                       code: str | None = None, promo_id: int | None = None) -> str:
    """Redeem a typed code or a link's code; the sentence for the customer either way."""
    dom = services.dom
    try:
        got = await redeem_promo(dom, customer_id, code, promo_id=promo_id, telegram_id=telegram_id)
    except PromoUnavailable as exc:
        reason = exc.detail if exc.detail in REASONS else "unknown"
        shown = str(exc.context.get("code") or code or "")
        if reason == "unknown" and not shown:
            return t("promo-link-unknown")
        return t(f"promo-refused-{reason.replace('_', '-')}", code=esc(shown[:40]))
    until = t.day(got.expires_at.astimezone(dom.tz)) if got.expires_at else "—"
    return t("promo-accepted", code=esc(got.code), points=got.points, date=until, percent=got.max_redeem_percent)
