"""The owner's `/report`: period buttons, then a short summary (the figures an owner looks at)
with two buttons, "Подробнее" (every figure and the tables) and "Что это значит?" (the
definitions), then the charts and an XLSX with every table (models/reports/report.py computes,
bot/report_render.py renders).

The buttons carry the period's first and last day, so they work after a restart and under the
scheduler's monthly message too (its outbox row names the keyboard "report-summary"): pressing
one recomputes the report; a forged or damaged one gets a sentence, never a traceback."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    TelegramObject,
)

from bot.i18n import Translator
from bot.markups import register_markup
from bot.middlewares import Actor
from bot.report_render import render_definitions, render_details, render_summary, split_message
from bot.services import Services
from models.kernel import InvalidDate, parse_dmy, record_alone
from models.program import program_in_force
from models.reports import REPORT_YEARS, build_report

log = logging.getLogger(__name__)
router = Router(name="owner-reports")

PERIODS = ("month", "last_month", "year", "last_year", "all", "custom")
_RANGE = re.compile(r"^\s*([^-–—\s]+)\s*[-–—]\s*([^-–—\s]+)\s*$")  # two dd.mm.yyyy (models/kernel/dates.py)


async def _owner_only(event: TelegramObject, actor: Actor | None = None) -> bool:
    """Every update re-checks the role from the database (bot/middlewares.py)."""
    return actor is not None and actor.is_owner


router.message.filter(_owner_only)
router.callback_query.filter(_owner_only)


class ReportPeriod(CallbackData, prefix="rp"):
    period: str


class ReportDetails(CallbackData, prefix="rpm"):
    """"Подробнее" under a summary: the period's first and last day as YYYYMMDD."""

    first: str
    last: str


class ReportDefinitions(CallbackData, prefix="rpd"):
    """"Что это значит?" under a summary: the definitions do not depend on the period."""


class ReportStates(StatesGroup):
    custom_range = State()


def period_keyboard(t: Translator) -> InlineKeyboardMarkup:
    def button(period: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=t(f"report-period-{period.replace('_', '-')}"),
                                    callback_data=ReportPeriod(period=period).pack())

    return InlineKeyboardMarkup(inline_keyboard=[
        [button("month"), button("last_month")], [button("year"), button("last_year")],
        [button("all"), button("custom")],
    ])


_DAY = "%Y%m%d"


def summary_keyboard(t: Translator, first: date, last: date) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t("report-button-more"),
                             callback_data=ReportDetails(first=f"{first:{_DAY}}", last=f"{last:{_DAY}}").pack()),
        InlineKeyboardButton(text=t("report-button-definitions"), callback_data=ReportDefinitions().pack()),
    ]])


@register_markup("report-summary")
def summary_markup(t: Translator, *, first: str, last: str) -> InlineKeyboardMarkup:
    """The monthly message's buttons (models/reports/report.py, `monthly_report_payload`: ISO days)."""
    return summary_keyboard(t, date.fromisoformat(first), date.fromisoformat(last))


def callback_period(data: ReportDetails) -> tuple[date, date] | None:
    """The period a "Подробнее" button carries; None when it is not one a summary could show
    (forged, damaged: not a real day, reversed, outside `REPORT_YEARS`)."""
    if not all(len(day) == 8 and day.isascii() and day.isdigit() for day in (data.first, data.last)):
        return None
    try:  # YYYYMMDD, ISO 8601's basic form
        first, last = (date.fromisoformat(day) for day in (data.first, data.last))
    except ValueError:
        return None
    return (first, last) if first <= last and first.year in REPORT_YEARS and last.year in REPORT_YEARS else None


def period_dates(period: str, today: date) -> tuple[date | None, date | None]:
    """The first and last day (both included); None: from the first activity / up to today."""
    first_of_month = today.replace(day=1)
    if period == "month":
        return first_of_month, today
    if period == "last_month":
        last = first_of_month - timedelta(days=1)
        return last.replace(day=1), last
    if period == "year":
        return today.replace(month=1, day=1), today
    if period == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if period == "all":
        return None, today
    raise ValueError(period)


def parse_range(text: str) -> tuple[date, date] | None:
    """`01.03.2026 - 31.03.2026`; None when malformed, reversed, not a real date or outside `REPORT_YEARS`."""
    match = _RANGE.match(text or "")
    if match is None:
        return None
    try:
        first, last = (parse_dmy(part) for part in match.groups())
    except InvalidDate:  # not a real date, or another script's digits
        return None
    return (first, last) if first <= last and first.year in REPORT_YEARS and last.year in REPORT_YEARS else None


