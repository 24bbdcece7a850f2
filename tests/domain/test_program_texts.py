"""Program texts a customer reads given per language (issue 16): `name = "…"` for every
language or `name = { ru = "…", en = "…" }`, read through `text_in` in the reader's language."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import select

from bot.commands.core import program_set, program_show
from bot.i18n import LOCALES, I18n
from handlers.owner_program import _error_words
from models.kernel.context import Domain
from models.kernel.errors import InvalidProgram
from models.kernel.tables import Campaign, ProgramVersion
from models.owner.tools import edit_setting
from models.partner.uds import settings_view, tier_view
from models.program.rules import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    default_text,
    load_program_file,
    parse_program,
    program_diff,
    program_from_document,
    text_in,
)
from models.program.store import current_program, program_at, save_program
from models.reports.report import build_report

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
BASE = """
[business]
name = "Кофейня"
[tiers]
levels = [
  { name = NAME, cashback_percent = 3, max_redeem_percent = 20, threshold = 0 },
]
"""


def with_name(name: str) -> str:
    return BASE.replace("NAME", name)


def test_the_program_languages_are_the_bots() -> None:
    assert LANGUAGES == LOCALES and DEFAULT_LANGUAGE == LANGUAGES[0] == "ru"


def test_a_plain_string_is_every_languages_text() -> None:
    tier = parse_program(with_name('"Гость"')).tier(0)
    assert tier.name == "Гость"
    assert text_in(tier.name, "ru") == text_in(tier.name, "en") == text_in(tier.name, None) == "Гость"


def test_a_text_per_language_is_read_in_the_readers_language() -> None:
    tier = parse_program(with_name('{ ru = "Гость", en = "Guest" }')).tier(0)
    assert text_in(tier.name, "ru") == "Гость" and text_in(tier.name, "en") == "Guest"
    assert text_in(tier.name, "de") == "Гость"  # a language the bot does not speak: the default
    assert default_text(tier.name) == "Гость"


def test_without_russian_the_text_given_is_read_by_everyone() -> None:
    tier = parse_program(with_name('{ en = "Guest" }')).tier(0)
    assert text_in(tier.name, "ru") == text_in(tier.name, "en") == default_text(tier.name) == "Guest"


@pytest.mark.parametrize("name, kind", [
    ("{}", "text_no_language"),
    ('{ ru = "Гость", de = "Gast" }', "text_unknown_language"),  # a typo of a language is refused
    ('{ ru = "Гость", en = "" }', "text_too_short"),
    ('""', "text_too_short"),
    ('{ ru = "Гость", en = "' + "G" * 41 + '" }', "text_too_long"),
])
def test_a_text_that_cannot_be_read_is_refused_in_the_owners_words(name: str, kind: str) -> None:
    with pytest.raises(InvalidProgram) as plain:
        parse_program(with_name(name), "p.toml")
    assert "p.toml: tiers.levels.0.name" in str(plain.value)
    i18n = I18n()
    for locale in LOCALES:
        t = i18n.translator(locale)
        with pytest.raises(InvalidProgram) as worded:
            parse_program(with_name(name), "p.toml", words=_error_words(t))
        expected = t(f"program-error-{kind.replace('_', '-')}", unknown="de", languages="ru, en", max=40,
                     text="G" * 41, min=1)
        assert str(worded.value) == f"p.toml: tiers.levels.0.name: {expected}"
        assert "Value error" not in str(worded.value) and "{" not in expected.replace('{ ru = "', "")


def test_every_name_a_customer_reads_may_be_given_per_language() -> None:
    program = parse_program("""
