"""`compute_quote` is pure: Hypothesis checks it against DOMAIN.md's arithmetic, no database.

The oracle below is written from DOMAIN.md ("A purchase") with fractions, not with
`models.kernel.money`: allowed regular points `floor(A × tier cap)` within the regular balance, one
certificate (the first applicable in spending order) paying at most `floor(A × its cap)`
within its remaining, the total never above the check, cashback `floor((A − P) × tier %)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.kernel.errors import InsufficientFunds, RedeemLimitExceeded
from models.kernel.tables import LotKind
from models.program.rules import Program, load_program_file
from models.purchase.purchases import compute_quote

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class LotRow:
    """The columns `compute_quote` reads from a live lot row."""
    id: int
    kind: LotKind
    remaining: int
    expires_at: datetime | None
    available_at: datetime | None
    max_redeem_percent: str | None
    certificate_kind: None = None


def floor_share(kopecks: int, percent: object, point_value: int) -> int:
    return max(math.floor(Fraction(kopecks) * Fraction(str(percent)) / 100 / point_value), 0)


def oracle(program: Program, tier_index: int, amount: int, lots: list[LotRow]) -> tuple[int, int, int]:
    """(regular allowed, certificate allowed, max points) as DOMAIN.md states them."""
    tier = program.tier(tier_index)
    pv = program.points.point_value_kopecks
    regular = sum(lot.remaining for lot in lots
                  if lot.kind is not LotKind.CERTIFICATE and (lot.available_at is None or lot.available_at <= NOW))
    regular_allowed = min(floor_share(amount, tier.max_redeem_percent, pv), regular)
    certificate = 0
    for lot in lots:
        if lot.kind is LotKind.CERTIFICATE and (lot.available_at is None or lot.available_at <= NOW):
            allowed = min(floor_share(amount, lot.max_redeem_percent or "100", pv), lot.remaining)
            if allowed > 0:
                certificate = allowed
                break
    return regular_allowed, certificate, min(regular_allowed + certificate, amount // pv)


PROGRAM_FILES = ["case-a.toml", "cosmocode.toml", "default.toml"]
programs = st.sampled_from([load_program_file(PROGRAMS / name) for name in PROGRAM_FILES])

regular_lots = st.builds(
    lambda i, kind, remaining, pending: LotRow(
        i, kind, remaining, None, NOW + timedelta(days=1) if pending else None, None),
    st.integers(1, 10**6), st.sampled_from([LotKind.WELCOME, LotKind.CASHBACK, LotKind.REFERRAL, LotKind.MANUAL]),
    st.integers(1, 200_000), st.booleans(),
)
certificate_lots = st.builds(
    lambda i, remaining, cap, pending: LotRow(
        i, LotKind.CERTIFICATE, remaining, NOW + timedelta(days=5),
        NOW + timedelta(hours=1) if pending else None, cap),
    st.integers(1, 10**6), st.integers(1, 50_000), st.sampled_from([None, "10", "33.3", "50", "100"]),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(program=programs, tier_index=st.integers(0, 6), amount=st.integers(1, 50_000_000),
       lots=st.lists(st.one_of(regular_lots, certificate_lots), max_size=8), data=st.data())
def test_quote_matches_the_rules(program: Program, tier_index: int, amount: int, lots: list[LotRow],
                                 data: st.DataObject) -> None:
    amount = min(amount, program.limits.max_check_kopecks)
    quote = compute_quote(1, tier_index, 1, program, amount, lots, NOW)
    regular_allowed, certificate, max_points = oracle(program, tier_index, amount, lots)
    assert quote.regular_allowed == regular_allowed
    assert (quote.certificate.allowed if quote.certificate else 0) == certificate
    assert quote.max_points == max_points
    assert quote.max_points * quote.point_value_kopecks <= amount  # never more than the check

    points = data.draw(st.integers(0, max_points))
    cert, regular = quote.split(points)
    assert cert + regular == points and 0 <= cert <= certificate and 0 <= regular <= regular_allowed
    tier = program.tier(tier_index)
    pv = program.points.point_value_kopecks
    assert quote.cashback_for(points) == floor_share(amount - points * pv, tier.cashback_percent, pv)
    assert quote.cash_for(points) == amount - points * pv

    with pytest.raises((RedeemLimitExceeded, InsufficientFunds)):
        quote.split(max_points + 1)


def test_the_worked_example_of_domain_md() -> None:
    """Case A, tier 2 (5 % cashback, 15 % cap), balance 2,000, check 12,250 ₽."""
    program = load_program_file(PROGRAMS / "case-a.toml")
    lots = [LotRow(1, LotKind.CASHBACK, 2_000, None, None, None)]
    quote = compute_quote(1, 1, 1, program, 1_225_000, lots, NOW)
    assert quote.max_points == 1_837
    assert quote.cash_for(1_837) == 1_041_300
    assert quote.cashback_for(1_837) == 520
