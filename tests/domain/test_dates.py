"""One parser of typed dates (models/kernel/dates.py, issue 21 section 5): the standard library's strptime,
with the ASCII-only digits rule of models/kernel/text.py checked first."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from handlers.owner_reports import parse_range
from models.kernel.dates import parse_date, parse_dmy, previous_month
from models.kernel.errors import InvalidDate

ROOT = Path(__file__).resolve().parents[2]
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.mark.parametrize(("text", "day"), [
    ("04.05.1990", date(1990, 5, 4)), ("4.5.1990", date(1990, 5, 4)), (" 29.02.2024 ", date(2024, 2, 29)),
    ("31.12.2026", date(2026, 12, 31)),
])
def test_day_month_year(text: str, day: date) -> None:
    assert parse_dmy(text) == day == parse_date(text)


def test_iso_only_where_files_use_it() -> None:
    assert parse_date("1990-05-04") == date(1990, 5, 4)
    with pytest.raises(InvalidDate) as caught:
        parse_dmy("1990-05-04")
    assert caught.value.args == ("format",)


@pytest.mark.parametrize("text", ["31.02.1990", "29.02.2023", "1.1.90", "01.13.2026", "00.01.2026", "04.05.19900",
                                  "04/05/1990", "04.05.1990 12:00", "abc", "", "+4.5.1990", "04.05.-990",
                                  "04.05.1990x", "１990-05-04x"])
def test_not_a_real_date_is_format(text: str) -> None:
    for parse in (parse_dmy, parse_date):
        with pytest.raises(InvalidDate) as caught:
            parse(text)
        assert caught.value.args[0] in ("format", "digits")


@pytest.mark.parametrize("table", [ARABIC, FULL_WIDTH, DEVANAGARI])
def test_other_scripts_digits_are_refused_with_their_own_answer(table: dict[int, int]) -> None:
    for text in ("04.05.1990", "1990-05-04"):
        with pytest.raises(InvalidDate) as caught:
            parse_date(text.translate(table))
        assert caught.value.args == ("digits",)
    assert parse_range("01.03.2026 - 31.03.2026".translate(table)) is None


def test_report_ranges_use_the_same_parser() -> None:
    assert parse_range("1.3.2026–31.03.2026") == (date(2026, 3, 1), date(2026, 3, 31))
    assert parse_range(" 01.03.2026 — 31.03.2026 ") == (date(2026, 3, 1), date(2026, 3, 31))
    for text in ("31.03.2026 - 01.03.2026", "2026-03-01 - 2026-03-31", "01.03.2026", "01.03.2026 - 30.02.2026",
                 "01.03.2026 - 31.03.2026 - 01.04.2026"):
        assert parse_range(text) is None, text


@pytest.mark.parametrize(("day", "first", "last"), [
    (date(2026, 3, 1), date(2026, 2, 1), date(2026, 2, 28)),  # the monthly report's 1st
    (date(2026, 3, 17), date(2026, 2, 1), date(2026, 2, 28)),  # any day of the month
    (date(2024, 3, 31), date(2024, 2, 1), date(2024, 2, 29)),
    (date(2027, 1, 1), date(2026, 12, 1), date(2026, 12, 31)),
])
def test_previous_month_is_its_first_and_last_day(day: date, first: date, last: date) -> None:
    """One `previous_month` (the scheduler's monthly job and the reports used to differ)."""
    assert previous_month(day) == (first, last)


def test_no_other_copy_of_a_date_parser() -> None:
    """strptime and hand-written dd.mm.yyyy patterns live in models/kernel/dates.py only."""
    copies = re.compile(r"strptime|\[0-9\]\{1,2\}\\\.|\\d\{1,2\}\\\.|split\(\"\.\"\)")
    found = [f"{path.relative_to(ROOT)}:{n}"
             for folder in ("models", "handlers", "bot", "scheduler", "sandbox")
             for path in sorted((ROOT / folder).rglob("*.py")) if path.name != "dates.py"
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if copies.search(line)]
    assert found == []
