"""The bot's /program settings read what a person types (issue 16), and nothing else."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from models.kernel.errors import SettingRejected
from models.owner.tools import edit_setting
from models.program.rules import load_program_file

PROGRAM = load_program_file(Path(__file__).resolve().parents[2] / "programs" / "case-a.toml")


@pytest.mark.parametrize("typed, expected", [
    ("5", "5"), ("5%", "5"), ("5 %", "5"), ("5,5 %", "5.5"), (" 5.5% ", "5.5"), ("0", "0"), ("100", "100"),
    ("12,25", "12.25"),
])
def test_a_percentage_as_typed(typed: str, expected: str) -> None:
    assert edit_setting(PROGRAM, "tier_cashback:0", typed).tier(0).cashback_percent == Decimal(expected)


@pytest.mark.parametrize("typed, kind", [
    ("пять", "percent"), ("101", "percent"), ("5,555", "percent"), ("-5", "percent"), ("", "percent"),
    ("５", "digits"), ("5%%", "percent"),
])
def test_not_a_percentage(typed: str, kind: str) -> None:
    with pytest.raises(SettingRejected) as refused:
        edit_setting(PROGRAM, "tier_cashback:0", typed)
    assert refused.value.kind == kind


@pytest.mark.parametrize("typed, expected", [("300", 300), ("1 000", 1000), ("500 баллов", 500), ("700 б.", 700)])
def test_points_as_typed(typed: str, expected: int) -> None:
    assert edit_setting(PROGRAM, "welcome_points", typed).welcome.points == expected


@pytest.mark.parametrize("typed", ["триста", "300 рублей", "3.5", "1e3"])
def test_not_points(typed: str) -> None:
    with pytest.raises(SettingRejected) as refused:
        edit_setting(PROGRAM, "welcome_points", typed)
    assert refused.value.kind == "whole"


@pytest.mark.parametrize("typed, on", [("да", True), ("Нет", False), ("вкл", True), ("выкл", False), ("yes", True),
                                       ("off", False)])
def test_a_switch(typed: str, on: bool) -> None:
    program = edit_setting(PROGRAM, "birthday_enabled", typed)
    assert program.birthday is not None and program.birthday.enabled is on


def test_a_switch_refuses_anything_else() -> None:
    with pytest.raises(SettingRejected) as refused:
        edit_setting(PROGRAM, "birthday_enabled", "может быть")  # was silently "off" before
    assert refused.value.kind == "yes_no"


def test_a_value_the_program_refuses_is_named_as_such() -> None:
    with pytest.raises(SettingRejected) as refused:
        edit_setting(PROGRAM, "birthday_points", "0")  # a certificate of no points
    assert refused.value.kind == "program"
