"""DOMAIN.md, "Tiers (statuses)": thresholds on money or purchases, all time or a window, pinning."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from models.kernel.context import Domain
from models.kernel.tables import Customer
from models.program.rules import program_from_document
from models.program.store import ensure_program
from models.program.tiers import recalculate_tier
from models.purchase.purchases import PurchaseRequest, commit_purchase, refund_purchase
from tests.helpers import assert_invariants, register


async def tier_of(dom: Domain, customer_id: int) -> int:
    async with dom.db.reading() as s:
        customer = await s.get(Customer, customer_id)
        assert customer is not None
        return customer.tier_index


async def test_refund_can_lower_an_all_time_tier(dom: Domain) -> None:
    c = await register(dom)
    p = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=5_000_000))
    assert p.tier_after == 1
    await refund_purchase(dom, p.operation_id, 100_000)  # 49,000 ₽ paid now: below 50,000
    assert await tier_of(dom, c) == 0
    await assert_invariants(dom)


async def test_pinned_tier_wins(dom: Domain) -> None:
    c = await register(dom)
    async with dom.db.transaction() as s:
        customer = await s.get(Customer, c)
        assert customer is not None
        customer.tier_pinned = 3
    r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000))
    assert r.tier_after == 3
    r2 = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000))
    assert r2.cashback == 90  # 9% of 1,000 ₽ at the pinned tier 4


async def test_purchases_basis_with_rolling_window(db, clock, case_a) -> None:  # type: ignore[no-untyped-def]
    document = case_a.to_document()
    document["tiers"].update(basis="purchases", window_days=30)
    for level, threshold in zip(document["tiers"]["levels"], [0, 2, 4, 6, 8], strict=True):
        level["threshold"] = threshold
    program = program_from_document(document)
    dom = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
    await ensure_program(dom, program)
    c = await register(dom)
    for _ in range(2):
        r = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=10_000))
    assert r.tier_after == 1
    clock.advance(timedelta(days=31))
    async with dom.db.transaction() as s:  # what the daily recalculation does for one customer
        customer = await s.get(Customer, c)
        assert customer is not None
        assert await recalculate_tier(s, customer, program, clock.now()) == (1, 0)
    await assert_invariants(dom)


async def test_rolling_window_counts_a_refund_with_its_purchase(db, clock, case_a) -> None:  # type: ignore[no-untyped-def]
    """Money paid net of refunds over a window: a refund belongs to the purchase it reverses, so
    once that purchase has left the window the refund no longer lowers the other purchases."""
    from models.automation import jobs as automation

    program = case_a.model_copy(update={"tiers": case_a.tiers.model_copy(update={"window_days": 30})})
    dom = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
    await ensure_program(dom, program)
    c = await register(dom)
    x = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=4_000_000))  # 40,000 ₽
    clock.advance(timedelta(days=5))
    await refund_purchase(dom, x.operation_id)
    clock.advance(timedelta(days=15))
    y = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=5_500_000))  # 55,000 ₽
    assert y.tier_after == 1
    clock.advance(timedelta(days=11))  # day 31: the refunded purchase left the window, its refund with it
    async with dom.db.transaction() as s:
        customer = await s.get(Customer, c)
        assert customer is not None
        assert await recalculate_tier(s, customer, program, clock.now()) == (1, 1)
    changes = await automation.recalculate_tiers(dom, clock.now().astimezone(dom.tz).date(), full=True)
    assert changes.down == 0
    assert await tier_of(dom, c) == 1
    z = await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000))
    assert z.cashback == 50  # still 5%
    await assert_invariants(dom)
