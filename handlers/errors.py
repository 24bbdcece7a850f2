"""One answer per area for a domain error its handlers let through (docs/ARCHITECTURE.md).

A handler calls the domain and lets a `DomainError` (models/kernel/errors.py: a stable `code`, the
doors translate it) go; the area's router answers it in one place:

    answer_domain_errors(router, message=..., callback=...)

`message(message, t, exc)` answers a message, `callback(callback, t, exc)` a button press.
A handler whose answer differs (another text, an edit, state to roll back) keeps its own
`except` block.

Why a middleware and not `@router.errors(ExceptionTypeFilter(DomainError))`: aiogram
sends every error from the Dispatcher down through *all* routers, so an errors handler on
the staff router would also answer domain errors raised by the customer's handlers. An
inner middleware on a router wraps exactly that router's handlers (and its sub-routers').
Anything else (a bug, the database down) still reaches the fallback router's errors handler
(handlers/fallback.py): "something went wrong", and the traceback in the log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.i18n import Translator
from models.kernel import DomainError

MessageAnswer = Callable[[Message, Translator, DomainError], Awaitable[Any]]
CallbackAnswer = Callable[[CallbackQuery, Translator, DomainError], Awaitable[Any]]


class _DomainErrors(BaseMiddleware):
    def __init__(self, answer: MessageAnswer | CallbackAnswer) -> None:
        self.answer = answer

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except DomainError as exc:
            await self.answer(event, data["t"], exc)  # type: ignore[arg-type]
            return None


def answer_domain_errors(router: Router, *, message: MessageAnswer | None = None,
                         callback: CallbackAnswer | None = None) -> None:
    """Answer the domain errors of `router`'s message and/or callback handlers."""
    if message is not None:
        router.message.middleware(_DomainErrors(message))
    if callback is not None:
        router.callback_query.middleware(_DomainErrors(callback))


__all__ = ["answer_domain_errors"]
