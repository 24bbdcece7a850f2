"""Properties of the refund arithmetic, pure and without a database (DOMAIN.md, "Refunds").

`refund_amount` (what a refund may take), `refund_share` / `refund_preview` (what it gives
back and takes back) and `return_plan` (which lots the paid points go back to) are the
arithmetic that `preview_refund` and `refund_purchase` run inside their transactions.
Properties: whole numbers, shares rounded down and never more than was paid or earned,
partial refunds never add up to more than the check, and refunding everything in parts
gives back and takes back exactly what refunding it at once does; expired lots are not
revived and no lot gets back more than was drawn from it.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.kernel.errors import InvalidAmount, RefundNotAllowed, RefundTooLarge
from models.purchase.purchases import DrawnLot, refund_amount, refund_preview, refund_share, return_plan

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
FAST = settings(max_examples=100, deadline=None)


@st.composite
def purchases(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(check, money paid, points paid, cashback) of a purchase, point value 1 ₽."""
    total = draw(st.integers(1, 10**9))
    points = draw(st.integers(0, total // 100))
    cash = total - points * 100
    cashback = draw(st.integers(0, cash // 100))
    return total, cash, points, cashback


@st.composite
def partition(draw: st.DrawFn, total: int) -> list[int]:
    """The check refunded in 1..6 parts that add up to it."""
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), max_size=5, unique=True))) if total > 1 else []
    bounds = [0, *cuts, total]
    return [b - a for a, b in itertools.pairwise(bounds)]


@FAST
@given(case=purchases(), data=st.data())
def test_a_share_is_a_whole_number_rounded_down_and_never_more_than_the_value(
        case: tuple[int, int, int, int], data: st.DataObject) -> None:
    total, _, points, _ = case
    before = data.draw(st.integers(0, total - 1))
    amount = data.draw(st.integers(1, total - before))
    part = refund_share(points, total, before, amount)
    assert type(part) is int and 0 <= part <= points
    # cumulative: floor(value × refunded so far / total), minus what earlier refunds took
    exact = Fraction(points * (before + amount), total) - Fraction(points * before, total)
    assert part <= exact + 1 and part >= exact - 1
    assert refund_share(points, total, 0, before + amount) == (points * (before + amount)) // total


@FAST
@given(case=purchases(), data=st.data())
def test_refunding_in_parts_gives_back_exactly_what_refunding_at_once_does(
        case: tuple[int, int, int, int], data: st.DataObject) -> None:
    total, cash, points, cashback = case
    parts = data.draw(partition(total))
    at_once = refund_preview(1, total, 0, total, cash_kopecks=cash, points_paid=points, cashback=cashback)
    assert (at_once.cash_kopecks, at_once.points_returned, at_once.cashback_reversed) == (cash, points, cashback)
    assert at_once.fully_refunded
    before = 0
    given_back = taken_back = money = 0
    for i, amount in enumerate(parts):
        assert refund_amount(total, before, amount) == amount
        preview = refund_preview(1, total, before, amount, cash_kopecks=cash, points_paid=points, cashback=cashback)
        assert preview.amount_kopecks == amount
        assert min(preview.cash_kopecks, preview.points_returned, preview.cashback_reversed) >= 0
        given_back += preview.points_returned
        taken_back += preview.cashback_reversed
        money += preview.cash_kopecks
        before += amount
        assert preview.fully_refunded is (i == len(parts) - 1)
        # never more than was paid or earned, at any point on the way
        assert given_back <= points and taken_back <= cashback and money <= cash
    assert (money, given_back, taken_back) == (cash, points, cashback)


