"""models/kernel/leases.py: one holder at a time, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.kernel.clock import ManualClock
from models.kernel.db import Database
from models.kernel.leases import Lease


async def test_one_holder_at_a_time(db: Database) -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    a = Lease(db, "outbox", "a", timedelta(seconds=30), clock)
    b = Lease(db, "outbox", "b", timedelta(seconds=30), clock)
    assert await a.acquire()
    assert not await b.acquire()
    assert await a.renew()
    await a.release()
    assert await b.acquire()
    assert not await a.acquire()
    await b.release()


async def test_sqlite_lease_expires_when_not_renewed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'l.db'}")
    await db.create_all()
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    a = Lease(db, "jobs", "a", timedelta(seconds=30), clock)
    b = Lease(db, "jobs", "b", timedelta(seconds=30), clock)
    assert await a.acquire()
    clock.advance(seconds=31)
    assert await b.acquire()  # a stopped renewing: its lease lapsed
    assert not await a.renew()
    await db.dispose()


async def test_leases_of_separate_schemas_or_files_are_separate(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two businesses in two schemas of one PostgreSQL database (or two SQLite files) each run
    their own sender: an advisory lock is database-wide, so its key carries the schema."""
    from tests.conftest import drop_schema, make_database

    for sub in ("one", "two"):
        (tmp_path / sub).mkdir()
    first, schema_1 = await make_database(backend, tmp_path / "one")
    second, schema_2 = await make_database(backend, tmp_path / "two")
    databases = [first, second]
    twin = Database(first.url, schema=schema_1) if schema_1 else Database(first.url)
    for database in (first, second):
        await database.create_all()
    try:
        a = Lease(first, "outbox", "a")
        b = Lease(second, "outbox", "b")
        same = Lease(twin, "outbox", "c")
        assert await a.acquire()
        assert await b.acquire()  # another business: its own lease
        assert not await same.acquire()  # the same business from another process: taken
        for lease in (a, b):
            await lease.release()
    finally:
        for database in (*databases, twin):
            await database.dispose()
        for schema in (schema_1, schema_2):
            if schema:
                await drop_schema(schema)
