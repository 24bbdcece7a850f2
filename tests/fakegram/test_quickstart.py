"""The README flow end to end: a real Dispatcher polling the fake, driven by a user."""

from __future__ import annotations

import pytest
from aiogram import Bot

from fakegram import CallbackQueryRecord, FakeTelegram

from .conftest import CARD_PNG


@pytest.mark.asyncio
async def test_conversation_through_real_polling(tg: FakeTelegram, running: Bot) -> None:
    alice = tg.user(id=111, first_name="Alice", phone="+79990000001")

    await alice.send("hello")
    assert (await alice.expect()).text == "echo: hello"

    await alice.start("ref_42")
    welcome = await alice.expect()
    assert welcome.text == "Welcome! payload=ref_42"
    assert welcome.button_texts == ["📱 Share phone", "Balance"]
    assert tg.chat(alice.id).reply_keyboard == welcome.reply_markup
    start_msg = tg.chat(alice.id).user_messages()[-1]
    assert start_msg.entities == [{"type": "bot_command", "offset": 0, "length": 6}]

    # request_contact button: shares the user's own card
    sent = await alice.press("Share phone")
    assert not isinstance(sent, CallbackQueryRecord)
    assert sent.contact == {"phone_number": "+79990000001", "first_name": "Alice", "user_id": 111}
    assert (await alice.expect()).text == "Thanks, +79990000001"
    assert tg.chat(alice.id).reply_keyboard is None  # ReplyKeyboardRemove

    balance = await alice.send_and_wait("Balance")
    assert balance.text == "Balance: 5"  # HTML parsed into entities, like Telegram
    assert balance.entities == [{"type": "bold", "offset": 0, "length": 8}]

    answer = await alice.press("Refresh")  # substring of "🔄 Refresh"
    assert isinstance(answer, CallbackQueryRecord)
    assert answer.text == "Updated" and not answer.show_alert
    edited = await alice.expect()
    assert edited.edited and edited.text == "Balance: 6"
    assert edited.message_id == balance.message_id
    live = tg.chat(alice.id).get(balance.message_id)
    assert live is not None and live.history[0].text == "Balance: 5"

    details = await alice.press("Details")
    assert isinstance(details, CallbackQueryRecord)
    assert details.show_alert and details.text == "5 points from 1 purchase"

    await alice.send_photo(CARD_PNG)
    echoed = await alice.expect()
    assert echoed.photo == CARD_PNG and echoed.caption == f"got {len(CARD_PNG)} bytes"

    await tg.wait_idle()
    assert tg.pending_update_count == 0
    assert not tg.failed_requests()
