"""The aiohttp session the bot talks to Telegram through.

aiogram validates every Bot API answer with `Response[method.__returning__]`, a pydantic
generic model parametrised on each call. pydantic keeps parametrised generics only in a
weak-value cache, so as soon as the garbage collector runs the class is gone and the next
call builds its schema again: measured 0.85–1.8 rebuilds per cashier's Confirm tap, 2–5 ms
each (issue 15). The session below keeps one strong reference per return type, so each
schema is built once per process. (An upstream aiogram fix would cache it the same way.)
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import Response, TelegramMethod

_response_models: dict[Any, type[Response[Any]]] = {}


def hold_response_model(returning: Any) -> type[Response[Any]]:
    """`Response[returning]`, built once and kept alive for the life of the process."""
    model = _response_models.get(returning)
    if model is None:
        model = _response_models[returning] = Response[returning]  # type: ignore[valid-type]
    return model


class BotSession(AiohttpSession):
    """aiogram's aiohttp session with the response models held (see the module docstring)."""

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str,
    ) -> Response[Any]:
        hold_response_model(method.__returning__)
        return super().check_response(bot, method, status_code, content)
