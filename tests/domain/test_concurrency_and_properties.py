"""Concurrency (two tills, one balance), expiry, the invariant checker, and a property-based
test running random sequences of operations (DOMAIN.md, "Points lots and the ledger")."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from models.campaigns.certificates import owner_certificate
from models.customers.accounts import erase_customer
from models.kernel.context import Domain
from models.kernel.db import lock_customer
from models.kernel.errors import DomainError, InsufficientFunds
from models.kernel.tables import EntryKind, Lot, Operation, OperationKind
from models.ledger import entries as ledger
from models.ledger.expiry import expire_lots
from models.ledger.invariants import check_ledger
from models.purchase.purchases import PurchaseRequest, adjust_points, commit_purchase, refund_purchase
from tests.helpers import assert_invariants, balance, referral_code_of, register


async def test_fifty_concurrent_redemptions_never_overspend(dom: Domain) -> None:
    c = await register(dom)
    await adjust_points(dom, c, 1_700, "start with 2,000")
    # each till pays 100 points on a 1,000 ₽ check (cap 10% = 100): at most 20 can succeed

    async def till(i: int) -> int:
        try:
            r = await commit_purchase(dom, PurchaseRequest(
                customer_id=c, amount_kopecks=100_000, points=100, phone_confirmed=True,
                idempotency_key=f"till-{i}"))
            return r.points_paid
        except InsufficientFunds:
            return 0

    paid = await asyncio.gather(*(till(i) for i in range(50)))
    # every success earned 27 cashback (3% of 900 ₽), which later tills may spend too
    successes = sum(1 for p in paid if p)
    assert 0 < successes < 50
    assert sum(paid) <= 2000 + 27 * successes
    final = await balance(dom, c)
    assert final == 2000 - sum(paid) + 27 * successes
    assert 0 <= final < 100  # the tills stopped only when the points ran out
    await assert_invariants(dom)


async def test_expiry_writes_off_and_is_idempotent(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)  # 300 welcome points, valid 365 days
    await owner_certificate(dom, c, 500, Decimal(20), 15)
    clock.advance(timedelta(days=16))
    assert await expire_lots(dom) == (1, 500)
    assert await expire_lots(dom) == (0, 0)
    clock.advance(timedelta(days=365))
    assert await expire_lots(dom) == (1, 300)
    assert await balance(dom, c) == 0
    await assert_invariants(dom)


async def test_checker_finds_a_broken_lot(dom: Domain) -> None:
    c = await register(dom)
    async with dom.db.transaction() as s:
        await s.execute(update(Lot).where(Lot.customer_id == c).values(remaining=299))
    problems = await check_ledger(dom.db)
    assert problems and "remaining = amount + its entries" in str(problems[0])


OPS = st.lists(
    st.tuples(
        st.sampled_from(["register", "purchase", "purchase_max", "refund", "partial_refund",
                         "adjust_plus", "adjust_minus", "certificate", "advance", "expire", "erase"]),
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=1, max_value=3_000_000),
    ),
    min_size=5, max_size=30,
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops=OPS)
def test_random_operation_sequences_keep_invariants(ops, db_factory) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_run_sequence(ops, db_factory))


async def _run_sequence(ops, db_factory) -> None:  # type: ignore[no-untyped-def]
    dom, cleanup = await db_factory()
    try:
        customers: list[int] = []
        purchases: list[int] = []
        for op, n, amount in ops:
            try:
                if op == "register" or not customers:
                    ref = await referral_code_of(dom, customers[n % len(customers)]) if customers else None
                    customers.append(await register(dom, referral_code=ref))
                    continue
                c = customers[n % len(customers)]
                if op in ("purchase", "purchase_max"):
                    r = await commit_purchase(dom, PurchaseRequest(
                        customer_id=c, amount_kopecks=amount, phone_confirmed=True,
                        points=None if op == "purchase_max" else n % 200))
                    purchases.append(r.operation_id)
                elif op == "refund" and purchases:
                    await refund_purchase(dom, purchases[n % len(purchases)], override_window=True)
                elif op == "partial_refund" and purchases:
                    await refund_purchase(dom, purchases[n % len(purchases)], amount // 3 or 1,
                                          override_window=True)
                elif op == "adjust_plus":
                    await adjust_points(dom, c, n + 1, "prop")
                elif op == "adjust_minus":
                    await adjust_points(dom, c, -(n % 500 + 1), "prop")
                elif op == "certificate":
                    await owner_certificate(dom, c, n + 1, Decimal(n % 100 + 1), n % 30 + 1)
                elif op == "advance":
                    dom.clock.advance(timedelta(days=n % 60))  # type: ignore[attr-defined]
                elif op == "expire":
                    await expire_lots(dom)
                elif op == "erase":
                    await erase_customer(dom, c)
            except DomainError:
                pass  # refused operations must leave everything as it was
            problems = await check_ledger(dom.db)
            assert not problems, f"after {op}: " + "\n".join(map(str, problems))
            for cid in customers:
                assert await balance(dom, cid) >= 0
    finally:
        await cleanup()


@pytest.fixture
def db_factory(backend, tmp_path_factory, case_a):  # type: ignore[no-untyped-def]
    """Hypothesis runs many examples per test: each gets a fresh database."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from models.kernel.clock import ManualClock
    from models.program.store import ensure_program
    from tests.conftest import drop_schema, make_database

    async def factory():  # type: ignore[no-untyped-def]
        database, schema = await make_database(backend, tmp_path_factory.mktemp("prop"))
        await database.create_all()
        dom = Domain(db=database, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)),
                     tz=ZoneInfo("Europe/Moscow"))
        await ensure_program(dom, case_a)

        async def cleanup() -> None:
            await database.dispose()
            if schema:
                await drop_schema(schema)

        return dom, cleanup

    return factory


async def test_expiry_waits_for_a_till_debiting_the_lot(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    """A till that debits a lot moments before it expires, while the expiry job runs, must not
    leave the lot written off for more than it held (PostgreSQL: the job reads the lots'
    remainders after locking them, not from a snapshot taken before the till committed)."""
    if dom.db.is_sqlite:
        pytest.skip("SQLite writers hold the database's write lock for the whole transaction")
    c = await register(dom)  # 300 welcome points
    async with dom.db.reading() as s:
        lot_id = (await s.execute(select(Lot.id).where(Lot.customer_id == c))).scalar_one()
    async with dom.db.transaction() as s:
        await s.execute(update(Lot).where(Lot.id == lot_id).values(expires_at=clock.now() + timedelta(seconds=1)))
    till = dom.db.sessions()
    try:
        await till.begin()
        await lock_customer(till, c)
        op = Operation(kind=OperationKind.MANUAL, customer_id=c, program_version=1, created_at=clock.now(),
                       points_delta=-30, channel="test", comment="till debit")
        till.add(op)
        await till.flush()
        await ledger.debit(till, lot_id, c, 30, op.id, EntryKind.ADJUST, clock.now())
        await till.flush()
        job = asyncio.create_task(expire_lots(dom, clock.now() + timedelta(seconds=2)))
        async with dom.db.engine.connect() as probe:  # until the job waits for the till's row lock
            for _ in range(500):
                waiting = (await probe.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"))).scalar()
                await probe.rollback()
                if waiting or job.done():
                    break
                await asyncio.sleep(0.01)
        await till.commit()
    finally:
        await till.close()
    assert await job == (1, 270)
    assert await balance(dom, c) == 0
    await assert_invariants(dom)
