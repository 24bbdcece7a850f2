"""The simulator: the same seed gives the same business (and report); the ledger stays sound."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.commands.simulate import scheduler_jobs
from bot.report_render import report_as_dict
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.db import Database
from models.program.rules import Program
from models.reports.report import build_report
from models.reports.simulator import SimulationConfig, simulate
from tests.conftest import drop_schema, make_database
from tests.helpers import assert_invariants

CONFIG = SimulationConfig(customers=25, months=1, seed=3, start=date(2026, 1, 5))


async def _run(db: Database, program: Program) -> tuple[dict[str, object], object]:
    dom = Domain(db=db, clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), tz=ZoneInfo("Europe/Moscow"))
    result = await simulate(dom, program, CONFIG, jobs=scheduler_jobs(dom))
    await assert_invariants(dom)
    report = await build_report(dom, None, None)
    return report_as_dict(report), result


async def test_same_seed_same_business(db: Database, backend: str, tmp_path: Path, case_a: Program) -> None:
    first, result = await _run(db, case_a)
    (tmp_path / "other").mkdir()
    other, schema = await make_database(backend, tmp_path / "other")
    try:
        await other.create_all()
        second, again = await _run(other, case_a)
    finally:
        await other.dispose()
        if schema:
            await drop_schema(schema)
    assert result == again
    assert first == second
    figures = first["figures"]
    assert isinstance(figures, dict)
    assert figures["customers"] == 25 and figures["purchases"] > 0 and figures["points_paid"] > 0
    assert first["no_card_sales"] and result.job_runs > 0  # type: ignore[attr-defined]
