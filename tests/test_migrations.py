"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from migrations.runner import upgrade_head
from models.schema import load_all_tables
from tests.conftest import drop_schema, make_database


async def test_migrations_match_models(backend: str, tmp_path: Path) -> None:
    db, schema = await make_database(backend, tmp_path)
    try:
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
