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
from typing import Annotated, Literal, TypedDict

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from pydantic import Field

from bot.i18n import Translator
from bot.keyboards import Button
from bot.markups import CallbackId, RateCb, ReviewDecisionCb, rating_markup
from bot.middlewares import Actor
from bot.sender import wake_sender
from bot.services import Services
from handlers.customer_menu import member
from handlers.customer_views import drop_keyboard, esc, load_program
from handlers.flow_data import FlowData
from models.customers import (
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
from models.kernel import NotFound, OwnAccount, record_alone
from models.program import text_in

log = logging.getLogger(__name__)
router = Router(name="customer-reviews")


class ReviewFlow(StatesGroup):
    screenshot = State()
    what_went_wrong = State()  # data: operation_id (a low rating just given)


class ReviewData(TypedDict, total=False):
    """ReviewFlow's conversation data."""

    operation_id: int  # what_went_wrong: the purchase just rated low
    site: str  # screenshot: the review site chosen


review_data = FlowData[ReviewData]()


class ReviewCb(CallbackData, prefix="review"):
    """The review menu: rate the last visit, or claim a review on the program's site `index`."""

    action: Literal["rate", "site"]
    index: Annotated[CallbackId, Field(lt=1000)] | None = None


RATE_LAST = ReviewCb(action="rate").pack()


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
        rows.append([InlineKeyboardButton(text=t("review-button-rate"), callback_data=RATE_LAST)])
    for index, site in enumerate(program.reviews):
        rows.append([InlineKeyboardButton(text=t("review-site-button", site=text_in(site.site, t.locale),
                                                 points=site.points),
                                          callback_data=ReviewCb(action="site", index=index).pack())])
    if not rows:
        await message.answer(t("review-nothing"))
        return
    can_rate = rows[0][0].callback_data == RATE_LAST
    await message.answer(t("review-menu" if can_rate else "review-menu-no-visit"),
                         reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(ReviewCb.filter(F.action == "rate"))
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


@router.callback_query(RateCb.filter())
async def rate(callback: CallbackQuery, callback_data: RateCb, actor: Actor | None, t: Translator,
               services: Services, state: FSMContext, bot: Bot) -> None:
    # Garbled rating data never gets here: the factory does not unpack it (handlers/fallback.py answers).
    if actor is None or actor.customer_id is None:
        log.warning("rating: rating callback %r from user %s who is not a member", callback.data,
                    callback.from_user.id)
        await callback.answer(t("fallback-stale-button"))
        return
    operation_id, score = callback_data.operation_id, callback_data.score
    result = await rate_purchase(services.dom, actor.customer_id, operation_id, score,
                                 staff_chat_id=services.settings.staff_chat_id)
    if result.status == "not_found":
        log.warning("rating: user %s tried to rate operation %s that is not theirs", actor.telegram_id, operation_id)
        await callback.answer(t("review-not-yours"), show_alert=True)
        return
    await callback.answer(t("review-thanks") if result.status == "rated" else t("review-already-rated"))
    if result.status == "rated":
        await _show_stars(callback.message, t, score)
    else:
        await drop_keyboard(callback.message)
    if result.low:
        wake_sender(services)
        await state.set_state(ReviewFlow.what_went_wrong)
        await review_data.set(state, ReviewData(operation_id=operation_id))
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
    data = await review_data.get(state)
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


@router.callback_query(ReviewCb.filter(F.action == "site"))
async def choose_site(callback: CallbackQuery, callback_data: ReviewCb, actor: Actor | None, t: Translator,
                      services: Services, state: FSMContext, bot: Bot) -> None:
    if actor is None or actor.customer_id is None:
        await callback.answer(t("common-start-hint"), show_alert=True)
        return
    index = callback_data.index
    _, program = await load_program(services.dom)
    if index is None or index >= len(program.reviews):
        await callback.answer(t("review-site-unknown"), show_alert=True)
        return
    site = program.reviews[index]
    status = await review_status(services.dom, actor.customer_id, site.key)
    if status != "open":
        key = "review-already-rewarded" if status == "rewarded" else "review-already-pending"
        await callback.answer(t(key, site=text_in(site.site, t.locale)), show_alert=True)
        return
    await callback.answer()
    await state.set_state(ReviewFlow.screenshot)
    await review_data.update(state, ReviewData(site=site.key))
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
    site = str((await review_data.get(state)).get("site") or "")
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


async def _staff_only(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services) -> bool:
    """DOMAIN.md, "Roles": the role is re-checked here, whatever the button says; anyone else is
    refused and audited."""
    if actor is not None and actor.is_staff:
        return True
    user_id = callback.from_user.id
    log.warning("review: user %s (not staff) pressed %r", user_id, callback.data)
    await record_alone(services.dom, "review.forbidden", actor_telegram_id=user_id,
                             actor_role=actor.role if actor else "unknown", target=(callback.data or "")[:80])
    await callback.answer(t("not-allowed"), show_alert=True)
    return False


@router.callback_query(ReviewDecisionCb.filter())
async def decide(callback: CallbackQuery, callback_data: ReviewDecisionCb, actor: Actor | None, t: Translator,
                 services: Services) -> None:
    if not await _staff_only(callback, actor, t, services):
        return
    assert actor is not None
    user_id = callback.from_user.id
    claim_id = callback_data.claim_id
    try:
        decision = await decide_review(services.dom, claim_id, approve=callback_data.action == "approve",
                                       actor_telegram_id=user_id, actor_role=actor.role, staff_id=actor.staff_id)
    except NotFound:
        await callback.answer(t("fallback-stale-button"), show_alert=True)
        return
    except OwnAccount:
        # Staff never reward their own account (DOMAIN.md, "Roles"): the owner too.
        await record_alone(services.dom, "review.own_refused", actor_telegram_id=user_id,
                                 actor_role=actor.role, target=f"review:{claim_id}")
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


@router.callback_query(F.data.startswith(f"{ReviewDecisionCb.__prefix__}:"))
async def decide_garbled(callback: CallbackQuery, actor: Actor | None, t: Translator, services: Services) -> None:
    """Decision data the factory does not unpack: refused for anyone but staff, as a real one is."""
    if not await _staff_only(callback, actor, t, services):
        return
    log.warning("review: malformed decision %r from staff %s", callback.data, callback.from_user.id)
    await callback.answer(t("fallback-stale-button"))
