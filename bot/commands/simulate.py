"""`loyalty-bot simulate`: months of a plausible business through the real domain (models/reports/simulator.py)."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from models.kernel import Database, Domain, ManualClock


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("simulate", help="simulate a business into an empty database (a demo, benchmark data)")
    p.add_argument("--program", required=True, help="program TOML file, e.g. programs/case-a.toml")
    p.add_argument("--customers", type=int, default=1200)
    p.add_argument("--months", type=int, default=18)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--start", type=date.fromisoformat, default=None,
                   help="first simulated day (default: MONTHS months before today, so the data ends today)")
    p.add_argument("--typical-check", type=int, default=12250, help="typical check in roubles (default 12250)")
    p.add_argument("--staff", type=int, default=4)
    p.add_argument("--no-jobs", action="store_true", help="do not run the scheduler's jobs each morning")
    p.add_argument("--fresh", action="store_true",
                   help="DROP every table of the database first (for a demo database; never on real data)")
    p.add_argument("--database", default=None, help="database URL (default: DATABASE_URL from the settings)")
    p.add_argument("--timezone", default="Europe/Moscow")
    p.set_defaults(func=simulate_command)


# The jobs whose work shows in the figures. Birthday and win-back certificates are caught up
# every simulated morning; write-offs and tier recalculation (which act on everything overdue
# whatever the date) weekly; housekeeping, expiry warnings and the monthly message only
# write outgoing messages. Each (job, day) costs a lease and a few queries, so running all
# of them daily would double the simulation's time.
DAILY_JOBS = ("birthday", "winback")
WEEKLY_JOBS = ("expire", "tiers")


def scheduler_jobs(dom: Domain):  # type: ignore[no-untyped-def]
    """Each simulated morning, the scheduler's catch-up for that business date."""
    from scheduler.runner import JobRunner

    logging.getLogger("scheduler.runner").setLevel(logging.WARNING)  # one line per job and day is too chatty
    runner = JobRunner(dom)

    async def run(day: date) -> int:
        outcomes = await runner.catch_up(until=day, names=DAILY_JOBS)
        if day.weekday() == 0:
            for name in WEEKLY_JOBS:
                outcomes += await runner.run(name, day)
        return len(outcomes)

    return run


async def simulate_command(args: argparse.Namespace) -> int:
    import programs
    from models.program import load_program_file
    from models.reports import SimulationConfig, simulate

    if args.customers < 1 or args.months < 1:
        print("error: --customers and --months must be positive", file=sys.stderr)
        return 2
    program = load_program_file(programs.resolve(args.program))
    url = args.database
    if url is None:
        from bot.config import load_settings

        url = load_settings().database_url
    _load_phone_key(url)
    db = Database(url)
    dom = Domain(db=db, clock=ManualClock(datetime.now(UTC)), tz=ZoneInfo(args.timezone))
    config = SimulationConfig(customers=args.customers, months=args.months, seed=args.seed, start=args.start,
                              typical_check_kopecks=args.typical_check * 100, staff=max(args.staff, 1))
    started = time.monotonic()
    try:
        if args.fresh:
            await db.drop_all()
        await db.create_all()  # the schema straight from the models, as the tests do (empty databases only)
        try:
            result = await simulate(dom, program, config, jobs=None if args.no_jobs else scheduler_jobs(dom))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    finally:
        await db.dispose()
    elapsed = time.monotonic() - started
    print(f"simulated {result.days} days in {elapsed:.1f} s: {result.customers} customers, "
          f"{result.purchases} purchases, {result.refunds} refunds, {result.sales_no_card} sales without a card, "
          f"{result.ratings} ratings, {result.reviews} reviews, {result.job_runs} job runs"
          + (f"; refused: {result.errors}" if result.errors else ""))
    return 0


def _load_phone_key(url: str) -> None:
    """The database's phone hash key if it has one (PHONE_HASH_KEY or the key file), else a
    throwaway key: simulated customers are made up, and only `migrate`/`run` create key files."""
    from models.kernel import PhoneKeyError, configure, configure_throwaway, load_from_environment

    try:
        configure(load_from_environment(url, create=False))
    except PhoneKeyError:
        configure_throwaway()
