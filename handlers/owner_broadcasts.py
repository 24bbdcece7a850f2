"""/broadcast and /broadcasts: compose (text with its formatting, or a photo with a caption,
an optional URL button), choose a segment, see the recipient count and a preview, confirm.

Confirm queues every recipient in one statement (models/owner/broadcasts.py) and the outbox
sender (bot/sender.py) delivers them at the configured rate, honouring 429, marking 403
and retrying 5xx. The progress message in the owner's chat is edited by
`BroadcastProgress` (bot/broadcast_progress.py), a listener of the sender; the queue
itself is durable, so sending resumes where it stopped after a restart.
"""

from __future__ import annotations

import logging
import re
from typing import Any, TypedDict

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.broadcast_progress import BroadcastProgress, ensure_progress, progress_view
from bot.i18n import Translator
from bot.markups import url_buttons
from bot.middlewares import Actor
from bot.sender import wake_sender
from bot.services import Services
from handlers.flow_data import FlowData
from handlers.owner_views import (
    NOT_A_COMMAND,
    BroadcastCb,
    MenuCb,
    button,
    edit,
    esc,
    in_rows,
    keyboard,
    reply,
)
from models import owner as domain
from models.kernel import SegmentKind, SourceKind
from models.owner import Segment, list_campaigns
from models.program import program_in_force, text_in
from models.reports import SEGMENTS

log = logging.getLogger(__name__)
router = Router(name="owner-broadcasts")
_URL_RE = re.compile(r"^(https?://|tg://)\S+$")


class Compose(StatesGroup):
    content = State()
    button = State()  # data: bc_text, bc_photo
    days = State()  # data: bc_kind (inactive or expiring)


class ComposeData(TypedDict, total=False):
    """Compose's conversation data, kept until the draft is written (`_finalize`)."""

    bc_text: str  # HTML (the text, or the photo's caption)
    bc_photo: str | None  # a file id
    bc_buttons: list[list[dict[str, str]]]  # URL buttons: [[{"text", "url"}]]
    bc_kind: str  # days: the segment kind that asks for a number of days


compose_data = FlowData[ComposeData]()


# --- Compose -------------------------------------------------------------------------------------

async def start_compose(message: Message, state: FSMContext, t: Translator) -> None:
    await state.clear()
    await state.set_state(Compose.content)
    await message.answer(t("broadcast-ask-content"))


@router.message(Command("broadcast"))
async def broadcast_command(message: Message, state: FSMContext, t: Translator) -> None:
    await start_compose(message, state, t)


