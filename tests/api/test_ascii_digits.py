"""The partner API reads numbers, codes, phones and ids written with the digits 0-9 only
(issue 14, section 4). Before, `"total": "１０００"` was a 1,000 ₽ purchase (pydantic's Decimal
reads any script's digits), `"participants": ["١"]` rewarded customer 1, and a phone in
Arabic-Indic digits created a phone-only customer nobody could ever match. Each is now a
`400 badRequest` that changes nothing; the same requests with ASCII digits go through."""

from __future__ import annotations

import base64

import httpx
from sqlalchemy import func, select

from models.kernel.context import Domain
from models.kernel.tables import Customer, Operation
from tests.api.conftest import BASE, error_code
from tests.helpers import assert_invariants, balance, fresh_code, register

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def fw(text: object) -> str:
    return str(text).translate(FULLWIDTH)


def ar(text: object) -> str:
    return str(text).translate(ARABIC)


async def counts(dom: Domain) -> tuple[int, int]:
    async with dom.db.reading() as session:
        return (int((await session.execute(select(func.count()).select_from(Operation))).scalar() or 0),
                int((await session.execute(select(func.count()).select_from(Customer))).scalar() or 0))


def refused(r: httpx.Response) -> None:
    assert r.status_code == 400, r.text
    assert error_code(r) == "badRequest", r.text


async def test_numbers_codes_phones_and_ids_need_the_digits_0_9(client: httpx.AsyncClient, dom: Domain) -> None:
    phone = "+79160001234"
    anna = await register(dom, phone=phone)
    code = await fresh_code(dom, anna)
    first = await client.post(f"{BASE}/operations", json={"participant": {"phone": phone},
                                                          "receipt": {"total": "100", "cash": "100", "points": 0}})
    assert first.status_code == 200, first.text
    purchase_id = first.json()["id"]
    before = await counts(dom)

    for digits in (fw, ar):
        refused(await client.post(f"{BASE}/operations", json={
            "code": code, "nonce": f"n-{digits.__name__}",
            "receipt": {"total": digits(1000), "cash": digits(1000), "points": 0}}))
        refused(await client.post(f"{BASE}/operations", json={
            "code": digits(code), "receipt": {"total": 10, "cash": 10, "points": 0}}))
        refused(await client.post(f"{BASE}/operations", json={  # a phone nobody has: nobody is created
            "participant": {"phone": digits("+79169998877")}, "receipt": {"total": 10, "cash": 10, "points": 0}}))
        refused(await client.post(f"{BASE}/operations/calc", json={
            "participant": {"phone": phone}, "receipt": {"total": digits(1000)}}))
        refused(await client.get(f"{BASE}/customers/find", params={"phone": phone, "total": digits(1000)}))
        refused(await client.get(f"{BASE}/customers/find", params={"code": digits(code)}))
        refused(await client.post(f"{BASE}/operations/{purchase_id}/refund", json={"partialAmount": digits(1)}))
        refused(await client.post(f"{BASE}/operations/reward",
                                  json={"points": digits(10), "participants": [str(anna)]}))
        refused(await client.post("/api/v1/sales", json={"total": digits(10)}))
        cursor = base64.urlsafe_b64encode(f"op:{digits(purchase_id + 1)}".encode()).decode().rstrip("=")
        refused(await client.get(f"{BASE}/operations", params={"cursor": cursor}))
        refused(await client.get(f"{BASE}/operations/{digits(purchase_id)}"))
        # An id in other digits is nobody: not customer `anna` (UDS counts the accepted ones).
        r = await client.post(f"{BASE}/operations/reward", json={"points": 10, "participants": [digits(anna)]})
        assert r.status_code == 202 and r.json() == {"accepted": "0"}, r.text
    refused(await client.post(f"{BASE}/operations", json={
        "code": code, "receipt": {"total": "1_000", "cash": "1_000", "points": 0}}))

    assert await counts(dom) == before  # nothing bought, refunded, rewarded or created
    assert await balance(dom, anna) == 300 + 3  # welcome + 3% of the first 100 ₽

    # The same requests with the digits 0-9 go through.
    r = await client.post(f"{BASE}/operations", json={"code": code, "receipt": {"total": "1000", "cash": "1000",
                                                                                  "points": 0}})
    assert r.status_code == 200 and r.json()["total"] == 1000, r.text
    r = await client.post(f"{BASE}/operations/reward", json={"points": "10", "participants": [str(anna)]})
    assert r.status_code == 202 and r.json() == {"accepted": "1"}, r.text
    assert await balance(dom, anna) == 300 + 3 + 30 + 10
    await assert_invariants(dom)
