"""Leases: one process at a time runs a named piece of work (the outbox sender, a job).

On PostgreSQL a lease is a session advisory lock held on a dedicated connection: if the
process dies, the connection closes and the lock is gone at once. On SQLite (one machine,
possibly several processes) it is a row in `leases` with an expiry the holder renews; a
holder that stops renewing loses it after `ttl`.
"""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from models.kernel.clock import Clock, SystemClock
from models.kernel.db import Database
from models.kernel.tables import Lease as LeaseRow


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def advisory_key(name: str, schema: str | None = None) -> int:
    """A stable signed 64-bit key for pg_try_advisory_lock.

    Advisory locks belong to the database, not to a schema: two businesses (or two test runs)
    in separate schemas of one database must not take each other's leases, so the schema is
    part of the key.
    """
    scoped = f"{schema}:{name}" if schema else name
    return int.from_bytes(hashlib.sha256(scoped.encode()).digest()[:8], "big", signed=True)


class Lease:
    def __init__(
        self,
        db: Database,
        name: str,
        holder: str | None = None,
        ttl: timedelta = timedelta(seconds=60),
        clock: Clock | None = None,
    ) -> None:
        self.db = db
        self.name = name
        self.holder = holder or default_holder()
        self.ttl = ttl
        self.clock = clock or SystemClock()
        self._conn: AsyncConnection | None = None
        self.held = False

    async def acquire(self) -> bool:
        """Take the lease if nobody holds it; never waits."""
        if self.db.is_sqlite:
            self.held = await self._acquire_row(self.clock.now())
            return self.held
        if self._conn is None:
            self._conn = await self.db.engine.connect()
        got = (await self._conn.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(self.name, self.db.schema)}
        )).scalar()
        await self._conn.commit()  # the session lock outlives the transaction
        self.held = bool(got)
        if not self.held:
            await self._conn.close()
            self._conn = None
        return self.held

    async def renew(self) -> bool:
        """Keep the lease; False if it was lost (then stop the work)."""
        if not self.held:
            return False
        if self.db.is_sqlite:
            self.held = await self._acquire_row(self.clock.now())
            return self.held
        try:
            assert self._conn is not None
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
        except Exception:  # the connection died: so did the lock
            self.held = False
            self._conn = None
        return self.held

    async def release(self) -> None:
        if self.db.is_sqlite:
            if self.held:
                async with self.db.transaction() as session:
                    await session.execute(
                        delete(LeaseRow).where(LeaseRow.name == self.name, LeaseRow.holder == self.holder)
                    )
        elif self._conn is not None:
            try:
                await self._conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(self.name, self.db.schema)}
                )
                await self._conn.commit()
            finally:
                await self._conn.close()
                self._conn = None
        self.held = False

    async def _acquire_row(self, now: datetime) -> bool:
        expires = now + self.ttl
        try:
            async with self.db.transaction() as session:  # BEGIN IMMEDIATE: no two writers
                row = (await session.execute(
                    select(LeaseRow).where(LeaseRow.name == self.name)
                )).scalar()
                if row is None:
                    session.add(LeaseRow(name=self.name, holder=self.holder, expires_at=expires))
                    return True
                if row.holder == self.holder or row.expires_at <= now:
                    row.holder, row.expires_at = self.holder, expires
                    return True
                return False
        except IntegrityError:
            return False

    async def __aenter__(self) -> bool:
        return await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        await self.release()
