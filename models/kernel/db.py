"""Engine and sessions for SQLite (the embedded default) and PostgreSQL.

Concurrency decision (DOMAIN.md, "A purchase"): every balance-changing operation starts by
writing its customer's row (`lock_customer`), which on PostgreSQL takes the row lock and on
SQLite happens inside a `BEGIN IMMEDIATE` transaction, so SQLite serialises writers for the
whole transaction instead of failing on a late lock upgrade. On top of that each lot is
debited with a conditional `UPDATE ... WHERE remaining >= n`, and a CHECK constraint keeps
`remaining` non-negative: two tills paying with the same points can never overspend.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


# SQLSTATE classes and codes that say "the server is not there right now", not "your SQL is wrong":
# connection exceptions (08...), an administrator's or a crash's shutdown, a server starting up,
# too many connections.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")
# SQLite's words for a database another process holds, or a file it cannot reach.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database",
                       "disk i/o error")


def database_unavailable(exc: BaseException) -> bool:
    """True if `exc` means the database could not be reached or lost the connection (a request
    that failed so may be retried as it is: a till retries with the same nonce), not a bug."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):  # every pooled connection busy for pool_timeout seconds
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:  # the connection died under the statement
            return True
        code = getattr(exc.orig, "sqlstate", None) or ""
        if code.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        message = str(exc.orig).lower()
        return type(exc.orig).__name__ == "OperationalError" and any(m in message for m in _SQLITE_UNAVAILABLE)
    # Connecting: asyncpg raises the socket's own error (refused, reset, a DNS failure, a timeout).
    import socket

    return isinstance(exc, ConnectionError | TimeoutError | socket.gaierror)


class Database:
    """One engine, a session factory for work that writes, and one for reads.

    On SQLite the read factory begins DEFERRED transactions, so long reports do not hold
    the write lock; on PostgreSQL both are the same.
    """

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, schema: str | None = None,
        sqlite_busy_timeout_ms: int = 60_000,
    ) -> None:
        """`sqlite_busy_timeout_ms`: how long a SQLite statement waits for another process's write
        lock before "database is locked" (tests make it short)."""
        self.url = normalise_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self.schema = schema
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect == "postgresql":
            kwargs.update(pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)
            if schema:  # tests isolate each run in its own schema
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        read_engine = self.engine
        if self.is_sqlite:
            _configure_sqlite(self.engine, sqlite_busy_timeout_ms)
            read_engine = self.engine.execution_options(sqlite_begin="DEFERRED")
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(read_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success, rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self.read_sessions() as session, session.begin():
            yield session

    async def create_all(self) -> None:
        """Create the schema directly (tests); production uses Alembic (`loyalty-bot migrate`)."""
        from models.kernel.schema import load_all_tables

        metadata = load_all_tables()
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def drop_all(self) -> None:
        from models.kernel.schema import load_all_tables

        metadata = load_all_tables()
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.drop_all)

    async def dispose(self) -> None:
        await self.engine.dispose()


@dataclass
class StatementCounts:
    """What ran on a database's engine inside `count_statements` (issue 15's measure)."""

    transactions: int = 0
    statements: int = 0


@asynccontextmanager
async def count_statements(database: Database) -> AsyncIterator[StatementCounts]:
    """Count transactions (connection `begin` events) and statements (`before_cursor_execute`)
    on `database`'s engine while the block runs. Works for SQLite and PostgreSQL; for tests."""
    counts = StatementCounts()
    sync_engine = database.engine.sync_engine

    def _on_begin(_conn: Any) -> None:
        counts.transactions += 1

    def _on_execute(*_args: Any) -> None:
        counts.statements += 1

    event.listen(sync_engine, "begin", _on_begin)
    event.listen(sync_engine, "before_cursor_execute", _on_execute)
    try:
        yield counts
    finally:
        event.remove(sync_engine, "begin", _on_begin)
        event.remove(sync_engine, "before_cursor_execute", _on_execute)


async def lock_customer(session: AsyncSession, customer_id: int) -> None:
    """Serialise balance changes of one customer (see the module docstring)."""
    from models.kernel.tables import Customer

    await session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(lock_version=Customer.lock_version + 1)
        .execution_options(synchronize_session=False)
    )


async def lock_customers(session: AsyncSession, *where: Any) -> list[int]:
    """Lock many customers at once, for the scheduler's bulk jobs; returns the ids locked.

    Bulk twin of `lock_customer` that writes nothing: on PostgreSQL `SELECT ... FOR UPDATE` in
    id order conflicts with the `UPDATE` a purchase starts with (and with another job), without
    creating a new version of every row; on SQLite the transaction already holds the database's
    write lock (`BEGIN IMMEDIATE`), so a plain read is enough. Rewriting hundreds of customer
    rows, as `lock_customer` would, dirtied one page per customer and made the commit cost more
    than the job's own inserts.
    """
    from models.kernel.tables import Customer

    query = select(Customer.id).where(*where).order_by(Customer.id)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update()
    return list((await session.execute(query)).scalars().all())
