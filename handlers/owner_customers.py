"""The owner's customers: /import (dry run, then Confirm), /export, /find (card, history,
referrer and invitees; adjust points with a reason, pin a tier, block or unblock), /audit.
"""

from __future__ import annotations

import logging
import re
from typing import Any, TypedDict

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.middlewares import Actor
from bot.services import Services
from handlers.errors import answer_domain_errors
from handlers.flow_data import FlowData
from handlers.owner_views import (
    MAX_FILE_BYTES,
    NOT_A_COMMAND,
    AuditCb,
    CardCb,
    ExportCb,
    ImportCb,
    MenuCb,
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
from models.kernel import AuditEntry, DomainError, foreign_digits
from models.owner import ExportFormat, ExportWhat, ImportFileError, ImportPlan, apply_import, export, plan_import
from models.program import program_in_force, text_in

log = logging.getLogger(__name__)
router = Router(name="owner-customers")

IMPORT_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".txt")
SHOWN_ERRORS = 30
_ADJUSTMENT = re.compile(r"([+-]?)([0-9]{1,13})")  # [0-9]: isdigit()/int() also read "١٠٠" and "１００"


async def _stale(callback: CallbackQuery, t: Translator, exc: DomainError) -> None:
    """A button on a customer's card the domain refuses (the customer erased, blocked meanwhile...)."""
    await callback.answer(t("owner-stale"), show_alert=True)


answer_domain_errors(router, callback=_stale)  # handlers/errors.py


class OwnerCustomers(StatesGroup):
    import_file = State()
    query = State()
    adjust = State()  # data: customer_id


class CustomersData(TypedDict, total=False):
    """OwnerCustomers' conversation data."""

    import_file_id: str | None  # the planned import's file (None: confirmed or dropped)
    import_name: str
    customer_id: int  # adjust: whose points


customers_data = FlowData[CustomersData]()


# --- Import -----------------------------------------------------------------------------------

async def ask_import(message: Message, state: FSMContext, t: Translator) -> None:
    await state.set_state(OwnerCustomers.import_file)
    await message.answer(t("import-ask-file"))


@router.message(Command("import"))
async def import_command(message: Message, state: FSMContext, t: Translator) -> None:
    await ask_import(message, state, t)


