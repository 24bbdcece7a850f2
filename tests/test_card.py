"""The loyalty card image (bot/card.py): valid PNG, readable QR, text that never overflows."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from bot.card import (
    HEIGHT,
    LEFT_WIDTH,
    MARGIN,
    PANEL,
    WIDTH,
    CardData,
    _background,
    _font,
    card_data,
    describe_progress,
    fit_text,
    font_path,
    render_card,
    render_card_image,
    spaced_code,
)
from bot.deeplinks import make_link
from bot.i18n import I18n
from bot.qr import decode_qr, extract_customer_code

BOT = "zerno_loyalty_bot"


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n()


def make(i18n: I18n, locale: str = "ru", **overrides: object) -> CardData:
    t = i18n.translator(locale)
    fields: dict[str, object] = dict(
        business_name="Кофейня «Зерно»", customer_name="Анна Каренина", tier_name="Серебро",
        balance=12250, next_tier_name="Золото", progress=(3_000_000, 4_200_000),
        progress_text=describe_progress(t, "Золото", remaining_kopecks=1_200_000),
        qr_payload=make_link(BOT, "card", "012345"), code="012345",
    )
    fields.update(overrides)
    return card_data(t, **fields)  # type: ignore[arg-type]


def test_renders_a_png_of_the_card_size(i18n: I18n) -> None:
    png = render_card(make(i18n))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size == (WIDTH, HEIGHT)
    assert len(png) < 200_000  # small enough to upload quickly


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_qr_on_the_card_decodes_to_the_payload(i18n: I18n, locale: str) -> None:
    data = make(i18n, locale)
    assert decode_qr(render_card(data)) == [data.qr_payload]


def test_card_survives_telegram_compression(i18n: I18n) -> None:
    # Telegram shows photos re-encoded as JPEG, often smaller than sent.
    card = Image.open(io.BytesIO(render_card(make(i18n)))).convert("RGB")
    out = io.BytesIO()
    card.resize((WIDTH * 3 // 5, HEIGHT * 3 // 5), Image.Resampling.BILINEAR).save(
        out, "JPEG", quality=60)
    assert extract_customer_code(decode_qr(out.getvalue()), BOT) == "012345"


def test_long_bot_username_still_fits(i18n: I18n) -> None:
    payload = make_link("a" * 32, "card", "999999")  # the longest Telegram username
    assert decode_qr(render_card(make(i18n, qr_payload=payload, code="999999"))) == [payload]


def test_font_draws_cyrillic() -> None:
    assert font_path(bold=False) is not None and font_path(bold=True) is not None
    font = _font(40)
    # A font without Cyrillic draws the same "missing glyph" box for every letter.
    masks = {bytes(font.getmask(letter)) for letter in "ЖЩЯ₽"}
    assert len(masks) == 4


def test_fit_text_ellipsises_only_when_needed() -> None:
    font = _font(24)
    assert fit_text("Анна", font, 300) == "Анна"
    long = "Констанция Константинопольская-Длиннофамильная " * 3
    cut = fit_text(long, font, 300)
    assert cut.endswith("…") and font.getlength(cut) <= 300
    assert long.startswith(cut[:-1])
    assert fit_text("две\nстроки", font, 300) == "две строки"


def _strip_between_columns(image: Image.Image) -> Image.Image:
    return image.crop((MARGIN + LEFT_WIDTH + 2, 0, PANEL[0], HEIGHT))


def test_long_texts_stay_inside_the_left_column(i18n: I18n) -> None:
    huge = "Ооооочень длинное название " * 10
    data = make(i18n, business_name=huge, customer_name=huge, tier_name=huge,
                balance=987_654_321_000, progress_text=huge)
    image = render_card_image(data)
    # Nothing is drawn between the left column and the QR panel...
    assert ImageChops.difference(_strip_between_columns(image),
                                 _strip_between_columns(_background())).getbbox() is None
    # ...and the QR panel is exactly what a short card shows.
    short = render_card_image(make(i18n))
    assert ImageChops.difference(image.crop(PANEL), short.crop(PANEL)).getbbox() is None


@pytest.mark.parametrize(("progress", "next_tier"), [
    ((0, 100), "Gold"), ((150, 100), "Gold"), ((-5, 100), "Gold"), ((5, 0), "Gold"),
    ((0, 0), None),
])
def test_progress_edge_cases_render(i18n: I18n, progress: tuple[int, int],
                                    next_tier: str | None) -> None:
    assert render_card(make(i18n, progress=progress, next_tier_name=next_tier))


def test_card_labels_come_from_the_translator(i18n: I18n) -> None:
    ru, en = make(i18n, "ru", balance=21), make(i18n, "en", balance=21)
    assert (ru.balance_label, ru.points_word, ru.code_label) == ("Баланс", "балл", "Код для кассира")
    assert (en.balance_label, en.points_word, en.locale) == ("Balance", "points", "en")


def test_describe_progress(i18n: I18n) -> None:
    t = i18n.translator("ru")
    assert describe_progress(t, None) == "У вас максимальный статус"
    assert describe_progress(t, "Gold", remaining_purchases=2) == "Ещё 2 покупки до «Gold»"
    # Whole roubles, rounded up (issue 16): never kopecks, never a rouble short.
    assert describe_progress(t, "Gold", remaining_kopecks=50) == "Ещё 1\u00a0₽ до «Gold»"
    assert describe_progress(t, "Друг", remaining_kopecks=946_326) == "Ещё 9\u00a0464\u00a0₽ до «Друг»"
    assert describe_progress(t, "Друг", remaining_kopecks=946_300) == "Ещё 9\u00a0463\u00a0₽ до «Друг»"


def test_spaced_code() -> None:
    assert spaced_code("012345") == "012 345"
    assert spaced_code("12345") == "12345"
