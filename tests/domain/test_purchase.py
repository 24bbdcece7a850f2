"""DOMAIN.md, "A purchase", "Refunds", "Referrals": every rule, and the worked example."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models.campaigns.certificates import owner_certificate
from models.customers.accounts import create_phone_customer
from models.kernel.context import Domain
from models.kernel.errors import (
    CertificateNotApplicable,
    CodeUsed,
    CustomerBlocked,
    InsufficientFunds,
    InvalidAmount,
    RedeemLimitExceeded,
    RedeemNotAuthorised,
    RefundNotAllowed,
    RefundTooLarge,
    RefundWindowClosed,
)
from models.kernel.tables import Customer, Lot, LotKind, Operation, OperationKind
from models.purchase.purchases import (
    PurchaseRequest,
    StaleQuote,
    adjust_points,
    commit_purchase,
    quote_purchase,
    record_sale_without_card,
    refund_purchase,
)
from tests.helpers import (
    assert_invariants,
    balance,
    certificates_total,
    fresh_code,
    referral_code_of,
    register,
    set_tier,
)

CHECK = 1_225_000  # 12,250 ₽ in kopecks


async def chain(dom: Domain, depth: int) -> list[int]:
    """Customers where each one referred the next; returns [top, ..., bottom]."""
    ids = [await register(dom, name="R0")]
    for i in range(1, depth):
        ids.append(await register(dom, name=f"R{i}", referral_code=await referral_code_of(dom, ids[-1])))
    return ids


async def test_worked_example(dom: Domain) -> None:
    """Case A, tier 2 (5% / 15%), balance 2,000, check 12,250 ₽ (DOMAIN.md's example)."""
    r3, r2, r1 = await chain(dom, 3)
    customer = await register(dom, referral_code=await referral_code_of(dom, r1))
    await adjust_points(dom, customer, 2000 - 300, "top up to the example's balance")
    await set_tier(dom, customer, 1)
    assert await balance(dom, customer) == 2000

    quote = await quote_purchase(dom, customer, CHECK)
    assert quote.regular_cap == 1837
    assert quote.max_points == 1837
    assert quote.cashback_for(1837) == 520

    before = {c: await balance(dom, c) for c in (r1, r2, r3)}
    result = await commit_purchase(dom, PurchaseRequest(
        customer_id=customer, amount_kopecks=CHECK, points=None,
        code=await fresh_code(dom, customer), idempotency_key="k1"))
    assert result.points_paid == 1837
    assert result.cash_kopecks == 1_041_300  # 10,413 ₽
    assert result.cashback == 520
    assert [(r.level, r.points) for r in result.referral_rewards] == [(1, 520), (2, 104), (3, 104)]
    assert await balance(dom, r1) - before[r1] == 520
    assert await balance(dom, r2) - before[r2] == 104
    assert await balance(dom, r3) - before[r3] == 104
    assert await balance(dom, customer) == 2000 - 1837 + 520
    await assert_invariants(dom)


async def test_no_points_earned_on_part_paid_with_points(dom: Domain) -> None:
    c = await register(dom)  # 300 welcome, tier 1: 3% cashback, 10% cap
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000, points=100,
                                                   code=await fresh_code(dom, c)))
    # cap = floor(1000 ₽ × 10%) = 100; cashback = floor(900 ₽ × 3%) = 27
    assert (r.points_paid, r.cash_kopecks, r.cashback) == (100, 90_000, 27)
    assert await balance(dom, c) == 300 - 100 + 27


async def test_shares_round_down(dom: Domain) -> None:
    c = await register(dom)
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=3_399))  # 33.99 ₽
    assert r.cashback == 1  # 3% of 33.99 = 1.0197 → 1
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=3_299))
    assert r.cashback == 0  # 0.9897 → 0


async def test_cap_and_balance_limits(dom: Domain) -> None:
    c = await register(dom)  # 300 points
    code = await fresh_code(dom, c)
    with pytest.raises(RedeemLimitExceeded):
        await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000, points=101, code=code))
    q = await quote_purchase(dom, c, 1_000_000)  # cap 1000 > balance 300
    assert q.max_points == 300
    with pytest.raises(InsufficientFunds):
        await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000, points=301, code=code))
    await assert_invariants(dom)


