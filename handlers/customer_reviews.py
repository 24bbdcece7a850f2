"""Rate a visit and claim a review reward (DOMAIN.md, "Reviews and ratings").

The customer: "Rate a visit" (menu or /review) → the last unrated purchase's 1–5 keyboard
(the same one the purchase notification carries, bot/markups.py "rating"), and one
button per review site → the site's link → a screenshot → the staff chat.
The staff chat: Approve / Reject under the screenshot. Only staff or the owner may press
them — the role is re-read from the database for this very update (`actor`), never
trusted from the button; anyone else gets "not allowed" and the attempt is logged.
"""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.i18n import Translator
from bot.keyboards import Button
from bot.markups import RATE_PREFIX, REVIEW_DECISION_PREFIX, rating_markup
from bot.middlewares import Actor
from bot.sender import wake_sender
from bot.services import Services
from handlers.customer_menu import member
from handlers.customer_views import drop_keyboard, esc, load_program
from models import audit
from models.errors import NotFound, OwnAccount
from models.program import text_in
from models.reviews import (
    ReviewAlreadyRewarded,
    ReviewPending,
    UnknownReviewSite,
    comment_on_rating,
    decide_review,
    last_unrated_purchase,
    rate_purchase,
    review_status,
    submit_review,
)
from models.text import is_digits

log = logging.getLogger(__name__)
router = Router(name="customer-reviews")


class ReviewFlow(StatesGroup):
    screenshot = State()
    what_went_wrong = State()  # data: operation_id (a low rating just given)


@router.message(Command("review", "rate"))
@router.message(Button("menu-review"))
async def review_menu(message: Message, actor: Actor | None, t: Translator, services: Services,
                      state: FSMContext) -> None:
    customer_id = await member(message, actor, t)
    if customer_id is None:
        return
    await state.clear()
    _, program = await load_program(services.dom)
    rows = []
    if await last_unrated_purchase(services.dom, customer_id) is not None:
        rows.append([InlineKeyboardButton(text=t("review-button-rate"), callback_data="review:rate")])
    for index, site in enumerate(program.reviews):
        rows.append([InlineKeyboardButton(text=t("review-site-button", site=text_in(site.site, t.locale),
                                                 points=site.points),
                                          callback_data=f"review:site:{index}")])
    if not rows:
        await message.answer(t("review-nothing"))
        return
    can_rate = rows[0][0].callback_data == "review:rate"
    await message.answer(t("review-menu" if can_rate else "review-menu-no-visit"),
                         reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(F.data == "review:rate")
async def rate_last(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services,
                    bot: Bot) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    last = await last_unrated_purchase(services.dom, actor.customer_id)
    if last is None:
        await callback.answer(t("review-nothing"), show_alert=True)
        return
    await callback.answer()
    operation_id, when = last
    await bot.send_message(actor.telegram_id, t("review-rate-prompt", date=t.day(when.astimezone(services.dom.tz))),
                           reply_markup=rating_markup(t, operation_id=operation_id))


@router.callback_query(F.data.startswith(f"{RATE_PREFIX}:"))
async def rate(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services,
               state: FSMContext, bot: Bot) -> None:
    parts = (callback.data or "").split(":")
    if actor is None or actor.customer_id is None or len(parts) != 3 or not all(
            is_digits(p) and len(p) < 19 for p in parts[1:]):
        log.warning("rating: malformed or foreign rating callback %r from user %s", callback.data,
                    callback.from_user.id)
        await callback.answer(t("fallback-stale-button"))
        return
    result = await rate_purchase(services.dom, actor.customer_id, int(parts[1]), int(parts[2]),
                                 staff_chat_id=services.settings.staff_chat_id)
    if result.status == "not_found":
        log.warning("rating: user %s tried to rate operation %s that is not theirs", actor.telegram_id, parts[1])
        await callback.answer(t("review-not-yours"), show_alert=True)
        return
    await callback.answer(t("review-thanks") if result.status == "rated" else t("review-already-rated"))
    if result.status == "rated":
        await _show_stars(callback.message, t, int(parts[2]))
    else:
        await drop_keyboard(callback.message)
    if result.low:
        wake_sender(services)
        await state.set_state(ReviewFlow.what_went_wrong)
        await state.set_data({"operation_id": int(parts[1])})
        await bot.send_message(actor.telegram_id, t("review-ask-what-went-wrong"))


async def _show_stars(message: object, t: Translator, score: int) -> None:
    """The rated message keeps its text and shows the stars given instead of the buttons."""
    if not isinstance(message, Message):
        return
    stars = "★" * score + "☆" * (5 - score)
    body = message.html_text if (message.text or message.caption) else ""
    with contextlib.suppress(TelegramAPIError):
        await message.edit_text(f"{body}\n{t('review-your-rating', stars=stars)}".strip(), reply_markup=None)


@router.message(StateFilter(ReviewFlow.what_went_wrong), F.text, ~F.text.startswith("/"))
async def what_went_wrong(message: Message, actor: Actor | None, t: Translator, services: Services,
                          state: FSMContext) -> None:
    data = await state.get_data()
    await state.clear()
    if actor is None or actor.customer_id is None:
        return
    sent = await comment_on_rating(services.dom, actor.customer_id, int(data.get("operation_id", 0)),
                                   message.text or "", staff_chat_id=services.settings.staff_chat_id)
    if sent:
        wake_sender(services)
    await message.answer(t("review-comment-thanks"))


@router.message(StateFilter(ReviewFlow.what_went_wrong))
async def what_went_wrong_not_text(message: Message, t: Translator) -> None:
    await message.answer(t("review-ask-what-went-wrong"))


@router.callback_query(F.data.startswith("review:site:"))
async def choose_site(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services,
                      state: FSMContext, bot: Bot) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    raw = (callback.data or "").rsplit(":", 1)[-1]
    _, program = await load_program(services.dom)
    if not is_digits(raw) or len(raw) > 3 or int(raw) >= len(program.reviews):
        await callback.answer(t("review-site-unknown"), show_alert=True)
        return
    site = program.reviews[int(raw)]
    status = await review_status(services.dom, actor.customer_id, site.key)
    if status != "open":
        key = "review-already-rewarded" if status == "rewarded" else "review-already-pending"
        await callback.answer(t(key, site=text_in(site.site, t.locale)), show_alert=True)
        return
    await callback.answer()
    await state.set_state(ReviewFlow.screenshot)
    await state.update_data(site=site.key)
    name = text_in(site.site, t.locale)
    markup = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t("review-button-open", site=name), url=site.url)]])
    await bot.send_message(actor.telegram_id, t("review-open-site", site=esc(name), n=site.points),
                           reply_markup=markup)


