"""Keyboards attached to outbox notifications, by name.

The domain writes `{"markup": {"kind": "rating", "operation_id": 7}}` into an outbox row;
the sender looks the kind up here and builds the keyboard in the recipient's language.
Any area adds its own with::

    @register_markup("review-decision")
    def review_decision(t: Translator, *, claim_id: int) -> InlineKeyboardMarkup: ...

A builder takes the translator plus the row's parameters (everything but "kind") as
keyword arguments. Builders of other areas live in their own modules; importing
`handlers.*` (which build_dispatcher does) registers them before the sender runs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from pydantic import BeforeValidator, Field

from bot.i18n import Translator

log = logging.getLogger(__name__)

MarkupBuilder = Callable[..., InlineKeyboardMarkup | None]
_REGISTRY: dict[str, MarkupBuilder] = {}


def register_markup(kind: str) -> Callable[[MarkupBuilder], MarkupBuilder]:
    def decorate(builder: MarkupBuilder) -> MarkupBuilder:
        if kind in _REGISTRY and _REGISTRY[kind] is not builder:
            log.warning("markups: %r registered twice; the later one wins", kind)
        _REGISTRY[kind] = builder
        return builder

    return decorate


def registered_kinds() -> frozenset[str]:
    return frozenset(_REGISTRY)


def build_markup(t: Translator, spec: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    """The keyboard for a markup spec, or None (unknown kinds are logged, never fatal)."""
    if not spec:
        return None
    params = dict(spec)
    kind = str(params.pop("kind", ""))
    builder = _REGISTRY.get(kind)
    if builder is None:
        log.warning("markups: unknown kind %r; message sent without a keyboard", kind)
        return None
    return builder(t, **params)


# --- The customer's area --------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]{1,18}")


def _digits_only(value: object) -> object:
    """An id in callback data is written in 0-9 only: "+5", " 5", "5_0", "5.0" or "٥" are not our buttons."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("not an id")
    return value


# Ids in callback data: whole numbers a 64-bit column holds; anything else is not our button
# (the factory does not unpack it, so the fallback answers).
CallbackId = Annotated[int, BeforeValidator(_digits_only), Field(ge=0, lt=10**18)]


class RateCb(CallbackData, prefix="rate"):
    """A star under a purchase notification: "rate:<operation_id>:<score>", as before the
    factory, so the keyboards under notifications already sent keep working."""

    operation_id: CallbackId
    score: CallbackId


@register_markup("rating")
def rating_markup(t: Translator, *, operation_id: int) -> InlineKeyboardMarkup:
    """1–5 under a purchase notification (DOMAIN.md, "Reviews and ratings")."""
    row = [InlineKeyboardButton(text=f"{score}⭐",
                                callback_data=RateCb(operation_id=int(operation_id), score=score).pack())
           for score in range(1, 6)]
    return InlineKeyboardMarkup(inline_keyboard=[row])


class ReviewDecisionCb(CallbackData, prefix="rv"):
    """Approve / Reject under a review screenshot: "rv:<approve|reject>:<claim_id>" as before."""

    action: Literal["approve", "reject"]
    claim_id: CallbackId


@register_markup("review-decision")
def review_decision_markup(t: Translator, *, claim_id: int) -> InlineKeyboardMarkup:
    """Approve / Reject under a review screenshot in the staff chat."""
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=t("review-button-approve"),
                             callback_data=ReviewDecisionCb(action="approve", claim_id=int(claim_id)).pack()),
        InlineKeyboardButton(text=t("review-button-reject"),
                             callback_data=ReviewDecisionCb(action="reject", claim_id=int(claim_id)).pack()),
    ]])


@register_markup("links")
def links_markup(t: Translator, *, buttons: list[list[dict[str, str]]]) -> InlineKeyboardMarkup | None:
    """URL buttons given literally (raw broadcasts use the same shape)."""
    return url_buttons(buttons)


def url_buttons(buttons: list[list[dict[str, str]]] | None) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(text=str(b["text"])[:64], url=str(b["url"])) for b in row
             if b.get("text") and b.get("url")] for row in buttons or []]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
