"""/campaigns: campaign links with a certificate (partners, store opening, social networks)
and source tags without one; each with its deep link, a printable QR and its funnel
(DOMAIN.md, "Certificates and campaigns").
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypedDict

import qrcode
from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.deeplinks import make_link
from bot.i18n import Translator
from bot.middlewares import Actor
from bot.services import Services
from handlers.flow_data import FlowData
from handlers.owner_views import (
    NOT_A_COMMAND,
    CampaignCb,
    MenuCb,
    button,
    chunks,
    edit,
    esc,
    in_rows,
    keyboard,
    owner_actor,
    reply,
)
from models import owner as domain
from models.kernel import Campaign, CampaignUnavailable, InvalidDate, ascii_int, foreign_digits, parse_date
from models.program import program_in_force, text_in

log = logging.getLogger(__name__)
router = Router(name="owner-campaigns")
SKIP = "-"


class CampaignNew(StatesGroup):
    step = State()  # data: campaign_step (index into STEPS), campaign (answers so far)


class CampaignData(TypedDict, total=False):
    """CampaignNew's conversation data."""

    campaign_step: int  # the index into STEPS of the question asked
    campaign: dict[str, Any]  # the answers so far, by STEPS key (JSON: dates as ISO strings)
    campaign_ready: bool  # every answer given: the recap's Create may create it (once)


campaign_data = FlowData[CampaignData]()


class SourceNew(StatesGroup):
    tag = State()


def _text(raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > 80:
        raise ValueError
    return value


def _whole(minimum: int, maximum: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = ascii_int(raw.strip().replace(" ", ""), max_digits=12)  # int() also reads "١٠٠"
        if not minimum <= value <= maximum:
            raise ValueError
        return value
    return parse


def _percent(raw: str) -> str:
    text = raw.strip().replace(",", ".").rstrip("%")
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]+)?", text):  # Decimal() also reads "１０", "1_0", "1e1"
        raise ValueError
    value = Decimal(text)
    if not Decimal(0) < value <= Decimal(100) or value != value.quantize(Decimal("0.01")):
        raise ValueError
    return str(value)


def _date(raw: str) -> str:
    try:
        return parse_date(raw).isoformat()
    except InvalidDate as exc:
        raise ValueError(raw) from exc


# (answer key, prompt key, parser, optional: "-" skips)
STEPS: tuple[tuple[str, str, Callable[[str], Any], bool], ...] = (
    ("name", "campaign-ask-name", _text, False),
    ("points", "campaign-ask-points", _whole(1, 10_000_000), False),
    ("cap", "campaign-ask-cap", _percent, True),
    ("validity", "campaign-ask-validity", _whole(1, 3650), False),
    ("limit", "campaign-ask-limit", _whole(1, 10_000_000), True),
    ("ends", "campaign-ask-ends", _date, True),
    ("partner", "campaign-ask-partner", _text, True),
)