async def test_paying_with_points_needs_code_or_confirmation(dom: Domain) -> None:
    c = await register(dom)
    with pytest.raises(RedeemNotAuthorised):
        await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000, points=50))
    # accrual alone needs nothing
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000, found_by="phone"))
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000, points=50,
                                                   phone_confirmed=True, found_by="phone"))
    assert r.points_paid == 50


async def test_code_is_single_use(dom: Domain) -> None:
    c = await register(dom)
    code = await fresh_code(dom, c)
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=10_000, code=code))
    with pytest.raises(CodeUsed):
        await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=10_000, points=1, code=code))


async def test_idempotency_key_returns_first_result(dom: Domain) -> None:
    c = await register(dom)
    req = PurchaseRequest(customer_id=c, amount_kopecks=500_000, idempotency_key="till-1:42")
    first = await commit_purchase(dom, req)
    again = await commit_purchase(dom, req)
    assert again.replayed and again.operation_id == first.operation_id
    assert again.cashback == first.cashback
    async with dom.db.reading() as s:
        assert len((await s.execute(select(Operation.id).where(Operation.kind == "purchase"))).all()) == 1
    assert await balance(dom, c) == 300 + first.cashback


async def test_same_key_concurrently_gives_one_purchase(dom: Domain) -> None:
    c = await register(dom)
    req = PurchaseRequest(customer_id=c, amount_kopecks=500_000, idempotency_key="double-tap")
    results = await asyncio.gather(*(commit_purchase(dom, req) for _ in range(5)))
    assert len({r.operation_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    await assert_invariants(dom)


async def test_tier_upgrade_applies_to_next_purchase(dom: Domain) -> None:
    c = await register(dom)
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=5_000_000))  # 50,000 ₽
    assert r.cashback == 1500  # computed at 3%, tier 1
    assert (r.tier_before, r.tier_after) == (0, 1)
    r2 = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000))
    assert r2.cashback == 50  # now 5%


async def test_certificate_pays_its_own_share_on_top_of_regular(dom: Domain) -> None:
    c = await register(dom)  # 300 regular points, tier 1 cap 10%
    await owner_certificate(dom, c, 1000, Decimal(20), 15)
    q = await quote_purchase(dom, c, 1_000_000)  # 10,000 ₽: cert ≤ 2,000 → 1,000; regular ≤ 1,000 → 300
    assert q.certificate is not None and q.certificate.allowed == 1000
    assert q.max_points == 1300
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000, points=None,
                                                   code=await fresh_code(dom, c)))
    assert (r.points_paid, r.certificate_points) == (1300, 1000)
    assert await certificates_total(dom, c) == 0
    await assert_invariants(dom)


async def test_certificate_choice_and_soonest_expiring_default(dom: Domain) -> None:
    c = await register(dom)
    late = await owner_certificate(dom, c, 500, Decimal(50), 30)
    soon = await owner_certificate(dom, c, 400, Decimal(50), 5)
    assert late and soon
    q = await quote_purchase(dom, c, 100_000)
    assert q.certificate is not None and q.certificate.lot_id == soon.id
    q2 = await quote_purchase(dom, c, 100_000, certificate_lot_id=late.id)
    assert q2.certificate is not None and q2.certificate.lot_id == late.id
    with pytest.raises(CertificateNotApplicable):
        await quote_purchase(dom, c, 100_000, certificate_lot_id=999_999)
    # at most one certificate per check
    assert q.max_points == min(400, 500) + min(100, 300)


async def test_total_points_never_exceed_check(dom: Domain) -> None:
    c = await register(dom)
    await owner_certificate(dom, c, 5000, Decimal(100), 15)
    await adjust_points(dom, c, 10_000, "gift")
    await set_tier(dom, c, 4)  # 30% cap
    q = await quote_purchase(dom, c, 1_000)  # 10 ₽
    assert q.max_points == 10


async def test_amount_validation(dom: Domain) -> None:
    c = await register(dom)
    with pytest.raises(InvalidAmount):
        await quote_purchase(dom, c, 0)
    with pytest.raises(InvalidAmount):
        await quote_purchase(dom, c, 100_000_001)  # over the 1,000,000 ₽ maximum


