"""Properties of the pure `compute_quote` (DOMAIN.md, "Money and points", "A purchase").

No database: the quote takes plain values (the program, the live lot rows, the time), so
Hypothesis tries programs of its own making (any tier cashback and cap, any point value),
checks and lots. tests/domain/test_quote_pure.py compares the figures with an oracle; the
properties here are the rules themselves: whole numbers, shares rounded down, never more
points than the balance, the cap or the check, cashback never negative and never earned on
the part paid with points, pending points never spendable, one certificate per check.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.kernel.errors import (
    CertificateNotApplicable,
    InsufficientFunds,
    InvalidAmount,
    RedeemLimitExceeded,
)
from models.kernel.tables import LotKind
from models.program.rules import Business, Limits, Points, Program, Tier, Tiers
from models.purchase.purchases import Quote, compute_quote
from tests.domain.test_quote_pure import LotRow  # the columns compute_quote reads

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
FAST = settings(max_examples=100, deadline=None)


percents = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def programs(draw: st.DrawFn) -> Program:
    levels = [Tier(name=f"T{i}", cashback_percent=draw(percents), max_redeem_percent=draw(percents),
                   threshold=Decimal(i * 1000)) for i in range(draw(st.integers(1, 3)))]
    return Program(
        business=Business(name="Кофейня"),
        points=Points(point_value_kopecks=draw(st.sampled_from([1, 50, 100, 100, 250, 1000]))),
        tiers=Tiers(levels=levels),
        limits=Limits(max_check_rub=Decimal(draw(st.sampled_from([1_000, 1_000_000])))),
    )


regular_lots = st.builds(
    lambda i, kind, remaining, pending: LotRow(
        i, kind, remaining, NOW + timedelta(days=30), NOW + timedelta(days=1) if pending else None, None),
    st.integers(1, 10**6), st.sampled_from([LotKind.WELCOME, LotKind.CASHBACK, LotKind.REFERRAL, LotKind.MANUAL]),
    st.integers(1, 200_000), st.booleans(),
)
certificate_lots = st.builds(
    lambda i, remaining, cap, pending, days: LotRow(
        i, LotKind.CERTIFICATE, remaining, NOW + timedelta(days=days),
        NOW + timedelta(hours=1) if pending else None, cap),
    st.integers(1, 10**6), st.integers(1, 50_000), st.sampled_from([None, "0", "10", "33.3", "50", "100"]),
    st.booleans(), st.integers(1, 90),
)
lot_lists = st.lists(st.one_of(regular_lots, certificate_lots), max_size=8, unique_by=lambda lot: lot.id)


Case = tuple[Program, list[LotRow], int, int, int, int, Quote]


@st.composite
def quotes(draw: st.DrawFn) -> Case:
    """A program, lots (in spending order: certificates by expiry), a tier, a check split into
    its redeemable part, a part excluded from loyalty and a part that cannot be paid with points."""
    program = draw(programs())
    lots = sorted(draw(lot_lists), key=lambda lot: (lot.expires_at or NOW, lot.id))
    tier_index = draw(st.integers(0, 3))
    amount = draw(st.integers(1, program.limits.max_check_kopecks))
    skip = draw(st.integers(0, amount))
    unredeemable = draw(st.integers(0, amount - skip))
    quote = compute_quote(7, tier_index, 3, program, amount, lots, NOW,
                          skip_loyalty_kopecks=skip, unredeemable_kopecks=unredeemable)
    return program, lots, tier_index, amount, skip, unredeemable, quote


def spendable(lots: list[LotRow]) -> int:
    return sum(lot.remaining for lot in lots
               if lot.kind is not LotKind.CERTIFICATE and (lot.available_at is None or lot.available_at <= NOW))


def floor_share(kopecks: int, percent: Decimal, point_value: int) -> int:
    return max(math.floor(Fraction(kopecks) * Fraction(percent) / 100 / point_value), 0)


@FAST
@given(case=quotes())
def test_every_figure_is_a_whole_number_and_never_negative(case: Case) -> None:
    *_, quote = case
    for name in ("amount_kopecks", "redeemable_kopecks", "balance", "pending", "regular_cap", "regular_allowed",
                 "max_points", "point_value_kopecks", "cashback_base_kopecks"):
        value = getattr(quote, name)
        assert type(value) is int and value >= 0, (name, value)
    for option in quote.certificates:
        assert type(option.allowed) is int and 0 <= option.allowed <= option.remaining


@FAST
@given(case=quotes())
def test_points_paid_never_exceed_the_balance_the_cap_or_the_check(case: Case) -> None:
    program, lots, tier_index, amount, skip, unredeemable, quote = case
    tier = program.tier(tier_index)
    pv = program.points.point_value_kopecks
    redeemable = amount - skip - unredeemable
    assert quote.redeemable_kopecks == redeemable
    assert quote.balance == spendable(lots)  # pending points are not spendable yet
    # floor(A × tier cap), rounded down, and no more than the regular balance
    assert quote.regular_cap == floor_share(redeemable, tier.max_redeem_percent, pv)
    assert quote.regular_allowed == min(quote.regular_cap, quote.balance)
    certificate = quote.certificate.allowed if quote.certificate else 0
    assert quote.max_points <= quote.regular_allowed + certificate
    assert quote.max_points * pv <= redeemable <= amount  # total points never exceed the check
    assert quote.cash_for(quote.max_points) >= skip + unredeemable >= 0


@FAST
@given(case=quotes(), data=st.data())
def test_any_allowed_payment_splits_within_both_caps(case: Case, data: st.DataObject) -> None:
    *_, quote = case
    points = data.draw(st.integers(0, quote.max_points))
    cert, regular = quote.split(points)
    assert cert + regular == points
    assert 0 <= cert <= (quote.certificate.allowed if quote.certificate else 0)
    assert 0 <= regular <= quote.regular_allowed <= quote.balance
    assert quote.split(None) == quote.split(quote.max_points)  # "as much as allowed"


@FAST
@given(case=quotes(), extra=st.integers(1, 10**6))
def test_more_than_allowed_is_refused_never_clipped(case: Case, extra: int) -> None:
    *_, quote = case
    with pytest.raises((RedeemLimitExceeded, InsufficientFunds)):
        quote.split(quote.max_points + extra)
    with pytest.raises(InvalidAmount):
        quote.split(-extra)


@FAST
@given(case=quotes(), data=st.data())
def test_cashback_is_rounded_down_never_negative_and_not_earned_on_points(
        case: Case, data: st.DataObject) -> None:
    program, _, tier_index, amount, skip, _, quote = case
    pv = program.points.point_value_kopecks
    percent = program.tier(tier_index).cashback_percent
    points = data.draw(st.integers(0, quote.max_points))
    cashback = quote.cashback_for(points)
    assert type(cashback) is int and cashback >= 0
    # floor((A − excluded − P) × tier cashback %)
    assert cashback == floor_share(max(amount - skip - points * pv, 0), percent, pv)
    assert quote.cash_for(points) == amount - points * pv
    # Paying more with points never earns more cashback.
    assert quote.cashback_for(quote.max_points) <= quote.cashback_for(0)


@FAST
@given(case=quotes())
def test_one_certificate_the_soonest_expiring_applicable(case: Case) -> None:
    program, lots, tier_index, amount, skip, unredeemable, quote = case
    usable = [lot for lot in lots if lot.kind is LotKind.CERTIFICATE
              and (lot.available_at is None or lot.available_at <= NOW)]
    assert [o.lot_id for o in quote.certificates] == [lot.id for lot in usable]  # pending ones not offered
    applicable = [o for o in quote.certificates if o.allowed > 0]
    assert quote.certificate == (applicable[0] if applicable else None)
    pv = program.points.point_value_kopecks
    for option, lot in zip(quote.certificates, usable, strict=True):
        # floor(A × its cap), no more than its remaining
        assert option.allowed == min(floor_share(quote.redeemable_kopecks, Decimal(lot.max_redeem_percent or "100"),
                                                 pv), lot.remaining)
    # Without certificates, only regular points pay.
    plain = compute_quote(7, tier_index, 3, program, amount, lots, NOW, use_certificate=False,
                          skip_loyalty_kopecks=skip, unredeemable_kopecks=unredeemable)
    assert plain.certificate is None and plain.certificates == ()
    assert plain.max_points == min(plain.regular_allowed, quote.redeemable_kopecks // pv)


@FAST
@given(case=quotes(), data=st.data())
def test_a_chosen_certificate_is_the_one_used_or_refused(case: Case, data: st.DataObject) -> None:
    program, lots, tier_index, amount, skip, unredeemable, quote = case
    lot_id = data.draw(st.sampled_from([lot.id for lot in lots] + [0]))
    offered = {o.lot_id: o for o in quote.certificates}
    if lot_id in offered:
        chosen = compute_quote(7, tier_index, 3, program, amount, lots, NOW, lot_id,
                               skip_loyalty_kopecks=skip, unredeemable_kopecks=unredeemable)
        assert chosen.certificate == offered[lot_id]
        assert chosen.regular_allowed == quote.regular_allowed
    else:  # a regular lot, a pending certificate, or none at all
        with pytest.raises(CertificateNotApplicable):
            compute_quote(7, tier_index, 3, program, amount, lots, NOW, lot_id,
                          skip_loyalty_kopecks=skip, unredeemable_kopecks=unredeemable)


@FAST
@given(program=programs(), lots=lot_lists, amount=st.integers(-10**6, 0))
def test_a_check_of_zero_or_less_or_over_the_maximum_is_refused(program: Program, lots: list[LotRow],
                                                                 amount: int) -> None:
    with pytest.raises(InvalidAmount):
        compute_quote(7, 0, 3, program, amount, lots, NOW)
    with pytest.raises(InvalidAmount):
        compute_quote(7, 0, 3, program, program.limits.max_check_kopecks - amount + 1, lots, NOW)
    with pytest.raises(InvalidAmount):  # the excluded parts cannot exceed the check
        compute_quote(7, 0, 3, program, 1000, lots, NOW, skip_loyalty_kopecks=600, unredeemable_kopecks=401)


@FAST
@given(case=quotes(), more=st.integers(1, 100_000))
def test_a_larger_balance_never_lowers_what_may_be_paid(case: Case, more: int) -> None:
    program, lots, tier_index, amount, skip, unredeemable, quote = case
    richer = [*lots, LotRow(10**7, LotKind.MANUAL, more, None, None, None)]
    again = compute_quote(7, tier_index, 3, program, amount, richer, NOW,
                          skip_loyalty_kopecks=skip, unredeemable_kopecks=unredeemable)
    assert again.balance == quote.balance + more
    assert quote.max_points <= again.max_points <= quote.max_points + more


def test_points_never_pay_the_part_that_cannot_be_paid_with_points() -> None:
    """Both caps at 100 %: regular points and a certificate together still stop at the
    redeemable part of the check (the shrunk cases above find this only now and then)."""
    program = Program(business=Business(name="Кофейня"), tiers=Tiers(levels=[
        Tier(name="T", cashback_percent=Decimal(5), max_redeem_percent=Decimal(100), threshold=Decimal(0))]))
    lots = [LotRow(1, LotKind.CERTIFICATE, 800, NOW + timedelta(days=3), None, "100"),
            LotRow(2, LotKind.MANUAL, 900, None, None, None)]
    quote = compute_quote(7, 0, 3, program, 100_000, lots, NOW, unredeemable_kopecks=40_000)
    assert (quote.regular_allowed, quote.certificate and quote.certificate.allowed) == (600, 600)
    assert quote.max_points == 600 and quote.cash_for(600) == 40_000
