"""A database that goes away is a 503 the till retries, not a 500 (issue 14, section 4).

PostgreSQL: the backend serving a purchase is terminated (pg_terminate_backend from another
connection) while the purchase waits for its customer's row; SQLite: another process holds the
write lock longer than the busy timeout. Either way the till gets `503 serviceUnavailable` with
Retry-After, retries with the same nonce once the database is back, and the purchase exists once.
A server nobody listens on is a 503 too, and `/healthz` reports Redis when REDIS_URL is set.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot import __version__
from bot.http import build_app
from bot.services import Services
from models.kernel.context import Domain
from models.kernel.db import Database, normalise_url
from models.kernel.tables import Customer, Operation, OperationKind
from models.partner.api_keys import CreatedKey
from tests.api.conftest import BASE, api_settings, error_code
from tests.conftest import POSTGRES_URL
from tests.helpers import assert_invariants, balance, redis_url_or_skip, register


def purchase(phone: str, nonce: str) -> dict[str, object]:
    return {"participant": {"phone": phone}, "nonce": nonce, "cashier": {"externalId": "kassa-1"},
            "receipt": {"total": 1000, "cash": 1000, "points": 0, "number": "R-1"}}


async def purchases(dom: Domain) -> int:
    async with dom.db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(Operation).where(
            Operation.kind == OperationKind.PURCHASE))).scalar() or 0)


def client_for(services: Services, api_key: CreatedKey) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=build_app(services), raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test",
                             auth=(str(api_key.company_id), api_key.secret))


async def _wait_blocked_by(admin: AsyncEngine, blocker: int) -> int:
    """The pid of the backend waiting for a lock `blocker` holds (our request, and only ours)."""
    for _ in range(200):
        async with admin.connect() as conn:
            pid = (await conn.execute(text("SELECT pid FROM pg_stat_activity WHERE :b = ANY(pg_blocking_pids(pid))"),
                                      {"b": blocker})).scalar()
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.05)
    raise AssertionError("the purchase never waited for the customer's row")


async def _postgres_cut(dom: Domain, client: httpx.AsyncClient, customer: int,
                        body: dict[str, object]) -> httpx.Response:
    assert POSTGRES_URL and dom.db.schema
    admin = create_async_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT",
                                connect_args={"server_settings": {"search_path": dom.db.schema}})
    holder = create_async_engine(normalise_url(POSTGRES_URL),
                                 connect_args={"server_settings": {"search_path": dom.db.schema}})
    try:
        async with holder.connect() as lock:
            await lock.execute(select(Customer.id).where(Customer.id == customer).with_for_update())
            holder_pid = int((await lock.execute(text("SELECT pg_backend_pid()"))).scalar() or 0)
            request = asyncio.create_task(client.post(f"{BASE}/operations", json=body))
            victim = await _wait_blocked_by(admin, holder_pid)
            async with admin.connect() as conn:
                assert (await conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim})).scalar()
            response = await asyncio.wait_for(request, 30)
            await lock.rollback()
        return response
    finally:
        await admin.dispose()
        await holder.dispose()


async def _sqlite_cut(dom: Domain, api_key: CreatedKey, body: dict[str, object]) -> httpx.Response:
    """Another process holds SQLite's write lock past the busy timeout."""
    path = dom.db.url.split("///", 1)[1]
    short = Database(dom.db.url, sqlite_busy_timeout_ms=200)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        services = Services(settings=api_settings(), dom=Domain(db=short, clock=dom.clock, tz=dom.tz),
                            bot_username="test_loyalty_bot")
        async with client_for(services, api_key) as client:
            return await client.post(f"{BASE}/operations", json=body)
    finally:
        other.execute("ROLLBACK")
        other.close()
        await short.dispose()


async def test_losing_the_database_mid_request_is_a_503_and_the_retry_buys_once(
        backend: str, client: httpx.AsyncClient, dom: Domain, api_key: CreatedKey,
        caplog: pytest.LogCaptureFixture) -> None:
    phone = "+79165550101"
    anna = await register(dom, phone=phone)
    body = purchase(phone, "till-7-receipt-1")
    with caplog.at_level("WARNING"):
        if backend == "postgres":
            cut = await _postgres_cut(dom, client, anna, body)
        else:
            cut = await _sqlite_cut(dom, api_key, body)
    assert cut.status_code == 503, cut.text
    assert error_code(cut) == "serviceUnavailable" and cut.headers["Retry-After"].isdigit()
    assert cut.headers["X-Request-Id"]
    assert "database unavailable on POST" in caplog.text and "Traceback" not in caplog.text
    assert await purchases(dom) == 0  # nothing half-done
    retried = await client.post(f"{BASE}/operations", json=body)  # the till's retry, same nonce
    assert retried.status_code == 200, retried.text
    again = await client.post(f"{BASE}/operations", json=body)
    assert again.status_code == 200 and again.json()["id"] == retried.json()["id"]
    assert await purchases(dom) == 1
    assert await balance(dom, anna) == 300 + 30  # welcome + 3% of 1,000 ₽
    await assert_invariants(dom)


@pytest.fixture
async def nowhere() -> AsyncIterator[Services]:
    """Services whose database is a PostgreSQL server nobody listens on."""
    db = Database("postgresql+asyncpg://loyalty@127.0.0.1:1/loyalty")
    from zoneinfo import ZoneInfo

    from models.kernel.clock import SystemClock

    try:
        yield Services(settings=api_settings(), dom=Domain(db=db, clock=SystemClock(), tz=ZoneInfo("Europe/Moscow")))
    finally:
        await db.dispose()


async def test_a_database_nobody_listens_on_is_a_503(nowhere: Services) -> None:
    transport = httpx.ASGITransport(app=build_app(nowhere), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", auth=("1", "key")) as http:
        r = await http.post(f"{BASE}/operations", json=purchase("+79165550102", "n-1"))
        assert r.status_code == 503 and error_code(r) == "serviceUnavailable", r.text
        r = await http.get(f"{BASE}/settings")
        assert r.status_code == 503, r.text
        health = await http.get("/healthz")
        assert health.status_code == 503
        assert health.json() == {"status": "error", "version": __version__, "database": "unavailable"}


async def _health(services: Services) -> httpx.Response:
    transport = httpx.ASGITransport(app=build_app(services), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.get("/healthz")


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_healthz_reports_redis_when_it_is_configured(dom: Domain) -> None:
    plain = await _health(Services(settings=api_settings(), dom=dom))
    assert plain.status_code == 200 and plain.json() == {"status": "ok", "version": __version__, "database": "ok"}
    down = await _health(Services(settings=api_settings(redis_url="redis://127.0.0.1:1/0"), dom=dom))
    assert down.status_code == 503
    assert down.json() == {"status": "error", "version": __version__, "database": "ok", "redis": "unavailable"}
    url = await redis_url_or_skip()
    up = await _health(Services(settings=api_settings(redis_url=url), dom=dom))
    assert up.status_code == 200
    assert up.json() == {"status": "ok", "version": __version__, "database": "ok", "redis": "ok"}