@FAST
@given(case=purchases(), data=st.data())
def test_partial_refunds_never_add_up_to_more_than_the_check(case: tuple[int, int, int, int],
                                                             data: st.DataObject) -> None:
    total = case[0]
    refunded = 0
    for asked in data.draw(st.lists(st.one_of(st.none(), st.integers(-10, total + 10)), max_size=8)):
        try:
            amount = refund_amount(total, refunded, asked)
        except RefundTooLarge:  # before RefundNotAllowed, its parent
            assert asked is not None and asked > total - refunded
            continue
        except RefundNotAllowed:
            assert refunded == total
            continue
        except InvalidAmount:
            assert asked is not None and asked <= 0
            continue
        assert amount == (total - refunded if asked is None else asked)  # None: the rest
        refunded += amount
        assert 0 < refunded <= total
    with pytest.raises((RefundNotAllowed, RefundTooLarge)):
        refund_amount(total, refunded, total - refunded + 1)


drawn_lots = st.lists(
    st.builds(
        lambda i, taken, back_share, days, written_off: DrawnLot(
            i, taken, taken * back_share // 4, None if days is None else NOW + timedelta(days=days),
            written_off and days is not None and days <= 0),
        st.integers(1, 10**6), st.integers(1, 50_000), st.integers(0, 4),
        st.one_of(st.none(), st.integers(-30, 400)), st.booleans()),
    max_size=6, unique_by=lambda d: d.lot_id)


@st.composite
def returns(draw: st.DrawFn) -> tuple[list[DrawnLot], int]:
    """Lots a purchase drew from, and how many paid points a refund gives back (at most what is owed)."""
    lots = draw(drawn_lots)
    return lots, draw(st.integers(0, sum(lot.taken - lot.returned for lot in lots)))


def alive(lot: DrawnLot) -> bool:
    return not lot.written_off and (lot.expires_at is None or lot.expires_at > NOW)


@FAST
@given(case=returns())
def test_points_go_back_to_their_lots_and_expired_lots_are_not_revived(case: tuple[list[DrawnLot], int]) -> None:
    lots, points = case
    plan, lost = return_plan(lots, points, NOW)
    by_id = {lot.lot_id: lot for lot in lots}
    assert len({lot_id for lot_id, _ in plan}) == len(plan)
    for lot_id, part in plan:
        lot = by_id[lot_id]
        assert type(part) is int and 0 < part <= lot.taken - lot.returned  # never more than was drawn
        assert alive(lot)
    assert lost >= 0 and sum(part for _, part in plan) + lost == points
    # Lots that live longest get their points back first: a lot gets a part only when every
    # lot living longer (or never expiring) got all it was owed.
    credited = dict(plan)
    for lot_id, _ in plan:
        lot = by_id[lot_id]
        for other in lots:
            if alive(other) and (lot.expires_at is not None and (other.expires_at is None
                                                                  or other.expires_at > lot.expires_at)):
                assert credited.get(other.lot_id, 0) == other.taken - other.returned


@FAST
@given(case=returns(), data=st.data())
def test_returning_points_in_parts_returns_what_returning_them_at_once_does(case: tuple[list[DrawnLot], int],
                                                                            data: st.DataObject) -> None:
    lots, total = case
    at_once, lost_at_once = return_plan(lots, total, NOW)
    parts = data.draw(partition(total)) if total else []
    current = list(lots)
    back: dict[int, int] = {}
    lost = 0
    for part in parts:
        plan, part_lost = return_plan(current, part, NOW)
        lost += part_lost
        for lot_id, points in plan:
            back[lot_id] = back.get(lot_id, 0) + points
        # the next refund sees what this one gave back (and what was lost to expiry as well:
        # refund_purchase counts only RETURN entries, so lost points stay owed and stay lost)
        current = [DrawnLot(d.lot_id, d.taken, d.returned + dict(plan).get(d.lot_id, 0), d.expires_at, d.written_off)
                   for d in current]
    assert back == dict(at_once)
    assert lost == lost_at_once


def test_nothing_to_give_back() -> None:
    assert return_plan([DrawnLot(1, 10, 0, None, False)], 0, NOW) == ([], 0)
    assert return_plan([], 5, NOW) == ([], 5)  # more than the purchase drew: lost, never invented
