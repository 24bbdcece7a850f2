"""Mini Apps through fakegram: web_app buttons and Telegram's rules for them, initData signed
as Telegram signs it (checked with aiogram's own validators), answerWebAppQuery, web_app_data
from a reply-keyboard Mini App; and link_preview_options."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode

import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    LinkPreviewOptions,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from aiogram.utils.web_app import check_webapp_signature, safe_parse_webapp_init_data
from aiogram.utils.web_app_signature import check_webapp_signature as check_ed25519

from fakegram import FakeTelegram, WebAppLaunch

from .test_payments import raw_call

CARD_URL = "https://cafe.example/app/card"


def apps_router() -> Router:
    router = Router()

    @router.message(Command("card"))
    async def card(message: Message) -> None:
        await message.answer("Ваша карта", reply_markup=InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text="Открыть карту", web_app=WebAppInfo(url=CARD_URL))]]))

    @router.message(Command("till"))
    async def till(message: Message) -> None:
        await message.answer("Касса", reply_markup=ReplyKeyboardMarkup(keyboard=[
            [KeyboardButton(text="Сканировать", web_app=WebAppInfo(url="https://cafe.example/till"))]],
            resize_keyboard=True))

    @router.message(F.web_app_data)
    async def data(message: Message) -> None:
        assert message.web_app_data is not None
        await message.answer(f"got {message.web_app_data.data} "
                             f"from {message.web_app_data.button_text}")

    @router.message(F.via_bot)
    async def via(message: Message) -> None:
        assert message.via_bot is not None and message.from_user is not None
        await message.answer(f"{message.from_user.id} shared via @{message.via_bot.username}")

    return router


@pytest_asyncio.fixture
async def apps(tg: FakeTelegram) -> AsyncIterator[Bot]:
    dp = Dispatcher()
    dp.include_router(apps_router())
    async with tg.polling(dp) as polling_bot:
        yield polling_bot


@pytest.mark.asyncio
async def test_inline_web_app_init_data_and_answer_web_app_query(
    tg: FakeTelegram, apps: Bot
) -> None:
    alice = tg.user(id=10, first_name="Алиса", username="alice", language_code="ru")
    await alice.command("card")
    assert (await alice.expect()).button("Открыть карту") == {
        "text": "Открыть карту", "web_app": {"url": CARD_URL}}
    launch = await alice.open_web_app("Открыть карту")
    assert launch.source == "inline_button" and launch.url == CARD_URL and launch.query_id

    # Exactly what the backend of issue 17 will do: validate with the bot token.
    parsed = safe_parse_webapp_init_data(tg.token, launch.init_data)
    assert parsed.user is not None and parsed.user.id == alice.id
    assert (parsed.user.first_name, parsed.user.username, parsed.user.language_code) == (
        "Алиса", "alice", "ru")
    assert parsed.query_id == launch.query_id and parsed.chat_type == "private"
    assert parsed.chat_instance == tg.chat_instance(alice.id)
    assert abs(parsed.auth_date.timestamp() - tg.wall_clock()) < 5
    # The Ed25519 signature verifies with the fake's public key (Telegram's key in production).
    assert check_ed25519(tg.bot_id, launch.init_data, tg.web_app_public_key)
    assert launch.launch_url.startswith(CARD_URL + "#tgWebAppData=")
    assert [e.data["source"] for e in tg.events if e.kind == "web_app"] == ["inline_button"]

    # The Mini App asks its backend to post on the user's behalf.
    sent = await apps.answer_web_app_query(launch.query_id or "", InlineQueryResultArticle(
        id="share-1", title="Моя карта",
        input_message_content=InputTextMessageContent(message_text="Я в программе «Кофейня»")))
    assert sent.inline_message_id is None  # no keyboard attached
    shared = [m for m in alice.messages if m.via_bot]
    assert len(shared) == 1 and shared[0].text == "Я в программе «Кофейня»"
    assert not shared[0].from_bot and shared[0].sender_id == alice.id
    assert (await alice.expect()).text == f"{alice.id} shared via @{tg.bot_username}"
    with pytest.raises(TelegramBadRequest, match="query is too old"):  # once only
        await apps.answer_web_app_query(launch.query_id or "", InlineQueryResultArticle(
            id="2", title="x", input_message_content=InputTextMessageContent(message_text="x")))
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await apps.answer_web_app_query("AAFforged", InlineQueryResultArticle(
            id="3", title="x", input_message_content=InputTextMessageContent(message_text="x")))


@pytest.mark.asyncio
async def test_init_data_is_signed_exactly_as_telegram_signs_it(tg: FakeTelegram) -> None:
    bob = tg.user(id=11, first_name="Bob", last_name="Builder", is_premium=True)
    raw = bob.init_data(query_id="AAHdF6IQAAAAAN0XohDhrOrc", start_param="ref_42",
                        auth_date=1_700_000_000, signature=False)
    fields = dict(parse_qsl(raw, strict_parsing=True))
    assert set(fields) == {"query_id", "user", "start_param", "auth_date", "hash"}
    assert json.loads(fields["user"]) == {"id": 11, "first_name": "Bob", "last_name": "Builder",
                                          "language_code": "ru", "is_premium": True,
                                          "allows_write_to_pm": True}
    parsed = safe_parse_webapp_init_data(tg.token, raw)
    assert parsed.start_param == "ref_42" and int(parsed.auth_date.timestamp()) == 1_700_000_000

    # Forgeries: another user's id, a stale date, another bot's token, a missing hash.
    tampered = dict(fields, user=fields["user"].replace('"id":11', '"id":12'))
    assert not check_webapp_signature(tg.token, urlencode(tampered))
    assert not check_webapp_signature(tg.token, urlencode(dict(fields, auth_date="1800000000")))
    assert not check_webapp_signature("42:other-bot-token", raw)
    with pytest.raises(ValueError, match="Invalid init data signature"):
        safe_parse_webapp_init_data(tg.token, urlencode({k: v for k, v in fields.items()
                                                         if k != "hash"}))
    # signature (Ed25519) is one of the fields the hash covers, and it must match the data.
    signed = bob.init_data(auth_date=1_700_000_000)
    assert "signature=" in signed and check_webapp_signature(tg.token, signed)
    assert check_ed25519(tg.bot_id, signed, tg.web_app_public_key)
    moved = urlencode(dict(parse_qsl(signed), auth_date="1700000001"))
    assert not check_ed25519(tg.bot_id, moved, tg.web_app_public_key)
    assert not check_ed25519(tg.bot_id + 1, signed, tg.web_app_public_key)


@pytest.mark.asyncio
async def test_reply_keyboard_mini_app_sends_web_app_data(tg: FakeTelegram, apps: Bot) -> None:
    cashier = tg.user(id=20)
    await cashier.command("till")
    await cashier.expect()
    launch = await cashier.press("Сканировать")
    assert isinstance(launch, WebAppLaunch) and launch.source == "keyboard_button"
    assert launch.init_data == "" and launch.query_id is None  # Telegram gives it no initData
    with pytest.raises(ValueError, match="1-4096 bytes"):
        await launch.send_data("x" * 4097)
    sent = await launch.send_data('{"card": "ABC123"}')
    assert sent.web_app_data == {"data": '{"card": "ABC123"}', "button_text": "Сканировать"}
    assert (await cashier.expect()).text == 'got {"card": "ABC123"} from Сканировать'
    with pytest.raises(AssertionError, match="closed"):
        await launch.send_data("again")
    with pytest.raises(ValueError, match="only Telegram can send web_app_data"):
        await cashier.send_raw({"web_app_data": {"data": "forged", "button_text": "Сканировать"}})

    await apps.set_chat_menu_button(chat_id=cashier.id, menu_button=MenuButtonWebApp(
        text="Касса", web_app=WebAppInfo(url="https://cafe.example/till")))
    from_menu = await cashier.open_menu_app()
    assert from_menu.source == "menu_button" and from_menu.query_id
    unsafe = from_menu.init_data_unsafe
    assert unsafe["user"]["id"] == cashier.id and "chat_type" not in unsafe
    with pytest.raises(AssertionError, match="reply keyboard button"):
        await from_menu.send_data("x")  # sendData is for keyboard-button Mini Apps only
    other = tg.user(id=21)
    with pytest.raises(AssertionError, match="not a Mini App"):
        await other.open_menu_app()


@pytest.mark.asyncio
async def test_web_app_buttons_follow_telegrams_rules(tg: FakeTelegram, bot: Bot) -> None:
    alice, staff = tg.user(id=10), tg.group(title="Staff")
    inline = InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text="Карта", web_app=WebAppInfo(url=CARD_URL))]])
    reply = ReplyKeyboardMarkup(keyboard=[
        [KeyboardButton(text="Касса", web_app=WebAppInfo(url=CARD_URL))]])
    await bot.send_message(alice.id, "ok", reply_markup=inline)
    await bot.send_message(alice.id, "ok", reply_markup=reply)
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):  # private chats only
        await bot.send_message(staff.id, "no", reply_markup=inline)
    with pytest.raises(TelegramBadRequest, match="web App buttons can be used in private chats"):
        await bot.send_message(staff.id, "no", reply_markup=reply)
    for insecure in ("http://cafe.example/app", "tg://resolve?domain=x", "javascript:alert(1)"):
        with pytest.raises(TelegramBadRequest, match=r"inline keyboard button Web App URL .* "
                                                     r"Only HTTPS links are allowed"):
            await bot.send_message(alice.id, "no", reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="x", web_app=WebAppInfo(url=insecure))]]))
        with pytest.raises(TelegramBadRequest, match="keyboard button Web App URL"):
            await bot.send_message(alice.id, "no", reply_markup=ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="x", web_app=WebAppInfo(url=insecure))]]))
    sent = alice.bot_messages()[0]
    with pytest.raises(TelegramBadRequest, match="BUTTON_TYPE_INVALID"):
        await bot.copy_message(staff.id, alice.id, sent.message_id, reply_markup=inline)
    assert [m.text for m in staff.bot_messages()] == []


@pytest.mark.asyncio
async def test_link_preview_options(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    text = "Оставьте отзыв: https://yandex.ru/maps/org/1"
    plain = await bot.send_message(alice.id, text)
    assert plain.link_preview_options is None and not alice.last_bot_message().link_preview_disabled  # type: ignore[union-attr]
    off = await bot.send_message(alice.id, text, link_preview_options=LinkPreviewOptions(
        is_disabled=True))
    assert off.link_preview_options is not None and off.link_preview_options.is_disabled
    assert alice.last_bot_message().link_preview_disabled  # type: ignore[union-attr]
    deprecated = await bot.send_message(alice.id, text, disable_web_page_preview=True)
    assert deprecated.link_preview_options is not None
    assert deprecated.link_preview_options.is_disabled
    small = await bot.send_message(alice.id, text, link_preview_options=LinkPreviewOptions(
        url="https://cafe.example", prefer_small_media=True, show_above_text=True))
    assert alice.chat.get(small.message_id).link_preview_options == {  # type: ignore[union-attr]
        "url": "https://cafe.example", "prefer_small_media": True, "show_above_text": True}

    edited = await bot.edit_message_text(text, chat_id=alice.id, message_id=plain.message_id,
                                         link_preview_options=LinkPreviewOptions(is_disabled=True))
    assert isinstance(edited, Message) and edited.link_preview_options is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text, chat_id=alice.id, message_id=plain.message_id,
                                    link_preview_options=LinkPreviewOptions(is_disabled=True))
    await bot.edit_message_text(text, chat_id=alice.id, message_id=plain.message_id)
    assert alice.chat.get(plain.message_id).link_preview_options is None  # type: ignore[union-attr]

    # A bot-wide default (aiogram's DefaultBotProperties) reaches every message.
    quiet = tg.make_bot(default=DefaultBotProperties(link_preview_is_disabled=True))
    try:
        await quiet.send_message(alice.id, text)
        assert alice.last_bot_message().link_preview_disabled  # type: ignore[union-attr]
    finally:
        await quiet.session.close()

    answer = await raw_call(tg, "sendMessage", chat_id=alice.id, text=text,
                            link_preview_options='"off"')
    assert answer["description"] == "Bad Request: object expected as link preview options"
    answer = await raw_call(tg, "sendMessage", chat_id=alice.id, text=text,
                            link_preview_options='{"is_disabled": "yes"}')
    assert answer["description"] == 'Bad Request: field "is_disabled" must be of type Boolean'
    answer = await raw_call(tg, "sendMessage", chat_id=alice.id, text=text,
                            link_preview_options="{")
    assert answer["description"] == "Bad Request: can't parse link preview options JSON object"
