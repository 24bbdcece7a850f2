"""/program: the current program in plain words; a new TOML file or a button edit →
validation → difference → Confirm → a new version (DOMAIN.md, "The program": nothing
already recorded changes).

Both paths end in the same place: the candidate program's document and the version the
difference was computed against are kept in the FSM data until Confirm.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any, TypedDict

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.i18n import Translator
from bot.middlewares import Actor
from bot.services import Services
from handlers.flow_data import FlowData
from handlers.owner_views import (
    MAX_FILE_BYTES,
    MenuCb,
    ProgramCb,
    button,
    chunks,
    download,
    edit,
    esc,
    in_rows,
    keyboard,
    owner_actor,
    reply,
)
from models import owner as domain
from models.kernel import InvalidProgram, SettingRejected
from models.program import (
    LOCAL_TEXT_ERRORS,
    Program,
    ThresholdBasis,
    parse_program,
    program_from_document,
    program_in_force,
    text_in,
)

log = logging.getLogger(__name__)
router = Router(name="owner-program")


class ProgramEdit(StatesGroup):
    value = State()  # data: setting


class ProgramData(TypedDict, total=False):
    """ProgramEdit's conversation data, and the change offered for Apply."""

    setting: str  # value: the setting typed for ("tier_cap:1" for a tier's)
    program_candidate: dict[str, Any] | None  # the new program's document (None: applied or dropped)
    program_base: int  # the version it changes
    program_comment: str


program_data = FlowData[ProgramData]()


def describe(t: Translator, version: int, program: Program) -> str:
    """The program in plain words."""
    money = program.tiers.basis is ThresholdBasis.MONEY
    lines = [t("program-head", version=version, name=esc(text_in(program.business.name, t.locale))),
             t("program-tiers-money" if money else "program-tiers-purchases")]
    for i, tier in enumerate(program.tiers.levels):
        threshold = (t.money(program.tiers.threshold_units(tier)) if money
                     else str(program.tiers.threshold_units(tier)))
        lines.append(t("program-tier", n=i + 1, name=esc(text_in(tier.name, t.locale)),
                       cashback=str(tier.cashback_percent), cap=str(tier.max_redeem_percent), threshold=threshold))
    if program.tiers.window_days:
        lines.append(t("program-tier-window", days=program.tiers.window_days))
    lines.append(t("program-welcome", points=program.welcome.points))
    levels = " / ".join(f"{p}%" for p in program.referral.level_percents)
    lines.append(t("program-referral", levels=levels) if levels else t("program-referral-off"))
    if program.referral.first_purchase_points:
        lines.append(t("program-referral-first", points=program.referral.first_purchase_points))
    lines.append(t("program-validity", days=program.points.validity_days) if program.points.validity_days
                 else t("program-validity-forever"))
    for key, cert in (("birthday", program.birthday), ("winback", program.winback)):
        if cert is None or not cert.enabled:
            lines.append(t(f"program-{key}-off"))
            continue
        extra = getattr(cert, "after_days", None) if key == "winback" else getattr(cert, "days_before", 0)
        lines.append(t(f"program-{key}", points=cert.points, cap=str(cert.max_redeem_percent),
                       days=cert.validity_days, extra=extra or 0))
    for review in program.reviews:
        lines.append(t("program-review", site=esc(text_in(review.site, t.locale)), points=review.points))
    lines.append(t("program-refunds", days=program.refunds.window_days))
    lines.append("")
    lines.append(t("program-hint"))
    return "\n".join(lines)


def settings_keyboard(t: Translator, program: Program) -> Any:
    buttons = [button(t("program-set-welcome-points"), ProgramCb(action="set", setting="welcome_points"))]
    for i, name in enumerate(text_in(tier.name, t.locale) for tier in program.tiers.levels):
        buttons.append(button(t("program-set-cashback", tier=name),
                              ProgramCb(action="set", setting="tier_cashback", tier=i)))
        buttons.append(button(t("program-set-cap", tier=name),
                              ProgramCb(action="set", setting="tier_cap", tier=i)))
    for setting in ("birthday_points", "birthday_cap", "birthday_validity", "birthday_enabled",
                    "winback_points", "winback_after_days", "winback_enabled"):
        buttons.append(button(t(f"program-set-{setting.replace('_', '-')}"), ProgramCb(action="set", setting=setting)))
    buttons.append(button(t("program-download"), ProgramCb(action="download")))
    return keyboard(*in_rows(buttons))


async def _current(services: Services) -> tuple[int, Program]:
    return await program_in_force(services.dom)


async def show_program(message: Message, services: Services, t: Translator) -> None:
    version, program = await _current(services)
    await message.answer(describe(t, version, program), reply_markup=settings_keyboard(t, program))


@router.message(Command("program"))
async def program_command(message: Message, services: Services, t: Translator, state: FSMContext) -> None:
    await state.clear()
    await show_program(message, services, t)


@router.callback_query(MenuCb.filter(F.item == "program"))
async def program_menu(callback: CallbackQuery, services: Services, t: Translator) -> None:
    if isinstance(callback.message, Message):
        await show_program(callback.message, services, t)
    await callback.answer()


