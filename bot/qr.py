"""Reading a customer's QR code from a photo (DOMAIN.md, "The customer code").

Staff photograph the card on the customer's phone; `decode_qr` returns whatever QR texts
the photo holds and `extract_customer_code` picks out our own code from them (the card's
QR carries `bot.deeplinks.make_link(bot, "card", code)`). Anything that is not a
readable picture is refused with a specific error the handler can turn into a sentence
("qr-not-an-image", "qr-too-large" in common.ftl).

Decoding is CPU work (tens of milliseconds on a phone photo): call it through
`decode_qr_async`, which runs it in a thread, from handlers.
"""

from __future__ import annotations

import asyncio
import io
import re
import warnings
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

import zxingcpp
from PIL import Image, ImageFilter, ImageOps

from bot.deeplinks import parse_deep_link

# Telegram delivers photos at most 2560 px on the long side (about 5 MP); a picture sent
# as a file can be a full camera frame, usually 12 MP. 40 MP leaves room for those and
# refuses decompression bombs, checked from the header before any pixel is decoded.
MAX_PIXELS = 40_000_000
# zxing finds a QR fastest when it spans a few hundred pixels; these are the sizes of the
# retry passes when the photo as sent yields nothing.
_DOWNSCALE_LONG_SIDE = 1600
_UPSCALE_BELOW = 480

_BARE_CODE_RE = re.compile(r"([0-9]{3})[ \-]?([0-9]{3})")  # [0-9]: \d reads every script's digits
_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_TELEGRAM_HOSTS = frozenset({"t.me", "www.t.me", "telegram.me", "www.telegram.me"})


class QrImageError(ValueError):
    """The bytes cannot be searched for a QR code."""


class NotAnImage(QrImageError):
    """Not an image at all (a document renamed .png), or a truncated/corrupt one."""


class ImageTooLarge(QrImageError):
    """More pixels than `MAX_PIXELS`: refused before decoding (decompression bombs)."""


# ---------------------------------------------------------------------------
# Decoding


def _open(image_bytes: bytes) -> Image.Image:
    """Open and fully decode the image, checking its size from the header first."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit and raises at twice it; we decide ourselves.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(image_bytes))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise ImageTooLarge(f"{width}×{height} is over {MAX_PIXELS} pixels")
            image.load()
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(str(exc)) from exc
    except QrImageError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # UnidentifiedImageError is an OSError; truncated data is an OSError too;
        # some plugins report broken headers as SyntaxError or ValueError.
        raise NotAnImage(str(exc) or type(exc).__name__) from exc
    return image


def _to_gray(image: Image.Image) -> Image.Image:
    """Luminance, with transparency flattened onto white and EXIF rotation applied.

    A transparent PNG of a QR has black modules on transparent pixels that are also
    black underneath; without flattening, the whole symbol would vanish.
    """
    image = ImageOps.exif_transpose(image) or image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L")


def _scaled(gray: Image.Image, numerator: int, denominator: int) -> Image.Image:
    size = (max(1, gray.width * numerator // denominator),
            max(1, gray.height * numerator // denominator))
    return gray.resize(size, Image.Resampling.BOX if numerator < denominator
                       else Image.Resampling.BICUBIC)


def _variants(gray: Image.Image) -> Iterator[Image.Image]:
    """The photo as sent, then the versions that rescue what zxing's own pass misses."""
    yield gray
    long_side = max(gray.size)
    if long_side > _DOWNSCALE_LONG_SIDE:
        # A QR filling a 48 MP photo has modules dozens of pixels wide and full of noise.
        yield _scaled(gray, _DOWNSCALE_LONG_SIDE, long_side)
    elif long_side < _UPSCALE_BELOW:
        # A small screenshot or thumbnail: modules of one or two pixels.
        yield _scaled(gray, 2, 1)
    # Photographing a screen adds moiré and JPEG adds block edges; a slight blur evens
    # both out before binarisation.
    yield gray.filter(ImageFilter.GaussianBlur(1))


def _read(image: Image.Image, binarizer: zxingcpp.Binarizer) -> list[str]:
    results = zxingcpp.read_barcodes(image, formats=_QR_ONLY, binarizer=binarizer)
    return [r.text for r in results if r.valid and r.text]


def decode_qr(image_bytes: bytes) -> list[str]:
    """Texts of all QR codes found in the image, in reading order, without repeats.

    Raises `NotAnImage` for bytes that are not a decodable image and `ImageTooLarge`
    for images over `MAX_PIXELS`. An image without a QR code gives [].
    """
    gray = _to_gray(_open(image_bytes))
    for variant in _variants(gray):
        for binarizer in (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram):
            texts = _read(variant, binarizer)
            if texts:
                return list(dict.fromkeys(texts))
    return []


async def decode_qr_async(image_bytes: bytes) -> list[str]:
    """`decode_qr` in a worker thread, so a large photo does not stall the event loop."""
    return await asyncio.to_thread(decode_qr, image_bytes)


# ---------------------------------------------------------------------------
# Recognising our own payloads


def _same_bot(found: str | None, expected: str | None) -> bool:
    # Telegram usernames are case-insensitive; with no expected name any bot is accepted.
    if not found:
        return False
    return expected is None or found.lower() == expected.lstrip("@").lower()


def _start_code(query: str) -> str | None:
    """The card code in a `start=` parameter, read by the same rules as /start itself."""
    values = parse_qs(query).get("start", [])
    link = parse_deep_link(values[0]) if len(values) == 1 else None
    return link.value if link is not None and link.kind == "card" else None


def _code_from_text(text: str, bot_username: str | None) -> str | None:
    text = text.strip()
    bare = _BARE_CODE_RE.fullmatch(text)
    if bare:
        return bare.group(1) + bare.group(2)
    if text.lower().startswith(("t.me/", "telegram.me/")):
        text = "https://" + text
    parts = urlsplit(text)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme in ("http", "https") and host in _TELEGRAM_HOSTS:
        username = parts.path.strip("/")
        if "/" in username or not _same_bot(username, bot_username):
            return None
        return _start_code(parts.query)
    if scheme == "tg" and host == "resolve":
        domain = parse_qs(parts.query).get("domain", [None])[0]
        return _start_code(parts.query) if _same_bot(domain, bot_username) else None
    return None


def extract_customer_code(texts: Iterable[str], bot_username: str | None) -> str | None:
    """The 6-digit customer code in our own QR payloads or typed digits, else None.

    Recognises `https://t.me/<bot>?start=c_123456` (also telegram.me, http, no scheme),
    `tg://resolve?domain=<bot>&start=c_123456`, and bare "123456" or "123 456". A link to
    another bot or any other QR content gives None. `bot_username` None accepts any bot,
    for when the bot's own name is not known yet; a link only carries a code, which is
    still checked against the database.
    """
    for text in texts:
        code = _code_from_text(text, bot_username)
        if code is not None:
            return code
    return None
