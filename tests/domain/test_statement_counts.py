"""models/db.count_statements: the measure issue 15's Confirm-tap target is written in."""

from __future__ import annotations

from sqlalchemy import text

from models.kernel.db import Database, count_statements


async def test_counts_transactions_and_statements(db: Database) -> None:
    async with count_statements(db) as counts:
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
            await session.execute(text("SELECT 2"))
        async with db.reading() as session:
            await session.execute(text("SELECT 3"))
    assert counts.transactions == 2
    # on SQLite each transaction issues its own BEGIN (IMMEDIATE or DEFERRED), counted too
    assert counts.statements == (5 if db.is_sqlite else 3)
    async with db.transaction() as session:  # the listeners are gone after the block
        await session.execute(text("SELECT 4"))
    assert counts.transactions == 2
