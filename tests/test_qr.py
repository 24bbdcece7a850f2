"""Reading QR codes from photos and recognising our own customer codes (bot/qr.py)."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
import qrcode
from PIL import Image, ImageDraw, ImageFilter

from bot.deeplinks import make_link
from bot.qr import (
    ImageTooLarge,
    NotAnImage,
    decode_qr,
    decode_qr_async,
    extract_customer_code,
)

BOT = "zerno_loyalty_bot"
PAYLOAD = make_link(BOT, "card", "012345")


def qr_picture(payload: str, box: int = 10) -> Image.Image:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=box)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr.make_image().get_image().convert("L")


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def photo_of(symbol: Image.Image, *, size: tuple[int, int] = (1600, 1200), scale: float = 0.7,
             angle: float = 7.0, quality: int = 55, seed: int = 1) -> bytes:
    """The symbol as a phone would see it: on a noisy, unevenly lit table, a little
    rotated and scaled, then JPEG-compressed."""
    rng = random.Random(seed)
    scene = Image.linear_gradient("L").resize(size).point(lambda v: 90 + v * 120 // 255)
    noise = Image.frombytes("L", size, rng.randbytes(size[0] * size[1])).point(lambda v: v * 40 // 255)
    scene = Image.blend(scene, noise, 0.25).convert("RGB")
    shown = symbol.resize((int(symbol.width * scale), int(symbol.height * scale)),
                          Image.Resampling.BILINEAR)
    shown = shown.convert("RGB").rotate(angle, expand=True, fillcolor=(140, 120, 100),
                                        resample=Image.Resampling.BICUBIC)
    scene.paste(shown, ((size[0] - shown.width) // 3, (size[1] - shown.height) // 2))
    scene = scene.filter(ImageFilter.GaussianBlur(0.8))
    return encode(scene, "JPEG", quality=quality)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width`×`height` pixels: only the header, as a bomb would be."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# ---------------------------------------------------------------------------
# decode_qr


def test_clean_qr_png_decodes() -> None:
    assert decode_qr(encode(qr_picture(PAYLOAD))) == [PAYLOAD]


@pytest.mark.parametrize(("scale", "angle", "quality"), [
    (0.7, 7.0, 55), (0.45, -4.0, 40), (1.6, 12.0, 70),
])
def test_photo_of_a_qr_decodes(scale: float, angle: float, quality: int) -> None:
    photo = photo_of(qr_picture(PAYLOAD), scale=scale, angle=angle, quality=quality)
    assert decode_qr(photo) == [PAYLOAD]


def test_small_thumbnail_decodes() -> None:
    tiny = qr_picture(PAYLOAD, box=2)  # 82 px: modules two pixels wide
    assert decode_qr(encode(tiny, "JPEG", quality=90)) == [PAYLOAD]


def test_transparent_png_is_flattened_onto_white() -> None:
    symbol = qr_picture(PAYLOAD)
    rgba = Image.new("RGBA", symbol.size, (0, 0, 0, 0))
    rgba.putalpha(symbol.point(lambda v: 255 - v))  # black modules, transparent elsewhere
    assert decode_qr(encode(rgba)) == [PAYLOAD]


def test_two_codes_in_one_picture() -> None:
    left, right = qr_picture(PAYLOAD), qr_picture("https://example.com/menu")
    both = Image.new("L", (left.width + right.width + 40, max(left.height, right.height)), 255)
    both.paste(left, (0, 0))
    both.paste(right, (left.width + 40, 0))
    assert sorted(decode_qr(encode(both))) == sorted([PAYLOAD, "https://example.com/menu"])


def test_noise_and_gradient_have_no_codes() -> None:
    rng = random.Random(7)
    noise = Image.frombytes("L", (640, 480), rng.randbytes(640 * 480))
    gradient = Image.linear_gradient("L").resize((1200, 900)).convert("RGB")
    drawing = Image.new("RGB", (800, 600), "white")
    ImageDraw.Draw(drawing).rectangle((100, 100, 300, 300), fill="black")
    assert decode_qr(encode(noise)) == []
    assert decode_qr(encode(gradient, "JPEG")) == []
    assert decode_qr(encode(drawing)) == []


@pytest.mark.parametrize("data", [
    b"", b"hello, this is a text file renamed to photo.png\n", b"\x89PNG\r\n\x1a\n",
    b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
])
def test_not_an_image(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        decode_qr(data)


def test_truncated_image_is_not_an_image() -> None:
    for fmt in ("PNG", "JPEG"):
        whole = encode(qr_picture(PAYLOAD).convert("RGB"), fmt)
        with pytest.raises(NotAnImage):
            decode_qr(whole[: len(whole) // 2])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge):
        decode_qr(png_header(10_000, 5_000))  # 50 MP
    with pytest.raises(ImageTooLarge):
        decode_qr(png_header(60_000, 60_000))  # beyond Pillow's own bomb limit


@pytest.mark.asyncio
async def test_decode_in_a_thread() -> None:
    assert await decode_qr_async(encode(qr_picture(PAYLOAD))) == [PAYLOAD]


# ---------------------------------------------------------------------------
# extract_customer_code


@pytest.mark.parametrize("text", [
    "https://t.me/zerno_loyalty_bot?start=c_012345",
    "http://t.me/zerno_loyalty_bot?start=c_012345",
    "https://telegram.me/zerno_loyalty_bot?start=c_012345",
    "t.me/zerno_loyalty_bot?start=c_012345",
    "https://t.me/Zerno_Loyalty_Bot?start=c_012345",
    "  https://t.me/zerno_loyalty_bot/?start=c_012345\n",
    "tg://resolve?domain=zerno_loyalty_bot&start=c_012345",
    "tg://resolve?start=c_012345&domain=zerno_loyalty_bot",
    "012345", "012 345", "012-345",
])
def test_our_payloads_give_the_code(text: str) -> None:
    assert extract_customer_code([text], BOT) == "012345"
    assert extract_customer_code([text], "@" + BOT) == "012345"


@pytest.mark.parametrize("text", [
    "https://example.com/?start=c_012345",
    "https://t.me/zerno_loyalty_bot?start=r_012345",  # a referral link, not a code
    "https://t.me/zerno_loyalty_bot?start=c_01234",
    "https://t.me/zerno_loyalty_bot?start=c_0123456",
    "https://t.me/zerno_loyalty_bot",
    "https://t.me/joinchat/zerno_loyalty_bot?start=c_012345",
    "WIFI:S:Zerno;T:WPA;P:secret;;",
    "1234567", "12345", "", "tg://resolve?domain=other_bot&start=c_012345",
])
def test_foreign_contents_give_none(text: str) -> None:
    assert extract_customer_code([text], BOT) is None


def test_wrong_bot_gives_none() -> None:
    assert extract_customer_code([make_link("other_bot", "card", "012345")], BOT) is None


def test_unknown_bot_name_accepts_any_bot() -> None:
    assert extract_customer_code([make_link("other_bot", "card", "654321")], None) == "654321"


def test_first_of_our_codes_wins() -> None:
    texts = ["https://example.com", make_link(BOT, "card", "111111"), "222222"]
    assert extract_customer_code(texts, BOT) == "111111"


def test_round_trip_from_photo() -> None:
    texts = decode_qr(photo_of(qr_picture(PAYLOAD)))
    assert extract_customer_code(texts, BOT) == "012345"
