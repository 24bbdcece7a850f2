"""Contract tests of the UDS-compatible partner API: every endpoint and error code we
implement, with the shapes of `uds-partner-api-v2.yaml` (bodies taken from its examples,
figures adapted to case A: tier 1 = 3% cashback, 10% cap, 300 welcome points)."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from models.kernel.context import Domain
from models.kernel.tables import Customer, Operation, OperationKind, OutboxMessage, Staff
from models.partner.api_keys import revoke_api_key
from models.program.store import current_program, set_program
from tests.api.conftest import BASE, NoAuth, error_code
from tests.helpers import assert_invariants, balance, fresh_code, referral_code_of, register


def spec_purchase(code: str, total: float, cash: float, points: float, **extra: object) -> dict[str, object]:
    """The request example of `POST /operations` in the spec."""
    body: dict[str, object] = {
        "code": code,
        "nonce": str(uuid.uuid4()),
        "cashier": {"externalId": "kassa-1", "name": "Мария"},
        "receipt": {"total": total, "cash": cash, "points": points, "number": "A-17"},
    }
    body.update(extra)
    return body


# --- Headers and authentication --------------------------------------------------------------

async def test_settings_describes_the_program(client: httpx.AsyncClient, api_key) -> None:  # type: ignore[no-untyped-def]
    origin = str(uuid.uuid4())
    r = await client.get(f"{BASE}/settings", headers={"X-Origin-Request-Id": origin,
                                                      "X-Timestamp": "2026-03-02T09:00:00Z"})
    assert r.status_code == 200
    assert r.headers["X-Origin-Request-Id"] == origin
    assert uuid.UUID(r.headers["X-Request-Id"])
    assert r.headers["X-Timestamp"].startswith("2026-03-02T09:00:00")
    body = r.json()
    assert body["id"] == api_key.company_id
    assert body["baseDiscountPolicy"] == "CHARGE_SCORES"
    assert body["purchaseByPhone"] is True and body["usePointsByPhone"] is True
    lp = body["loyaltyProgramSettings"]
    assert [t["rate"] for t in lp["membershipTiers"]] == [3, 5, 7, 9, 10]
    assert [t["maxScoresDiscount"] for t in lp["membershipTiers"]] == [10, 15, 20, 25, 30]
    assert lp["membershipTiers"][1]["conditions"] == {"totalCashSpent": {"target": 50000}}
    assert lp["baseMembershipTier"]["name"] == "Статус 1"
    assert lp["referralCashbackRates"] == [5, 1, 1]
    assert lp["receiptLimit"] == 1_000_000


async def test_wrong_or_revoked_credentials_get_401(client: httpx.AsyncClient, dom: Domain, api_key) -> None:  # type: ignore[no-untyped-def]
    bearer = {"Authorization": "Bearer x"}
    for auth in [(str(api_key.company_id), "nope"), ("1", api_key.secret), ("x", api_key.secret), ("", "")]:
        r = await client.get(f"{BASE}/settings", auth=auth)
        assert r.status_code == 401
        assert error_code(r) == "unauthorized"
    no_colon = base64.b64encode(f"{api_key.company_id}{api_key.secret}".encode()).decode()
    not_ascii = base64.b64encode(f"{api_key.company_id}:ключ".encode()).decode()
    for headers in ({}, bearer, {"Authorization": "Basic !!!"}, {"Authorization": "Basic"},
                    {"Authorization": f"Basic {no_colon}"}, {"Authorization": f"Basic {not_ascii}"},
                    {"Authorization": "Basic " + "QQ" * 5000}):
        r = await client.get(f"{BASE}/settings", headers=headers, auth=NoAuth())
        assert r.status_code == 401
        assert error_code(r) == "unauthorized"
        assert r.headers["WWW-Authenticate"] == 'Basic realm="partner"'
        assert r.headers["X-Request-Id"]
    await revoke_api_key(dom, "till-1")
    r = await client.get(f"{BASE}/settings")
    assert r.status_code == 401 and error_code(r) == "unauthorized"


async def test_unknown_path_is_not_found(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{BASE}/goods")
    assert r.status_code == 404 and error_code(r) == "notFound"


async def test_internal_error_carries_the_request_id(client: httpx.AsyncClient, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    """UDS "Making Requests": every answer has a fresh X-Request-Id (and echoes X-Origin-Request-Id),
    a 500 included, since that is the one a till's log most needs; the server logs the same id."""
    from models import partner  # the package the routes call

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(partner, "settings_view", broken)
    origin = str(uuid.uuid4())
    with caplog.at_level("ERROR"):
        r = await client.get(f"{BASE}/settings", headers={"X-Origin-Request-Id": origin})
    assert r.status_code == 500 and error_code(r) == "internalError"
    request_id = r.headers.get("X-Request-Id")
    assert request_id and uuid.UUID(request_id)
    assert r.headers["X-Origin-Request-Id"] == origin and r.headers["X-Timestamp"]
    assert request_id in caplog.text and "boom" in caplog.text


