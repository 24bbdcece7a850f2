"""Parsing of amounts, phones and program files (DOMAIN.md, "Money and points", "The program")."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from models.kernel.errors import InvalidAmount, InvalidPhone, InvalidProgram
from models.kernel.money import parse_amount, points_share
from models.kernel.phone import normalize_phone
from models.program.rules import load_program_file, parse_program, program_diff

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "kopecks"), [
    ("12250", 1_225_000), ("12 250", 1_225_000), ("12250.5", 1_225_050), ("12250,50", 1_225_050),
    ("0,01", 1), ("1 000 000", 100_000_000), ("12250 ₽", 1_225_000), ("99.9", 9_990),
])
def test_amounts_accepted(text: str, kopecks: int) -> None:
    assert parse_amount(text) == kopecks


@pytest.mark.parametrize(("text", "reason"), [
    ("12250.505", "decimals"), ("-5", "sign"), ("+5", "sign"), ("12a", "format"), ("0", "zero"),
    ("0.00", "zero"), ("", "empty"), ("1.2.3", "format"), ("12 25", "format"), ("1e5", "format"),
])
def test_amounts_refused(text: str, reason: str) -> None:
    with pytest.raises(InvalidAmount) as exc:
        parse_amount(text)
    assert exc.value.detail == reason


def test_amount_over_maximum() -> None:
    with pytest.raises(InvalidAmount):
        parse_amount("1000001", max_kopecks=100_000_000)


@pytest.mark.parametrize("text", ["+7 916 123-45-67", "8 (916) 123-45-67", "89161234567",
                                  "9161234567", "+7(916)1234567", "7 916 123 45 67"])
def test_russian_phone_formats(text: str) -> None:
    assert normalize_phone(text) == "+79161234567"


@pytest.mark.parametrize("text", ["12345", "+7 916 123", "phone", "+0123456789", "8916123456789", ""])
def test_bad_phones(text: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(text)


def test_foreign_phone_with_plus() -> None:
    assert normalize_phone("+375 29 123-45-67") == "+375291234567"


def test_points_share_rounds_down() -> None:
    assert points_share(1_225_000, Decimal(15), 100) == 1837
    assert points_share(1_041_300, Decimal(5), 100) == 520
    assert points_share(1_041_300, Decimal(1), 100) == 104
    assert points_share(99, Decimal(100), 100) == 0
    assert points_share(1000, Decimal("2.5"), 1) == 25


def test_presets_reproduce_the_case_studies() -> None:
    a = load_program_file(ROOT / "programs/case-a.toml")
    assert [float(t.cashback_percent) for t in a.tiers.levels] == [3, 5, 7, 9, 10]
    assert [float(t.max_redeem_percent) for t in a.tiers.levels] == [10, 15, 20, 25, 30]
    assert [int(t.threshold) for t in a.tiers.levels] == [0, 50_000, 150_000, 300_000, 600_000]
    assert a.welcome.points == 300 and a.points.validity_days == 365
    assert a.referral.level_percents == [5, 1, 1]
    assert a.birthday and (a.birthday.points, a.birthday.max_redeem_percent, a.birthday.validity_days) == (1000, 20, 15)
    assert a.winback and (a.winback.after_days, a.winback.points) == (30, 500)
    assert a.review("2gis") and a.review("2GIS").points == 100  # type: ignore[union-attr]
    b = load_program_file(ROOT / "programs/cosmocode.toml")
    # the case study's own words (SEEDS.md), and an English reader's
    assert b.tiers.levels[0].name == {"ru": "Рады знакомству", "en": "Nice to meet you"}
    assert [float(t.cashback_percent) for t in b.tiers.levels] == [3, 5, 7, 10, 15]
    assert {float(t.max_redeem_percent) for t in b.tiers.levels} == {30}
    assert [int(t.threshold) for t in b.tiers.levels] == [0, 20_000, 50_000, 100_000, 200_000]
    assert b.welcome.points == 1000
    assert b.referral.level_percents == [5] and b.referral.first_purchase_points == 300
    assert b.winback and (b.winback.after_days, b.winback.points) == (70, 1000)
    assert b.birthday and (b.birthday.points, b.birthday.max_redeem_percent, b.birthday.validity_days) == (3000, 20, 15)
    opening = next(c for c in b.campaigns if c.code == "opening")
    assert (opening.points, opening.max_redeem_percent, opening.validity_days) == (5000, 20, 6)
    assert b.limits.redeem_by_phone
    load_program_file(ROOT / "programs/default.toml")


@pytest.mark.parametrize(("patch", "where"), [
    ("[tiers]\nlevels = [{ name = 'x', cashback_percent = 3, max_redeem_percent = 10, threshold = 5 }]",
     "tiers: Value error, the first tier"),
    ("[tiers]\nlevels = [{ name = 'x', cashback_percent = 300, max_redeem_percent = 10, threshold = 0 }]",
     "tiers.levels.0.cashback_percent"),
    ("[tiers]\nlevels = [{ name = 'x', cashback_percent = 3, max_redeem_percent = 10, threshold = 0, colour = 1 }]",
     "tiers.levels.0.colour"),
])
def test_invalid_program_points_at_the_key(patch: str, where: str) -> None:
    text = "[business]\nname = 'X'\n" + patch
    with pytest.raises(InvalidProgram) as exc:
        parse_program(text, "test.toml")
    assert f"test.toml: {where}" in str(exc.value)


def test_not_toml() -> None:
    with pytest.raises(InvalidProgram, match="not valid TOML"):
        parse_program("[business\nname=", "bad.toml")


def test_program_diff() -> None:
    a = load_program_file(ROOT / "programs/case-a.toml")
    b = a.model_copy(update={"welcome": a.welcome.model_copy(update={"points": 500})})
    assert program_diff(a, b) == [("welcome.points", 300, 500)]
