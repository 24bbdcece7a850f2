"""What several customer screens share: the program, the main menu and the card."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BufferedInputFile, Message

from bot import keyboards
from bot.card import card_data, describe_progress, render_card, spaced_code
from bot.deeplinks import make_link
from bot.i18n import Translator, format_time
from bot.services import Services
from handlers.common import esc  # noqa: F401 (re-exported for the customer routers)
from models.customers import card_state, issue_code
from models.kernel import CodeLimitReached, Domain, NoFreeCode
from models.program import Program, ThresholdBasis, program_in_force, text_in

log = logging.getLogger(__name__)


async def load_program(dom: Domain) -> tuple[int, Program]:
    return await program_in_force(dom)


async def send_menu(bot: Bot, chat_id: int, t: Translator, text: str | None = None) -> Message:
    return await bot.send_message(chat_id, text or t("menu-prompt"), reply_markup=keyboards.main_menu(t))


@dataclass(frozen=True)
class CardView:
    png: bytes
    caption: str
    code: str


async def build_card(services: Services, t: Translator, customer_id: int) -> CardView:
    """Issue a fresh code and draw the card (DOMAIN.md, "The customer code")."""
    dom = services.dom
    code = await issue_code(dom, customer_id)
    state = await card_state(dom, customer_id)
    program, progress, balance = state.program, state.progress, state.balance
    tier = program.tier(progress.index)
    next_name = text_in(program.tier(progress.next_index).name, t.locale) if progress.next_index is not None else None
    missing = progress.missing
    if program.tiers.basis is ThresholdBasis.PURCHASES:
        progress_text = describe_progress(t, next_name, remaining_purchases=missing)
    else:
        progress_text = describe_progress(t, next_name, remaining_kopecks=missing)
    data = card_data(
        t, business_name=text_in(program.business.name, t.locale), customer_name=state.customer_name,
        tier_name=text_in(tier.name, t.locale), balance=balance.regular, next_tier_name=next_name,
        progress=(progress.value, progress.next_threshold or 0), progress_text=progress_text,
        qr_payload=make_link(services.bot_username, "card", code.code), code=code.code,
    )
    png = await asyncio.to_thread(render_card, data)
    until = format_time(code.expires_at.astimezone(dom.tz), t.locale)
    return CardView(png=png, caption=t("card-caption", code=spaced_code(code.code), until=until), code=code.code)


async def send_card(bot: Bot, chat_id: int, services: Services, t: Translator, customer_id: int) -> Message | None:
    """The card with a fresh code; None when no code could be issued (the customer is told why
    and the code they have keeps working)."""
    try:
        view = await build_card(services, t, customer_id)
    except CodeLimitReached as exc:
        await bot.send_message(chat_id, t("abuse-code-limit", minutes=exc.retry_minutes))
        return None
    except NoFreeCode:
        log.warning("card: no free customer code for customer %s", customer_id)
        await bot.send_message(chat_id, t("abuse-no-free-code"))
        return None
    return await bot.send_photo(chat_id, BufferedInputFile(view.png, filename="card.png"), caption=view.caption,
                                reply_markup=keyboards.card_refresh(t))


async def delete_quietly(bot: Bot, chat_id: int, message_id: int) -> None:
    """Old cards are removed; a message too old to delete is simply left (not an error)."""
    with contextlib.suppress(TelegramAPIError):
        await bot.delete_message(chat_id, message_id)


async def drop_keyboard(message: object) -> None:
    """Remove the inline keyboard a button was pressed on; an old or already bare message is fine."""
    if isinstance(message, Message) and message.reply_markup is not None:
        with contextlib.suppress(TelegramAPIError):
            await message.edit_reply_markup(reply_markup=None)
