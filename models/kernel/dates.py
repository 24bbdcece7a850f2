"""Calendar dates typed by people: `dd.mm.yyyy` (and `yyyy-mm-dd` where files use it).

The one parser of typed dates (birthdays, imports, campaign end dates, report ranges), built
on the standard library's `datetime.strptime`. `strptime`'s `%d` matches every script's digits
(its patterns use `\\d`), so the ASCII-only rule of `models/kernel/text.py` is checked first: another
script's digits get InvalidDate "digits" (the answer says "use 0-9"), anything else that is not
a real date InvalidDate "format". Day and month may have one or two digits, the year has four.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.kernel.errors import InvalidDate
from models.kernel.text import foreign_digits

DMY = "%d.%m.%Y"  # 04.05.1990, 4.5.1990
ISO = "%Y-%m-%d"  # 1990-05-04 (imports)


def _parse(text: str, formats: tuple[str, ...]) -> date:
    raw = text.strip()
    if foreign_digits(raw):
        raise InvalidDate("digits")
    if raw.isascii():  # strptime would also read "٠٤.٠٥.١٩٩٠" and full-width digits
        for fmt in formats:
            try:
                return datetime.strptime(raw, fmt).date()
            except ValueError:  # not this form, or not a real date (31.02.1990)
                continue
    raise InvalidDate("format")


def parse_dmy(text: str) -> date:
    """`dd.mm.yyyy` only (the bot's own prompts)."""
    return _parse(text, (DMY,))


def parse_date(text: str) -> date:
    """`dd.mm.yyyy` or `yyyy-mm-dd` (people and imported files)."""
    return _parse(text, (DMY, ISO))


def previous_month(day: date) -> tuple[date, date]:
    """The first and the last day of the calendar month before `day`'s (the monthly report's)."""
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


__all__ = ["DMY", "ISO", "parse_date", "parse_dmy", "previous_month"]
