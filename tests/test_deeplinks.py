from __future__ import annotations

import pytest

from bot.deeplinks import DeepLink, make_link, parse_deep_link


@pytest.mark.parametrize(("payload", "expected"), [
    ("r_ab12cd34", DeepLink("referral", "ab12cd34")),
    ("g_opening", DeepLink("campaign", "opening")),
    ("s_instagram", DeepLink("source", "instagram")),
    ("c_123456", DeepLink("card", "123456")),
    ("staff_AbCdEf123456", DeepLink("staff_invite", "AbCdEf123456")),
    ("e_abcd1234", DeepLink("enrol", "abcd1234")),
    (None, DeepLink("none", "")),
    ("", DeepLink("none", "")),
    ("c_12345", DeepLink("unknown", "c_12345")),
    ("x_1", DeepLink("unknown", "x_1")),
    ("r_", DeepLink("unknown", "r_")),
    ("hello", DeepLink("unknown", "hello")),
    ("a" * 65, DeepLink("unknown", "a" * 65)),
    ("r_<script>", DeepLink("unknown", "r_<script>")),
])
def test_parse(payload: str | None, expected: DeepLink) -> None:
    assert parse_deep_link(payload) == expected


def test_make_link_round_trip() -> None:
    link = make_link("cafe_bot", "card", "012345")
    assert link == "https://t.me/cafe_bot?start=c_012345"
    assert parse_deep_link(link.split("start=")[1]) == DeepLink("card", "012345")
    with pytest.raises(ValueError):
        make_link("cafe_bot", "campaign", "bad value!")
