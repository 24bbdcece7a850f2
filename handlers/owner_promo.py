"""/promocodes: the owner's promo codes (DOMAIN.md "Promo codes", models/campaigns/promo.py).

    /promocodes                                      the list, with a Stop button per live code
    /promocodes ЛЕТО24 200 01.06.2026-30.06.2026 50  a new code: points, first-last day, uses

Included under `owner_only` (handlers/owner.py): the role is re-checked for every update,
the Stop button included; a customer's or a cashier's /promocodes is refused and audited by
the owner area's `denied` router.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.deeplinks import make_link
from bot.i18n import Translator
from bot.middlewares import Actor
from bot.services import Services
from handlers.owner_views import MenuCb, PromoCb, button, edit, esc, keyboard, reply
from models.campaigns import PromoSpec, create_promo, disable_promo, list_promos, status_of
from models.kernel import InvalidDate, PromoCode, PromoUnavailable, ascii_int, parse_dmy

router = Router(name="owner-promo")
CREATE_REASONS = ("format", "taken", "points", "dates", "limit", "validity")
LIST_LIMIT = 30  # the newest live codes first; the rest are in the audit log and the report


def parse_spec(args: str) -> PromoSpec:
    """`CODE POINTS DD.MM.YYYY-DD.MM.YYYY [USES]`; ValueError if it is not that shape."""
    parts = args.split()
    if len(parts) not in (3, 4):
        raise ValueError
    code, points, days = parts[0], parts[1], parts[2]
    first, sep, last = days.partition("-")
    if not sep:
        raise ValueError
    try:
        first_day, last_day = parse_dmy(first), parse_dmy(last)
    except InvalidDate as exc:
        raise ValueError from exc
    limit = ascii_int(parts[3], max_digits=9) if len(parts) == 4 else None
    return PromoSpec(code=code, points=ascii_int(points, max_digits=9), first_day=first_day, last_day=last_day,
                     uses_limit=limit)


def describe(promo: PromoCode, t: Translator, services: Services) -> str:
    tz = services.dom.tz
    last = promo.ends_at.astimezone(tz).date() - timedelta(days=1)  # ends_at: the day after the last
    status = status_of(promo, services.dom.clock.now())
    line = t("promo-owner-line", code=esc(promo.code), points=promo.points,
             first=t.day(promo.starts_at.astimezone(tz).date()), last=t.day(last),
             uses=promo.uses_count, limit=promo.uses_limit if promo.uses_limit is not None else "∞",
             given=promo.points_given, status=status)
    if status in ("active", "not_yet"):  # the link to share: opening it redeems the code
        link = make_link(services.bot_username, "promo", str(promo.id))
        line += "\n  " + t("promo-owner-link", code=esc(promo.code), link=esc(link))
    return line


async def render_list(t: Translator, services: Services) -> tuple[str, InlineKeyboardMarkup | None]:
    """The list's text and its Stop buttons (None when no code can be stopped)."""
    promos = (await list_promos(services.dom))[:LIST_LIMIT]
    if not promos:
        return t("promo-owner-none") + "\n\n" + t("promo-owner-how"), None
    now = services.dom.clock.now()
    lines = [t("promo-owner-title")] + [describe(p, t, services) for p in promos] + ["", t("promo-owner-how")]
    rows = [[button(t("promo-owner-stop", code=p.code), PromoCb(promo_id=p.id))] for p in promos
            if status_of(p, now) in ("active", "not_yet")]
    return "\n".join(lines), keyboard(*rows) if rows else None


@router.message(Command("promocodes"))
async def promocodes(message: Message, command: CommandObject, actor: Actor, t: Translator,
                     services: Services) -> None:
    if command.args:
        try:
            spec = parse_spec(command.args)
        except ValueError:
            await message.answer(t("promo-owner-bad") + "\n\n" + t("promo-owner-how"))
            return
        try:
            promo = await create_promo(services.dom, actor.telegram_id, spec)
        except PromoUnavailable as exc:
            await message.answer(t(f"promo-owner-refused-{exc.detail}", code=esc(spec.code[:40]))
                                 if exc.detail in CREATE_REASONS else t("promo-owner-bad"))
            return
        await message.answer(t("promo-owner-created") + "\n" + describe(promo, t, services))
        return
    text, markup = await render_list(t, services)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MenuCb.filter(F.item == "promocodes"))
async def promocodes_menu(callback: CallbackQuery, t: Translator, services: Services) -> None:
    await reply(callback, *await render_list(t, services))
    await callback.answer()


@router.callback_query(PromoCb.filter())
async def stop_code(callback: CallbackQuery, callback_data: PromoCb, actor: Actor, t: Translator,
                    services: Services) -> None:
    try:
        promo = await disable_promo(services.dom, actor.telegram_id, callback_data.promo_id)
    except PromoUnavailable:
        await callback.answer(t("promo-owner-gone"), show_alert=True)
        return
    await callback.answer(t("promo-owner-stopped", code=promo.code))
    await edit(callback, *await render_list(t, services))
