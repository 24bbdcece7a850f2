"""State shared by several processes: what one process caches must not contradict what
another one wrote. A second `Database` on the same database plays the second process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from models.kernel.context import Domain
from models.kernel.db import Database
from models.kernel.tables import Staff
from models.partner.api_keys import cashier_staff


@pytest.fixture
async def other_process(dom: Domain) -> AsyncIterator[Domain]:
    db = Database(dom.db.url, schema=dom.db.schema)
    try:
        yield replace(dom, db=db)
    finally:
        await db.dispose()


async def test_cashier_renamed_back_after_another_process_renamed_it(dom: Domain, other_process: Domain) -> None:
    if dom.db.is_sqlite:
        pytest.skip("several bot processes share PostgreSQL only; SQLite runs one")
    staff_id, _ = await cashier_staff(dom, "kassa-1", "Анна")  # process A remembers "Анна"
    assert await cashier_staff(other_process, "kassa-1", "Борис") == (staff_id, "Борис")  # B renames
    # The till says "Анна" again, on A: the name stored must be the one the till sent last.
    assert await cashier_staff(dom, "kassa-1", "Анна") == (staff_id, "Анна")
    async with dom.db.reading() as s:
        stored = (await s.execute(select(Staff.display_name).where(Staff.id == staff_id))).scalar_one()
    assert stored == "Анна"
