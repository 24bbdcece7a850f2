"""getUpdates semantics: offsets, long polling, allowed_updates, conflicts, idling."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramConflictError
from aiogram.types import Message

from fakegram import FakeTelegram


@pytest.mark.asyncio
async def test_offset_confirms_and_drops_updates(tg: FakeTelegram, bot: Bot) -> None:
    alice, bob = tg.user(id=10), tg.user(id=20)
    await alice.send("one")
    await bob.send("two")

    first = await bot.get_updates(timeout=0)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    assert first[1].update_id == first[0].update_id + 1  # global, increasing
    assert first[1].message and first[1].message.from_user
    assert first[1].message.from_user.id == 20 and first[1].message.chat.id == 20

    # Not confirmed yet: delivered again.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [u.update_id for u in first]

    # offset = last + 1 confirms; confirmed updates are gone for good.
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == []
    assert await bot.get_updates(timeout=0) == []

    # limit
    for text in ("a", "b", "c"):
        await alice.send(text)
    limited = await bot.get_updates(limit=2, timeout=0)
    assert [u.message.text for u in limited if u.message] == ["a", "b"]
    rest = await bot.get_updates(offset=limited[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["c"]


@pytest.mark.asyncio
async def test_long_poll_waits_and_returns_early(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    loop = asyncio.get_running_loop()

    started = loop.time()
    assert await bot.get_updates(timeout=1) == []
    assert 0.9 <= loop.time() - started < 2.0

    async def later() -> None:
        await asyncio.sleep(0.2)
        await alice.send("wake up")

    task = asyncio.create_task(later())
    started = loop.time()
    updates = await bot.get_updates(timeout=10)
    elapsed = loop.time() - started
    await task
    assert [u.message.text for u in updates if u.message] == ["wake up"]
    assert 0.15 <= elapsed < 1.5


@pytest.mark.asyncio
async def test_newer_get_updates_terminates_older(tg: FakeTelegram, bot: Bot) -> None:
    tg.user(id=10)
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert await bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError):
        await older


@pytest.mark.asyncio
async def test_allowed_updates_filter(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    await alice.send("hi")
    await alice.press_callback("x", wait=False)
    only_messages = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.message is not None for u in only_messages] == [True]
    # The callback was dropped, not postponed (Telegram never creates it).
    everything = await bot.get_updates(timeout=0, allowed_updates=[])
    assert [u.update_id for u in everything] == [only_messages[0].update_id]
    # my_chat_member is in the default set; chat_member is not.
    await alice.block_bot()
    updates = await bot.get_updates(offset=everything[-1].update_id + 1, timeout=0)
    assert updates and updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"


@pytest.mark.asyncio
async def test_dispatcher_sees_each_update_once_across_restarts(tg: FakeTelegram) -> None:
    seen: Counter[str] = Counter()
    router = Router()

    @router.message(F.text)
    async def count(message: Message) -> None:
        assert message.text is not None
        seen[message.text] += 1

    dp = Dispatcher()
    dp.include_router(router)
    users = [tg.user(id=100 + i) for i in range(5)]

    async with tg.polling(dp):
        for round_ in range(4):
            for user in users:
                await user.send(f"{user.id}-{round_}")
            await asyncio.sleep(0.01)
        await tg.wait_idle()
    # A second polling session must not get confirmed updates again.
    async with tg.polling(dp):
        await users[0].send("after restart")
        await tg.wait_idle()

    assert len(seen) == 21 and set(seen.values()) == {1}
    offsets = [int(r.params["offset"]) for r in tg.calls("getUpdates") if r.params.get("offset")]
    assert offsets == sorted(offsets)


@pytest.mark.asyncio
async def test_wait_idle_waits_for_slow_replies(tg: FakeTelegram, running: Bot) -> None:
    alice = tg.user(id=10)
    tg.slow("sendMessage", 0.3, count=1)
    await alice.send("slowly")
    # wait_idle is a heuristic about handlers (docstring); what it guarantees, and what this
    # test checks, is that a request in flight keeps it waiting: start from that moment, not
    # from the update, which a loaded machine may take longer than `idle_quiet` to handle.
    await tg.wait_for(lambda: bool(tg.calls("sendMessage")))
    await tg.wait_idle()
    assert [m.text for m in alice.bot_messages()] == ["echo: slowly"]
    with pytest.raises(AssertionError):
        await alice.expect_no_reply(0.05)  # the reply is still unread
    assert (await alice.expect(0)).text == "echo: slowly"
    await alice.expect_no_reply(0.05)
