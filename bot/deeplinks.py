"""Deep-link payloads (`/start PAYLOAD`): at most 64 characters of A–Z a–z 0–9 _ -.

Prefixes: `r_` referral, `g_` campaign certificate, `s_` source tag, `c_` a customer's card
code (the QR on the card), `staff_` a staff invite, `e_` a staff member's personal enrolment
link, `p_` a promo code (its id: a code may be Cyrillic, a payload may not). Anything else (or
malformed) is `DeepLink("unknown", raw)` and the bot starts normally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VALID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PREFIXES = {"r": "referral", "g": "campaign", "s": "source", "c": "card", "staff": "staff_invite",
             "e": "enrol", "p": "promo"}
_VALUE = {"card": re.compile(r"^[0-9]{6}$"), "referral": re.compile(r"^[a-z0-9]{4,16}$"),
          "campaign": re.compile(r"^[A-Za-z0-9_-]{1,32}$"),
          "source": re.compile(r"^[A-Za-z0-9_-]{1,32}$"),
          "staff_invite": re.compile(r"^[A-Za-z0-9_-]{8,40}$"),
          "enrol": re.compile(r"^[a-z0-9]{4,16}$"),
          "promo": re.compile(r"^[1-9][0-9]{0,17}$")}


@dataclass(frozen=True)
class DeepLink:
    kind: str  # referral, campaign, source, card, staff_invite, enrol, promo, none, unknown
    value: str


def parse_deep_link(payload: str | None) -> DeepLink:
    if not payload:
        return DeepLink("none", "")
    if not _VALID.match(payload):
        return DeepLink("unknown", payload[:80])
    prefix, sep, value = payload.partition("_")
    if payload.startswith("staff_"):
        prefix, value = "staff", payload[len("staff_"):]
    kind = _PREFIXES.get(prefix) if sep else None
    if kind is None or not _VALUE[kind].match(value):
        return DeepLink("unknown", payload)
    return DeepLink(kind, value)


def make_link(bot_username: str, kind: str, value: str) -> str:
    prefix = {v: k for k, v in _PREFIXES.items()}[kind]
    payload = f"{prefix}_{value}"
    if not _VALID.match(payload):
        raise ValueError(f"payload {payload!r} is not a valid deep link")
    return f"https://t.me/{bot_username}?start={payload}"