@router.message(Command("report"))
async def ask_period(message: Message, state: FSMContext, t: Translator) -> None:
    await state.clear()
    await message.answer(t("report-choose-period"), reply_markup=period_keyboard(t))


@router.callback_query(ReportPeriod.filter(F.period.in_(PERIODS)))
async def chosen(callback: CallbackQuery, callback_data: ReportPeriod, state: FSMContext, services: Services,
                 actor: Actor, t: Translator, bot: Bot) -> None:
    await callback.answer()
    if callback.message is None:
        return
    if callback_data.period == "custom":
        await state.set_state(ReportStates.custom_range)
        await bot.send_message(callback.message.chat.id, t("report-custom-prompt"))
        return
    today = services.dom.clock.now().astimezone(services.dom.tz).date()
    first, last = period_dates(callback_data.period, today)
    await send_report(bot, callback.message.chat.id, services, actor, t, first, last)


@router.message(StateFilter(ReportStates.custom_range), F.text)
async def custom_range(message: Message, state: FSMContext, services: Services, actor: Actor, t: Translator,
                       bot: Bot) -> None:
    dates = parse_range(message.text or "")
    if dates is None:
        await message.answer(t("report-custom-bad"))
        return
    await state.clear()
    await send_report(bot, message.chat.id, services, actor, t, *dates)


@router.message(StateFilter(ReportStates.custom_range))
async def custom_range_not_text(message: Message, t: Translator) -> None:
    await message.answer(t("report-custom-bad"))


def _chat_of(callback: CallbackQuery) -> int:
    return callback.message.chat.id if callback.message is not None else callback.from_user.id


@router.callback_query(ReportDetails.filter())
async def details(callback: CallbackQuery, callback_data: ReportDetails, services: Services, actor: Actor,
                  t: Translator, bot: Bot) -> None:
    """Every figure and the tables of the summary's period, recomputed (nothing is kept in memory)."""
    period = callback_period(callback_data)
    if period is None:
        log.warning("report: damaged details button %r from owner %s", callback.data, actor.telegram_id)
        await callback.answer(t("report-stale"), show_alert=True)
        return
    await callback.answer()
    report = await build_report(services.dom, *period)
    for part in split_message(render_details(report, t)):
        await bot.send_message(_chat_of(callback), part, parse_mode=None)  # plain text: names are not HTML


@router.callback_query(ReportDefinitions.filter())
async def definitions(callback: CallbackQuery, services: Services, t: Translator, bot: Bot) -> None:
    await callback.answer()
    _, program = await program_in_force(services.dom)
    for part in split_message(render_definitions(t, program.reports.baseline_discount_percent)):
        await bot.send_message(_chat_of(callback), part, parse_mode=None)


async def send_report(bot: Bot, chat_id: int, services: Services, actor: Actor, t: Translator,
                      first: date | None, last: date | None) -> None:
    """The summary with its two buttons first, then the charts and the workbook: the owner reads
    the figures that matter before anything else arrives."""
    await bot.send_message(chat_id, t("report-working"))
    report = await build_report(services.dom, first, last)
    await bot.send_message(chat_id, render_summary(report, t), parse_mode=None,  # plain text: names are not HTML
                           reply_markup=summary_keyboard(t, report.period.first_day, report.period.last_day))
    # The charts and the workbook render in a worker process (bot/report_pool.py): the bot, the
    # partner API and the sender go on meanwhile.
    charts, xlsx = await services.renderer.render(report, t.locale)
    if len(charts) == 1:  # an album needs 2-10 items
        name, png = charts[0]
        await bot.send_photo(chat_id, BufferedInputFile(png, filename=f"{name}.png"))
    elif charts:
        await bot.send_media_group(chat_id, [
            InputMediaPhoto(media=BufferedInputFile(png, filename=f"{name}.png")) for name, png in charts[:10]
        ])
    stamp = f"{report.period.first_day:%Y%m%d}-{report.period.last_day:%Y%m%d}"
    await bot.send_document(chat_id, BufferedInputFile(xlsx, filename=f"report-{stamp}.xlsx"),
                            caption=t("report-xlsx-caption"))
    await record_alone(services.dom, "report.sent", actor_telegram_id=actor.telegram_id, actor_role=actor.role,
                       target=stamp)


__all__ = ["ReportDefinitions", "ReportDetails", "callback_period", "parse_range", "period_dates", "router",
           "summary_keyboard"]
