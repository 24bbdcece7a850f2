"""Error answers and how the real aiogram client maps them to exceptions."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from fakegram import FakeTelegram


@pytest.mark.asyncio
async def test_injected_failures_map_to_aiogram_exceptions(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)

    tg.fail_next("sendMessage", status=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as too_many:
        await bot.send_message(alice.id, "x")
    assert too_many.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in too_many.value.message
    await bot.send_message(alice.id, "once only")  # count=1 by default

    tg.fail_next("sendMessage", status=403)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "x")

    tg.fail_next("sendmessage", status=500, count=2)  # method names are case-insensitive
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(alice.id, "x")

    tg.fail_next("*", status=502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_chat_action(alice.id, "typing")

    tg.fail_next("sendMessage", status=400, description="Bad Request: custom", chat_id=99)
    await bot.send_message(alice.id, "other chats are unaffected")
    assert tg.faults[-1].remaining == 1

    assert tg.stats.injected_failures == 5
    assert [m.text for m in alice.bot_messages()] == ["once only", "other chats are unaffected"]
    statuses = [r.status for r in tg.calls("sendMessage")]
    assert statuses == [429, 200, 403, 500, 500, 200]


@pytest.mark.asyncio
async def test_blocked_unknown_and_unstarted_chats(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    tg.block(alice.id)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(alice.id, "x")
    with pytest.raises(TelegramForbiddenError):
        await bot.send_photo(alice.id, "AgACnonexistent")
    tg.unblock(alice.id)
    await bot.send_message(alice.id, "back")

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "who?")

    shy = tg.user(id=30, started=False)
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(shy.id, "hi")
    await shy.start()
    await bot.send_message(shy.id, "hi")

    group = tg.group(title="Staff")
    tg.block(group.id)
    with pytest.raises(TelegramForbiddenError, match="kicked"):
        await bot.send_message(group.id, "x")


@pytest.mark.asyncio
async def test_group_upgraded_to_a_supergroup(tg: FakeTelegram, bot: Bot) -> None:
    staff = tg.group(-4242, title="Staff", type="group")
    await bot.send_message(staff.id, "before")
    super_ = tg.upgrade_group(staff.id)
    assert super_.id != staff.id and super_.title == "Staff" and super_.chat.type == "supergroup"
    for _ in range(2):  # lasting: every write to the old id, not just the next
        with pytest.raises(TelegramMigrateToChat) as moved:
            await bot.send_message(staff.id, "lost?")
        assert moved.value.migrate_to_chat_id == super_.id
        assert "group chat was upgraded to a supergroup chat" in moved.value.message
    await bot.send_message(moved.value.migrate_to_chat_id, "after")
    assert [m.text for m in staff.chat.bot_messages()] == ["before"]
    assert [m.text for m in super_.chat.bot_messages()] == ["after"]
    failed = tg.calls("sendMessage", chat_id=staff.id)[-1]
    assert failed.status == 400

    # The one-off form, like the other injected errors.
    tg.fail_next("sendMessage", status=400, migrate_to_chat_id=-100777, chat_id=super_.id)
    with pytest.raises(TelegramMigrateToChat) as once:
        await bot.send_message(super_.id, "x")
    assert once.value.migrate_to_chat_id == -100777
    await bot.send_message(super_.id, "fine again")


@pytest.mark.asyncio
async def test_edit_errors_like_telegram(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="a")]]
    )
    sent = await bot.send_message(alice.id, "Balance: <b>5</b>", parse_mode="HTML",
                                  reply_markup=keyboard)

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Balance: <b>5</b>", chat_id=alice.id,
                                    message_id=sent.message_id, parse_mode="HTML",
                                    reply_markup=keyboard)
    # Same text, keyboard dropped: that is a modification.
    edited = await bot.edit_message_text("Balance: <b>5</b>", chat_id=alice.id,
                                         message_id=sent.message_id, parse_mode="HTML")
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="there is no caption"):
        await bot.edit_message_caption(chat_id=alice.id, message_id=sent.message_id, caption="c")

    user_msg = await alice.send("mine")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=user_msg.message_id)

    await bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=sent.message_id)


@pytest.mark.asyncio
async def test_validation_errors(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(alice.id, "Hi <b>Alice", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(alice.id, "*Total*: 5.", parse_mode="MarkdownV2")
    ok = await bot.send_message(alice.id, "*Total*: 5\\.", parse_mode="MarkdownV2")
    assert ok.text == "Total: 5." and ok.entities and ok.entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(alice.id, "   ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(
            alice.id,
            "x",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="A", callback_data="d" * 65)]]
            ),
        )
    record = await alice.press_callback("x", wait=False)
    await bot.answer_callback_query(record.id, text="ok")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(record.id, text="twice")
    assert alice.bot_messages()[-1].text == "Total: 5."


@pytest.mark.asyncio
async def test_contact_and_location_buttons_only_in_private_chats(
    tg: FakeTelegram, bot: Bot
) -> None:
    alice = tg.user(id=10)
    staff = tg.group(title="Staff")
    for button in (
        KeyboardButton(text="Share phone", request_contact=True),
        KeyboardButton(text="Where", request_location=True),
    ):
        markup = ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True)
        await bot.send_message(alice.id, "ok in private", reply_markup=markup)
        with pytest.raises(TelegramBadRequest, match="only in private chats"):
            await bot.send_message(staff.id, "not in groups", reply_markup=markup)
    plain = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Menu")]])
    await bot.send_message(staff.id, "plain buttons are fine", reply_markup=plain)


@pytest.mark.asyncio
async def test_delete_limits_like_telegram() -> None:
    now = [1_700_000_000.0]
    async with FakeTelegram(wall_clock=lambda: now[0]) as tg:
        bot = tg.make_bot()
        try:
            alice = tg.user(id=10)
            old = await bot.send_message(alice.id, "old")
            fresh_user_msg = await alice.send("hi")
            now[0] += 48 * 3600
            with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
                await bot.delete_message(alice.id, old.message_id)
            new = await bot.send_message(alice.id, "new")
            assert await bot.delete_message(alice.id, new.message_id)

            quiet = tg.group(title="Customers", bot_is_admin=False)
            their = await quiet.send(alice, "/start")
            with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
                await bot.delete_message(quiet.id, their.message_id)
            staff = tg.group(title="Staff")  # the bot is an admin there
            theirs_in_staff = await staff.send(alice, "/start")
            assert await bot.delete_message(staff.id, theirs_in_staff.message_id)
            assert fresh_user_msg.message_id  # older than 48 h now:
            with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
                await bot.delete_message(alice.id, fresh_user_msg.message_id)
        finally:
            await bot.session.close()


@pytest.mark.asyncio
async def test_upload_size_limits(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    big_photo = BufferedInputFile(b"\xff" * (10 * 1024 * 1024 + 1), "big.jpg")
    with pytest.raises(TelegramBadRequest, match="10 MB"):
        await bot.send_photo(alice.id, big_photo)
    ok = await bot.send_document(alice.id, BufferedInputFile(b"x" * (10 * 1024 * 1024 + 1),
                                                             "big.bin"))
    assert ok.document is not None
    huge = BufferedInputFile(b"x" * (50 * 1024 * 1024 + 1), "huge.bin")
    with pytest.raises(TelegramEntityTooLarge):
        await bot.send_document(alice.id, huge)


@pytest.mark.asyncio
async def test_deep_link_payload_rules(tg: FakeTelegram, running: Bot) -> None:
    alice = tg.user(id=10)
    msg = await alice.start("ref_" + "A-z09" * 12)  # 64 characters
    assert msg.text == "/start ref_" + "A-z09" * 12
    for bad in ("x" * 65, "has space", "дом", "a+b", "a=b"):
        with pytest.raises(ValueError, match="Telegram would not deliver it"):
            await alice.start(bad)


@pytest.mark.asyncio
async def test_unknown_method_and_wrong_token(tg: FakeTelegram, bot: Bot) -> None:
    await bot.get_me()  # adopts the token
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot{tg.token}/fooBar", data={"a": "1"}) as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        # urlencoded and JSON bodies both work, method names in any case
        async with http.post(f"{tg.base_url}/bot{tg.token}/GETME") as resp:
            assert (await resp.json())["result"]["username"] == "test_loyalty_bot"
    intruder = tg.make_bot("42:other")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()


@pytest.mark.asyncio
async def test_expect_timeout_explains_failed_calls(tg: FakeTelegram, running: Bot) -> None:
    alice = tg.user(id=10)
    tg.fail_next("sendMessage", status=400, description="Bad Request: boom")
    await alice.send("hi")
    with pytest.raises(AssertionError) as failure:
        await alice.expect(timeout=0.3)
    assert "sendMessage -> 400 Bad Request: boom" in str(failure.value)
    assert "#1 user 10: hi" in str(failure.value)


@pytest.mark.asyncio
async def test_a_revoked_token_gets_401_on_every_method_until_restored(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    await bot.get_me()
    tg.revoke_token()
    for call in (bot.get_me(), bot.get_updates(timeout=0), bot.send_message(alice.id, "x")):
        with pytest.raises(TelegramUnauthorizedError):
            await call
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot{tg.token}/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    tg.restore_token()
    assert (await bot.get_me()).username == "test_loyalty_bot"
    await bot.send_message(alice.id, "back")
    assert [m.text for m in alice.bot_messages()] == ["back"]
