"""The partner API's refund of a purchase whose customer has since erased their data
(issue 14 §3, docs/API.md "Refunds after erasure"): the money is refunded, no points go back
to the anonymised account, and the refund says how many were not returned."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from models.customers.accounts import erase_customer
from models.kernel.context import Domain
from models.kernel.tables import EntryKind, LedgerEntry, Operation, OperationKind
from tests.api.conftest import BASE
from tests.api.test_contract import spec_purchase
from tests.helpers import assert_invariants, balance, fresh_code, register


async def test_api_refund_after_erasure_gives_no_points_back(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    r = await client.post(f"{BASE}/operations", json=spec_purchase(await fresh_code(dom, c), 1000, 900, 100))
    assert r.status_code == 200, r.text
    purchase_id = r.json()["id"]
    await erase_customer(dom, c)

    r = await client.post(f"{BASE}/operations/{purchase_id}/refund", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "REVERSAL" and body["total"] == -1000 and body["cash"] == -900
    assert body["points"] == 0  # nothing returned to the anonymised account
    async with dom.db.reading() as s:
        returns = list((await s.execute(select(LedgerEntry.id).where(LedgerEntry.kind == EntryKind.RETURN))).all())
        comment = (await s.execute(
            select(Operation.comment).where(Operation.kind == OperationKind.REFUND))).scalar_one()
    assert not returns
    assert comment == "customer erased their data: 100 points not returned"
    assert await balance(dom, c) == 0
    await assert_invariants(dom)