def qr_png(link: str) -> bytes:
    """A printable QR of the link (large modules, a quiet zone)."""
    image = qrcode.make(link, box_size=12, border=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def link_of(services: Services, campaign: Campaign) -> str:
    return make_link(services.bot_username, "source" if campaign.is_source else "campaign", campaign.code)


async def send_link(bot: Bot, chat_id: int, services: Services, t: Translator, campaign: Campaign) -> None:
    link = link_of(services, campaign)
    key = "source-link" if campaign.is_source else "campaign-link"
    await bot.send_photo(chat_id, BufferedInputFile(qr_png(link), f"{campaign.code}.png"),
                         caption=t(key, name=esc(await campaign_name(services, t, campaign)), link=link))


async def campaign_name(services: Services, t: Translator, campaign: Campaign) -> str:
    """A campaign's name in the owner's language (a preset's names come from the program)."""
    _, program = await program_in_force(services.dom)
    return text_in(program.campaign_name(campaign.code, campaign.name), t.locale)


async def show_campaigns(message: Message, services: Services, t: Translator) -> None:
    funnels = await domain.funnels(services.dom)
    lines = [t("campaigns-head")]
    if not funnels:
        lines.append(t("campaigns-empty"))
    for f in funnels:
        lines.append(t("campaigns-row-source" if f.is_source else "campaigns-row", name=esc(text_in(f.name, t.locale)),
                       code=esc(f.code),
                       opened=f.opened, registered=f.registered, certificates=f.certificates, buyers=f.buyers,
                       revenue=t.money(f.revenue), cost=f.cost_points))
    buttons = [button(t("campaigns-button-new"), CampaignCb(action="new")),
               button(t("campaigns-button-source"), CampaignCb(action="source"))]
    buttons += [button(f"🔗 {text_in(f.name, t.locale)[:28]}", CampaignCb(action="show", campaign_id=f.campaign_id))
                for f in funnels][:40]
    parts = chunks(lines)  # every campaign and source has a row: more than one message's worth
    for part in parts[:-1]:
        await message.answer(part)
    await message.answer(parts[-1], reply_markup=keyboard(*in_rows(buttons)))


@router.message(Command("campaigns"))
async def campaigns_command(message: Message, services: Services, t: Translator, state: FSMContext) -> None:
    await state.clear()
    await show_campaigns(message, services, t)


@router.callback_query(MenuCb.filter(F.item == "campaigns"))
async def campaigns_menu(callback: CallbackQuery, services: Services, t: Translator) -> None:
    if isinstance(callback.message, Message):
        await show_campaigns(callback.message, services, t)
    await callback.answer()


@router.callback_query(CampaignCb.filter(F.action == "show"))
async def campaign_show(callback: CallbackQuery, callback_data: CampaignCb, services: Services, t: Translator,
                        bot: Bot) -> None:
    try:
        campaign = await domain.get_campaign(services.dom, callback_data.campaign_id)
    except (CampaignUnavailable, ValueError):
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    await send_link(bot, callback.from_user.id, services, t, campaign)
    if not campaign.is_source and campaign.active:
        await reply(callback, t("campaign-stop-offer", name=esc(await campaign_name(services, t, campaign))),
                    keyboard([button(t("campaign-button-stop"), CampaignCb(action="stop", campaign_id=campaign.id))]))
    await callback.answer()


@router.callback_query(CampaignCb.filter(F.action == "stop"))
async def campaign_stop(callback: CallbackQuery, callback_data: CampaignCb, services: Services, actor: Actor,
                        t: Translator) -> None:
    try:
        await domain.stop_campaign(services.dom, owner_actor(actor), callback_data.campaign_id)
    except (CampaignUnavailable, ValueError):
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    await edit(callback, t("campaign-stopped"))
    await callback.answer()


# --- A new campaign: one question per step -------------------------------------------------------

@router.callback_query(CampaignCb.filter(F.action == "new"))
async def campaign_new(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await state.set_state(CampaignNew.step)
    await campaign_data.update(state, CampaignData(campaign_step=0, campaign={}))
    await reply(callback, t("campaign-new") + "\n" + t(STEPS[0][1]))
    await callback.answer()


@router.message(CampaignNew.step, F.text, NOT_A_COMMAND)
async def campaign_answer(message: Message, state: FSMContext, services: Services, actor: Actor, t: Translator,
                          bot: Bot) -> None:
    data = await campaign_data.get(state)
    index = int(data.get("campaign_step", 0))
    answers: dict[str, Any] = dict(data.get("campaign") or {})
    key, prompt, parse, optional = STEPS[index]
    raw = (message.text or "").strip()
    if optional and raw == SKIP:
        answers[key] = None
    else:
        try:
            answers[key] = parse(raw)
        except (ValueError, TypeError):
            await message.answer(t("input-digits" if foreign_digits(raw) else "campaign-bad-answer") + "\n" + t(prompt))
            return
    if index + 1 < len(STEPS):
        await campaign_data.update(state, CampaignData(campaign_step=index + 1, campaign=answers))
        await message.answer(t(STEPS[index + 1][1]))
        return
    # Every answer given: a recap to check before anything is created.
    await state.set_state(None)
    await campaign_data.update(state, CampaignData(campaign_step=0, campaign=answers, campaign_ready=True))
    await message.answer(recap(t, answers), reply_markup=keyboard(
        [button(t("campaign-button-create"), CampaignCb(action="create")),
         button(t("button-cancel"), CampaignCb(action="drop"))]))


def recap(t: Translator, answers: dict[str, Any]) -> str:
    ends = date.fromisoformat(answers["ends"]) if answers.get("ends") else None
    return t("campaign-recap", name=esc(answers["name"]), points=answers["points"],
             cap=str(answers["cap"] or 100).replace(".", "," if t.locale == "ru" else "."),
             validity=answers["validity"],
             limit=str(answers["limit"]) if answers.get("limit") else t("campaign-recap-no-limit"),
             ends=t.day(ends) if ends else t("campaign-recap-no-end"),
             partner=esc(answers["partner"]) if answers.get("partner") else t("campaign-recap-no-partner"))


@router.callback_query(CampaignCb.filter(F.action == "create"))
async def campaign_create(callback: CallbackQuery, state: FSMContext, services: Services, actor: Actor,
                          t: Translator, bot: Bot) -> None:
    data = await campaign_data.get(state)
    answers: dict[str, Any] = dict(data.get("campaign") or {})
    if not data.get("campaign_ready") or not answers:
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    await campaign_data.update(state, CampaignData(campaign_ready=False, campaign={}))  # a double tap: one campaign
    spec = domain.CampaignSpec(
        name=answers["name"], points=answers["points"],
        max_redeem_percent=Decimal(answers["cap"] or 100), validity_days=answers["validity"],
        issue_limit=answers["limit"], ends_on=date.fromisoformat(answers["ends"]) if answers["ends"] else None,
        partner=answers["partner"])
    try:
        campaign = await domain.create_campaign(services.dom, owner_actor(actor), spec)
    except CampaignUnavailable as exc:
        await edit(callback, t("campaign-invalid-recap", reason=esc(exc.detail)))
        await callback.answer()
        return
    await edit(callback, recap(t, answers))
    await callback.answer(t("campaign-created"))
    chat_id = callback.message.chat.id if callback.message else callback.from_user.id
    await send_link(bot, chat_id, services, t, campaign)


@router.callback_query(CampaignCb.filter(F.action == "drop"))
async def campaign_drop(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await campaign_data.update(state, CampaignData(campaign_ready=False, campaign={}))
    await edit(callback, t("campaign-dropped"))
    await callback.answer()


# --- A new source tag --------------------------------------------------------------------------

@router.callback_query(CampaignCb.filter(F.action == "source"))
async def source_new(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await state.set_state(SourceNew.tag)
    await reply(callback, t("source-ask-tag"))
    await callback.answer()


@router.message(SourceNew.tag, F.text)
async def source_tag(message: Message, state: FSMContext, services: Services, actor: Actor, t: Translator,
                     bot: Bot) -> None:
    try:
        source = await domain.create_source(services.dom, owner_actor(actor), message.text or "")
    except CampaignUnavailable as exc:
        key = "source-tag-taken" if exc.detail == "tag taken" else "source-bad-tag"
        await message.answer(t(key))
        return
    await state.clear()
    await send_link(bot, message.chat.id, services, t, source)
