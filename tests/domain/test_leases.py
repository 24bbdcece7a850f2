"""models/leases.py: one holder at a time, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.clock import ManualClock
from models.db import Database
from models.leases import Lease


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
