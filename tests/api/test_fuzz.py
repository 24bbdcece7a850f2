"""Property-based API fuzz: hypothesis generates requests to every endpoint (valid ones,
near misses and garbage); none may get a 5xx, every answer is JSON with an `errorCode` when
it is an error, and the ledger invariants hold afterwards.

Hypothesis generates the request list up front (its `@given` runs synchronously); the
requests are then replayed in order against one database, so the operations build on each
other (codes used up, purchases refunded twice, nonces repeated...).
"""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from models.kernel.context import Domain
from tests.api.conftest import BASE
from tests.helpers import assert_invariants, balance, fresh_code, referral_code_of, register

CODE, UID, PHONE, OP, CUSTOMER = "<CODE>", "<UID>", "<PHONE>", "<OP>", "<CUSTOMER>"

def segment(value: object) -> str:
    """A path segment as a client would send it (placeholders stay readable)."""
    text = str(value)
    return text if text.startswith("<") else quote(text, safe="")


garbage = st.one_of(st.none(), st.text(max_size=6), st.booleans(), st.lists(st.integers(), max_size=2))
money = st.one_of(
    st.decimals(min_value=-5, max_value=20_000, places=3, allow_nan=False, allow_infinity=False).map(float),
    st.integers(min_value=0, max_value=5_000),
    st.sampled_from([0, 0.01, 100.005, 1e13, -1]),
    garbage,
)
points = st.one_of(st.integers(min_value=0, max_value=400), st.sampled_from([0.5, 10.9, -3]), garbage)
code = st.one_of(st.none(), st.just(CODE), st.just(CODE), st.text(alphabet="0123456789", max_size=7), garbage)
participant = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"uid": st.one_of(st.just(UID), garbage),
                                        "phone": st.one_of(st.just(PHONE), st.just("+79165550101"), garbage)}),
)
nonce = st.one_of(st.none(), st.sampled_from(["n1", "n2", "n3"]), st.text(max_size=130))
cashier = st.one_of(st.none(), st.fixed_dictionaries({"externalId": st.one_of(st.sampled_from(["k1", "k2"]), garbage)},
                                                     optional={"name": garbage}))


def receipt(with_cash: bool) -> st.SearchStrategy[dict[str, Any]]:
    required = {"total": money}
    optional: dict[str, Any] = {"number": garbage, "skipLoyaltyTotal": money, "unredeemableTotal": money,
                                "points": points}
    if with_cash:
        required.update(cash=money, points=points)
        optional.pop("points")
    return st.fixed_dictionaries(required, optional=optional)


def consistent_receipt() -> st.SearchStrategy[dict[str, Any]]:
    """Receipts whose checksum holds, so purchases really happen."""
    return st.tuples(st.integers(min_value=1, max_value=300_000), st.integers(min_value=0, max_value=300)).map(
        lambda tp: {"total": tp[0] / 100 + tp[1], "cash": tp[0] / 100, "points": tp[1]})


purchase_body = st.fixed_dictionaries(
    {"receipt": st.one_of(receipt(True), consistent_receipt(), consistent_receipt())},
    optional={"code": code, "participant": participant, "nonce": nonce, "cashier": cashier},
)
likely_purchase = st.fixed_dictionaries(
    {"receipt": consistent_receipt(), "code": st.just(CODE)},
    optional={"nonce": nonce, "cashier": cashier},
) | st.fixed_dictionaries(
    {"receipt": consistent_receipt(), "participant": st.fixed_dictionaries({"phone": st.just(PHONE)})},
    optional={"nonce": nonce},
)
calc_body = st.fixed_dictionaries({"receipt": receipt(False)}, optional={"code": code, "participant": participant})
operation_id = st.one_of(st.just(OP), st.just(OP), st.integers(min_value=-1, max_value=10**12), st.text(max_size=4))

