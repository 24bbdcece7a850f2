"""`exchangeCode` cannot exhaust the 6-digit code space (issue 14 §3, docs/API.md): past the
per-customer limit the API answers 429 `codeLimitReached`, with no free number 503
`noFreeCode`; never a 500, and the till's current code keeps working."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from models.customers import accounts as customers
from models.kernel.context import Domain
from tests.api.conftest import BASE, error_code
from tests.helpers import fresh_code, register


async def _exchange(client: httpx.AsyncClient, code: str) -> httpx.Response:
    return await client.get(f"{BASE}/customers/find", params={"code": code, "exchangeCode": "true"})


async def test_exchange_code_limit_per_hour_and_per_day(client: httpx.AsyncClient, dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    code = await fresh_code(dom, c)  # the first of this hour's codes
    for _ in range(customers.CODES_PER_HOUR - 1):
        r = await _exchange(client, code)
        assert r.status_code == 200, r.text
        code = r.json()["code"]
    r = await _exchange(client, code)
    assert r.status_code == 429 and error_code(r) == "codeLimitReached"
    assert r.headers["Retry-After"] == "3600"
    # The refused exchange changed nothing: the till's code still finds the customer.
    r = await client.get(f"{BASE}/customers/find", params={"code": code})
    assert r.status_code == 200 and r.json()["user"]["participant"]["id"] == c

    # Hour by hour up to the daily cap, which then holds until the first code is a day old.
    issued = customers.CODES_PER_HOUR
    while issued < customers.CODES_PER_DAY:
        clock.advance(timedelta(hours=1))
        for _ in range(min(customers.CODES_PER_HOUR, customers.CODES_PER_DAY - issued)):
            r = await _exchange(client, code)
            assert r.status_code == 200, r.text
            code = r.json()["code"]
            issued += 1
    clock.advance(timedelta(hours=1, minutes=1))
    r = await _exchange(client, code)
    assert r.status_code == 429 and error_code(r) == "codeLimitReached"
    hours_left = 24 - customers.CODES_PER_DAY // customers.CODES_PER_HOUR  # the first code is 3 h 1 min old
    assert int(r.headers["Retry-After"]) == (hours_left * 60 - 1) * 60
    clock.advance(timedelta(hours=hours_left))
    r = await _exchange(client, code)
    assert r.status_code == 200, r.text


async def test_exchange_code_when_no_number_is_free(client: httpx.AsyncClient, dom: Domain,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customers, "CODE_SPACE", 2)
    a, b = await register(dom), await register(dom)
    code_a = await fresh_code(dom, a)
    await fresh_code(dom, b)  # both numbers are taken now
    r = await _exchange(client, code_a)
    assert r.status_code == 503 and error_code(r) == "noFreeCode"
    assert r.headers["Retry-After"]
    r = await client.get(f"{BASE}/customers/find", params={"code": code_a})
    assert r.status_code == 200 and r.json()["user"]["participant"]["id"] == a
