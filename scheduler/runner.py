"""Running jobs for business dates: catch-up, one runner at a time, and a record of each day.

`JobRunner.catch_up()` runs every job for every business date that is due and not recorded
in `job_runs` yet, oldest first, day by day (so a day's write-off comes before the next day's
warnings, as if the bot had never been down). The scheduler calls it from its cron triggers
and every few minutes; the sandbox's clock panel calls `catch_up(until=day)` after moving the
clock; `loyalty-bot jobs run NAME --date D` calls `run(NAME, D)`.

One runner (DOMAIN.md, "Automatic certificates"; issue 5): all of it happens under a lease
in the database (`models.kernel.leases.Lease`: a PostgreSQL advisory lock, a lease row on SQLite),
so when several bot processes share a database only one runs jobs at a time; the others
find the lease busy and skip. The unique keys in `models.automation.jobs` make a double run
harmless anyway; the lease keeps it from happening.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from models.automation import MonthlyReportBuilder, business_start, record_run
from models.kernel import Domain, DomainError, JobRun, Lease, SystemClock, default_holder
from models.program import current_version
from scheduler.jobs import JOBS, Job, JobContext

log = logging.getLogger(__name__)

DEFAULT_CATCH_UP_DAYS = 31


class UnknownJob(DomainError):
    code = "unknown_job"


class FutureDate(DomainError):
    code = "future_date"


@dataclass(frozen=True)
class RunOutcome:
    job: str
    business_date: date | None
    status: str  # "done", "failed" or "busy" (another process holds the lease)
    result: dict[str, Any] = field(default_factory=dict)


class JobRunner:
    def __init__(
        self,
        dom: Domain,
        *,
        owner_ids: Iterable[int] = (),
        monthly_report: MonthlyReportBuilder | None = None,
        jobs: Iterable[Job] = JOBS,
        holder: str | None = None,
        lease_name: str = "scheduler",
        lease_ttl: timedelta = timedelta(minutes=5),
        max_catch_up_days: int = DEFAULT_CATCH_UP_DAYS,
        on_lease_acquired: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.dom = dom
        self.context = JobContext(dom=dom, owner_ids=frozenset(owner_ids), monthly_report=monthly_report) \
            if monthly_report is not None else JobContext(dom=dom, owner_ids=frozenset(owner_ids))
        self.jobs = tuple(jobs)
        self.holder = holder or default_holder()
        self.lease_name = lease_name
        self.lease_ttl = lease_ttl
        self.max_catch_up_days = max_catch_up_days
        self.on_lease_acquired = on_lease_acquired
        self._lock = asyncio.Lock()  # one run at a time inside this process
        self._version: int | None = None

    def job(self, name: str) -> Job:
        for job in self.jobs:
            if job.name == name:
                return job
        raise UnknownJob(f"no job named {name!r} (see `loyalty-bot jobs list`)")

    def today(self) -> date:
        return self.dom.clock.now().astimezone(self.dom.tz).date()

    # --- Entry points ---------------------------------------------------------------------

    async def catch_up(self, until: date | None = None, *, names: Iterable[str] | None = None,
                       max_days: int | None = None) -> list[RunOutcome]:
        """Run every due, unrecorded (job, date) oldest first.

        Without `until`, today's date is due for a job once its time of day has passed; with
        `until` (the sandbox's "run jobs for every day up to D"), every date up to and
        including `until` is due whatever the time.
        """
        if until is not None and until > self.today():
            raise FutureDate(f"{until} is after today's business date {self.today()}; move the clock first")
        selected = [self.job(n) for n in names] if names is not None else list(self.jobs)
        return await self._under_lease(
            lambda: self._plan(selected, until, max_days or self.max_catch_up_days))

    async def run(self, name: str, business_date: date | None = None) -> list[RunOutcome]:
        """Run one job ("all": every job) for one date by hand, even if it already ran."""
        day = business_date or self.today()
        if day > self.today():
            raise FutureDate(f"{day} is after today's business date {self.today()}")
        selected = list(self.jobs) if name == "all" else [self.job(name)]

        async def plan() -> list[tuple[date, Job]]:
            return [(day, job) for job in selected]
        return await self._under_lease(plan)

    async def tick(self) -> None:
        """What the scheduler's triggers call: catch up on everything due; never raises."""
        try:
            outcomes = await self.catch_up()
        except Exception:
            log.exception("scheduled jobs failed")
            return
        for outcome in outcomes:
            if outcome.status == "busy":
                log.info("jobs: another process holds the lease; skipping")

    async def last_runs(self) -> dict[str, date | None]:
        async with self.dom.db.reading() as session:
            rows = dict((await session.execute(
                select(JobRun.name, JobRun.business_date).where(JobRun.name.in_([j.name for j in self.jobs]))
                .order_by(JobRun.business_date)
            )).all())
        return {job.name: rows.get(job.name) for job in self.jobs}

    # --- Internals ------------------------------------------------------------------------

    async def _plan(self, jobs: list[Job], until: date | None, max_days: int) -> list[tuple[date, Job]]:
        now = self.dom.clock.now().astimezone(self.dom.tz)
        today = now.date()
        started = await business_start(self.dom) or today
        plan: list[tuple[date, Job]] = []
        earliest = today - timedelta(days=max_days + 1)
        async with self.dom.db.reading() as session:
            recorded = (await session.execute(
                select(JobRun.name, JobRun.business_date).where(JobRun.business_date >= earliest)
            )).all()
        done_by_job: dict[str, set[date]] = {}
        for name, day in recorded:
            done_by_job.setdefault(name, set()).add(day)
        for job in jobs:
            end = until if until is not None else (today if now.time() >= job.at else today - timedelta(days=1))
            first = max(started, end - timedelta(days=max_days - 1))
            if end < first:
                continue
            done = done_by_job.get(job.name, set())
            if started < first and not any(first <= d <= end for d in done):
                log.warning("jobs: %s has not run since before %s; older days are not caught up", job.name, first)
            day = first
            while day <= end:
                if day not in done:
                    plan.append((day, job))
                day += timedelta(days=1)
        order = {job.name: i for i, job in enumerate(self.jobs)}
        plan.sort(key=lambda item: (item[0], item[1].at, order[item[1].name]))
        return plan

    async def _under_lease(self, make_plan: Callable[[], Awaitable[list[tuple[date, Job]]]]) -> list[RunOutcome]:
        async with self._lock:
            lease = Lease(self.dom.db, self.lease_name, self.holder, self.lease_ttl, SystemClock())
            if not await lease.acquire():
                return [RunOutcome("*", None, "busy")]
            heartbeat = asyncio.create_task(self._keep(lease))
            try:
                if self.on_lease_acquired is not None:
                    await self.on_lease_acquired()
                return await self._execute_all(await make_plan(), lease)
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                await lease.release()

    async def _keep(self, lease: Lease) -> None:
        while True:
            await asyncio.sleep(self.lease_ttl.total_seconds() / 3)
            try:
                kept = await lease.renew()
            except Exception:  # e.g. SQLite's write lock not granted within busy_timeout
                log.exception("jobs: could not renew the lease %s", self.lease_name)
                # Unrenewed, the lease lapses and another process may take it: stop between jobs
                # (the next tick starts where this run stopped).
                lease.held = kept = False
            if not kept:
                log.error("jobs: lost the lease %s", self.lease_name)
                return

    async def _execute_all(self, plan: list[tuple[date, Job]], lease: Lease) -> list[RunOutcome]:
        outcomes: list[RunOutcome] = []
        if plan:
            async with self.dom.db.reading() as session:
                self._version = await current_version(session)
        failed: set[str] = set()
        for day, job in plan:
            if not lease.held:
                break  # another process may take over; it will start where we stopped
            if job.name in failed:
                continue  # later days wait until this one succeeds, or it would never be retried
            outcome = await self._execute(job, day)
            if outcome.status == "failed":
                failed.add(job.name)
            outcomes.append(outcome)
        return outcomes

    async def _execute(self, job: Job, day: date) -> RunOutcome:
        started = self.dom.clock.now()
        try:
            result = await job.run(self.context, day)
            await record_run(self.dom, job.name, day, started_at=started, holder=self.holder,
                             program_version=self._version, result=result)
        except Exception as exc:
            log.exception("job %s for %s failed", job.name, day)
            return RunOutcome(job.name, day, "failed", {"error": f"{type(exc).__name__}: {exc}"})
        log.info("job %s for %s: %s", job.name, day, result)
        return RunOutcome(job.name, day, "done", result)


__all__ = ["DEFAULT_CATCH_UP_DAYS", "FutureDate", "JobRunner", "RunOutcome", "UnknownJob"]