@router.callback_query(ProgramCb.filter(F.action == "download"))
async def program_download(callback: CallbackQuery, services: Services, bot: Bot) -> None:
    import tomli_w

    version, program = await _current(services)
    data = tomli_w.dumps(program.to_document()).encode("utf-8")
    await bot.send_document(callback.from_user.id, BufferedInputFile(data, f"program-v{version}.toml"))
    await callback.answer()


# --- Button edits ------------------------------------------------------------------------------

@router.callback_query(ProgramCb.filter(F.action == "set"))
async def ask_setting(callback: CallbackQuery, callback_data: ProgramCb, state: FSMContext, t: Translator,
                      services: Services) -> None:
    name = callback_data.setting
    # Stored in the conversation as before: "tier_cap:1" for a tier's setting.
    setting = name if callback_data.tier is None else f"{name}:{callback_data.tier}"
    if name not in domain.SETTINGS:
        await callback.answer(t("not-allowed"), show_alert=True)
        return
    _, program = await _current(services)
    if name in ("tier_cashback", "tier_cap") and not _tier_index_ok(program, setting):
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    await state.set_state(ProgramEdit.value)
    await program_data.update(state, ProgramData(setting=setting))
    kind = domain.SETTING_KINDS[name]
    await reply(callback, t("program-ask-value", setting=esc(setting_label(t, program, setting)),
                            current=esc(current_value(t, program, setting))) + "\n" + t(f"program-ask-{kind}"))
    await callback.answer()


def _tier_index_ok(program: Program, setting: str) -> bool:
    index = setting.partition(":")[2]
    return index.isdigit() and int(index) < len(program.tiers.levels)


def setting_label(t: Translator, program: Program, setting: str) -> str:
    """The setting in the owner's words: "Кешбэк «Гость»", never a field path."""
    name, _, index = setting.partition(":")
    if name in ("tier_cashback", "tier_cap") and _tier_index_ok(program, setting):
        key = "program-set-cashback" if name == "tier_cashback" else "program-set-cap"
        return t(key, tier=text_in(program.tier(int(index)).name, t.locale))
    return t(f"program-set-{name.replace('_', '-')}")


def current_value(t: Translator, program: Program, setting: str) -> str:
    name, _, index = setting.partition(":")
    kind = domain.SETTING_KINDS[name]
    if name == "welcome_points":
        value: Any = program.welcome.points
    elif name in ("tier_cashback", "tier_cap"):
        tier = program.tier(int(index))
        value = tier.cashback_percent if name == "tier_cashback" else tier.max_redeem_percent
    else:
        section, _, what = name.partition("_")
        cert = getattr(program, section)
        if cert is None:
            return t("program-value-off")
        field = {"points": "points", "cap": "max_redeem_percent", "validity": "validity_days",
                 "after": "after_days", "enabled": "enabled"}[what.split("_")[0]]
        value = getattr(cert, field)
    return shown_value(t, value, percent=kind == "percent")