async def test_stale_quote_is_refused(dom: Domain) -> None:
    c = await register(dom)
    q = await quote_purchase(dom, c, 1_000_000)
    await adjust_points(dom, c, -100, "correction")
    with pytest.raises(StaleQuote):
        await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000, points=None,
                                                   expected_points=q.max_points, phone_confirmed=True))


async def test_blocked_customer_can_neither_earn_nor_pay(dom: Domain) -> None:
    c = await register(dom)
    async with dom.db.transaction() as s:
        (await s.get(Customer, c)).blocked = True  # type: ignore[union-attr]
    with pytest.raises(CustomerBlocked):
        await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=10_000))


async def test_first_purchase_fixed_referral_reward(db, clock, cosmocode) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from models.program.store import ensure_program

    dom = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
    await ensure_program(dom, cosmocode)
    friend = await register(dom)
    c = await register(dom, referral_code=await referral_code_of(dom, friend))
    r1 = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000))
    assert [(x.level, x.points) for x in r1.referral_rewards] == [(1, 300 + 500)]
    r2 = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000))
    assert [(x.level, x.points) for x in r2.referral_rewards] == [(1, 500)]
    assert await balance(dom, friend) == 1000 + 800 + 500
    await assert_invariants(dom)


async def test_full_refund_restores_everything(dom: Domain) -> None:
    r1, = await chain(dom, 1)
    c = await register(dom, referral_code=await referral_code_of(dom, r1))
    await adjust_points(dom, c, 700, "gift")
    start_c, start_r = await balance(dom, c), await balance(dom, r1)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000, points=None,
                                                   code=await fresh_code(dom, c)))
    refund = await refund_purchase(dom, p.operation_id)
    assert refund.fully_refunded and refund.shortfall == 0
    assert refund.points_returned == p.points_paid
    assert refund.cashback_reversed == p.cashback
    assert await balance(dom, c) == start_c
    assert await balance(dom, r1) == start_r
    await assert_invariants(dom)


async def test_partial_refunds_add_up_to_full(dom: Domain) -> None:
    c = await register(dom)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_001, points=None,
                                                   code=await fresh_code(dom, c)))
    parts = [333_333, 333_333, 333_335]
    results = [await refund_purchase(dom, p.operation_id, part) for part in parts]
    assert sum(r.points_returned for r in results) == p.points_paid
    assert sum(r.cashback_reversed for r in results) == p.cashback
    assert sum(r.cash_kopecks for r in results) == p.cash_kopecks
    assert results[-1].fully_refunded
    with pytest.raises(RefundNotAllowed):  # nothing left to refund
        await refund_purchase(dom, p.operation_id, 1)
    assert await balance(dom, c) == 300
    await assert_invariants(dom)


async def test_refund_rounding_never_takes_more_than_earned(dom: Domain) -> None:
    c = await register(dom)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000))  # cashback 30
    r = await refund_purchase(dom, p.operation_id, 33_333)
    assert r.cashback_reversed == 9  # floor(30 × 1/3)
    with pytest.raises(RefundTooLarge):
        await refund_purchase(dom, p.operation_id, 66_668)


async def test_refund_shortfall_when_points_already_spent(dom: Domain) -> None:
    c = await register(dom)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000))  # +300 cashback
    # spend everything: 600 points
    await adjust_points(dom, c, -600, "spent elsewhere")
    r = await refund_purchase(dom, p.operation_id)
    assert r.cashback_reversed == 0 and r.shortfall == 300
    assert await balance(dom, c) == 0
    await assert_invariants(dom)


async def test_refund_window(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000))
    clock.advance(timedelta(days=15))
    with pytest.raises(RefundWindowClosed):
        await refund_purchase(dom, p.operation_id)
    r = await refund_purchase(dom, p.operation_id, override_window=True)  # the owner, any time
    assert r.fully_refunded


async def test_returned_points_do_not_revive_expired_lot(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    cert = await owner_certificate(dom, c, 100, Decimal(100), 3)
    assert cert
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=10_000, points=None,
                                                   code=await fresh_code(dom, c)))
    assert p.certificate_points == 100
    clock.advance(timedelta(days=4))
    r = await refund_purchase(dom, p.operation_id)
    assert r.points_lost == 100
    assert await certificates_total(dom, c) == 0
    await assert_invariants(dom)