REQUESTS = st.one_of(
    st.tuples(st.just("POST"), st.just("/operations"), likely_purchase),
    st.tuples(st.just("POST"), st.just("/operations"), likely_purchase),
    st.tuples(st.just("POST"), st.just("/operations"), purchase_body),
    st.tuples(st.just("POST"), st.just("/operations"), purchase_body),
    st.tuples(st.just("POST"), st.just("/operations/calc"), calc_body),
    st.tuples(st.just("GET"), st.just("/customers/find"),
              st.fixed_dictionaries({}, optional={"code": code, "phone": st.one_of(st.just(PHONE), garbage),
                                                  "uid": st.one_of(st.just(UID), garbage), "total": money,
                                                  "exchangeCode": st.booleans(), "skipLoyaltyTotal": money})),
    st.tuples(st.just("POST"), operation_id.map(lambda i: f"/operations/{segment(i)}/refund"),
              st.one_of(st.none(), st.fixed_dictionaries({}, optional={"partialAmount": money}))),
    st.tuples(st.just("POST"), st.just("/operations/reward"),
              st.fixed_dictionaries({"points": points, "participants": st.lists(
                  st.one_of(st.just(CUSTOMER), garbage.map(str)), max_size=3)},
                  optional={"comment": garbage, "silent": st.booleans()})),
    st.tuples(st.just("GET"), st.just("/operations"),
              st.fixed_dictionaries({}, optional={"max": st.integers(-1, 60), "cursor": garbage.map(str)})),
    st.tuples(st.just("GET"), operation_id.map(lambda i: f"/operations/{segment(i)}"), st.none()),
    st.tuples(st.just("GET"),
              st.one_of(st.just(CUSTOMER), st.text(max_size=4)).map(lambda i: f"/customers/{segment(i)}"), st.none()),
    st.tuples(st.just("GET"), st.just("/customers"),
              st.fixed_dictionaries({}, optional={"max": st.integers(-1, 60), "offset": st.integers(-1, 20_000)})),
    st.tuples(st.just("POST"), st.just("/api/v1/sales"),
              st.fixed_dictionaries({"total": money}, optional={"nonce": nonce, "cashier": cashier})),
    st.tuples(st.just("POST"), st.just("/operations"), st.just("not json at all")),
)


def generate_requests(count: int) -> list[tuple[str, str, Any]]:
    collected: list[tuple[str, str, Any]] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(REQUESTS)
    def collect(request: tuple[str, str, Any]) -> None:
        collected.append(request)

    collect()
    return collected


