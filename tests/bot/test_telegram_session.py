"""The bot's session keeps aiogram's per-method response models alive (issue 15).

aiogram builds `Response[<return type>]` for every Bot API answer; pydantic caches such
parametrised models only weakly, so after a garbage collection each call rebuilt the schema.
"""

from __future__ import annotations

import gc

from aiogram.methods import Response
from aiogram.types import Message
from pydantic._internal import _generics

from bot.app import create_bot
from fakegram import FakeTelegram

TOKEN = "123456:session-test"


def cached_response_models(returning: object) -> set[int]:
    """The parametrised `Response[returning]` classes (their ids) pydantic's generic cache still
    holds (it keeps one class under several keys)."""
    return {
        id(model) for model in list(_generics._GENERIC_TYPES_CACHE.values())
        if model.__pydantic_generic_metadata__["origin"] is Response
        and model.__pydantic_generic_metadata__["args"] == (returning,)
    }


async def test_a_response_model_survives_garbage_collection_between_calls() -> None:
    async with FakeTelegram(token=TOKEN) as tg:
        user = tg.user()
        bot = create_bot(TOKEN, tg.base_url)
        try:
            await bot.send_message(user.id, "one")
            gc.collect()
            survivors = cached_response_models(Message)
            assert len(survivors) == 1, "Response[Message] was dropped and would be rebuilt"
            await bot.send_message(user.id, "two")
            gc.collect()
            assert cached_response_models(Message) == survivors  # the same class, not rebuilt
        finally:
            await bot.session.close()