@router.callback_query(MenuCb.filter(F.item == "import"))
async def import_menu(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    if isinstance(callback.message, Message):
        await ask_import(callback.message, state, t)
    await callback.answer()


def import_file_error(t: Translator, exc: ImportFileError) -> str:
    """One sentence for a file that cannot be read at all (damaged, unsafe, not a table...)."""
    key = f"import-file-{exc.code.replace('_', '-')}"
    if not t.i18n.has(t.locale, key):
        log.warning("import: no text for file error %s (%s)", exc.code, exc.detail)
        key = "import-file-bad-xlsx" if exc.code.endswith("xlsx") else "import-file-not-text"
    return t(key, line=exc.line or 0)


def _is_table(name: str | None) -> bool:
    return bool(name) and str(name).lower().endswith(IMPORT_SUFFIXES)


@router.message(F.document.func(lambda d: d is not None and _is_table(d.file_name)))
@router.message(OwnerCustomers.import_file, F.document)
async def import_file(message: Message, state: FSMContext, services: Services, t: Translator, bot: Bot) -> None:
    document = message.document
    assert document is not None
    if (document.file_size or 0) > MAX_FILE_BYTES:
        await message.answer(t("owner-file-too-large"))
        return
    name = document.file_name or "import.csv"
    data = await download(bot, document.file_id)
    try:
        plan = await plan_import(services.dom, data, name)
    except ImportFileError as exc:
        await message.answer(import_file_error(t, exc))
        return
    await state.set_state(None)
    await customers_data.update(state, CustomersData(import_file_id=document.file_id, import_name=name))
    parts = chunks(_plan_lines(t, plan))
    for part in parts[:-1]:
        await message.answer(part)
    markup = keyboard([button(t("import-button-confirm", n=len(plan.rows)), ImportCb(action="confirm")),
                       button(t("button-cancel"), ImportCb(action="drop"))]) if plan.rows else None
    await message.answer(parts[-1], reply_markup=markup)


def _plan_lines(t: Translator, plan: ImportPlan) -> list[str]:
    lines = [t("import-plan", rows=plan.total_lines, create=len(plan.rows), points=plan.points,
               imported=plan.already_imported, errors=len(plan.errors))]
    if plan.unknown_columns:
        lines.append(t("import-unknown-columns", columns=esc(", ".join(plan.unknown_columns))))
    if plan.unknown_sources:
        lines.append(t("import-new-sources", sources=esc(", ".join(plan.unknown_sources[:20]))))
    if plan.bad_sources:
        lines.append(t("import-bad-sources", sources=esc(", ".join(plan.bad_sources[:20]))))
    for error in plan.errors[:SHOWN_ERRORS]:
        lines.append(t("import-error-line", line=error.line, column=error.column,
                       reason=t(f"import-reason-{error.reason.replace('_', '-')}"), value=esc(error.value[:60])))
    if len(plan.errors) > SHOWN_ERRORS:
        lines.append(t("import-more-errors", n=len(plan.errors) - SHOWN_ERRORS))
    if not plan.rows:
        lines.append(t("import-nothing"))
    return lines


@router.callback_query(ImportCb.filter(F.action == "confirm"))
async def import_confirm(callback: CallbackQuery, state: FSMContext, services: Services, actor: Actor,
                         t: Translator, bot: Bot) -> None:
    data = await customers_data.get(state)
    file_id, name = data.get("import_file_id"), str(data.get("import_name") or "import.csv")
    if not file_id:
        await callback.answer(t("owner-stale"), show_alert=True)
        return
    await customers_data.update(state, CustomersData(import_file_id=None))
    await callback.answer()
    content = await download(bot, str(file_id))
    try:
        result = await apply_import(services.dom, content, name, actor_telegram_id=actor.telegram_id)
    except ImportFileError as exc:
        await edit(callback, import_file_error(t, exc))
        return
    await edit(callback, t("import-done", created=result.created, points=result.points,
                           imported=result.already_imported, errors=result.errors))


@router.callback_query(ImportCb.filter(F.action == "drop"))
async def import_drop(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await customers_data.update(state, CustomersData(import_file_id=None))
    await edit(callback, t("cancelled"))
    await callback.answer()


# --- Export -----------------------------------------------------------------------------------

async def offer_export(message: Message, t: Translator) -> None:
    buttons = [button(t(f"export-{what.value}-{fmt.value}"), ExportCb(what=what, fmt=fmt))
               for what in ExportWhat for fmt in ExportFormat]
    await message.answer(t("export-choose"), reply_markup=keyboard(*in_rows(buttons)))


@router.message(Command("export"))
async def export_command(message: Message, t: Translator) -> None:
    await offer_export(message, t)


@router.callback_query(MenuCb.filter(F.item == "export"))
async def export_menu(callback: CallbackQuery, t: Translator) -> None:
    if isinstance(callback.message, Message):
        await offer_export(callback.message, t)
    await callback.answer()


@router.callback_query(ExportCb.filter())
async def export_file(callback: CallbackQuery, callback_data: ExportCb, services: Services, actor: Actor,
                      t: Translator, bot: Bot) -> None:
    what, fmt = callback_data.what, callback_data.fmt
    await callback.answer(t("export-preparing"))
    data, name = await export(services.dom, what, fmt, t)  # in the owner's language
    await domain.record(services.dom, owner_actor(actor), "owner.export", name, bytes=len(data))
    await bot.send_document(callback.from_user.id, BufferedInputFile(data, name))


# --- Look-up and the customer's card -----------------------------------------------------------

@router.message(Command("find"))
async def find_command(message: Message, command: CommandObject, state: FSMContext, services: Services,
                       t: Translator) -> None:
    if command.args:
        await state.clear()
        await _show_found(message, services, t, command.args)
        return
    await state.set_state(OwnerCustomers.query)
    await message.answer(t("find-ask"))


@router.callback_query(MenuCb.filter(F.item == "find"))
async def find_menu(callback: CallbackQuery, state: FSMContext, t: Translator) -> None:
    await state.set_state(OwnerCustomers.query)
    await reply(callback, t("find-ask"))
    await callback.answer()


@router.message(OwnerCustomers.query, F.text, NOT_A_COMMAND)
async def find_query(message: Message, state: FSMContext, services: Services, t: Translator) -> None:
    await state.clear()
    await _show_found(message, services, t, message.text or "")


async def _show_found(message: Message, services: Services, t: Translator, query: str) -> None:
    found = await domain.find_customers(services.dom, query)
    if not found:
        await message.answer(t("find-none"))
        return
    if len(found) == 1:
        text, markup = await card_view(services, t, found[0].customer_id)
        await message.answer(text, reply_markup=markup)
        return
    buttons = [button(f"{f.name or '—'} {f.phone or ''}".strip()[:60],
                      CardCb(action="show", customer_id=f.customer_id)) for f in found]
    await message.answer(t("find-many", n=len(found)), reply_markup=keyboard(*in_rows(buttons, 1)))


async def card_view(services: Services, t: Translator, customer_id: int, page: int = 0
                    ) -> tuple[str, InlineKeyboardMarkup]:
    card = await domain.customer_card(services.dom, customer_id, page)
    _, program = await program_in_force(services.dom)
    tier = esc(text_in(program.tier(card.tier_index).name, t.locale))
    def yes_no(value: bool) -> str:
        return t("word-yes" if value else "word-no")

    lines = [t("owner-card", id=str(card.customer_id), name=esc(card.name or "—"), phone=esc(card.phone or "—"),
               birthday=t.day(card.birthday) if card.birthday else "—", tier=tier,
               pinned=yes_no(card.tier_pinned is not None),
               balance=card.balance.regular, certificates=card.balance.certificates,
               paid=t.money(card.paid_total_kopecks), purchases=card.purchase_count,
               source=t(f"owner-source-{card.source_kind.replace('_', '-')}"),
               campaign=esc(text_in(card.campaign or "—", t.locale)),
               linked=yes_no(card.linked), blocked=yes_no(card.blocked),
               invitees=card.invitee_count)]
    if card.referrer is not None:
        lines.append(t("owner-card-referrer", id=str(card.referrer[0]), name=esc(card.referrer[1] or "—")))
    if card.invitees:
        lines.append(t("owner-card-invitees", names=esc(", ".join(n or "—" for _, n in card.invitees))))
    if card.history.items:
        lines.append(t("owner-card-history"))
        for item in card.history.items:
            lines.append(t("owner-card-history-line", date=t.day(item.created_at),
                           what=t(f"owner-history-{item.label}"), delta=item.points,
                           amount=t.money(item.amount_kopecks) if item.amount_kopecks else ""))
    pages = max((card.history.total + 7) // 8, 1)
    nav = []
    if card.history.page > 0:
        nav.append(button("◀", CardCb(action="history", customer_id=customer_id, page=card.history.page - 1)))
    if card.history.page + 1 < pages:
        nav.append(button("▶", CardCb(action="history", customer_id=customer_id, page=card.history.page + 1)))
    block = (button(t("owner-button-unblock"), CardCb(action="unblock", customer_id=customer_id)) if card.blocked
             else button(t("owner-button-block"), CardCb(action="block", customer_id=customer_id)))
    markup = keyboard(nav, [button(t("owner-button-adjust"), CardCb(action="adjust", customer_id=customer_id)),
                            button(t("owner-button-pin"), CardCb(action="pin", customer_id=customer_id))], [block])
    return "\n".join(lines), markup


@router.callback_query(CardCb.filter(F.action == "show"))
async def card_button(callback: CallbackQuery, callback_data: CardCb, services: Services, t: Translator) -> None:
    await _card_reply(callback, services, t, callback_data.customer_id, 0, new_message=True)


@router.callback_query(CardCb.filter(F.action == "history"))
async def card_history(callback: CallbackQuery, callback_data: CardCb, services: Services, t: Translator) -> None:
    await _card_reply(callback, services, t, callback_data.customer_id, callback_data.page, new_message=False)


async def _card_reply(callback: CallbackQuery, services: Services, t: Translator, customer_id: int, page: int,
                      *, new_message: bool) -> None:
    text, markup = await card_view(services, t, customer_id, page)
    if new_message:
        await reply(callback, text, markup)
    else:
        await edit(callback, text, markup)
    await callback.answer()


@router.callback_query(CardCb.filter(F.action == "adjust"))
async def adjust_start(callback: CallbackQuery, callback_data: CardCb, state: FSMContext, t: Translator) -> None:
    await state.set_state(OwnerCustomers.adjust)
    await customers_data.update(state, CustomersData(customer_id=callback_data.customer_id))
    await reply(callback, t("owner-adjust-ask"))
    await callback.answer()


@router.message(OwnerCustomers.adjust, F.text)
async def adjust_amount(message: Message, state: FSMContext, services: Services, actor: Actor,
                        t: Translator) -> None:
    amount_text, _, reason = (message.text or "").strip().partition(" ")
    amount_text = amount_text.replace("−", "-")
    reason = reason.strip()
    if foreign_digits(amount_text):
        await message.answer(t("input-digits"))
        return
    match = _ADJUSTMENT.fullmatch(amount_text)
    if not reason or match is None or int(match[2]) == 0:
        await message.answer(t("owner-adjust-bad"))
        return
    delta = int(match[2]) * (-1 if match[1] == "-" else 1)
    _, program = await program_in_force(services.dom)
    if abs(delta) > program.limits.max_reward_points:
        await message.answer(t("owner-adjust-too-large", max=program.limits.max_reward_points))
        return
    customer_id = int((await customers_data.get(state)).get("customer_id", 0))
    try:
        await domain.adjust(services.dom, owner_actor(actor), customer_id, delta, reason)
    except DomainError as exc:
        await message.answer(t("owner-adjust-refused", reason=esc(exc.code)))
        return
    await state.clear()
    text, markup = await card_view(services, t, customer_id)
    await message.answer(t("owner-adjust-done", delta=delta))
    await message.answer(text, reply_markup=markup)


@router.callback_query(CardCb.filter(F.action == "pin"))
async def pin_choose(callback: CallbackQuery, callback_data: CardCb, services: Services, t: Translator) -> None:
    _, program = await program_in_force(services.dom)
    customer_id = callback_data.customer_id
    buttons = [button(text_in(tier.name, t.locale)[:30], CardCb(action="pin_set", customer_id=customer_id, tier=i))
               for i, tier in enumerate(program.tiers.levels)]
    buttons.append(button(t("owner-button-unpin"), CardCb(action="pin_set", customer_id=customer_id, tier=None)))
    await reply(callback, t("owner-pin-ask"), keyboard(*in_rows(buttons)))
    await callback.answer()


@router.callback_query(CardCb.filter(F.action == "pin_set"))
async def pin_set(callback: CallbackQuery, callback_data: CardCb, services: Services, actor: Actor,
                  t: Translator) -> None:
    tier = callback_data.tier
    new = await domain.pin_tier(services.dom, owner_actor(actor), callback_data.customer_id, tier)
    _, program = await program_in_force(services.dom)
    await edit(callback, t("owner-pinned" if tier is not None else "owner-unpinned",
                           tier=esc(text_in(program.tier(new).name, t.locale))))
    await callback.answer()


@router.callback_query(CardCb.filter(F.action.in_({"block", "unblock"})))
async def block(callback: CallbackQuery, callback_data: CardCb, services: Services, actor: Actor,
                t: Translator) -> None:
    customer_id = callback_data.customer_id
    blocked = callback_data.action == "block"
    await domain.set_blocked(services.dom, owner_actor(actor), customer_id, blocked)
    text, markup = await card_view(services, t, customer_id)
    await edit(callback, text, markup)
    await callback.answer(t("owner-blocked" if blocked else "owner-unblocked"))


# --- The audit log ----------------------------------------------------------------------------

_ROLES = ("owner", "staff", "customer", "system")


def audit_who(t: Translator, entry: AuditEntry, names: dict[int, str]) -> str:
    """"Мария (кассир)": the name the bot knows, else the Telegram id; the role in words."""
    role = t(f"audit-role-{entry.actor_role}") if entry.actor_role in _ROLES else entry.actor_role
    if entry.actor_telegram_id is None:
        return role
    name = names.get(entry.actor_telegram_id) or t("audit-telegram-id", id=str(entry.actor_telegram_id))
    return t("audit-who", name=name, role=role)


def audit_what(t: Translator, entry: AuditEntry) -> str:
    """The action in words ("покупка №12 на 1 000 ₽"); ids as ids, money as money, да/нет.
    An action without words of its own shows as it is stored."""
    key = "audit-" + entry.action.replace(".", "-").replace("_", "-")
    target = entry.target or ""
    kind, _, ident = target.partition(":")
    details = entry.details or {}
    args: dict[str, Any] = {"id": ident or target, "kind": kind}
    for name in ("amount", "points", "delta", "code", "name", "tier", "reason", "site", "uses"):
        if name in details and details[name] is not None:
            args[name] = details[name] if name != "tier" else str(details[name])
    if "amount" in args and not isinstance(args["amount"], int):
        args.pop("amount")
    if not t.i18n.has(t.locale, key):
        return t("audit-other", action=entry.action, target=target)
    if key in ("audit-checkout-purchase", "audit-checkout-refund", "audit-checkout-sale-no-card",
               "audit-checkout-quote") and "amount" not in args:
        return t("audit-other", action=entry.action, target=target)
    return t(key, **args)

async def audit_view(services: Services, t: Translator, page: int) -> tuple[str, InlineKeyboardMarkup]:
    result = await domain.audit_page(services.dom, page)
    lines = [t("audit-head", page=result.page + 1, pages=result.pages)]
    for entry in result.entries:
        lines.append(t("audit-line", date=t.day(entry.created_at),
                       time=entry.created_at.astimezone(services.dom.tz).strftime("%H:%M"),
                       who=esc(audit_who(t, entry, result.names)), what=esc(audit_what(t, entry))))
    if not result.entries:
        lines.append(t("audit-empty"))
    nav = []
    if result.page > 0:
        nav.append(button("◀", AuditCb(page=result.page - 1)))
    if result.page + 1 < result.pages:
        nav.append(button("▶", AuditCb(page=result.page + 1)))
    return "\n".join(lines), keyboard(nav)


@router.message(Command("audit"))
async def audit_command(message: Message, services: Services, t: Translator) -> None:
    text, markup = await audit_view(services, t, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MenuCb.filter(F.item == "audit"))
async def audit_menu(callback: CallbackQuery, services: Services, t: Translator) -> None:
    text, markup = await audit_view(services, t, 0)
    await reply(callback, text, markup)
    await callback.answer()


@router.callback_query(AuditCb.filter())
async def audit_page(callback: CallbackQuery, callback_data: AuditCb, services: Services, t: Translator) -> None:
    text, markup = await audit_view(services, t, callback_data.page)
    await edit(callback, text, markup)
    await callback.answer()