def shown_value(t: Translator, value: Any, *, percent: bool = False) -> str:
    """A program value as a person reads it: 5%, 5,5%, да/нет, —."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("word-yes" if value else "word-no")
    if isinstance(value, list):
        return " / ".join(shown_value(t, item, percent=percent) for item in value) or "—"
    if isinstance(value, dict):  # a text given per language: the owner's first, then the others
        others = ", ".join(f"{lang}: {text}" for lang, text in value.items() if text != text_in(value, t.locale))
        return text_in(value, t.locale) + (f" ({others})" if others else "")
    text = str(value)
    if percent or isinstance(value, Decimal):
        text = text.rstrip("0").rstrip(".") if "." in text else text
        if t.locale == "ru":
            text = text.replace(".", ",")
    return f"{text}%" if percent else text


# Where a changed value lives -> how the owner calls it (program_diff's keys; a TOML upload can
# change anything, so a key without a name here is shown as it is in the file).
_PERCENT_KEYS = ("cashback_percent", "max_redeem_percent", "level_percents", "near_next_percent",
                 "baseline_discount_percent")
_DIFF_LABELS = {
    "welcome.points": "program-set-welcome-points", "welcome.validity_days": "program-label-welcome-validity",
    "points.validity_days": "program-label-points-validity", "points.pending_days": "program-label-points-pending",
    "points.expiry_warning_days": "program-label-expiry-warning",
    "birthday.points": "program-set-birthday-points", "birthday.max_redeem_percent": "program-set-birthday-cap",
    "birthday.validity_days": "program-set-birthday-validity", "birthday.enabled": "program-set-birthday-enabled",
    "birthday.days_before": "program-label-birthday-before",
    "winback.points": "program-set-winback-points", "winback.max_redeem_percent": "program-label-winback-cap",
    "winback.validity_days": "program-label-winback-validity", "winback.enabled": "program-set-winback-enabled",
    "winback.after_days": "program-set-winback-after-days",
    "referral.level_percents": "program-label-referral-levels",
    "referral.first_purchase_points": "program-label-referral-first",
    "refunds.window_days": "program-label-refund-window",
    "business.name": "program-label-business-name",
}
_TIER_LABELS = {"cashback_percent": "program-set-cashback", "max_redeem_percent": "program-set-cap",
                "threshold": "program-label-tier-threshold", "name": "program-label-tier-name"}


def diff_label(t: Translator, old: Program, new: Program, key: str) -> str:
    tier = re.fullmatch(r"tiers\.levels\[(\d+)\]\.(\w+)", key)
    if tier is not None and tier.group(2) in _TIER_LABELS:
        index = int(tier.group(1))
        levels = new.tiers.levels if index < len(new.tiers.levels) else old.tiers.levels
        name = text_in(levels[index].name, t.locale) if index < len(levels) else str(index + 1)
        return t(_TIER_LABELS[tier.group(2)], tier=name)
    if key in _DIFF_LABELS:
        return t(_DIFF_LABELS[key])
    return key


def diff_line(t: Translator, old: Program, new: Program, key: str, before: Any, after: Any) -> str:
    percent = key.rsplit(".", 1)[-1] in _PERCENT_KEYS
    return t("program-diff-line", key=esc(diff_label(t, old, new, key)),
             old=esc(shown_value(t, before, percent=percent)), new=esc(shown_value(t, after, percent=percent)))


@router.message(ProgramEdit.value, F.text)
async def setting_value(message: Message, state: FSMContext, services: Services, t: Translator) -> None:
    setting = str((await program_data.get(state)).get("setting", ""))
    version, program = await _current(services)
    try:
        candidate = domain.edit_setting(program, setting, message.text or "")
    except SettingRejected as exc:
        await message.answer(t(f"program-error-{exc.kind.replace('_', '-')}",
                               setting=esc(setting_label(t, program, setting))))
        return  # stay in the state: the owner types another value
    except InvalidProgram:
        await state.clear()
        await message.answer(t("owner-stale"))
        return
    await _offer(message, state, t, version, program, candidate, f"{setting}={message.text}"[:200])


# --- A TOML file -------------------------------------------------------------------------------

@router.message(F.document.file_name.lower().endswith(".toml"))
async def program_file(message: Message, state: FSMContext, services: Services, t: Translator, bot: Bot) -> None:
    document = message.document
    assert document is not None
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await message.answer(t("owner-file-too-large"))
        return
    data = await download(bot, document.file_id)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        await message.answer(t("program-invalid", errors=t("program-not-utf8")))
        return
    try:
        candidate = parse_program(text, esc(document.file_name or "program.toml"), words=_error_words(t))
    except InvalidProgram as exc:
        for part in chunks(t("program-invalid", errors=esc(exc)).split("\n")):
            await message.answer(part)
        return
    version, program = await _current(services)
    await _offer(message, state, t, version, program, candidate, f"file {document.file_name}"[:200])


def _error_words(t: Translator) -> Any:
    """A program text's mistakes (a name with no language, an unknown language) in the owner's words."""
    def words(kind: str, ctx: dict[str, Any]) -> str | None:
        if kind not in LOCAL_TEXT_ERRORS:
            return None
        args = {key: value if isinstance(value, int) else str(value) for key, value in ctx.items()}
        return t(f"program-error-{kind.replace('_', '-')}", **args)
    return words


async def _offer(message: Message, state: FSMContext, t: Translator, version: int, old: Program, new: Program,
                 comment: str) -> None:
    changes = domain.diff(old, new)
    if not changes:
        await state.clear()
        await message.answer(t("program-no-changes"))
        return
    await state.set_state(None)
    await program_data.update(state, ProgramData(program_candidate=new.to_document(), program_base=version,
                                                 program_comment=comment))
    lines = [t("program-diff-head", version=version)]
    lines += [diff_line(t, old, new, key, before, after) for key, before, after in changes]
    parts = chunks(lines)
    for part in parts[:-1]:
        await message.answer(part)
    await message.answer(parts[-1], reply_markup=keyboard(
        [button(t("program-button-apply"), ProgramCb(action="apply")),
         button(t("button-cancel"), ProgramCb(action="drop"))]))


@router.callback_query(ProgramCb.filter(F.action == "apply"))
async def apply(callback: CallbackQuery, state: FSMContext, services: Services, actor: Actor,
                t: Translator) -> None:
    data = await program_data.get(state)
    document = data.get("program_candidate")
    if document is None:
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    candidate = program_from_document(document)
    try:
        version = await domain.apply_program(services.dom, owner_actor(actor), candidate,
                                             str(data.get("program_comment", "")),
                                             expected_version=int(data.get("program_base", 0)))
    except InvalidProgram:
        await program_data.update(state, ProgramData(program_candidate=None))
        await callback.answer(t("program-stale"), show_alert=True)
        return
    await program_data.update(state, ProgramData(program_candidate=None))
    await edit(callback, t("program-applied", version=version))
    await callback.answer()


@router.callback_query(ProgramCb.filter(F.action == "drop"))
async def drop(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await program_data.update(state, ProgramData(program_candidate=None))
    await edit(callback, t("program-dropped"))
    await callback.answer()
