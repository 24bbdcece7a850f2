"""Two real OS processes race for the jobs lease on the same database: one runs, the other
finds the lease taken (issue 5, "One runner")."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, text

from models.kernel.context import Domain
from models.kernel.db import Database
from models.kernel.tables import JobRun
from tests.helpers import assert_invariants, register
from tests.scheduler.support import at, certificates, runner

ROOT = Path(__file__).resolve().parents[2]


async def _schema(db: Database) -> str:
    if db.is_sqlite:
        return ""
    async with db.engine.connect() as conn:
        return str((await conn.execute(text("SELECT current_schema()"))).scalar())


async def test_two_processes_one_runner(dom: Domain) -> None:
    day = date(2026, 3, 2)
    born = [await register(dom, birthday=date(1990, 3, 2)) for _ in range(3)]
    at(dom, day, 13)
    lease = f"race-{uuid.uuid4().hex[:8]}"
    start_at = time.time() + 4  # both interpreters are up by then
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.scheduler.race_child", dom.db.url, await _schema(dom.db), lease,
            day.isoformat(), "3", str(start_at), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err.decode()
        results.append(json.loads(out.decode().strip().splitlines()[-1]))
    statuses = sorted(r[0]["status"] for r in results)
    assert statuses == ["busy", "done"], results
    winner = next(r for r in results if r[0]["status"] == "done")
    assert winner[0]["result"]["issued"] == 3
    for cid in born:
        assert len(await certificates(dom, cid)) == 1
    async with dom.db.reading() as s:
        runs = (await s.execute(select(func.count()).select_from(JobRun).where(JobRun.name == "birthday"))).scalar()
    assert runs == 1
    # The loser's next tick finds the day done.
    assert await runner(dom, lease_name=lease).catch_up(names=["birthday"]) == []
    await assert_invariants(dom)
