"""The scheduled jobs: what runs, when (business time), and which domain function it calls.

Every job takes a business date and is idempotent (see `models.automation.jobs`); the runner
(`scheduler.runner`) decides which dates are due and records each finished one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from models import automation
from models.automation import MonthlyReportBuilder
from models.kernel import Domain
from models.reports import monthly_report_payload


@dataclass(frozen=True)
class JobContext:
    dom: Domain
    owner_ids: frozenset[int] = frozenset()
    # The owners' monthly message: the reports area's, with `/report`'s figures (a test may swap it).
    monthly_report: MonthlyReportBuilder = monthly_report_payload


JobFunction = Callable[[JobContext, date], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Job:
    name: str
    at: time  # business time of day the job runs (the cron trigger and the catch-up use it)
    run: JobFunction = field(repr=False)
    description: str
    day_of_month: int | None = None  # the cron fires only on this day (the work checks it too)

    @property
    def schedule(self) -> str:
        when = f"{self.at:%H:%M}"
        return f"day {self.day_of_month} at {when}" if self.day_of_month else f"daily at {when}"


async def _expire(ctx: JobContext, day: date) -> dict[str, Any]:
    return await automation.write_off_expired(ctx.dom, day)


async def _housekeeping(ctx: JobContext, day: date) -> dict[str, Any]:
    return dict(await automation.housekeeping(ctx.dom))


async def _monthly_report(ctx: JobContext, day: date) -> dict[str, Any]:
    return await automation.send_monthly_report(ctx.dom, day, ctx.owner_ids, ctx.monthly_report)


async def _tiers(ctx: JobContext, day: date) -> dict[str, Any]:
    # Everyone is recomputed on the first run and after the program changed (thresholds or
    # window); otherwise only the customers whose purchases left the window that day.
    full = await automation.tiers_need_full_run(ctx.dom)
    return (await automation.recalculate_tiers(ctx.dom, day, full=full)).as_dict()


async def _expiry_warnings(ctx: JobContext, day: date) -> dict[str, Any]:
    return await automation.warn_expiring_points(ctx.dom, day)


async def _birthday(ctx: JobContext, day: date) -> dict[str, Any]:
    return (await automation.birthday_certificates(ctx.dom, day)).as_dict()


async def _winback(ctx: JobContext, day: date) -> dict[str, Any]:
    return (await automation.winback_certificates(ctx.dom, day)).as_dict()


# In the order they run within a day. Night jobs do bookkeeping; anything that writes to
# customers runs in the daytime, so messages do not arrive at night.
JOBS: tuple[Job, ...] = (
    Job("expire", time(0, 5), _expire, "write off expired points (ledger entries)"),
    Job("housekeeping", time(4, 0), _housekeeping,
        "purge old customer codes, delivered messages, lapsed leases and registered stale data"),
    Job("monthly_report", time(9, 0), _monthly_report, "last month's summary to the owners (on the 1st)",
        day_of_month=1),
    Job("tiers", time(10, 0), _tiers,
        "rolling-window tier recalculation (downgrade notices) and near-next-tier notices"),
    Job("expiry_warnings", time(11, 0), _expiry_warnings, "warn customers N days before their points expire"),
    Job("birthday", time(12, 0), _birthday, "birthday certificates with a greeting"),
    Job("winback", time(12, 30), _winback, "win-back certificates N days after the last purchase"),
)

JOBS_BY_NAME = {job.name: job for job in JOBS}
