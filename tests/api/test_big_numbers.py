"""Points beyond a program's maximum, and balances beyond 32 bits (issue 14, section 4).

Before: a reward of 3e9 or 1e12 points was a PostgreSQL 500 (int32 overflow on the lot); two
rewards of 2^31 − 1 each fitted, but the erasure that writes off their sum in one operation did
not, so the customer could never be erased. Now a reward or an adjustment has a program maximum
(`limits.max_reward_points`, default 100,000), bigger ones are a `400 badRequest` before anybody
is rewarded, and every column that holds or sums points is 64-bit, so a program that allows huge
grants still balances and erases.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from models.customers.accounts import erase_customer
from models.kernel.context import Domain
from models.kernel.errors import InvalidAmount, InvalidProgram
from models.kernel.tables import LedgerEntry, Operation, OperationKind
from models.program.rules import Program, program_from_document
from models.program.store import set_program
from models.purchase.purchases import PurchaseRequest, adjust_points, commit_purchase
from tests.api.conftest import BASE, error_code
from tests.helpers import assert_invariants, balance, register

INT32_MAX = 2**31 - 1


def with_max_reward(program: Program, maximum: int, max_check_rub: int | None = None) -> Program:
    document = program.to_document()
    document["limits"]["max_reward_points"] = maximum
    if max_check_rub is not None:
        document["limits"]["max_check_rub"] = max_check_rub
    return program_from_document(document)


async def reward(client: httpx.AsyncClient, points: object, *customers: int) -> httpx.Response:
    return await client.post(f"{BASE}/operations/reward",
                             json={"points": points, "participants": [str(c) for c in customers]})


async def rewards_in_db(dom: Domain) -> int:
    async with dom.db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(Operation).where(
            Operation.kind == OperationKind.REWARD))).scalar() or 0)


@pytest.mark.parametrize("points", [1e12, 3e9, 100_001, "3000000000"])
async def test_a_reward_above_the_program_maximum_is_a_400_and_rewards_nobody(
        client: httpx.AsyncClient, dom: Domain, points: object) -> None:
    anna, ivan = await register(dom), await register(dom)
    before = await rewards_in_db(dom)  # the welcome points
    r = await reward(client, points, anna, ivan)
    assert r.status_code == 400, r.text
    assert error_code(r) == "badRequest"
    assert r.json()["errors"][0]["field"] == "points" and "100000" in r.json()["message"]
    assert await rewards_in_db(dom) == before
    assert await balance(dom, anna) == await balance(dom, ivan) == 300  # the welcome points only
    ok = await reward(client, 100_000, anna)  # the maximum itself is allowed
    assert ok.status_code == 202 and ok.json() == {"accepted": "1"}
    assert await balance(dom, anna) == 100_300


async def test_the_domain_refuses_an_adjustment_above_the_maximum_either_way(dom: Domain) -> None:
    anna = await register(dom)
    for delta in (100_001, -100_001, 3 * 10**9):
        with pytest.raises(InvalidAmount) as refused:
            await adjust_points(dom, anna, delta, "typo")
        assert refused.value.detail == "too_large"
    assert await balance(dom, anna) == 300


async def test_balances_beyond_32_bits_are_paid_refunded_and_erased(client: httpx.AsyncClient, dom: Domain,
                                                                    case_a: Program) -> None:
    """A program that allows huge rewards: two of 2^31 − 1 and one of 3e9, a purchase paid with
    points and refunded on top of that balance, and the erasure that writes off the rest (more
    than a 32-bit column holds) all go through and balance."""
    await set_program(dom, with_max_reward(case_a, 10**12, max_check_rub=10_000_000), None, "huge rewards")
    anna = await register(dom)
    for _ in range(2):
        r = await reward(client, INT32_MAX, anna)
        assert r.status_code == 202 and r.json() == {"accepted": "1"}, r.text
    r = await reward(client, 3e9, anna)
    assert r.status_code == 202, r.text
    expected = 300 + 2 * INT32_MAX + 3 * 10**9
    assert await balance(dom, anna) == expected
    # The biggest check a program may allow (10 million ₽); case A: point = 1 ₽, tier 1 pays 10%.
    paid = await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=10**9,
                                                      points=1_000_000, found_by="phone", phone_confirmed=True))
    assert paid.points_paid == 1_000_000
    assert paid.cashback == (10**9 - 10**8) * 3 // 100 // 100  # 3% of the money, in points
    assert paid.balance_after == expected - 1_000_000 + paid.cashback
    await assert_invariants(dom)
    refund = await client.post(f"{BASE}/operations/{paid.operation_id}/refund")  # points back, cashback taken
    assert refund.status_code == 200 and refund.json()["points"] == 1_000_000, refund.text
    left = await balance(dom, anna)
    assert left == expected > INT32_MAX
    written_off = await erase_customer(dom, anna)
    assert written_off == left
    assert await balance(dom, anna) == 0
    async with dom.db.reading() as session:
        total = (await session.execute(select(func.sum(LedgerEntry.delta)).where(
            LedgerEntry.customer_id == anna))).scalar()
        erasure = (await session.execute(select(Operation.points_delta).where(
            Operation.customer_id == anna, Operation.comment == "erased at the customer's request"))).scalar()
    assert int(total or 0) == 0 and erasure == -left
    await assert_invariants(dom)


def test_a_program_cannot_allow_checks_whose_arithmetic_would_overflow(case_a: Program) -> None:
    with pytest.raises(InvalidProgram):
        with_max_reward(case_a, 100_000, max_check_rub=10_000_001)
    with pytest.raises(InvalidProgram):
        with_max_reward(case_a, 10**12 + 1)
    assert with_max_reward(case_a, 10**12, max_check_rub=10_000_000).limits.max_check_kopecks == 10**9


async def test_two_rewards_of_int32_max_can_be_erased(dom: Domain, case_a: Program) -> None:
    """The issue's case exactly: each lot fits 32 bits, their sum (one erasure entry) does not."""
    await set_program(dom, with_max_reward(case_a, INT32_MAX), None, "int32 rewards")
    anna = await register(dom)
    await adjust_points(dom, anna, INT32_MAX, "gift", kind=OperationKind.REWARD)
    await adjust_points(dom, anna, INT32_MAX, "gift", kind=OperationKind.REWARD)
    assert await erase_customer(dom, anna) == 2 * INT32_MAX + 300
    await assert_invariants(dom)
