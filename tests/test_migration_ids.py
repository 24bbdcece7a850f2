"""Issue 14 §1: the migration makes a database that already reused ids safe from the next
request on — each id sequence starts above the highest id used in any key or audit entry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from sqlalchemy import select, text

from migrations.runner import alembic_config, upgrade_head
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.tables import CheckoutQuote, Operation
from models.program.store import ensure_program
from models.till.checkout import Committed, choose_points, confirm_checkout, start_checkout
from tests.conftest import PROGRAMS, drop_schema, make_database
from tests.helpers import fresh_code, register
from tests.staff.conftest import make_cashier, make_owner

BEFORE = "5e7a1c3d9b20"  # the revision before ids were made never to return


async def _downgrade(db, revision: str) -> None:  # type: ignore[no-untyped-def]
    def run(sync_conn):  # type: ignore[no-untyped-def]
        cfg = alembic_config(db.url)
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, revision)

    async with db.engine.connect() as conn:
        await conn.run_sync(run)
        await conn.commit()


async def test_a_database_that_reused_ids_is_safe_after_the_migration(backend: str, tmp_path: Path) -> None:
    from models.program.rules import load_program_file

    db, schema = await make_database(backend, tmp_path)
    try:
        await upgrade_head(db.url, db)
        from datetime import UTC, datetime
        clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        dom = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
        await ensure_program(dom, load_program_file(PROGRAMS / "case-a.toml"))
        cashier = await make_cashier(dom, await make_owner(dom))
        anna = await register(dom)

        async def checkout(kopecks: int) -> Committed:
            view = await start_checkout(dom, cashier, anna, kopecks, found_by="code",
                                        code=await fresh_code(dom, anna))
            await choose_points(dom, cashier, view.quote_id, 0)
            done = await confirm_checkout(dom, cashier, view.quote_id)
            assert isinstance(done, Committed)
            return done

        for kopecks in (100_000, 200_000, 300_000):
            await checkout(kopecks)
        # The old schema, with its finished checkouts gone and (PostgreSQL) a sequence that
        # starts again, as after a restore: the next quote would be `quote:1` again.
        await _downgrade(db, BEFORE)
        async with db.engine.begin() as conn:
            await conn.execute(text("DELETE FROM checkout_quotes"))
            if backend == "postgres":
                await conn.execute(text("SELECT setval(pg_get_serial_sequence('checkout_quotes', 'id'), 1, false)"))
        await upgrade_head(db.url, db)

        clock.advance(timedelta(days=2))
        done = await checkout(50_000)
        assert not done.result.replayed and done.result.amount_kopecks == 50_000
        async with db.reading() as s:
            quote_ids = list((await s.execute(select(CheckoutQuote.id))).scalars())
            amounts = list((await s.execute(select(Operation.amount_kopecks)
                                            .where(Operation.idempotency_key.like("quote:%"))
                                            .order_by(Operation.id))).scalars())
        assert quote_ids == [4]
        assert amounts == [100_000, 200_000, 300_000, 50_000]
        if backend == "sqlite":
            async with db.engine.connect() as conn:
                sql = (await conn.execute(text(
                    "SELECT group_concat(sql, ' ') FROM sqlite_master "
                    "WHERE name IN ('checkout_quotes', 'phone_confirmations', 'outbox')"))).scalar()
            assert str(sql).count("AUTOINCREMENT") == 3
    finally:
        await db.dispose()
        if schema:
            await drop_schema(schema)
