"""The customer's loyalty card as a PNG (DOMAIN.md, "The customer code").

`render_card` draws what it is given: every word on the card arrives already translated
in `CardData`, so this module holds no language strings. `card_data` fills those labels
from a `Translator` for the usual case.

Layout (800×500): business, customer, tier, balance and the progress bar on the left;
on the right a white panel with the QR (a t.me deep link carrying the code) and the
same code as 6 large digits for when the camera fails.

Fonts: DejaVu Sans, which covers Cyrillic and "₽". Pillow's built-in scalable font has
no Cyrillic (it draws boxes), so we look for DejaVu in `bot/fonts/` (a vendored copy, if
one is ever shipped), then in matplotlib's bundled fonts (matplotlib is already a project
dependency, so a plain `pip install` always brings the font), then in the system's
fonts-dejavu package. Only if all are missing do we fall back to Pillow's font, with an
error in the log.

Speed: fonts and the background layer are built once per process; a render is a copy of
the background, a few text runs, the QR pasted at an integer scale, and a PNG encoded at
zlib level 1 (the image is mostly flat colour, so level 1 is nearly as small as level 6
and several times faster; Telegram re-encodes photos anyway).
"""

from __future__ import annotations

import functools
import importlib.util
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from bot.i18n import DEFAULT_LOCALE, Translator, format_number

log = logging.getLogger(__name__)

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
_SYSTEM_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")

WIDTH, HEIGHT = 800, 500
MARGIN = 36
# Right-hand white panel that holds the QR and the digits.
PANEL = (436, 24, WIDTH - 24, HEIGHT - 24)
QR_MAX_PX = PANEL[2] - PANEL[0] - 8
LEFT_WIDTH = PANEL[0] - MARGIN - 28
# Four modules of white around the symbol, as the QR standard asks; phone cameras and
# zxing both lock on more reliably with the full quiet zone.
QR_QUIET_ZONE = 4

BACKGROUND_TOP = (27, 38, 64)
BACKGROUND_BOTTOM = (48, 66, 110)
TEXT = (255, 255, 255)
TEXT_MUTED = (178, 192, 222)
ACCENT = (247, 190, 69)
BAR_TRACK = (74, 92, 140)
PANEL_FILL = (255, 255, 255)
INK = (20, 24, 33)
INK_MUTED = (105, 112, 128)
ELLIPSIS = "…"


@dataclass(frozen=True)
class CardData:
    """Everything drawn on a card; text fields are already translated.

    `progress` is (current, target) in the unit of the tier threshold (kopecks paid or
    purchases made), so the bar is computed in integers; a target of 0 (or no next
    tier) draws a full bar. `locale` only chooses the digit grouping of the balance.
    """

    business_name: str
    customer_name: str
    tier_name: str
    balance: int
    next_tier_name: str | None
    progress: tuple[int, int]
    progress_text: str
    qr_payload: str
    code: str
    tier_label: str
    balance_label: str
    points_word: str
    code_label: str
    locale: str = DEFAULT_LOCALE


def spaced_code(code: str) -> str:
    """"123456" → "123 456": easier to read out at the till."""
    return f"{code[:3]} {code[3:]}" if len(code) == 6 else code


def card_data(t: Translator, *, business_name: str, customer_name: str, tier_name: str,
              balance: int, next_tier_name: str | None, progress: tuple[int, int],
              progress_text: str, qr_payload: str, code: str) -> CardData:
    """A `CardData` whose labels come from card.ftl in the translator's locale."""
    return CardData(
        business_name=business_name, customer_name=customer_name, tier_name=tier_name,
        balance=balance, next_tier_name=next_tier_name, progress=progress,
        progress_text=progress_text, qr_payload=qr_payload, code=code,
        tier_label=t("card-tier-label"), balance_label=t("card-balance-label"),
        points_word=t("card-points-word", n=balance), code_label=t("card-code-label"),
        locale=t.locale,
    )


