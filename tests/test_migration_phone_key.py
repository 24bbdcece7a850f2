"""Migration 9c2e4a6b8d10 rekeys the fingerprints an old database holds (issue 21 §2): after
it, welcome points are still once per phone ever and an erased imported customer is still
recognised, though no phone is known to the migration."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from migrations.runner import upgrade_head
from models.customers.accounts import Registration, erase_customer, register_customer
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.phone_key import erased_key, phone_hash, unkeyed_hash
from models.kernel.tables import Customer, RewardClaim
from models.program.rules import Program
from models.program.store import ensure_program
from tests.conftest import drop_schema, make_database
from tests.helpers import assert_invariants

BEFORE = "7f3b9c1d2e4a"
ANNA, IMPORTED = "+79161110001", "+79161110002"


async def test_old_fingerprints_are_rekeyed(backend: str, tmp_path: Path, clock: ManualClock, case_a: Program,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    db, schema = await make_database(backend, tmp_path)
    try:
        await upgrade_head(db.url, db, revision=BEFORE)
        dom = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
        await ensure_program(dom, case_a)
        with monkeypatch.context() as old_code:  # what the code before the key wrote
            old_code.setattr("models.customers.accounts.phone_hash", unkeyed_hash)
            old_code.setattr("models.customers.accounts.erased_key", lambda p: "erased:" + unkeyed_hash(p)[:56])
            anna = await register_customer(dom, Registration(telegram_id=1, phone=ANNA, name="Анна"))
            imported = await register_customer(dom, Registration(telegram_id=2, phone=IMPORTED, name="Ира"))
            assert anna.welcome_points == 300
            async with db.transaction() as session:
                await session.execute(update(Customer).where(Customer.id == imported.customer_id)
                                      .values(imported_key=f"imp:{IMPORTED}"))
                session.add(RewardClaim(kind="birthday", subject=str(anna.customer_id), period="2026",
                                        created_at=clock.now()))
            await erase_customer(dom, anna.customer_id)
            await erase_customer(dom, imported.customer_id)
        async with db.reading() as session:
            old_subjects = set((await session.execute(select(RewardClaim.subject))).scalars())
        assert unkeyed_hash(ANNA) in old_subjects  # the brute-forceable value this fixes

        await upgrade_head(db.url, db)

        async with db.reading() as session:
            claims = {(c.kind, c.subject) for c in (await session.execute(select(RewardClaim))).scalars()}
            erased = (await session.execute(select(Customer).where(Customer.id == imported.customer_id))).scalar_one()
        assert claims == {("welcome", phone_hash(ANNA)), ("welcome", phone_hash(IMPORTED)),
                          ("birthday", str(anna.customer_id))}
        assert erased.imported_key == erased_key(IMPORTED)
        assert not any(unkeyed_hash(p) in str(claims) for p in (ANNA, IMPORTED))
        # Once per phone still holds with the new code; a new phone still gets its welcome.
        again = await register_customer(dom, Registration(telegram_id=1, phone=ANNA, name="Анна"))
        assert again.welcome_points == 0
        fresh = await register_customer(dom, Registration(telegram_id=3, phone="+79161110003", name="Оля"))
        assert fresh.welcome_points == 300
        await assert_invariants(dom)
    finally:
        await db.dispose()
        if schema:
            await drop_schema(schema)
