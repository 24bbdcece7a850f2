"""Fixtures for fakegram's own tests: a fake server, a real aiogram Bot, and a tiny
demo bot (real Dispatcher, long polling) exercising keyboards, files and edits."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from fakegram import FakeTelegram


def make_png(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG of the given size (no imaging library needed)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x80\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


CARD_PNG = make_png(40, 20)


def balance_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="🔄 Refresh", callback_data="bal:refresh"),
                InlineKeyboardButton(text="Details", callback_data="bal:details"),
            ],
            [InlineKeyboardButton(text="Website", url="https://example.com")],
        ]
    )


def build_router() -> Router:
    """The demo bot. Built fresh per test: a Router attaches to one Dispatcher only."""
    router = Router()
    state = {"balance": 5}

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        keyboard = ReplyKeyboardMarkup(
            keyboard=[
                [KeyboardButton(text="📱 Share phone", request_contact=True)],
                [KeyboardButton(text="Balance")],
            ],
            resize_keyboard=True,
        )
        await message.answer(f"Welcome! payload={command.args}", reply_markup=keyboard)

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        assert message.contact is not None and message.from_user is not None
        if message.contact.user_id != message.from_user.id:
            await message.answer("That is not your contact")
            return
        await message.answer(
            f"Thanks, {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove()
        )

    @router.message(F.text == "Balance")
    async def balance(message: Message) -> None:
        await message.answer(
            f"<b>Balance:</b> {state['balance']}", parse_mode="HTML",
            reply_markup=balance_keyboard(),
        )

    @router.callback_query(F.data == "bal:refresh")
    async def refresh(callback: CallbackQuery) -> None:
        state["balance"] += 1
        assert isinstance(callback.message, Message)
        await callback.message.edit_text(
            f"<b>Balance:</b> {state['balance']}", parse_mode="HTML",
            reply_markup=balance_keyboard(),
        )
        await callback.answer("Updated")

    @router.callback_query(F.data == "bal:details")
    async def details(callback: CallbackQuery) -> None:
        await callback.answer("5 points from 1 purchase", show_alert=True)

    @router.callback_query()
    async def unknown(callback: CallbackQuery) -> None:
        await callback.answer("Unknown action")

    @router.message(F.photo)
    async def photo(message: Message, bot: Bot) -> None:
        assert message.photo
        data = await bot.download(message.photo[-1])
        assert data is not None
        content = data.read()
        await message.answer_photo(
            BufferedInputFile(content, filename="echo.png"),
            caption=f"got {len(content)} bytes",
        )

    @router.message(Command("doc"))
    async def doc(message: Message) -> None:
        await message.answer_document(
            BufferedInputFile(b"date,points\n2024-01-01,5\n", filename="report.csv"),
            caption="Your report",
        )

    @router.message(Command("card"))
    async def card(message: Message) -> None:
        await message.answer_photo(BufferedInputFile(CARD_PNG, filename="card.png"))

    @router.message(Command("stats"))
    async def stats(message: Message) -> None:
        await message.answer("stats: ok")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    @router.message()
    async def other(message: Message) -> None:
        await message.answer(f"unsupported: {message.content_type}")

    return router


@pytest_asyncio.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest_asyncio.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    """A real Bot pointed at the fake, without a dispatcher."""
    instance = tg.make_bot()
    try:
        yield instance
    finally:
        await instance.session.close()


@pytest_asyncio.fixture
async def running(tg: FakeTelegram) -> AsyncIterator[Bot]:
    """The demo bot polling the fake through a real Dispatcher."""
    dp = Dispatcher()
    dp.include_router(build_router())
    async with tg.polling(dp) as polling_bot:
        yield polling_bot