def describe_progress(t: Translator, next_tier_name: str | None, *,
                      remaining_kopecks: int | None = None,
                      remaining_purchases: int | None = None) -> str:
    """The line under the progress bar: money or purchases left to the next tier."""
    if next_tier_name is None:
        return t("card-progress-top")
    if remaining_purchases is not None:
        return t("card-progress-purchases", count=max(remaining_purchases, 0),
                 tier=next_tier_name)
    # Whole roubles, rounded up: "Ещё 9 464 ₽", never 9 463,26 ₽ (and never a rouble short).
    left = max(remaining_kopecks or 0, 0)
    return t("card-progress-money", kopecks=-(-left // 100) * 100, tier=next_tier_name)


# ---------------------------------------------------------------------------
# Fonts


def _font_candidates(file_name: str) -> Iterator[Path]:
    yield FONTS_DIR / file_name
    spec = importlib.util.find_spec("matplotlib")  # locates the package without importing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        yield Path(location) / "mpl-data" / "fonts" / "ttf" / file_name
    yield _SYSTEM_DEJAVU / file_name


@functools.cache
def font_path(bold: bool) -> Path | None:
    """The DejaVu Sans file to draw with, or None when none is installed."""
    file_name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for path in _font_candidates(file_name):
        if path.is_file():
            return path
    log.error("card: %s not found; Cyrillic will not render. Install matplotlib "
              "or put the font in %s", file_name, FONTS_DIR)
    return None


@functools.cache
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = font_path(bold)
    if path is None:
        return ImageFont.load_default(size=size)  # type: ignore[return-value]
    # BASIC layout: Latin and Cyrillic need no shaping, and it is faster than raqm.
    return ImageFont.truetype(str(path), size=size, layout_engine=ImageFont.Layout.BASIC)


# ---------------------------------------------------------------------------
# Drawing helpers


def fit_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> str:
    """`text` unchanged if it fits in `max_width` pixels, otherwise cut with "…"."""
    text = " ".join(text.split())  # newlines and runs of spaces would break the layout
    if font.getlength(text) <= max_width:
        return text
    low, high = 0, len(text)  # binary search for the longest prefix that fits
    while low < high:
        mid = (low + high + 1) // 2
        if font.getlength(text[:mid].rstrip() + ELLIPSIS) <= max_width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + ELLIPSIS


@functools.cache
def _background() -> Image.Image:
    """The static layer: a vertical gradient and the white QR panel."""
    gradient = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    image = Image.composite(Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND_BOTTOM),
                            Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND_TOP), gradient)
    ImageDraw.Draw(image).rounded_rectangle(PANEL, radius=24, fill=PANEL_FILL)
    return image


