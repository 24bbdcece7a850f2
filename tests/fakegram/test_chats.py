"""Transcripts, events for listeners, groups, contacts, forged callbacks, bot settings."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError, TelegramMigrateToChat
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonWebApp,
    WebAppInfo,
)

from fakegram import CallbackQueryRecord, FakeEvent, FakeTelegram

from .conftest import CARD_PNG


@pytest.mark.asyncio
async def test_transcript_history_and_events(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10, first_name="Alice", last_name="Liddell", username="alice")
    queue = tg.subscribe()
    heard: list[FakeEvent] = []

    async def listener(event: FakeEvent) -> None:
        heard.append(event)

    tg.add_listener(listener)

    await alice.send("hi")
    sent = await bot.send_message(alice.id, "v1")
    await bot.edit_message_text("v2", chat_id=alice.id, message_id=sent.message_id)
    await bot.send_chat_action(alice.id, "upload_photo")
    await bot.delete_message(alice.id, sent.message_id)

    kinds = [queue.get_nowait().kind for _ in range(queue.qsize())]
    assert kinds == ["message", "message", "edit", "chat_action", "delete"]
    await asyncio.sleep(0)
    assert [e.kind for e in heard] == kinds
    tg.unsubscribe(queue)
    tg.remove_listener(listener)

    chat = tg.chat(alice.id)
    assert [(m.from_bot, m.content) for m in chat.messages] == [(False, "hi"), (True, "v2")]
    bot_msg = chat.messages[1]
    assert bot_msg.deleted and [r.text for r in bot_msg.history] == ["v1"]
    assert bot_msg.raw["from"]["is_bot"] and bot_msg.raw["chat"]["first_name"] == "Alice"
    assert "#2 bot: v2 (edited) (deleted)" in chat.transcript()
    assert chat.messages[0].raw["from"]["username"] == "alice"

    # expect() replays message then edit as snapshots, in order
    first, second = await alice.expect(0), await alice.expect(0)
    assert (first.text, first.edited) == ("v1", False)
    assert (second.text, second.edited) == ("v2", True)
    assert bot_msg.to_dict()["history"][0]["text"] == "v1"


@pytest.mark.asyncio
async def test_contacts_and_forged_callbacks(tg: FakeTelegram, running: Bot) -> None:
    mallory = tg.user(id=66, first_name="Mallory", phone="+70000000066")
    victim = tg.user(id=77, first_name="Victim", phone="+70000000077")

    await mallory.send_contact(victim.phone, user_id=victim.id, first_name="Victim")
    assert (await mallory.expect()).text == "That is not your contact"
    await mallory.send_contact("+70000000099", user_id=None)
    assert (await mallory.expect()).text == "That is not your contact"
    card = await mallory.send_contact()
    assert card.contact == {"phone_number": "+70000000066", "first_name": "Mallory",
                            "user_id": 66}
    assert (await mallory.expect()).text == "Thanks, +70000000066"

    forged = await mallory.press_callback("admin:grant:1000")
    assert forged.text == "Unknown action"
    no_message = await victim.press_callback("bal:details")  # no bot message in the chat
    assert no_message.message_id is None and no_message.show_alert
    await mallory.expect_no_reply(0.1)

    # Robustness: odd content types reach the generic handler.
    for send in (mallory.send_sticker, mallory.send_voice, mallory.send_location,
                 mallory.send_video):
        await send()
        assert (await mallory.expect()).text.startswith("unsupported: ")  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_groups_privacy_and_buttons(tg: FakeTelegram, running: Bot) -> None:
    cashier = tg.user(id=5, first_name="Cashier")
    staff = tg.group(title="Staff")
    await staff.send(cashier, "/stats")
    assert (await staff.expect()).text == "stats: ok"
    await staff.send_photo(cashier, CARD_PNG)
    assert (await staff.expect()).photo == CARD_PNG

    await staff.send(cashier, "Balance")
    keyboard_msg = await staff.expect()
    assert keyboard_msg.chat_id == staff.id and keyboard_msg.inline_buttons
    answer = await staff.press(cashier, "Details")
    assert isinstance(answer, CallbackQueryRecord) and answer.user_id == cashier.id
    with pytest.raises(AssertionError, match="url button"):
        await staff.press(cashier, "Website")

    quiet = tg.group(title="Customers", bot_is_admin=False)
    await quiet.send(cashier, "just chatting")
    await quiet.command(cashier, "stats")  # "/stats@test_loyalty_bot"
    assert (await quiet.expect()).text == "stats: ok"
    assert [m.content for m in quiet.messages][:1] == ["just chatting"]
    await quiet.expect_no_reply(0.1)


@pytest.mark.asyncio
async def test_bot_settings_members_and_webhook(tg: FakeTelegram, bot: Bot) -> None:
    alice, staff = tg.user(id=10, username="alice"), tg.group(title="Staff")
    me = await bot.get_me()
    assert me.is_bot and me.username == "test_loyalty_bot" and me.id == bot.id

    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="stats", description="Stats")],
        scope=BotCommandScopeChat(chat_id=staff.id), language_code="ru",
    )
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands([BotCommand(command="stats", description="Stats")],
                                  scope=BotCommandScopeChat(chat_id=-999))
    old_group = tg.group(title="Old")
    tg.upgrade_group(old_group.id)
    with pytest.raises(TelegramMigrateToChat):
        await bot.set_my_commands([BotCommand(command="stats", description="Stats")],
                                  scope=BotCommandScopeChat(chat_id=old_group.id))
    scoped = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=staff.id),
                                       language_code="ru")
    assert [c.command for c in scoped] == ["stats"]
    await bot.set_chat_menu_button(
        chat_id=alice.id,
        menu_button=MenuButtonWebApp(text="Card", web_app=WebAppInfo(url="https://x.example")),
    )
    assert tg.menu_buttons[alice.id]["type"] == "web_app"

    chat = await bot.get_chat(alice.id)
    assert chat.type == "private" and chat.username == "alice"
    assert (await bot.get_chat_member(staff.id, alice.id)).status == "member"
    tg.set_member_status(staff.id, alice.id, "administrator")
    assert (await bot.get_chat_member(staff.id, alice.id)).status == "administrator"
    tg.set_member_status(staff.id, alice.id, "restricted")
    assert (await bot.get_chat_member(staff.id, alice.id)).status == "restricted"
    assert (await bot.get_chat_member(staff.id, bot.id)).status == "administrator"

    await alice.send("queued")
    for bad_secret in ("has space", "x" * 257, "ключ"):
        with pytest.raises(TelegramBadRequest, match="secret token contains unallowed"):
            await bot.set_webhook("https://bot.example/hook", secret_token=bad_secret)
    await bot.set_webhook("https://bot.example/hook", secret_token="Ok_-9" * 51)
    assert (await bot.get_webhook_info()).pending_update_count == 1
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []

    sent = await bot.send_message(
        alice.id, "pick", reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="y")]]
        ),
    )
    reply = await bot.send_message(alice.id, "re", reply_to_message_id=sent.message_id)
    assert reply.reply_to_message and reply.reply_to_message.message_id == sent.message_id
    assert tg.stats.calls["sendMessage"] == 2 and tg.stats.statuses[200] > 0


@pytest.mark.asyncio
async def test_every_injected_update_parses_in_aiogram(tg: FakeTelegram, bot: Bot) -> None:
    """Updates the fake invents must validate against aiogram's pydantic models."""
    alice = tg.user(id=10, first_name="Alice", last_name="L", username="alice_l",
                    phone="+100", is_premium=True)
    staff = tg.group(title="Staff", type="group")
    sent = await bot.send_message(alice.id, "menu")
    mine = await alice.send("typo")
    await alice.edit(mine, "fixed")
    await alice.send("reply", reply_to=sent.message_id)
    await alice.send_raw({"dice": {"emoji": "🎲", "value": 3}})
    await alice.send_document(b"x", "a.bin", "application/octet-stream", caption="doc")
    await alice.press_callback(None, sent.message_id, wait=False)
    await alice.block_bot()
    await alice.unblock_bot()
    await staff.add_member(alice)
    await staff.command(alice, "stats", "today")
    await staff.remove_member(alice)
    await staff.kick_bot(by=alice)

    updates = await bot.get_updates(timeout=0, allowed_updates=[
        "message", "edited_message", "callback_query", "my_chat_member"
    ])
    kinds = [u.event_type for u in updates]
    assert kinds == [
        "message", "edited_message", "message", "message", "message", "callback_query",
        "my_chat_member", "my_chat_member", "message", "message", "message", "my_chat_member",
    ]
    assert updates[1].edited_message and updates[1].edited_message.text == "fixed"
    assert updates[2].message and updates[2].message.reply_to_message
    assert updates[9].message and updates[9].message.text == "/stats@test_loyalty_bot today"
    assert [u.update_id for u in updates] == list(
        range(updates[0].update_id, updates[0].update_id + len(updates))
    )
