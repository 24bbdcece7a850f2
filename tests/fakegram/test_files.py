"""Uploads (multipart + attach://), file_id re-sends, getFile and downloads."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InputMediaDocument, InputMediaPhoto

from fakegram import FakeTelegram

from .conftest import CARD_PNG, make_png


@pytest.mark.asyncio
async def test_send_photo_multipart_and_download(tg: FakeTelegram, bot: Bot) -> None:
    alice, bob = tg.user(id=10), tg.user(id=20)
    big = make_png(1000, 500)
    sent = await bot.send_photo(
        alice.id, BufferedInputFile(big, filename="card.png"),
        caption="Your <i>card</i>", parse_mode="HTML",
    )
    assert sent.caption == "Your card"
    assert sent.caption_entities and sent.caption_entities[0].type == "italic"
    assert sent.photo is not None
    assert [(p.width, p.height) for p in sent.photo] == [(90, 45), (320, 160), (800, 400),
                                                         (1000, 500)]

    request = tg.calls("sendPhoto")[-1]
    assert str(request.params["photo"]).startswith("attach://")
    assert [u.data for u in request.files.values()] == [big]

    stored = tg.chat(alice.id).last_bot_message()
    assert stored is not None and stored.photo == big and stored.kind == "photo"

    downloaded = await bot.download(sent.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == big
    file = await bot.get_file(sent.photo[0].file_id)
    assert file.file_path and file.file_size == len(big)

    # Re-send by file_id: no upload, same picture in another chat.
    again = await bot.send_photo(bob.id, sent.photo[-1].file_id)
    assert again.photo and again.photo[-1].file_id == sent.photo[-1].file_id
    assert bob.last_bot_message() is not None and bob.last_bot_message().photo == big  # type: ignore[union-attr]
    assert not tg.calls("sendPhoto")[-1].files

    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(bob.id, "AgACnot-a-real-file-id")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")

    # The sandbox can fetch files without the token.
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}/fakegram/files/{sent.photo[-1].file_id}"
        async with http.get(url) as resp:
            assert resp.status == 200 and await resp.read() == big
            assert resp.content_type == "image/png"


@pytest.mark.asyncio
async def test_send_document_and_user_document(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user(id=10)
    payload = b"date,points\n2024-01-01,5\n"
    sent = await bot.send_document(alice.id, BufferedInputFile(payload, filename="report.csv"))
    assert sent.document is not None
    assert sent.document.file_name == "report.csv" and sent.document.mime_type == "text/csv"
    msg = alice.last_bot_message()
    assert msg is not None and msg.document == payload and msg.document_name == "report.csv"

    theirs = await alice.send_document(b"%PDF-1.4 fake", "receipt.pdf")
    updates = await bot.get_updates(timeout=0)
    document = updates[-1].message.document  # type: ignore[union-attr]
    assert document is not None and document.file_name == "receipt.pdf"
    assert document.mime_type == "application/pdf"
    data = await bot.download(document)
    assert data is not None and data.read() == b"%PDF-1.4 fake"
    assert theirs.document == b"%PDF-1.4 fake"


@pytest.mark.asyncio
async def test_media_group_copy_and_forward(tg: FakeTelegram, bot: Bot) -> None:
    alice, staff = tg.user(id=10), tg.group(title="Staff")
    first = await bot.send_photo(alice.id, BufferedInputFile(CARD_PNG, "a.png"))
    assert first.photo
    album = await bot.send_media_group(
        alice.id,
        [
            InputMediaPhoto(media=first.photo[-1].file_id, caption="old"),
            InputMediaPhoto(media=BufferedInputFile(make_png(8, 8), "b.png")),
        ],
    )
    assert len(album) == 2 and len({m.media_group_id for m in album}) == 1
    assert album[0].caption == "old" and album[1].photo
    docs = await bot.send_media_group(
        alice.id, [InputMediaDocument(media=BufferedInputFile(b"txt", f"{n}.txt")) for n in "cd"]
    )
    assert docs[1].document is not None
    # Telegram: albums have 2-10 items; documents don't mix with other media.
    with pytest.raises(TelegramBadRequest, match="must include 2-10 items"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(media=first.photo[-1].file_id)])
    with pytest.raises(TelegramBadRequest, match="of the same type"):
        await bot.send_media_group(
            alice.id,
            [
                InputMediaPhoto(media=first.photo[-1].file_id),
                InputMediaDocument(media=BufferedInputFile(b"txt", "c.txt")),
            ],
        )

    user_msg = await alice.send("please forward me")
    copied = await bot.copy_message(staff.id, alice.id, user_msg.message_id)
    assert staff.chat.get(copied.message_id).text == "please forward me"  # type: ignore[union-attr]
    forwarded = await bot.forward_message(staff.id, alice.id, first.message_id)
    assert forwarded.forward_origin is not None and forwarded.photo
    assert staff.last_bot_message().photo == CARD_PNG  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_user_photo_download_by_bot_handler(tg: FakeTelegram, running: Bot) -> None:
    alice = tg.user(id=10)
    photo = make_png(500, 300)
    mine = await alice.send_photo(photo, caption="receipt")
    assert [(s["width"], s["height"]) for s in mine.raw["photo"]] == [
        (90, 54), (320, 192), (500, 300)
    ]
    reply = await alice.expect()
    assert reply.photo == photo and reply.caption == f"got {len(photo)} bytes"
    assert tg.calls("getFile") and tg.calls("getFile")[-1].ok

    await alice.send("/doc")
    doc = await alice.expect()
    assert doc.document_name == "report.csv" and doc.caption == "Your report"
    assert doc.document is not None and doc.document.startswith(b"date,points")
