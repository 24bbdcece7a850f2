"""The FSM storage in Redis (scale-out profile): keys of one bot never reach another bot on
the same Redis. Needs Redis at TEST_REDIS_URL (default redis://127.0.0.1:6379/15)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import BaseStorage, StorageKey

from bot.app import create_storage
from tests.helpers import redis_url_or_skip


@pytest.fixture
async def storage() -> AsyncIterator[BaseStorage]:
    storage = create_storage(await redis_url_or_skip())
    try:
        yield storage
    finally:
        await storage.close()


async def test_two_bots_on_one_redis_do_not_share_a_conversation(storage: BaseStorage) -> None:
    user = 700_000_000 + os.getpid()  # one Telegram user who talks to two businesses' bots
    first = StorageKey(bot_id=111, chat_id=user, user_id=user)
    second = StorageKey(bot_id=222, chat_id=user, user_id=user)
    try:
        await storage.set_state(first, "StaffCheckout:amount")
        await storage.set_data(first, {"customer_id": 5})
        assert await storage.get_state(second) is None
        assert await storage.get_data(second) == {}
    finally:
        for key in (first, second):
            await storage.set_state(key, None)
            await storage.set_data(key, {})


async def test_an_abandoned_conversation_expires(storage: BaseStorage) -> None:
    """A registration or a till checkout left half-way does not stay in Redis for ever (in one
    process it would be gone at the next restart; in Redis it survives every deploy)."""
    from aiogram.fsm.storage.redis import RedisStorage

    assert isinstance(storage, RedisStorage)
    user = 710_000_000 + os.getpid()
    key = StorageKey(bot_id=111, chat_id=user, user_id=user)
    try:
        await storage.set_state(key, "Till:amount")
        await storage.set_data(key, {"customer_id": 5})
        for part in ("state", "data"):
            ttl = await storage.redis.ttl(storage.key_builder.build(key, part))
            assert 0 < ttl <= 24 * 3600, (part, ttl)
    finally:
        await storage.set_state(key, None)
        await storage.set_data(key, {})
