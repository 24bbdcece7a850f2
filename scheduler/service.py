"""The scheduler started with the bot: APScheduler 3's AsyncIOScheduler with one cron trigger
per job in the business's time zone, plus a periodic catch-up.

Every trigger calls `JobRunner.tick()`, which runs whatever is due and not yet recorded, so
a trigger that fires while another process holds the lease, or while the bot was down, is
made good by the next tick. The outbox sender is a long-lived task beside it, not a job.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from models.automation import MonthlyReportBuilder
from scheduler.jobs import JOBS
from scheduler.runner import JobRunner

if TYPE_CHECKING:
    from bot.services import Services

CATCH_UP_EVERY = timedelta(minutes=10)


def build_runner(services: Services) -> JobRunner:
    """The jobs as production runs them: the monthly report is the reports area's full summary."""
    return JobRunner(services.dom, owner_ids=services.settings.owner_ids)


def start_scheduler(services: Services, *, catch_up_on_start: bool = True,
                    runner: JobRunner | None = None) -> AsyncIOScheduler:
    """Register the jobs and start the scheduler (call it inside the bot's event loop).

    The runner is left in `services.job_runner` for the sandbox's clock panel
    (`await runner.catch_up(until=day)`).
    """
    runner = runner or build_runner(services)
    services.job_runner = runner
    tz = services.dom.tz
    scheduler = AsyncIOScheduler(timezone=tz)
    for job in JOBS:
        scheduler.add_job(
            runner.tick, CronTrigger(day=job.day_of_month, hour=job.at.hour, minute=job.at.minute, timezone=tz),
            id=job.name, name=job.description, coalesce=True, max_instances=1, misfire_grace_time=3600,
            replace_existing=True,
        )
    # At start-up the catch-up runs at once: the days missed while the bot was down.
    start_now = {"next_run_time": datetime.now(tz)} if catch_up_on_start else {}
    scheduler.add_job(
        runner.tick, IntervalTrigger(seconds=int(CATCH_UP_EVERY.total_seconds()), timezone=tz),
        id="catch_up", name="run whatever is due and not yet done", coalesce=True, max_instances=1,
        replace_existing=True, **start_now,
    )
    scheduler.start()
    return scheduler


__all__ = ["CATCH_UP_EVERY", "MonthlyReportBuilder", "build_runner", "start_scheduler"]