class Placeholders:
    def __init__(self, dom: Domain, customers: list[int], rng: random.Random) -> None:
        self.dom, self.customers, self.rng = dom, customers, rng
        self.operations: list[int] = []
        self.phones: dict[int, str] = {}

    async def fill(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: await self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [await self.fill(v) for v in value]
        if isinstance(value, str) and "<" in value:
            customer = self.rng.choice(self.customers)
            if value == CODE:
                return await fresh_code(self.dom, customer)
            if value == UID:
                return await referral_code_of(self.dom, customer)
            if value == PHONE:
                return self.phones[customer]
            if value == CUSTOMER:
                return str(customer)
            if OP in value:
                return value.replace(OP, str(self.rng.choice(self.operations) if self.operations else 1))
            if CUSTOMER in value:
                return value.replace(CUSTOMER, str(customer))
        return value


async def test_fuzzed_requests_never_fail_the_server_nor_the_ledger(client: httpx.AsyncClient, dom: Domain) -> None:
    rng = random.Random(8)
    customers = []
    fill = Placeholders(dom, customers, rng)
    for i in range(4):
        phone = f"+7916777{i:04d}"
        cid = await register(dom, phone=phone)
        customers.append(cid)
        fill.phones[cid] = phone
    statuses: dict[int, int] = {}
    for method, path, payload in generate_requests(160):
        url = path if path.startswith("/api/") else f"{BASE}{path}"
        url = await fill.fill(url)
        payload = await fill.fill(payload)
        if method == "GET":
            params = {k: v for k, v in (payload or {}).items() if isinstance(v, str | int | float | bool)}
            r = await client.get(url, params=params)
        elif isinstance(payload, str):
            r = await client.post(url, content=payload.encode(), headers={"Content-Type": "application/json"})
        else:
            r = await client.post(url, content=json.dumps(payload, default=str).encode(),
                                  headers={"Content-Type": "application/json"})
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, (method, url, payload, r.text)
        assert r.headers.get("content-type", "").startswith("application/json"), (method, url, payload, r.text)
        body = r.json()
        if r.status_code >= 400:
            assert isinstance(body.get("errorCode"), str) and isinstance(body.get("message"), str), body
        elif path == "/operations" and method == "POST":
            fill.operations.append(body["id"])
    await assert_invariants(dom)
    for cid in customers:
        assert await balance(dom, cid) >= 0
    print("fuzz statuses:", statuses)  # visible with -s
    assert statuses.get(200, 0) > 10 and sum(v for k, v in statuses.items() if k >= 400) > 10, statuses


def test_money_rounding_is_half_up_and_points_round_down() -> None:
    from models.partner.uds import money as money_out
    from models.partner.uds import to_kopecks, to_points

    @settings(max_examples=200, database=None)
    @given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
    def check(value: Decimal) -> None:
        kopecks = to_kopecks(value)
        assert abs(Decimal(kopecks) / 100 - value) <= Decimal("0.005")
        assert Decimal(str(money_out(kopecks))) == Decimal(kopecks) / 100  # two decimals survive JSON
        assert to_points(value) == int(value)  # floor for non-negative numbers

    check()
    assert to_kopecks("0.005") == 1 and to_kopecks("0.004") == 0 and to_kopecks("2.675") == 268


# --- Malformed text anywhere in a request (issue 14, section 4) -------------------------------
#
# A lone UTF-16 surrogate ("\ud800" in JSON; Python's json also reads the invalid UTF-8 bytes
# ED A0 80 as one) or bytes that are not UTF-8, in any string of the body (keys included), in the
# query string, in the path or in a header the API reads, is a 400 `badRequest`: never a 500 from
# a driver that cannot encode it, never an answer computed on replacement characters.

BAD_BODY_TEXT = [b"\\ud800", b"a\\udfffb", b"\\ud83d", b"\xff", b"x\xed\xa0\x80y", b"\xc3", b"\xe2\x82"]
BAD_URL_TEXT = ["%ED%A0%80", "%FF", "a%C3", "%E2%82", "%C0%AF"]
BAD_HEADER_TEXT = [b"\xff\xfe", b"id-\xed\xa0\x80", b"\xc3"]
MARK = "@@bad@@"


def _string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], bool]]:
    """Every string leaf of a JSON body (False) and every key (True), as paths."""
    found: list[tuple[tuple[Any, ...], bool]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.append(((*path, k), True))
            found.extend(_string_paths(v, (*path, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(_string_paths(v, (*path, i)))
    elif isinstance(value, str):
        found.append((path, False))
    return found


def _marked(body: Any, path: tuple[Any, ...], key: bool) -> Any:
    """A copy of `body` with the string (or the key) at `path` replaced by MARK."""
    if not path:
        return MARK
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        if key and not rest:
            return {(MARK if k == head else k): v for k, v in body.items()}
        return {k: (_marked(v, rest, key) if k == head else v) for k, v in body.items()}
    return [(_marked(v, rest, key) if i == head else v) for i, v in enumerate(body)]


# (method, path, body or query): every body string is a place to corrupt; numbers are sent as
# strings too so a digit field is a text field as well.
MALFORMED_TEMPLATES: list[tuple[str, str, Any]] = [
    ("POST", "/operations", {"code": CODE, "nonce": "n-1", "cashier": {"externalId": "k1", "name": "Мария"},
                             "receipt": {"total": "100", "cash": "100", "points": "0", "number": "A-1"}}),
    ("POST", "/operations", {"participant": {"phone": PHONE, "uid": UID}, "receipt": {"total": 50, "cash": 50,
                                                                                         "points": 0}}),
    ("POST", "/operations/calc", {"participant": {"uid": UID}, "receipt": {"total": "100.50"}}),
    ("POST", "/operations/reward", {"points": "10", "participants": [CUSTOMER], "comment": "спасибо"}),
    ("POST", f"/operations/{OP}/refund", {"partialAmount": "1"}),
    ("POST", "/api/v1/sales", {"total": "10", "nonce": "s-1", "number": "B-2", "cashier": {"externalId": "k2"}}),
    ("GET", "/customers/find", {"code": CODE, "total": "100"}),
    ("GET", "/customers/find", {"phone": PHONE}),
    ("GET", "/customers/find", {"uid": UID, "exchangeCode": "false"}),
    ("GET", "/operations", {"max": "5", "cursor": "b3A6MTA"}),
    ("GET", f"/operations/{OP}", None),
    ("GET", f"/customers/{CUSTOMER}", None),
]

MALFORMED = st.tuples(
    st.sampled_from(MALFORMED_TEMPLATES),
    st.sampled_from(["body", "body", "body", "query", "path", "header"]),
    st.integers(min_value=0, max_value=50),  # which place, modulo how many there are
    st.integers(min_value=0, max_value=50),  # which corruption
)


def generate_malformed(count: int) -> list[tuple[tuple[str, str, Any], str, int, int]]:
    collected: list[tuple[tuple[str, str, Any], str, int, int]] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(MALFORMED)
    def collect(case: tuple[tuple[str, str, Any], str, int, int]) -> None:
        collected.append(case)

    collect()
    return collected


async def test_malformed_text_anywhere_is_a_400_and_changes_nothing(client: httpx.AsyncClient, dom: Domain) -> None:
    from sqlalchemy import func, select

    from models.kernel.tables import Customer, Operation

    rng = random.Random(14)
    customers = []
    fill = Placeholders(dom, customers, rng)
    for i in range(2):
        phone = f"+7916888{i:04d}"
        cid = await register(dom, phone=phone)
        customers.append(cid)
        fill.phones[cid] = phone
    first = await client.post(f"{BASE}/operations", json={"participant": {"phone": fill.phones[customers[0]]},
                                                          "receipt": {"total": 100, "cash": 100, "points": 0}})
    assert first.status_code == 200, first.text
    fill.operations.append(first.json()["id"])

    async def counts() -> tuple[int, int]:
        async with dom.db.reading() as session:
            return (int((await session.execute(select(func.count()).select_from(Operation))).scalar() or 0),
                    int((await session.execute(select(func.count()).select_from(Customer))).scalar() or 0))

    before = await counts()
    seen: dict[str, int] = {}
    for (method, path, payload), where, place, corruption in generate_malformed(160):
        url = await fill.fill(path if path.startswith("/api/") else f"{BASE}{path}")
        payload = await fill.fill(payload)
        if where == "body" and method == "GET":
            where = "query"  # a GET's fields are its query
        headers: dict[str, Any] = {"Content-Type": "application/json", "X-Origin-Request-Id": "till-7"}
        body = json.dumps(payload, ensure_ascii=False).encode() if method == "POST" else None
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in (payload or {}).items()) if method == "GET" else ""
        if where == "body":
            places = _string_paths(payload)
            spot, key = places[place % len(places)]
            bad = BAD_BODY_TEXT[corruption % len(BAD_BODY_TEXT)]
            body = json.dumps(_marked(payload, spot, key), ensure_ascii=False).encode().replace(MARK.encode(), bad)
        elif where == "query":
            bad_q = BAD_URL_TEXT[corruption % len(BAD_URL_TEXT)]
            pairs = [pair.split("=", 1) for pair in query.split("&") if pair] or [["x", ""]]
            index = place % len(pairs)
            pairs[index][1] += bad_q
            query = "&".join(f"{k}={v}" for k, v in pairs)
        elif where == "path":
            segments = url.split("/")
            index = 1 + place % (len(segments) - 1)  # any segment after the leading slash
            segments[index] += BAD_URL_TEXT[corruption % len(BAD_URL_TEXT)]
            url = "/".join(segments)
        else:
            headers["X-Origin-Request-Id"] = BAD_HEADER_TEXT[corruption % len(BAD_HEADER_TEXT)]
        target = f"{url}?{query}" if query else url
        r = await client.request(method, target, content=body, headers=headers)
        seen[where] = seen.get(where, 0) + 1
        assert r.status_code == 400, (method, target, where, body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json")
        assert r.json()["errorCode"] == "badRequest", r.text
    assert await counts() == before  # nothing was bought, rewarded, refunded or created
    await assert_invariants(dom)
    assert all(seen.get(w, 0) >= 5 for w in ("body", "query", "path", "header")), seen