@router.callback_query(MenuCb.filter(F.item == "broadcast"))
async def broadcast_menu(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    if isinstance(callback.message, Message):
        await start_compose(callback.message, state, t)
    await callback.answer()


@router.message(Compose.content, F.photo)
async def content_photo(message: Message, state: FSMContext, t: Translator) -> None:
    caption = message.html_text if message.caption else ""
    if domain.visible_length(caption) > domain.MAX_CAPTION:
        await message.answer(t("broadcast-too-long", limit=domain.MAX_CAPTION))
        return
    assert message.photo
    await compose_data.update(state, ComposeData(bc_text=caption, bc_photo=message.photo[-1].file_id))
    await _ask_button(message, state, t)


@router.message(Compose.content, F.text, NOT_A_COMMAND)
async def content_text(message: Message, state: FSMContext, t: Translator) -> None:
    text = message.html_text
    if domain.visible_length(text) > domain.MAX_TEXT:
        await message.answer(t("broadcast-too-long", limit=domain.MAX_TEXT))
        return
    await compose_data.update(state, ComposeData(bc_text=text, bc_photo=None))
    await _ask_button(message, state, t)


@router.message(Compose.content, NOT_A_COMMAND)
async def content_other(message: Message, t: Translator) -> None:
    await message.answer(t("broadcast-ask-content"))


async def _ask_button(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(Compose.button)
    await message.answer(t("broadcast-ask-button"), reply_markup=keyboard([button(t("broadcast-no-button"),
                                                                                 BroadcastCb(action="no_button"))]))


@router.message(Compose.button, F.text)
async def button_text(message: Message, state: FSMContext, t: Translator) -> None:
    label, _, url = (message.text or "").partition("|")
    label, url = label.strip(), url.strip()
    if not label or len(label) > 64 or not _URL_RE.match(url):
        await message.answer(t("broadcast-bad-button"))
        return
    await compose_data.update(state, ComposeData(bc_buttons=[[{"text": label, "url": url}]]))
    await _ask_segment(message, state, t)


@router.callback_query(Compose.button, BroadcastCb.filter(F.action == "no_button"))
async def no_button(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await compose_data.update(state, ComposeData(bc_buttons=[]))
    if isinstance(callback.message, Message):
        await _ask_segment(callback.message, state, t)
    await callback.answer()


async def _ask_segment(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(None)
    kinds = [k for k in SegmentKind]
    buttons = [button(t(f"owner-segment-{k.value.replace('_', '-')}"), BroadcastCb(action="kind", kind=k.value))
               for k in kinds]
    await message.answer(t("broadcast-ask-segment"), reply_markup=keyboard(*in_rows(buttons)))


@router.callback_query(BroadcastCb.filter(F.action == "kind"))
async def segment_kind(callback: CallbackQuery, callback_data: BroadcastCb, state: FSMContext, t: Translator,
                       services: Services, actor: Actor, bot: Bot) -> None:
    data = await compose_data.get(state)
    if "bc_text" not in data:
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    try:
        kind = SegmentKind(callback_data.kind)
    except ValueError:
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    options: list[tuple[str, str]] = []
    if kind is SegmentKind.ALL:
        await callback.answer()
        await _finalize(callback, state, t, services, actor, bot, Segment(kind))
        return
    if kind in (SegmentKind.INACTIVE, SegmentKind.EXPIRING):
        await state.set_state(Compose.days)
        await compose_data.update(state, ComposeData(bc_kind=kind.value))
        await reply(callback, t("broadcast-ask-days-inactive" if kind is SegmentKind.INACTIVE
                                else "broadcast-ask-days-expiring"))
        await callback.answer()
        return
    if kind is SegmentKind.TIER:
        _, program = await program_in_force(services.dom)
        options = [(esc(text_in(tier.name, t.locale)), str(i)) for i, tier in enumerate(program.tiers.levels)]
    elif kind is SegmentKind.RFM:
        options = [(t(f"rfm-{name}"), name) for name in SEGMENTS]
    elif kind is SegmentKind.CAMPAIGN:
        _, program = await program_in_force(services.dom)
        options = [(text_in(program.campaign_name(c.code, c.name), t.locale)[:40], str(c.id))
                   for c in await list_campaigns(services.dom)][-40:]
    elif kind is SegmentKind.SOURCE_KIND:
        options = [(t(f"owner-source-{k.value.replace('_', '-')}"), k.value) for k in SourceKind]
    elif kind is SegmentKind.BIRTHDAY_MONTH:
        options = [(t(f"owner-month-{m}"), str(m)) for m in range(1, 13)]
    if not options:
        await callback.answer(t("broadcast-no-options"), show_alert=True)
        return
    buttons = [button(label, BroadcastCb(action="value", kind=kind.value, value=value)) for label, value in options]
    await edit(callback, t("broadcast-ask-value"), keyboard(*in_rows(buttons, 3)))
    await callback.answer()


@router.callback_query(BroadcastCb.filter(F.action == "value"))
async def segment_value(callback: CallbackQuery, callback_data: BroadcastCb, state: FSMContext, t: Translator,
                        services: Services, actor: Actor, bot: Bot) -> None:
    try:
        segment = Segment.parse(f"{callback_data.kind}:{callback_data.value}")
    except ValueError:
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    await callback.answer()
    await _finalize(callback, state, t, services, actor, bot, segment)


@router.message(Compose.days, F.text)
async def segment_days(message: Message, state: FSMContext, t: Translator, services: Services, actor: Actor,
                       bot: Bot) -> None:
    kind = str((await compose_data.get(state)).get("bc_kind", "inactive"))
    try:
        segment = Segment.parse(f"{kind}:{(message.text or '').strip()}")
    except ValueError:
        await message.answer(t("broadcast-bad-days"))
        return
    await state.set_state(None)
    await _finalize(message, state, t, services, actor, bot, segment)


async def _finalize(source: CallbackQuery | Message, state: FSMContext, t: Translator, services: Services,
                    actor: Actor, bot: Bot, segment: Segment) -> None:
    """A draft row, the recipient count, a preview to the owner, then Send / Cancel."""
    data = await compose_data.get(state)
    if "bc_text" not in data:
        if isinstance(source, Message):
            await source.answer(t("owner-stale"))
        return
    draft = await domain.compose(services.dom, actor.telegram_id, text=str(data["bc_text"]),
                                 photo=data.get("bc_photo"), buttons=list(data.get("bc_buttons") or []),
                                 segment=segment)
    recipients = draft.recipients
    await state.clear()
    await _send_preview(bot, actor.telegram_id, draft.payload)
    text = t("broadcast-summary", segment=segment_label(t, segment), n=recipients)
    send_cb = BroadcastCb(action="send", broadcast_id=draft.broadcast_id)
    rows = [[button(t("broadcast-button-send", n=recipients), send_cb)]] if recipients else []
    rows.append([button(t("button-cancel"), BroadcastCb(action="drop", broadcast_id=draft.broadcast_id))])
    await bot.send_message(actor.telegram_id, text, reply_markup=keyboard(*rows))


def segment_label(t: Translator, segment: Segment) -> str:
    name = t(f"owner-segment-{segment.kind.value.replace('_', '-')}")
    return f"{name}: {esc(segment.value)}" if segment.value else name


async def _send_preview(bot: Bot, chat_id: int, payload: dict[str, Any]) -> None:
    markup = url_buttons(payload.get("buttons"))
    if payload.get("photo"):
        await bot.send_photo(chat_id, payload["photo"], caption=payload.get("text") or None, reply_markup=markup)
    else:
        await bot.send_message(chat_id, payload.get("text") or "", reply_markup=markup)


@router.callback_query(BroadcastCb.filter(F.action == "send"))
async def send(callback: CallbackQuery, callback_data: BroadcastCb, services: Services, actor: Actor, t: Translator,
               bot: Bot) -> None:
    broadcast_id = callback_data.broadcast_id
    try:
        sent = await domain.send(services.dom, actor.telegram_id, broadcast_id)
    except domain.BroadcastDropped:  # Cancel was pressed on the draft before Send
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    if sent.already_shown:  # a double tap: the first press already queued and shows progress
        await callback.answer()
        return
    progress = sent.progress
    await edit(callback, t("broadcast-queued", n=sent.queued))
    text, markup = progress_view(t, progress, services.settings.send_rate)
    shown = await bot.send_message(actor.telegram_id, text, reply_markup=markup)
    await domain.show_progress_in(services.dom, broadcast_id, shown.message_id)
    await callback.answer()
    tracker = ensure_progress(services, bot)
    wake_sender(services)
    if tracker is not None and progress.finished:
        await tracker.refresh(broadcast_id, force=True)


@router.callback_query(BroadcastCb.filter(F.action == "drop"))
async def drop(callback: CallbackQuery, callback_data: BroadcastCb, services: Services, t: Translator) -> None:
    await domain.drop_draft(services.dom, callback_data.broadcast_id)
    await edit(callback, t("cancelled"))
    await callback.answer()


@router.callback_query(BroadcastCb.filter(F.action == "stop"))
async def stop(callback: CallbackQuery, callback_data: BroadcastCb, services: Services, actor: Actor, t: Translator,
               bot: Bot) -> None:
    broadcast_id = callback_data.broadcast_id
    cancelled = await domain.stop(services.dom, actor.telegram_id, broadcast_id)
    await callback.answer(t("broadcast-stopped", n=cancelled))
    tracker = ensure_progress(services, bot) or BroadcastProgress(services, bot)
    await tracker.refresh(broadcast_id, force=True)


# --- History -------------------------------------------------------------------------------------

async def show_history(message: Message, services: Services, t: Translator) -> None:
    rows = await domain.recent(services.dom, limit=15)
    if not rows:
        await message.answer(t("broadcasts-empty"))
        return
    lines = [t("broadcasts-head")]
    for broadcast, progress in rows:
        preview = re.sub(r"<[^>]+>", "", broadcast.text or "")[:40] or "🖼"
        lines.append(t("broadcasts-row", id=broadcast.id, date=t.day(broadcast.created_at),
                       status=t(f"broadcast-status-{broadcast.status.value}"), preview=esc(preview),
                       segment=segment_label(t, Segment(broadcast.segment, broadcast.segment_value)),
                       total=progress.total, sent=progress.sent, failed=progress.failed, blocked=progress.blocked,
                       remaining=progress.remaining))
    await message.answer("\n".join(lines))


@router.message(Command("broadcasts"))
async def history_command(message: Message, services: Services, t: Translator) -> None:
    await show_history(message, services, t)


@router.callback_query(MenuCb.filter(F.item == "broadcasts"))
async def history_menu(callback: CallbackQuery, services: Services, t: Translator) -> None:
    if isinstance(callback.message, Message):
        await show_history(callback.message, services, t)
    await callback.answer()


__all__ = ["router"]