@router.message(StateFilter(ReviewFlow.screenshot), F.photo)
async def got_screenshot(message: Message, actor: Actor | None, t: Translator, services: Services,
                         state: FSMContext) -> None:
    if actor is None or actor.customer_id is None or not message.photo:
        await state.clear()
        return
    site = str((await state.get_data()).get("site") or "")
    await state.clear()
    review = (await load_program(services.dom))[1].review(site)
    shown = text_in(review.site, t.locale) if review is not None else site
    try:
        await submit_review(services.dom, actor.customer_id, site, message.photo[-1].file_id,
                            staff_chat_id=services.settings.staff_chat_id)
    except ReviewAlreadyRewarded:
        await message.answer(t("review-already-rewarded", site=esc(shown)))
        return
    except ReviewPending:
        await message.answer(t("review-already-pending", site=esc(shown)))
        return
    except UnknownReviewSite:
        await message.answer(t("review-site-unknown"))
        return
    if services.settings.staff_chat_id is None:
        log.warning("review: STAFF_CHAT_ID is not set; review claims wait unseen")
    await message.answer(t("review-submitted"))
    wake_sender(services)


@router.message(StateFilter(ReviewFlow.screenshot))
async def screenshot_expected(message: Message, t: Translator) -> None:
    await message.answer(t("review-send-screenshot"))


# --- the staff chat: Approve / Reject -----------------------------------------------------


@router.callback_query(F.data.startswith(f"{REVIEW_DECISION_PREFIX}:"))
async def decide(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services) -> None:
    parts = (callback.data or "").split(":")
    user_id = callback.from_user.id
    if actor is None or not actor.is_staff:
        # DOMAIN.md, "Roles": the role is re-checked here, whatever the button says.
        log.warning("review: user %s (not staff) pressed %r", user_id, callback.data)
        async with services.db.transaction() as session:
            audit.record(session, services.dom.clock.now(), "review.forbidden", actor_telegram_id=user_id,
                         actor_role=actor.role if actor else "unknown", target=(callback.data or "")[:80])
        await callback.answer(t("not-allowed"), show_alert=True)
        return
    if len(parts) != 3 or parts[1] not in ("approve", "reject") or not is_digits(parts[2]) or len(parts[2]) > 18:
        log.warning("review: malformed decision %r from staff %s", callback.data, user_id)
        await callback.answer(t("fallback-stale-button"))
        return
    try:
        decision = await decide_review(services.dom, int(parts[2]), approve=parts[1] == "approve",
                                       actor_telegram_id=user_id, actor_role=actor.role, staff_id=actor.staff_id)
    except NotFound:
        await callback.answer(t("fallback-stale-button"), show_alert=True)
        return
    except OwnAccount:
        # Staff never reward their own account (DOMAIN.md, "Roles"): the owner too.
        async with services.db.transaction() as session:
            audit.record(session, services.dom.clock.now(), "review.own_refused", actor_telegram_id=user_id,
                         actor_role=actor.role, target=f"review:{parts[2]}")
        await callback.answer(t("abuse-own-review"), show_alert=True)
        return
    if decision.already_decided:
        await callback.answer(t("review-already-decided"), show_alert=True)
    elif decision.status == "approved":
        await callback.answer(t("review-approved-answer") if decision.points else t("review-approved-no-points"))
    else:
        await callback.answer(t("review-rejected-answer"))
    if isinstance(callback.message, Message) and not decision.already_decided:
        key = "review-decided-approve" if decision.status == "approved" else "review-decided-reject"
        who = esc(actor.staff_name or actor.first_name)
        caption = esc(callback.message.caption or callback.message.text or "")
        text = f"{caption}\n\n{t(key, staff=who)}"
        with contextlib.suppress(TelegramAPIError):  # the decision stands even if the edit fails
            if callback.message.photo:
                await callback.message.edit_caption(caption=text, reply_markup=None)
            else:
                await callback.message.edit_text(text, reply_markup=None)
    wake_sender(services)
