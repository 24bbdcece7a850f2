"""A separate OS process that races for the jobs lease (used by test_race.py).

    python -m tests.scheduler.race_child URL SCHEMA LEASE DAY HOLD START_AT

Waits until the wall-clock START_AT, tries to catch up the birthday job up to DAY, holding
the lease HOLD seconds once it has it, and prints one JSON line: its outcomes.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from models.kernel import phone_key
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.db import Database
from scheduler.runner import JobRunner


async def main(url: str, schema: str, lease: str, day: str, hold: float, start_at: float) -> None:
    # As `loyalty-bot jobs` does: the birthday claims are keyed by the phone (PHONE_HASH_KEY is
    # inherited from the test process).
    phone_key.configure(phone_key.load_from_environment(url, create=False))
    db = Database(url, schema=schema or None)
    tz = ZoneInfo("Europe/Moscow")
    d = date.fromisoformat(day)
    dom = Domain(db=db, clock=ManualClock(datetime(d.year, d.month, d.day, 13, tzinfo=tz)), tz=tz)

    async def hold_it() -> None:
        await asyncio.sleep(hold)

    runner = JobRunner(dom, lease_name=lease, holder=f"child-{os.getpid()}", on_lease_acquired=hold_it)
    await asyncio.sleep(max(0.0, start_at - time.time()))
    outcomes = await runner.catch_up(names=["birthday"])
    await db.dispose()
    print(json.dumps([{"job": o.job, "status": o.status, "result": o.result} for o in outcomes]))


if __name__ == "__main__":
    url, schema, lease, day, hold, start_at = sys.argv[1:7]
    asyncio.run(main(url, schema, lease, day, float(hold), float(start_at)))
