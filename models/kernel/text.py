"""Numbers typed by people and sent by machines: ASCII digits only (issue 14, section 4).

Python reads every script's digits as numbers: `int("١٠٠٠")`, `int("１０００")`, `Decimal("１０００")`,
`"１０００".isdigit()` and the regex `\\d` all accept Arabic-Indic and full-width digits (and
`int("1_000")` accepts underscores, `"²".isdigit()` is true although `int("²")` fails). A till or a
keyboard that sends such digits must get a clear "type 0-9" answer, not a 1,000 ₽ check, a phone
number that matches nobody, or a traceback. Every parser of amounts, points, dates, codes, phones
and ids goes through these helpers or an explicit `[0-9]` pattern.
"""

from __future__ import annotations

import re

#: One or more ASCII digits (never `\d`, which matches every script's digits).
DIGITS = re.compile(r"[0-9]+")


def is_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits 0-9 only."""
    return bool(text) and text.isascii() and text.isdigit()


def foreign_digits(text: str) -> bool:
    """True if `text` holds a decimal digit of another script (Arabic-Indic "١", full-width "１",
    Devanagari "१"...): a keyboard typed a number, and the caller answers "use the digits 0-9"
    instead of a generic "not a number". Superscripts ("²") are not digits one types as numbers:
    they get the generic answer."""
    return any(not ch.isascii() and ch.isdecimal() for ch in text)


def ascii_int(text: str, *, max_digits: int = 18) -> int:
    """A whole number written with ASCII digits only (no sign, no spaces, no underscores).

    `max_digits` bounds the value (18 digits always fit a 64-bit database column); anything
    else is a ValueError.
    """
    if not is_digits(text) or len(text) > max_digits:
        raise ValueError(f"not a whole number of at most {max_digits} digits 0-9: {text[:40]!r}")
    return int(text)


# A source tag (s_<tag> links; owner /campaigns and the import's source column): what a deep
# link payload can carry, at most 32 characters.
SOURCE_TAG_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