async def test_pending_lots_cancelled_by_refund(db, clock, case_a) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from models.program.store import ensure_program

    program = case_a.model_copy(update={"points": case_a.points.model_copy(update={"pending_days": 7})})
    dom = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
    await ensure_program(dom, program)
    c = await register(dom)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000))
    q = await quote_purchase(dom, c, 1_000_000)
    assert q.pending == 300 and q.balance == 300  # the cashback is not spendable yet
    await refund_purchase(dom, p.operation_id)
    q = await quote_purchase(dom, c, 1_000_000)
    assert q.pending == 0
    await assert_invariants(dom)


async def test_sale_without_card(dom: Domain) -> None:
    op_id = await record_sale_without_card(dom, 250_000, staff_id=None)
    async with dom.db.reading() as s:
        op = await s.get(Operation, op_id)
        assert op is not None and op.customer_id is None and op.amount_kopecks == 250_000


async def test_every_operation_records_program_version(dom: Domain) -> None:
    from models.program.store import set_program

    c = await register(dom)
    p1 = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=10_000))
    current = await _current(dom)
    program = current.model_copy(update={"welcome": current.welcome.model_copy(update={"points": 301})})
    v2 = await set_program(dom, program, None, "welcome 301")
    assert v2 == 2
    p2 = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=10_000))
    assert (p1.program_version, p2.program_version) == (1, 2)


async def _current(dom: Domain):  # type: ignore[no-untyped-def]
    from models.program.store import current_program

    async with dom.db.reading() as s:
        return (await current_program(s))[1]


async def test_phone_only_customer_gets_cashback(dom: Domain) -> None:
    c = await create_phone_customer(dom, "8 (916) 000-11-22", staff_id=None)
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000, found_by="phone"))
    assert r.cashback == 30
    async with dom.db.reading() as s:
        lots = (await s.execute(select(Lot.kind).where(Lot.customer_id == c))).scalars().all()
    assert lots == [LotKind.CASHBACK]


async def test_same_refund_key_concurrently_gives_one_refund(dom: Domain) -> None:
    """A till retrying a refund while the first attempt is still running gets the first result."""
    c = await register(dom)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=1_000_000))
    results = await asyncio.gather(*(refund_purchase(dom, p.operation_id, 100_000, idempotency_key="r-1")
                                     for _ in range(5)))
    assert len({r.operation_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    async with dom.db.reading() as s:
        purchase = await s.get(Operation, p.operation_id)
        assert purchase is not None and purchase.refunded_kopecks == 100_000
    await assert_invariants(dom)


async def test_same_sale_key_concurrently_gives_one_sale(dom: Domain) -> None:
    """A sale without a card retried concurrently with the same key (a till's nonce) records one
    sale and every attempt answers with it (PostgreSQL: no unique-key error)."""
    ids = await asyncio.gather(*(record_sale_without_card(dom, 45_000, staff_id=None, idempotency_key="sale-k")
                                 for _ in range(5)))
    assert len(set(ids)) == 1
    async with dom.db.reading() as s:
        sales = (await s.execute(select(func.count()).select_from(Operation).where(
            Operation.kind == OperationKind.SALE_NO_CARD))).scalar()
    assert sales == 1


async def test_tier_names_are_escaped_in_html_messages(dom: Domain, case_a) -> None:  # type: ignore[no-untyped-def]
    """Messages go out in HTML parse mode: an owner's tier name with "<" or "&" must reach the
    customer as text, not make Telegram refuse the notice."""
    from models.program.store import set_program
    from tests.scheduler.support import messages

    levels = [tier.model_copy(update={"name": name}) for tier, name in
              zip(case_a.tiers.levels, ["Base", "Gold <VIP> & Co", "Top"], strict=False)]
    await set_program(dom, case_a.model_copy(update={"tiers": case_a.tiers.model_copy(update={"levels": levels})}),
                      None, "tier names")
    c = await register(dom)
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=5_000_000))  # up to tier 1
    [notice] = await messages(dom, "notify-tier-up", customer_id=c)
    assert notice["args"]["tier"] == "Gold &lt;VIP&gt; &amp; Co"