# --- Customers --------------------------------------------------------------------------------

async def test_find_by_code_with_total_quotes_the_purchase(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom, name="Анна")
    code = await fresh_code(dom, c)
    r = await client.get(f"{BASE}/customers/find", params={"code": code, "total": 1000})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "PURCHASE" and body["code"] is None
    user = body["user"]
    assert user["displayName"] == "Анна" and user["tags"] == []
    assert user["uid"] == await referral_code_of(dom, c)
    assert user["participant"]["id"] == c
    assert user["participant"]["points"] == 300
    assert user["participant"]["membershipTier"]["rate"] == 3
    purchase = body["purchase"]
    assert purchase["maxPoints"] == 100  # floor(1000 × 10%)
    assert purchase["points"] == 100 and purchase["cash"] == 900.0
    assert purchase["cashBack"] == 27  # floor(900 × 3%)
    assert purchase["maxScoresDiscount"] == 10
    # Finding does not use the code up.
    r = await client.get(f"{BASE}/customers/find", params={"code": code})
    assert r.status_code == 200 and r.json()["purchase"] is None


async def test_find_by_phone_and_uid(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom, phone="+79160000001")
    uid = await referral_code_of(dom, c)
    r = await client.get(f"{BASE}/customers/find", params={"phone": "+79160000001", "total": 1000})
    assert r.status_code == 200
    assert r.json()["user"]["participant"]["id"] == c
    assert r.json()["purchase"]["maxPoints"] == 100  # the program allows redemption by phone
    r = await client.get(f"{BASE}/customers/find", params={"uid": uid, "total": 1000})
    assert r.status_code == 200
    assert r.json()["purchase"]["maxPoints"] == 0  # never by uid
    assert r.json()["purchase"]["cashBack"] == 30


