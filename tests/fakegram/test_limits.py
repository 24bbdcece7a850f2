"""Flood limits: 429 with retry_after, counted, and provable pacing via stats."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from fakegram import FakeTelegram


class ManualClock:
    """Injectable server clock: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def clocked() -> AsyncIterator[tuple[FakeTelegram, Bot, ManualClock]]:
    clock = ManualClock()
    async with FakeTelegram(clock=clock) as server:
        bot = server.make_bot()
        try:
            yield server, bot, clock
        finally:
            await bot.session.close()


@pytest.mark.asyncio
async def test_per_chat_limit(clocked: tuple[FakeTelegram, Bot, ManualClock]) -> None:
    tg, bot, clock = clocked
    alice = tg.user(id=10)
    tg.enforce_limits(per_chat_per_second=1, global_per_second=30, group_per_minute=20)

    await bot.send_message(alice.id, "1")
    with pytest.raises(TelegramRetryAfter) as first:
        await bot.send_message(alice.id, "2")
    assert first.value.retry_after == 1
    clock.now += 0.4
    with pytest.raises(TelegramRetryAfter) as second:
        await bot.send_message(alice.id, "2")
    assert second.value.retry_after == 1  # rounded up, never 0
    clock.now += 0.6
    await bot.send_message(alice.id, "2")
    # Chat actions (and edits) are not flood-limited sends.
    await bot.send_chat_action(alice.id, "typing")

    assert tg.stats.rate_limited == 2
    assert tg.stats.send_times(alice.id) == [1000.0, 1001.0]
    assert tg.stats.max_in_window(1.0, alice.id) == 1
    assert [m.text for m in alice.bot_messages()] == ["1", "2"]


@pytest.mark.asyncio
async def test_global_and_group_limits(clocked: tuple[FakeTelegram, Bot, ManualClock]) -> None:
    tg, bot, clock = clocked
    tg.enforce_limits(per_chat_per_second=1, global_per_second=30, group_per_minute=20)
    users = [tg.user(id=100 + i) for i in range(31)]
    for user in users[:30]:
        await bot.send_message(user.id, "broadcast")
    with pytest.raises(TelegramRetryAfter) as overall:
        await bot.send_message(users[30].id, "broadcast")
    assert overall.value.retry_after == 1

    group = tg.group(title="Staff")
    clock.now += 10
    for _ in range(20):
        await bot.send_message(group.id, "report")
        clock.now += 1
    with pytest.raises(TelegramRetryAfter) as per_group:
        await bot.send_message(group.id, "report")
    assert per_group.value.retry_after == 40  # the first of the 20 leaves the minute then
    assert tg.stats.rate_limited == 2
    assert tg.stats.max_in_window(60.0, group.id) == 20


@pytest.mark.asyncio
async def test_polite_sender_never_exceeds(clocked: tuple[FakeTelegram, Bot, ManualClock]) -> None:
    """A sender that honours retry_after ends up paced exactly at the limit."""
    tg, bot, clock = clocked
    alice = tg.user(id=10)
    tg.enforce_limits(per_chat_per_second=1)
    for i in range(10):
        while True:
            try:
                await bot.send_message(alice.id, f"part {i}")
                break
            except TelegramRetryAfter as exc:
                clock.now += exc.retry_after
        clock.now += 0.25  # the sender's own work between messages
    assert len(alice.bot_messages()) == 10
    assert tg.stats.max_in_window(1.0, alice.id) == 1
    assert tg.stats.rate_limited > 0
    assert tg.stats.calls["sendMessage"] == 10 + tg.stats.rate_limited
