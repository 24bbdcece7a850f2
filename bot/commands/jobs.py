"""`loyalty-bot jobs list|run|catch-up`: the scheduled jobs by hand (issue 5).

`run` and `catch-up` take the same lease as the bot's scheduler, so a hand run never
overlaps a scheduled one; both are idempotent (nothing is issued twice).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from bot.config import load_settings
from scheduler.jobs import JOBS
from scheduler.runner import JobRunner, RunOutcome

EXIT_BUSY = 3


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("jobs", help="list the scheduled jobs or run one by hand")
    jsub = p.add_subparsers(dest="jobs_command", required=True)
    lst = jsub.add_parser("list", help="the jobs, when they run and the last business date each finished")
    lst.set_defaults(func=jobs_list)
    run = jsub.add_parser("run", help="run a job for one business date (default: today), even if it ran")
    run.add_argument("name", choices=[*(j.name for j in JOBS), "all"], metavar="NAME",
                     help="a job from `jobs list`, or `all`")
    run.add_argument("--date", type=_date, default=None, help="business date YYYY-MM-DD (default: today)")
    run.set_defaults(func=jobs_run)
    catch = jsub.add_parser("catch-up", help="run every job for every missed business date")
    catch.add_argument("--until", type=_date, default=None,
                       help="also run dates up to this one whatever the time of day (YYYY-MM-DD)")
    catch.add_argument("--max-days", type=int, default=None, help="how far back to look (default 31)")
    catch.set_defaults(func=jobs_catch_up)


async def _runner() -> tuple[JobRunner, object]:
    from bot.services import build_services

    services = await build_services(load_settings())
    return JobRunner(services.dom, owner_ids=services.settings.owner_ids), services


def _print(outcomes: list[RunOutcome]) -> int:
    if any(o.status == "busy" for o in outcomes):
        print("another process is running the jobs right now (the lease is taken); try again later",
              file=sys.stderr)
        return EXIT_BUSY
    if not outcomes:
        print("nothing to do: every job is up to date")
    for o in outcomes:
        print(f"{o.business_date} {o.job:<16} {o.status:<6} {json.dumps(o.result, ensure_ascii=False)}")
    return 1 if any(o.status == "failed" for o in outcomes) else 0


async def jobs_list(_args: argparse.Namespace) -> int:
    runner, services = await _runner()
    try:
        last = await runner.last_runs()
    finally:
        await services.db.dispose()  # type: ignore[attr-defined]
    print(f"business time zone: {runner.dom.tz.key}; today: {runner.today()}")
    for job in runner.jobs:
        done = last.get(job.name)
        print(f"{job.name:<16} {job.schedule:<18} last done: {done or 'never'!s:<10}  {job.description}")
    return 0


async def jobs_run(args: argparse.Namespace) -> int:
    runner, services = await _runner()
    try:
        return _print(await runner.run(args.name, args.date))
    finally:
        await services.db.dispose()  # type: ignore[attr-defined]


async def jobs_catch_up(args: argparse.Namespace) -> int:
    runner, services = await _runner()
    try:
        return _print(await runner.catch_up(args.until, max_days=args.max_days))
    finally:
        await services.db.dispose()  # type: ignore[attr-defined]
