"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from migrations.runner import upgrade_head
from models.kernel.schema import load_all_tables
from tests.conftest import drop_schema, make_database

FIRST_RELEASE = "bc22781c8e82"  # the initial schema as first shipped


@pytest.mark.parametrize("start", [None, FIRST_RELEASE], ids=["empty", "first-release"])
async def test_migrations_match_models(backend: str, tmp_path: Path, start: str | None) -> None:
    """From an empty database, and from one at the first release's schema (a business that
    installed it upgrades), the migrations end at exactly what the models describe."""
    db, schema = await make_database(backend, tmp_path)
    try:
        if start:
            await upgrade_head(db.url, db, revision=start)
        await upgrade_head(db.url, db)
        await upgrade_head(db.url, db)  # running again is a no-op

        def diff(sync_conn):  # type: ignore[no-untyped-def]
            ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            return compare_metadata(ctx, load_all_tables())

        async with db.engine.connect() as conn:
            changes = await conn.run_sync(diff)
        assert changes == [], f"models and migrations differ: {changes}"
    finally:
        await db.dispose()
        if schema:
            await drop_schema(schema)
