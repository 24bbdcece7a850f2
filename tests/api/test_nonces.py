"""Issue 14 §1, defence in depth: a nonce is one request (as UDS treats it). The same nonce
with another body is `400 nonceReused`, never the first operation's receipt, and changes
nothing — not even a new phone-only customer."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from models.kernel.context import Domain
from models.kernel.tables import Customer, Operation, OperationKind
from tests.api.conftest import BASE, error_code
from tests.helpers import assert_invariants, balance, fresh_code, register


async def _count(dom: Domain, what) -> int:  # type: ignore[no-untyped-def]
    async with dom.db.reading() as s:
        return int((await s.execute(select(func.count()).select_from(Customer) if what is Customer else
                                    select(func.count()).select_from(Operation)
                                    .where(Operation.kind == OperationKind.PURCHASE))).scalar() or 0)


async def test_the_same_nonce_with_another_body_is_refused(client: httpx.AsyncClient, dom: Domain) -> None:
    anna = await register(dom)
    body = {"code": await fresh_code(dom, anna), "nonce": "n-7",
            "receipt": {"total": 1000, "cash": 950, "points": 50}}
    first = await client.post(f"{BASE}/operations", json=body)
    assert first.status_code == 200, first.text
    again = await client.post(f"{BASE}/operations", json=body)  # the till retries: the same answer
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

    other_amount = {**body, "receipt": {"total": 2000, "cash": 1950, "points": 50}}
    other_customer = {"participant": {"phone": "+79165551234"}, "nonce": "n-7",
                      "receipt": {"total": 1000, "cash": 1000, "points": 0}}
    customers = await _count(dom, Customer)
    for refused in (other_amount, other_customer):
        answer = await client.post(f"{BASE}/operations", json=refused)
        assert answer.status_code == 400, answer.text
        assert error_code(answer) == "nonceReused"
        assert "id" not in answer.json()
    # Nothing changed: one purchase, no customer for the phone the second body named.
    assert await _count(dom, Operation) == 1
    assert await _count(dom, Customer) == customers
    assert await balance(dom, anna) == 300 - 50 + 28
    await assert_invariants(dom)


async def test_a_new_phone_replayed_is_one_customer_and_one_purchase(client: httpx.AsyncClient,
                                                                     dom: Domain) -> None:
    body = {"participant": {"phone": "+79165550000"}, "nonce": "n-8",
            "receipt": {"total": 1000, "cash": 1000, "points": 0}}
    first = await client.post(f"{BASE}/operations", json=body)
    customers = await _count(dom, Customer)
    second = await client.post(f"{BASE}/operations", json=body)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert await _count(dom, Customer) == customers
    assert await _count(dom, Operation) == 1