[business]
name = { ru = "Моя кофейня", en = "My coffee shop" }
description = { ru = "Кешбэк", en = "Cashback" }
[tiers]
levels = [{ name = { ru = "Гость", en = "Guest" }, cashback_percent = 3, max_redeem_percent = 20, threshold = 0 }]
[[reviews]]
site = { ru = "Яндекс Карты", en = "Yandex Maps" }
url = "https://yandex.ru/maps/"
points = 100
[[campaigns]]
code = "opening"
name = { ru = "Открытие", en = "Opening" }
""")
    assert text_in(program.business.name, "en") == "My coffee shop"
    assert text_in(program.business.description, "en") == "Cashback"
    review = program.reviews[0]
    assert review.key == "Яндекс Карты" and program.review("яндекс карты") is review
    assert text_in(review.site, "en") == "Yandex Maps"
    assert text_in(program.campaign_name("opening", "stored"), "en") == "Opening"
    assert program.campaign_name("other", "Из бота") == "Из бота"
    document = program.to_document()
    document["reviews"][0]["site"] = {"ru": "Яндекс Карты", "en": "Yandex <Maps>"}
    with pytest.raises(InvalidProgram, match=r"reviews\.0\.site"):  # the site's rule holds in every language
        program_from_document(document)


@pytest.mark.parametrize("preset", ["default.toml", "case-a.toml", "cosmocode.toml"])
def test_presets_round_trip_through_toml(preset: str) -> None:
    program = load_program_file(PROGRAMS / preset)
    again = parse_program(tomli_w.dumps(program.to_document()))
    assert again == program
    assert tomli_w.dumps(again.to_document()) == tomli_w.dumps(program.to_document())


def test_both_forms_round_trip_and_the_ru_presets_keep_their_russian_names() -> None:
    cosmo = load_program_file(PROGRAMS / "cosmocode.toml")
    assert [text_in(t.name, "ru") for t in cosmo.tiers.levels] == [
        "Рады знакомству", "Больше, чем друзья", "Наверное, это любовь", "Моё сердце занято", "Жена миллионера"]
    assert [text_in(t.name, "en") for t in cosmo.tiers.levels] == [
        "Nice to meet you", "More than friends", "This must be love", "My heart is taken", "Millionaire's wife"]
    mixed = parse_program(BASE.replace("NAME", '"Гость"').replace(
        "threshold = 0 },", 'threshold = 0 },\n  { name = { ru = "Друг", en = "Friend" }, cashback_percent = 5,'
        ' max_redeem_percent = 20, threshold = 100 },'))
    text = tomli_w.dumps(mixed.to_document())
    assert 'name = "Гость"' in text and "ru = \"Друг\"" in text  # each name keeps the form it was written in
    assert parse_program(text) == mixed


def test_the_diff_shows_a_text_as_one_setting() -> None:
    old = parse_program(with_name('"Гость"'))
    new = parse_program(with_name('{ ru = "Гость", en = "Guest" }'))
    assert program_diff(old, new) == [("tiers.levels[0].name", "Гость", {"ru": "Гость", "en": "Guest"})]
    newer = parse_program(with_name('{ ru = "Гость", en = "Visitor" }'))
    assert program_diff(new, newer) == [("tiers.levels[0].name", {"ru": "Гость", "en": "Guest"},
                                         {"ru": "Гость", "en": "Visitor"})]


def test_the_bots_button_edits_keep_names_in_every_language() -> None:
    program = load_program_file(PROGRAMS / "cosmocode.toml")
    edited = edit_setting(program, "tier_cashback:0", "4")
    assert edited.tier(0).name == program.tier(0).name == {"ru": "Рады знакомству", "en": "Nice to meet you"}


def test_the_partner_api_keeps_one_string_the_russian_one() -> None:
    program = load_program_file(PROGRAMS / "cosmocode.toml")
    assert tier_view(program, 0)["name"] == "Рады знакомству"
    assert settings_view(program, 1, "bot")["loyaltyProgramSettings"]["membershipTiers"][4]["name"] == "Жена миллионера"


async def test_stored_programs_with_plain_strings_keep_loading(dom: Domain) -> None:
    """Versions stored before names could be given per language are documents with strings."""
    async with dom.db.transaction() as session:
        version, program = await current_program(session)
        document = program.to_document()
        document["tiers"]["levels"][0]["name"] = "Статус 1"
        document["business"]["description"] = "Кешбэк"
        session.add(ProgramVersion(version=version + 1, document=document, created_at=dom.clock.now(),
                                   created_by=None, comment="old"))
    async with dom.db.reading() as session:
        old = await program_at(session, version + 1)
    assert old.tier(0).name == "Статус 1" and text_in(old.tier(0).name, "en") == "Статус 1"


async def test_a_preset_campaign_keeps_its_russian_name_and_reports_read_every_language(dom: Domain) -> None:
    cosmo = load_program_file(PROGRAMS / "cosmocode.toml")
    async with dom.db.transaction() as session:
        await save_program(session, cosmo, dom.clock.now())
    async with dom.db.reading() as session:
        stored = dict((await session.execute(select(Campaign.code, Campaign.name))).all())
    assert stored["opening"] == "Открытие магазина" and stored["social"] == "Социальные сети"
    report = await build_report(dom, None, None, with_rfm=False)
    names = {f.code: f.name for f in report.funnels}
    assert names["opening"] == {"ru": "Открытие магазина", "en": "Store opening"}
    # case A's preset, which the current program no longer presets: the one name the base keeps
    assert names["partner1"] == "Партнёр: кросс-маркетинг"


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_cli_shows_and_sets_names_in_both_forms(dom: Domain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`loyalty-bot program show` prints a file `program set` takes back unchanged."""
    monkeypatch.setenv("DATABASE_URL", dom.db.url)
    monkeypatch.setenv("PROGRAM_FILE", str(PROGRAMS / "case-a.toml"))
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert await program_show(argparse.Namespace()) == 0
    shown = capsys.readouterr().out
    assert 'ru = "Статус 1"' in shown and 'en = "Tier 1"' in shown and 'site = "2GIS"' in shown
    file = tmp_path / "p.toml"
    file.write_text(shown, encoding="utf-8")
    assert await program_set(argparse.Namespace(file=str(file), comment="same")) == 0
    assert "no changes" in capsys.readouterr().out
    file.write_text(shown.replace('en = "Tier 1"', 'en = "Guest"'), encoding="utf-8")
    assert await program_set(argparse.Namespace(file=str(file), comment="en")) == 0
    out = capsys.readouterr().out
    assert "tiers.levels[0].name: {'ru': 'Статус 1', 'en': 'Tier 1'} -> {'ru': 'Статус 1', 'en': 'Guest'}" in out
    async with dom.db.reading() as session:
        _, program = await current_program(session)
    assert text_in(program.tier(0).name, "en") == "Guest" and text_in(program.tier(0).name, "ru") == "Статус 1"
