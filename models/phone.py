"""Phone numbers normalised to E.164 (DOMAIN.md, "Customers").

Russian numbers are the common case: `8 (916) 123-45-67`, `+7 916 1234567`, `9161234567`
all become `+79161234567`. Other countries are accepted with an explicit `+`. Only the digits
0-9: a number typed with Arabic-Indic or full-width digits is refused, not stored as another phone.
"""

from __future__ import annotations

import hashlib
import re

from models.errors import InvalidPhone

# [0-9], never \d: "+٧٩١٦..." must not become a customer whose phone matches nobody's.
_ALLOWED = re.compile(r"^\+?[0-9\s\-().]+$")


def normalize_phone(text: str) -> str:
    raw = text.strip()
    if not raw or not _ALLOWED.match(raw):
        raise InvalidPhone(text)
    digits = re.sub(r"[^0-9]", "", raw)
    plus = raw.startswith("+")
    if not plus:
        if len(digits) == 11 and digits[0] in "78":
            digits = "7" + digits[1:]
        elif len(digits) == 10 and digits[0] == "9":
            digits = "7" + digits
        else:
            raise InvalidPhone(text)
    if digits.startswith("7") and len(digits) != 11:
        raise InvalidPhone(text)
    if not 8 <= len(digits) <= 15 or digits[0] == "0":
        raise InvalidPhone(text)
    return "+" + digits


def looks_like_phone(text: str) -> bool:
    try:
        normalize_phone(text)
    except InvalidPhone:
        return False
    return True


def phone_hash(e164: str) -> str:
    """A stable fingerprint kept after erasure, so welcome points are paid once per phone ever."""
    return hashlib.sha256(("loyalty-phone:" + e164).encode()).hexdigest()
