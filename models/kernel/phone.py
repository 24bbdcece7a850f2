"""Phone numbers normalised to E.164 (DOMAIN.md, "Customers"), parsed by libphonenumber.

Numbers without "+" are read as national numbers of the configured region (`PHONE_REGION`,
Russia by default): `8 (916) 123-45-67`, `+7 916 1234567`, `9161234567` all become
`+79161234567`, and `8 10 49 30 12345678` (Russia's international prefix 810) becomes
`+493012345678`. Only real personal numbers are accepted: mobile and fixed-line numbers that
libphonenumber knows to be valid, never toll-free (8-800), premium-rate or shared-cost ones,
nor made-up numbers such as `+70000000000`. Only the digits 0-9: a number typed with
Arabic-Indic or full-width digits is refused, not stored as another phone.

`phone_hash` (the fingerprint kept after erasure) lives in `models.kernel.phone_key`.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumberType

from models.kernel.errors import InvalidPhone
from models.kernel.phone_key import phone_hash

__all__ = ["DEFAULT_REGION", "looks_like_phone", "normalize_phone", "phone_hash", "set_region",
           "valid_region"]

DEFAULT_REGION = "RU"

# [0-9], never \d: "+٧٩١٦..." must not become a customer whose phone matches nobody's
# (libphonenumber itself would read such digits, and letters as on a keypad).
_ALLOWED = re.compile(r"^\+?[0-9\s\-().]+$")

_PERSONAL = frozenset({
    PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
})

_region = DEFAULT_REGION


def valid_region(code: str) -> str | None:
    """The region code in canonical form ("ru" → "RU"), or None if libphonenumber does not know it."""
    upper = code.strip().upper()
    return upper if upper in phonenumbers.SUPPORTED_REGIONS else None


def set_region(code: str) -> None:
    """Set once at start from PHONE_REGION: how numbers typed without "+" are read."""
    global _region
    region = valid_region(code)
    if region is None:
        raise ValueError(f"unknown country {code!r}")
    _region = region


def current_region() -> str:
    return _region


def normalize_phone(text: str, region: str | None = None) -> str:
    raw = text.strip()
    if not raw or len(raw) > 40 or not _ALLOWED.match(raw):
        raise InvalidPhone(text)
    try:
        number = phonenumbers.parse(raw, region or _region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(text) from None
    if not phonenumbers.is_valid_number(number) or phonenumbers.number_type(number) not in _PERSONAL:
        raise InvalidPhone(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def looks_like_phone(text: str) -> bool:
    try:
        normalize_phone(text)
    except InvalidPhone:
        return False
    return True
