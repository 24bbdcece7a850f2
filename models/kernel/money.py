"""Money and points arithmetic (DOMAIN.md, "Money and points").

Money is integer kopecks, points are integers. Shares are rounded down to whole points.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal

from models.kernel.errors import InvalidAmount
from models.kernel.text import foreign_digits

# [0-9], never \d: Python's \d (and int()) also read Arabic-Indic and full-width digits.
_AMOUNT_RE = re.compile(r"^([0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]+)(?:[.,]([0-9]{1,2}))?$")


def parse_amount(text: str, max_kopecks: int | None = None) -> int:
    """Parse a typed check amount into kopecks.

    Accepts `12250`, `12 250`, `12250.5`, `12250,50` (and a trailing ₽ or "руб").
    Refuses more than two decimals, a sign, letters, digits other than 0-9 ("digits": "１０００" and
    "١٠٠٠" are not 1,000 ₽), zero, and amounts over the maximum.
    """
    cleaned = text.strip()
    cleaned = re.sub(r"\s*(₽|руб\.?|р\.?|rub)$", "", cleaned, flags=re.IGNORECASE)
    if not cleaned:
        raise InvalidAmount("empty")
    if foreign_digits(cleaned):
        raise InvalidAmount("digits")
    if cleaned[0] in "+-":
        raise InvalidAmount("sign")
    match = _AMOUNT_RE.match(cleaned)
    if match is None:
        if re.fullmatch(r"[0-9 \u00a0\u202f]+[.,][0-9]{3,}", cleaned):
            raise InvalidAmount("decimals")
        raise InvalidAmount("format")
    whole = int(re.sub(r"[^0-9]", "", match.group(1)))
    frac = (match.group(2) or "").ljust(2, "0")
    kopecks = whole * 100 + int(frac)
    if kopecks == 0:
        raise InvalidAmount("zero")
    if max_kopecks is not None and kopecks > max_kopecks:
        raise InvalidAmount("too_large")
    return kopecks


def share(base: int, percent: Decimal, divisor: int = 1) -> int:
    """floor(base × percent / 100 / divisor), exactly."""
    if base <= 0 or percent <= 0:
        return 0
    value = Decimal(base) * percent / (Decimal(100) * divisor)
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def points_share(kopecks: int, percent: Decimal, point_value_kopecks: int) -> int:
    """Points worth `percent` of a money amount, rounded down."""
    return share(kopecks, percent, point_value_kopecks)


def kopecks_to_points_floor(kopecks: int, point_value_kopecks: int) -> int:
    return kopecks // point_value_kopecks


def rub(amount: int | float | Decimal) -> int:
    """Roubles (as written in program files and imports) to kopecks, exactly."""
    value = Decimal(str(amount)) * 100
    if value != value.to_integral_value():
        raise InvalidAmount("decimals")
    return int(value)
