"""Alembic environment: async engine, our metadata, batch mode on SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from models.kernel.db import Database
from models.kernel.schema import load_all_tables

config = context.config
target_metadata = load_all_tables()


def _configure(connection: Connection | None = None, **kwargs: Any) -> None:
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        connection=connection,
        url=None if connection is not None else url,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things in place
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """SQLite rebuilds a table to alter it (batch mode); dropping the old copy of a table that
    others reference would fail the foreign keys, so they are off while the migrations run
    (outside a transaction, where the pragma works) and checked before they commit."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    sqlite = connection.dialect.name == "sqlite" and not connection.in_transaction()
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows without their parent: {broken[:5]}")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


async def run_migrations_online() -> None:
    db = Database(config.get_main_option("sqlalchemy.url") or "")
    async with db.engine.connect() as conn:
        await conn.run_sync(_run_sync)
        await conn.commit()
    await db.dispose()


if context.is_offline_mode():
    run_migrations_offline()
elif config.attributes.get("connection") is not None:
    _run_sync(config.attributes["connection"])  # called from migrations.runner
else:
    asyncio.run(run_migrations_online())  # the plain `alembic` command line