async def test_find_errors(client: httpx.AsyncClient, dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    r = await client.get(f"{BASE}/customers/find", params={"code": "000000"})
    assert r.status_code == 404 and error_code(r) == "notFound"
    r = await client.get(f"{BASE}/customers/find", params={"phone": "+79169999999"})
    assert r.status_code == 404 and error_code(r) == "notFound"
    r = await client.get(f"{BASE}/customers/find", params={"uid": "nobody"})
    assert r.status_code == 404 and error_code(r) == "notFound"
    r = await client.get(f"{BASE}/customers/find")
    assert r.status_code == 400 and error_code(r) == "badRequest"
    r = await client.get(f"{BASE}/customers/find", params={"phone": "call me"})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    code = await fresh_code(dom, c)
    clock.advance(timedelta(minutes=46))
    r = await client.get(f"{BASE}/customers/find", params={"code": code})
    assert r.status_code == 404 and error_code(r) == "notFound"


async def test_exchange_code_gives_a_long_term_code(client: httpx.AsyncClient, dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    code = await fresh_code(dom, c)
    r = await client.get(f"{BASE}/customers/find", params={"code": code, "exchangeCode": "true"})
    new = r.json()["code"]
    assert len(new) == 6 and new != code
    assert (await client.get(f"{BASE}/customers/find", params={"code": code})).status_code == 404
    clock.advance(timedelta(hours=23))
    r = await client.post(f"{BASE}/operations", json=spec_purchase(new, 1000, 900, 100))
    assert r.status_code == 200, r.text


async def test_customers_paging_and_detail(client: httpx.AsyncClient, dom: Domain) -> None:
    ids = [await register(dom) for _ in range(3)]
    r = await client.get(f"{BASE}/customers", params={"max": 2})
    assert [row["participant"]["id"] for row in r.json()["rows"]] == ids[:2]
    r = await client.get(f"{BASE}/customers", params={"max": 2, "offset": 2})
    assert [row["participant"]["id"] for row in r.json()["rows"]] == ids[2:]
    r = await client.get(f"{BASE}/customers", params={"max": 51})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    r = await client.get(f"{BASE}/customers/{ids[1]}")
    assert r.status_code == 200 and r.json()["participant"]["id"] == ids[1]
    assert r.json()["tags"] == []
    r = await client.get(f"{BASE}/customers/999999")
    assert r.status_code == 404 and error_code(r) == "notFound"


# --- Calculation ------------------------------------------------------------------------------

async def test_calc(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    code = await fresh_code(dom, c)
    r = await client.post(f"{BASE}/operations/calc", json={"code": code, "receipt": {"total": 1000, "points": 50}})
    assert r.status_code == 200, r.text
    p = r.json()["purchase"]
    assert (p["points"], p["cash"], p["cashBack"], p["maxPoints"]) == (50, 950.0, 28, 100)
    assert p["pointsPercent"] == 5.0 and p["netDiscount"] == 50.0
    assert r.json()["user"]["participant"]["id"] == c
    r = await client.post(f"{BASE}/operations/calc", json={"code": code, "receipt": {"total": 1000, "points": 101}})
    assert r.status_code == 400 and error_code(r) == "discountLimitExceed"
    r = await client.post(f"{BASE}/operations/calc", json={"code": code, "receipt": {"total": 10000, "points": 301}})
    assert r.status_code == 400 and error_code(r) == "insufficientFunds"
    uid = await referral_code_of(dom, c)
    r = await client.post(f"{BASE}/operations/calc",
                          json={"participant": {"uid": uid}, "receipt": {"total": 1000, "points": 1}})
    assert r.status_code == 400 and error_code(r) == "withdrawNotPermitted"
    r = await client.post(f"{BASE}/operations/calc", json={"code": code, "receipt": {"total": 1000}})
    assert r.json()["purchase"]["points"] == 100  # as much as allowed by default
    r = await client.post(f"{BASE}/operations/calc", json={"code": code})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    assert any(e["field"] == "receipt" for e in r.json()["errors"])


# --- Purchases --------------------------------------------------------------------------------

async def test_purchase_by_code(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom, name="Анна")
    code = await fresh_code(dom, c)
    r = await client.post(f"{BASE}/operations", json=spec_purchase(code, 1000.0, 950.0, 50.0))
    assert r.status_code == 200, r.text
    op = r.json()
    assert op["action"] == "PURCHASE" and op["state"] == "NORMAL"
    assert (op["total"], op["cash"], op["points"], op["certificatePoints"]) == (1000.0, 950.0, -50, 0)
    assert op["customer"]["id"] == c and op["customer"]["displayName"] == "Анна"
    assert op["cashier"]["displayName"] == "Мария"
    assert op["receiptNumber"] == "A-17" and op["origin"] is None and op["dateCreated"].endswith("Z")
    assert await balance(dom, c) == 300 - 50 + 28
    async with dom.db.reading() as s:
        row = await s.get(Operation, op["id"])
        assert row is not None and row.channel == "api" and row.found_by == "code"
    # The code is used up.
    r = await client.post(f"{BASE}/operations", json=spec_purchase(code, 1000.0, 1000.0, 0))
    assert r.status_code == 404 and error_code(r) == "notFound"
    await assert_invariants(dom)


async def test_purchase_errors(client: httpx.AsyncClient, dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    code = await fresh_code(dom, c)
    cases = [
        (spec_purchase(code, 1000, 900, 50), 400, "invalidChecksum"),
        (spec_purchase(code, 1000, 890, 110), 400, "discountLimitExceed"),
        (spec_purchase(code, 10000, 9690, 310), 400, "insufficientFunds"),
        (spec_purchase("123", 1000, 1000, 0), 404, "notFound"),
        ({"code": code, "receipt": {"total": 1000, "cash": 1000}}, 400, "badRequest"),
        ({"code": code, "receipt": {"total": -5, "cash": -5, "points": 0}}, 400, "badRequest"),
        ({"code": code, "receipt": {"total": "abc", "cash": 1, "points": 0}}, 400, "badRequest"),
        ({"receipt": {"total": 10, "cash": 10, "points": 0}}, 400, "badRequest"),
        (spec_purchase(code, 0, 0, 0), 400, "badRequest"),
    ]
    for body, status, expected in cases:
        r = await client.post(f"{BASE}/operations", json=body)
        assert (r.status_code, error_code(r)) == (status, expected), (body, r.text)
    uid = await referral_code_of(dom, c)
    body = spec_purchase(code, 1000, 950, 50)
    del body["code"]
    body["participant"] = {"uid": uid}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 400 and error_code(r) == "withdrawNotPermitted"
    # Nothing above changed anything; the code still works.
    assert await balance(dom, c) == 300
    clock.advance(timedelta(minutes=46))
    r = await client.post(f"{BASE}/operations", json=spec_purchase(code, 1000, 1000, 0))
    assert r.status_code == 404 and error_code(r) == "notFound"
    async with dom.db.transaction() as s:
        await s.execute(update(Customer).where(Customer.id == c).values(blocked=True))
    code = await fresh_code(dom, c)
    r = await client.post(f"{BASE}/operations", json=spec_purchase(code, 1000, 1000, 0))
    assert r.status_code == 400 and error_code(r) == "participantIsBlocked"
    await assert_invariants(dom)


async def test_purchase_by_phone_and_uid(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom, phone="+79160000002")
    uid = await referral_code_of(dom, c)
    body = spec_purchase("", 1000, 950, 50)
    del body["code"]
    body["participant"] = {"phone": "+79160000002"}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["points"] == -50
    body = spec_purchase("", 1000, 1000, 0)
    del body["code"]
    body["participant"] = {"uid": uid}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 200, r.text
    assert await balance(dom, c) == 300 - 50 + 28 + 30
    # A phone nobody registered: accrual creates a phone-only customer.
    body = spec_purchase("", 500, 500, 0)
    del body["code"]
    body["participant"] = {"phone": "8 (916) 000-00-03"}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 200, r.text
    async with dom.db.reading() as s:
        new = (await s.execute(select(Customer).where(Customer.phone == "+79160000003"))).scalar_one()
    assert r.json()["customer"]["id"] == new.id
    assert await balance(dom, new.id) == 15


async def test_refused_purchase_by_a_new_phone_creates_nobody(client: httpx.AsyncClient, dom: Domain) -> None:
    """A refused request changes nothing: paying with points by a phone nobody registered is
    refused before the phone-only customer would be created (and attributed to the cashier)."""
    async with dom.db.reading() as s:
        _, program = await current_program(s)
    body = {"participant": {"phone": "+79160000005"}, "cashier": {"externalId": "kassa-1"},
            "receipt": {"total": 1000, "cash": 950, "points": 50}}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 400 and error_code(r) == "insufficientFunds"
    strict = program.model_copy(update={"limits": program.limits.model_copy(update={"redeem_by_phone": False})})
    await set_program(dom, strict, None, "no redemption by phone")
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 400 and error_code(r) == "withdrawNotPermitted"
    async with dom.db.reading() as s:
        assert (await s.execute(select(Customer).where(Customer.phone == "+79160000005"))).first() is None
    body["receipt"] = {"total": 1000, "cash": 1000, "points": 0}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 200, r.text  # accrual still creates the customer


async def test_phone_redemption_follows_the_program(client: httpx.AsyncClient, dom: Domain) -> None:
    await register(dom, phone="+79160000004")
    async with dom.db.reading() as s:
        _, program = await current_program(s)
    strict = program.model_copy(update={"limits": program.limits.model_copy(update={"redeem_by_phone": False})})
    await set_program(dom, strict, None, "no redemption by phone")
    r = await client.get(f"{BASE}/settings")
    assert r.json()["usePointsByPhone"] is False
    body = {"participant": {"phone": "+79160000004"}, "receipt": {"total": 1000, "cash": 950, "points": 50}}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 400 and error_code(r) == "withdrawNotPermitted"
    body["receipt"] = {"total": 1000, "cash": 1000, "points": 0}
    r = await client.post(f"{BASE}/operations", json=body)
    assert r.status_code == 200  # accrual by phone is always allowed


async def test_excluded_parts_and_rounding(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    code = await fresh_code(dom, c)
    receipt = {"total": 1000, "skipLoyaltyTotal": 200, "unredeemableTotal": 300}
    r = await client.post(f"{BASE}/operations/calc", json={"code": code, "receipt": receipt})
    p = r.json()["purchase"]
    assert p["maxPoints"] == 50  # 10% of the 500 ₽ points may pay
    assert p["cashBack"] == 22  # floor((800 − 50) × 3%)
    assert p["skipLoyaltyTotal"] == 200.0 and p["unredeemableTotal"] == 300.0
    r = await client.post(f"{BASE}/operations", json={"code": code, "receipt": {**receipt, "cash": 950, "points": 50}})
    assert r.status_code == 200, r.text
    assert await balance(dom, c) == 300 - 50 + 22
    # Money is rounded half-up to kopecks, points down to whole points.
    code = await fresh_code(dom, c)
    r = await client.post(f"{BASE}/operations",
                          json={"code": code, "receipt": {"total": 100.005, "cash": 90.005, "points": 10.9}})
    assert r.status_code == 200, r.text
    assert (r.json()["total"], r.json()["cash"], r.json()["points"]) == (100.01, 90.01, -10)


async def test_cashier_is_created_once(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    ids = []
    for _ in range(2):
        code = await fresh_code(dom, c)
        r = await client.post(f"{BASE}/operations", json=spec_purchase(code, 100, 100, 0))
        ids.append(r.json()["cashier"]["id"])
    assert ids[0] == ids[1]
    async with dom.db.reading() as s:
        staff = (await s.execute(select(Staff).where(Staff.external_id == "kassa-1"))).scalar_one()
    assert staff.id == ids[0] and staff.telegram_id is None
    r = await client.post(f"{BASE}/operations", json=spec_purchase(await fresh_code(dom, c), 100, 100, 0,
                                                                  cashier={"externalId": "кириллица"}))
    assert r.status_code == 400 and error_code(r) == "badRequest"
    # The integration guide: the id "can be id or phone number of the employee in the POS system".
    r = await client.post(f"{BASE}/operations", json=spec_purchase(await fresh_code(dom, c), 100, 100, 0,
                                                                  cashier={"externalId": "+79001234567"}))
    assert r.status_code == 200, r.text
    assert r.json()["cashier"]["displayName"] == "+79001234567"


async def test_nonce_replays_the_first_result(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    body = spec_purchase(await fresh_code(dom, c), 1000, 950, 50)
    first = await client.post(f"{BASE}/operations", json=body)
    again = await client.post(f"{BASE}/operations", json=body)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert await balance(dom, c) == 300 - 50 + 28


async def test_control_characters_are_refused_not_stored(client: httpx.AsyncClient, dom: Domain) -> None:
    """NUL cannot be stored in PostgreSQL text: a nonce, a name or a lookup carrying a control
    character is a 400 badRequest on both databases, never a 500, and nothing is written."""
    c = await register(dom)
    code = await fresh_code(dom, c)
    bodies = [
        {**spec_purchase(code, 1000, 950, 50), "nonce": "till-1\x00"},
        {**spec_purchase(code, 1000, 1000, 0), "cashier": {"externalId": "k1", "name": "Anna\x07"}},
        {**spec_purchase(code, 1000, 1000, 0), "receipt": {"total": 1000, "cash": 1000, "points": 0,
                                                             "number": "\x1b[2J"}},
    ]
    for body in bodies:
        r = await client.post(f"{BASE}/operations", json=body)
        assert (r.status_code, error_code(r)) == (400, "badRequest"), (body, r.text)
    for params in ({"uid": "ab\x00c"}, {"phone": "+7916\x00"}, {"code": "12\x0034"}):
        r = await client.get(f"{BASE}/customers/find", params=params)
        assert (r.status_code, error_code(r)) == (400, "badRequest"), (params, r.text)
    r = await client.post("/api/v1/sales", json={"total": 100, "nonce": "\x00"})
    assert r.status_code == 400, r.text
    assert await balance(dom, c) == 300
    async with dom.db.reading() as s:
        assert (await s.execute(select(func.count()).select_from(Operation).where(
            Operation.kind == OperationKind.PURCHASE))).scalar() == 0
    r = await client.post(f"{BASE}/operations", json={**spec_purchase(code, 1000, 950, 50), "nonce": "till-1"})
    assert r.status_code == 200, r.text  # the same code still works


# --- Listing, refunds, rewards ------------------------------------------------------------------

async def test_operations_cursor_paging(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    made = []
    for total in (100, 200, 300):
        r = await client.post(f"{BASE}/operations", json=spec_purchase(await fresh_code(dom, c), total, total, 0))
        made.append(r.json()["id"])
    r = await client.get(f"{BASE}/operations", params={"max": 2})
    page = r.json()
    assert [row["id"] for row in page["rows"]] == made[::-1][:2]
    assert page["total"] == 0 and page["cursor"]
    r = await client.get(f"{BASE}/operations", params={"max": 2, "cursor": page["cursor"]})
    assert [row["id"] for row in r.json()["rows"]] == made[:1]
    assert r.json()["cursor"] is None
    r = await client.get(f"{BASE}/operations", params={"cursor": "garbage!"})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    r = await client.get(f"{BASE}/operations/{made[1]}")
    assert r.status_code == 200 and r.json()["total"] == 200.0
    r = await client.get(f"{BASE}/operations/999999")
    assert r.status_code == 404 and error_code(r) == "notFound"


async def test_partial_and_full_refund(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    r = await client.post(f"{BASE}/operations", json=spec_purchase(await fresh_code(dom, c), 1000, 900, 100))
    op_id = r.json()["id"]
    assert await balance(dom, c) == 300 - 100 + 27
    r = await client.post(f"{BASE}/operations/{op_id}/refund", json={"partialAmount": 400.0})
    assert r.status_code == 200, r.text
    refund = r.json()
    assert refund["state"] == "REVERSAL" and refund["origin"] == {"id": op_id}
    assert refund["total"] == -400.0 and refund["points"] == 40
    assert (await client.get(f"{BASE}/operations/{op_id}")).json()["state"] == "NORMAL"
    r = await client.post(f"{BASE}/operations/{op_id}/refund", json={"partialAmount": 700})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    r = await client.post(f"{BASE}/operations/{op_id}/refund", json={})
    assert r.status_code == 200 and r.json()["total"] == -600.0
    assert (await client.get(f"{BASE}/operations/{op_id}")).json()["state"] == "CANCELED"
    assert await balance(dom, c) == 300
    r = await client.post(f"{BASE}/operations/{op_id}/refund", json={})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    r = await client.post(f"{BASE}/operations/{refund['id']}/refund", json={})
    assert r.status_code == 404 and error_code(r) == "notFound"
    r = await client.post(f"{BASE}/operations/999999/refund")
    assert r.status_code == 404 and error_code(r) == "notFound"
    await assert_invariants(dom)


async def test_refund_window(client: httpx.AsyncClient, dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    r = await client.post(f"{BASE}/operations", json=spec_purchase(await fresh_code(dom, c), 1000, 1000, 0))
    clock.advance(timedelta(days=15))
    r = await client.post(f"{BASE}/operations/{r.json()['id']}/refund", json={"partialAmount": None})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    assert r.json()["errors"][0]["errorCode"] == "refund_window_closed"


async def test_reward_several_customers(client: httpx.AsyncClient, dom: Domain) -> None:
    a, b = await register(dom), await register(dom)
    body = {"points": 100.7, "comment": "Спасибо!", "participants": [str(a), str(b), "999999", "abc"]}
    request_id = str(uuid.uuid4())
    r = await client.post(f"{BASE}/operations/reward", json=body, headers={"X-Origin-Request-Id": request_id})
    assert r.status_code == 202 and r.json() == {"accepted": "2"}
    assert (await balance(dom, a), await balance(dom, b)) == (400, 400)
    # The same request again (a retry) rewards nobody twice.
    r = await client.post(f"{BASE}/operations/reward", json=body, headers={"X-Origin-Request-Id": request_id})
    assert r.json() == {"accepted": "2"}
    assert await balance(dom, a) == 400
    async with dom.db.reading() as s:
        before = (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar()
    r = await client.post(f"{BASE}/operations/reward", json={"points": 5, "participants": [str(a)], "silent": True})
    assert r.json() == {"accepted": "1"}
    async with dom.db.reading() as s:
        assert (await s.execute(select(func.count()).select_from(OutboxMessage))).scalar() == before
        kinds = set((await s.execute(select(Operation.kind).where(Operation.channel == "api"))).scalars())
    assert kinds == {OperationKind.REWARD}
    r = await client.post(f"{BASE}/operations/reward", json={"points": 0.5, "participants": [str(a)]})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    r = await client.post(f"{BASE}/operations/reward", json={"points": 5})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    await assert_invariants(dom)


async def test_ids_beyond_int64_are_bad_requests(client: httpx.AsyncClient, dom: Domain) -> None:
    """Ids are int64 (spec `components/parameters/id`): a larger number is a form error, not a 500
    from the database driver, in paths, in `participants` and in a forged cursor."""
    import base64

    too_big = 2**63
    for r in (await client.get(f"{BASE}/customers/{too_big}"),
              await client.get(f"{BASE}/operations/{too_big}"),
              await client.post(f"{BASE}/operations/{too_big}/refund", json={})):
        assert (r.status_code, error_code(r)) == (400, "badRequest"), r.text
    cursor = base64.urlsafe_b64encode(f"op:{too_big}".encode()).decode().rstrip("=")
    r = await client.get(f"{BASE}/operations", params={"cursor": cursor})
    assert (r.status_code, error_code(r)) == (400, "badRequest"), r.text
    a = await register(dom)
    r = await client.post(f"{BASE}/operations/reward", json={"points": 5, "participants": [str(too_big), str(a)]})
    assert r.status_code == 202 and r.json() == {"accepted": "1"}, r.text  # the unknown id is skipped
    assert await balance(dom, a) == 305


# --- Our additions, health, metrics -----------------------------------------------------------

async def test_sale_without_card(client: httpx.AsyncClient, dom: Domain) -> None:
    body = {"total": 450.5, "number": "B-1", "nonce": "sale-1", "cashier": {"externalId": "kassa-2"}}
    first = await client.post("/api/v1/sales", json=body)
    again = await client.post("/api/v1/sales", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["id"] == again.json()["id"] and first.json()["total"] == 450.5
    async with dom.db.reading() as s:
        op = await s.get(Operation, first.json()["id"])
    assert op is not None and op.kind is OperationKind.SALE_NO_CARD and op.amount_kopecks == 45050
    r = await client.post("/api/v1/sales", json={"total": 0})
    assert r.status_code == 400 and error_code(r) == "badRequest"
    r = await client.post("/api/v1/sales", json={"total": 10}, auth=("1", "x"))
    assert r.status_code == 401


async def test_health_metrics_and_docs(client: httpx.AsyncClient, dom: Domain) -> None:
    c = await register(dom)
    await client.post(f"{BASE}/operations", json=spec_purchase(await fresh_code(dom, c), 100, 100, 0))
    r = await client.get("/healthz", auth=NoAuth())
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = await client.get("/metrics", auth=NoAuth())
    assert r.status_code == 200
    text = r.text
    assert 'loyalty_operations_total{channel="api",kind="purchase"}' in text
    assert "loyalty_outbox_pending" in text and "loyalty_telegram_429_total" in text
    assert "loyalty_job_runs_total" in text and "loyalty_sender_rate" in text
    assert 'route="/partner/v2/operations"' in text
    r = await client.get("/openapi.json", auth=NoAuth())
    paths = r.json()["paths"]
    for path in ("/settings", "/customers", "/customers/find", "/customers/{id}", "/operations/calc",
                 "/operations", "/operations/{id}", "/operations/{id}/refund", "/operations/reward"):
        assert f"{BASE}{path}" in paths
    assert "/api/v1/sales" in paths
    assert (await client.get("/docs", auth=NoAuth())).status_code == 200


async def test_erased_customers_are_not_found(client: httpx.AsyncClient, dom: Domain) -> None:
    from models.customers.accounts import erase_customer

    c = await register(dom, phone="+79160000009")
    uid = await referral_code_of(dom, c)
    await erase_customer(dom, c)
    for r in (await client.get(f"{BASE}/customers/{c}"),
              await client.get(f"{BASE}/customers/find", params={"uid": uid})):
        assert r.status_code == 404 and error_code(r) == "notFound"
    r = await client.get(f"{BASE}/customers")
    assert c not in [row["participant"]["id"] for row in r.json()["rows"]]