def qr_image(payload: str, max_px: int = QR_MAX_PX) -> Image.Image:
    """The payload as a black-on-white QR, error correction M, scaled by a whole number.

    Whole-number scaling keeps every module a crisp square, which matters once Telegram
    has JPEG-compressed the photo and a phone camera is reading it off a screen.
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                       border=QR_QUIET_ZONE, box_size=1)
    qr.add_data(payload)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the quiet zone
    modules = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (modules, modules), pixels)
    scale = max(1, max_px // modules)
    return image.resize((modules * scale, modules * scale), Image.Resampling.NEAREST)


def _draw_balance(draw: ImageDraw.ImageDraw, data: CardData, y: int) -> None:
    """The balance figure as large as fits, with the points word beside it.

    A figure is never cut (a truncated balance would be wrong); it shrinks instead, and
    the word is dropped only if even the smallest figure leaves no room for it.
    """
    number = format_number(data.balance, data.locale)
    for size in (76, 66, 56, 48, 40, 34, 28, 22):
        big, word_font = _font(size, bold=True), _font(max(size * 2 // 5, 18))
        number_width = int(big.getlength(number))
        if number_width + 12 + word_font.getlength(data.points_word) <= LEFT_WIDTH:
            break
    baseline = y + 76  # one baseline at every size, so a smaller figure still sits low
    draw.text((MARGIN, baseline), number, font=big, fill=TEXT, anchor="ls")
    room = LEFT_WIDTH - number_width - 12
    if room >= 3 * word_font.getlength(ELLIPSIS):
        draw.text((MARGIN + number_width + 12, baseline),
                  fit_text(data.points_word, word_font, room),
                  font=word_font, fill=TEXT_MUTED, anchor="ls")


def _draw_progress(draw: ImageDraw.ImageDraw, data: CardData, y: int) -> None:
    """The progress line and the bar under it; the fill is computed in integers."""
    text_font = _font(20)
    draw.text((MARGIN, y), fit_text(data.progress_text, text_font, LEFT_WIDTH),
              font=text_font, fill=TEXT_MUTED, anchor="la")
    current, target = data.progress
    bar_top = y + 34
    box = (MARGIN, bar_top, MARGIN + LEFT_WIDTH, bar_top + 14)
    draw.rounded_rectangle(box, radius=7, fill=BAR_TRACK)
    if data.next_tier_name is None or target <= 0:
        filled = LEFT_WIDTH
    else:
        filled = LEFT_WIDTH * min(max(current, 0), target) // target
    if filled > 0:
        draw.rounded_rectangle((MARGIN, bar_top, MARGIN + max(filled, 14), bar_top + 14),
                               radius=7, fill=ACCENT)


def _draw_left(draw: ImageDraw.ImageDraw, data: CardData) -> None:
    title, name = _font(30, bold=True), _font(24)
    draw.text((MARGIN, 40), fit_text(data.business_name, title, LEFT_WIDTH),
              font=title, fill=TEXT, anchor="la")
    draw.text((MARGIN, 86), fit_text(data.customer_name, name, LEFT_WIDTH),
              font=name, fill=TEXT_MUTED, anchor="la")

    label, tier = _font(18), _font(24, bold=True)
    draw.text((MARGIN, 150), fit_text(data.tier_label, label, LEFT_WIDTH),
              font=label, fill=TEXT_MUTED, anchor="la")
    tier_text = fit_text(data.tier_name, tier, LEFT_WIDTH - 28)
    pill_right = MARGIN + int(tier.getlength(tier_text)) + 28
    draw.rounded_rectangle((MARGIN, 176, pill_right, 214), radius=19, fill=ACCENT)
    draw.text((MARGIN + 14, 195), tier_text, font=tier, fill=INK, anchor="lm")

    draw.text((MARGIN, 248), fit_text(data.balance_label, label, LEFT_WIDTH),
              font=label, fill=TEXT_MUTED, anchor="la")
    _draw_balance(draw, data, 270)
    _draw_progress(draw, data, 392)


def _draw_right(image: Image.Image, draw: ImageDraw.ImageDraw, data: CardData) -> None:
    panel_left, panel_top, panel_right, panel_bottom = PANEL
    centre = (panel_left + panel_right) // 2
    qr = qr_image(data.qr_payload)
    image.paste(qr, (centre - qr.width // 2, panel_top + 4))

    digits, label = _font(54, bold=True), _font(18)
    code_y = panel_top + 4 + qr.height + 4
    draw.text((centre, code_y), fit_text(spaced_code(data.code), digits, QR_MAX_PX),
              font=digits, fill=INK, anchor="ma")
    draw.text((centre, panel_bottom - 14), fit_text(data.code_label, label, QR_MAX_PX),
              font=label, fill=INK_MUTED, anchor="md")


def render_card_image(data: CardData) -> Image.Image:
    """The card as a Pillow image (RGB, WIDTH×HEIGHT)."""
    image = _background().copy()
    draw = ImageDraw.Draw(image)
    _draw_left(draw, data)
    _draw_right(image, draw, data)
    return image


_PALETTE_SAMPLE = CardData(
    # Glyph coverage only (Latin, Cyrillic, digits, every colour and element), never shown.
    business_name="ABCDEFGH abcdefgh АБВГДЕЖЗ абвгдежз", customer_name="Sample Образец Щ",
    tier_name="Gold Золото", balance=1234567, next_tier_name="X", progress=(1, 2),
    progress_text="0123456789 ₽ «»“”", qr_payload="https://t.me/sample_bot?start=c_123456",
    code="123456", tier_label="Abc Абв", balance_label="Abc Абв", points_word="abc абв",
    code_label="Abc Абв",
)


@functools.cache
def _palette() -> Image.Image:
    """A fixed 256-colour palette for every card, built once.

    A PNG of palette indices encodes about three times faster than RGB (no per-row
    filter search over three channels) and is smaller. The palette holds the exact
    background gradient and the design's colours, so flat areas are exact and the
    gradient does not band; the remaining slots are the anti-aliased blends found on a
    sample card, which is within a few levels of the original for any text.
    """
    background = _background()
    gradient: list[tuple[int, ...]] = [
        tuple(background.getpixel((0, y)) or ()) for y in range(HEIGHT)]  # type: ignore[arg-type]
    exact = list(dict.fromkeys(
        [*gradient, TEXT, TEXT_MUTED, ACCENT, BAR_TRACK, PANEL_FILL, INK, INK_MUTED, (0, 0, 0)]))
    blends = render_card_image(_PALETTE_SAMPLE).quantize(
        256 - len(exact), method=Image.Quantize.FASTOCTREE)
    blend_rgb = (blends.getpalette() or [])[: 3 * (256 - len(exact))]
    flat = [channel for color in exact for channel in color] + blend_rgb
    palette = Image.new("P", (1, 1))
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return palette


def render_card(data: CardData) -> bytes:
    """The card as PNG bytes, ready for `BufferedInputFile`."""
    image = render_card_image(data).quantize(palette=_palette(), dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=1)
    return out.getvalue()
