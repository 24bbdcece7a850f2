"""Benchmark of the daily jobs (issue 5): a big base, a day when ~0.3% of customers are due.

    .venv/bin/python bench/jobs.py [--backend sqlite|postgres|both] [--customers N]
                                  [--pg-url URL] [--sqlite-path PATH]

Fills a fresh database by set-based SQL (`INSERT ... SELECT` over a recursive CTE on SQLite,
over generate_series on PostgreSQL; nothing goes through the ORM row by row): N customers
(default 1,000,000), 2 operations, 2 lots and 10 ledger entries per customer, Telegram
accounts for 70%. Birthdays, last purchases and lot expiries are spread evenly over the year,
so on the measured day about 1/365 (0.27%) of customers are due for each job. Then it times
`SELECT count(*) FROM customers` and each job (through `JobRunner.run`, lease and bookkeeping
included), prints each job's ratio to the scan, and the process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.kernel import phone_key
from models.kernel.clock import ManualClock, start_of_day
from models.kernel.context import Domain
from models.kernel.db import Database, normalise_url
from models.kernel.tables import JobRun
from models.ledger.running_totals import rebuild_running_totals
from models.program.rules import load_program_file
from models.program.store import ensure_program
from scheduler.runner import JobRunner

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Europe/Moscow")
DAY = date(2026, 6, 1)  # the measured business date: a 1st, so the monthly report runs too
JOBS = ["expire", "housekeeping", "monthly_report", "tiers", "expiry_warnings", "birthday", "winback"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- Filling ---------------------------------------------------------------------------------
# Per customer i (1..N), k = i % 365 spreads everything over the year:
#   birthday: day k of 2001 (no 29 February); last purchase: DAY - k days - 3 h (win-back
#   after 30 days is due for k = 30); welcome lot expires DAY + (k - 180) days + 10 h (earlier
#   ones are already written off; k = 179 expires on the eve of DAY; k = 194 is 14 days ahead,
#   warned on DAY; k < 194 were warned by earlier runs); purchase amounts spread 100..100,000 ₽,
#   tier set accordingly; purchases k = 181 left the 180-day window on DAY.

def sqlite_fill(n: int, base: str) -> list[str]:
    seq = f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n})"
    ts = "strftime('%Y-%m-%d %H:%M:%S.000000', '{base}', {offset})"

    def at(offset: str) -> str:
        return ts.format(base=base, offset=offset)

    k = "(i % 365)"
    return [
        f"""{seq} INSERT INTO customers (id, phone, name, birthday, birth_month, birth_day, referral_code,
            source_kind, created_at, registered_at, tier_index, last_purchase_at, blocked, lock_version,
            paid_total_kopecks, purchase_count, base_paid_kopecks, base_purchase_count)
        SELECT i, '+7900' || printf('%07d', i), 'Customer ' || i, date('2001-01-01', '+' || {k} || ' days'),
            CAST(strftime('%m', date('2001-01-01', '+' || {k} || ' days')) AS INTEGER),
            CAST(strftime('%d', date('2001-01-01', '+' || {k} || ' days')) AS INTEGER),
            'r' || i, 'walk_in', {at("'-400 days'")}, {at("'-400 days'")},
            CASE WHEN (i % 1000 + 1) * 10000 >= 5000000 THEN 1 ELSE 0 END,
            {at("'-' || " + k + " || ' days', '-3 hours'")}, 0, 0, (i % 1000 + 1) * 10000, 1, 0, 0 FROM seq""",
        f"""{seq} INSERT INTO telegram_accounts (telegram_id, customer_id, first_name, unreachable, created_at)
        SELECT 1000000000 + i, i, 'C', 0, {at("'-400 days'")} FROM seq WHERE i % 10 < 7""",
        f"""{seq} INSERT INTO operations (id, kind, customer_id, program_version, created_at, amount_kopecks,
            cash_kopecks, points_paid, cashback, referral_paid, points_delta, refunded_kopecks, shortfall,
            comment, channel)
        SELECT 2 * i - 1, 'purchase', i, 1, {at("'-' || " + k + " || ' days', '-3 hours'")}, (i % 1000 + 1) * 10000,
            (i % 1000 + 1) * 10000, 0, (i % 1000) * 3, 0, 0, 0, 0, '', 'bot' FROM seq
        UNION ALL
        SELECT 2 * i, 'reward', i, 1, {at("'-400 days'")}, 0, 0, 0, 0, 0, 300, 0, 0, 'welcome', 'bot' FROM seq""",
        f"""{seq} INSERT INTO lots (id, customer_id, kind, amount, remaining, created_at, expires_at, operation_id,
            expired_at, warned_at)
        SELECT 2 * i - 1, i, 'welcome', 300, CASE WHEN {k} < 179 THEN 0 ELSE 300 END, {at("'-400 days'")},
            {at("'+' || (" + k + " - 180) || ' days', '+10 hours'")}, 2 * i,
            CASE WHEN {k} < 179 THEN {at("'+' || (" + k + " - 180) || ' days', '+10 hours'")} END,
            CASE WHEN {k} < 194 THEN {at("'-1 days'")} END FROM seq
        UNION ALL
        SELECT 2 * i, i, 'cashback', 50, 50, {at("'-' || " + k + " || ' days'")},
            {at("'+' || (200 + " + k + ") || ' days'")}, 2 * i - 1, NULL, NULL FROM seq""",
        """INSERT INTO ledger_entries (lot_id, customer_id, operation_id, kind, delta, created_at)
        SELECT l.id, l.customer_id, l.operation_id,
            CASE f.j WHEN 0 THEN 'grant' WHEN 1 THEN 'redeem' WHEN 2 THEN 'return' WHEN 3 THEN 'redeem'
                     ELSE 'return' END,
            CASE f.j WHEN 0 THEN l.amount WHEN 1 THEN -1 WHEN 2 THEN 1 WHEN 3 THEN -1 ELSE 1 END, l.created_at
        FROM lots l CROSS JOIN (SELECT 0 AS j UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3
                                UNION ALL SELECT 4) f""",
    ]


def postgres_fill(n: int, base: str) -> list[str]:
    seq = f"generate_series(1, {n}) AS s(i)"
    b = f"timestamptz '{base}+00'"
    k = "(i % 365)"
    return [
        f"""INSERT INTO customers (id, phone, name, birthday, birth_month, birth_day, referral_code,
            source_kind, created_at, registered_at, tier_index, last_purchase_at, blocked, lock_version,
            paid_total_kopecks, purchase_count, base_paid_kopecks, base_purchase_count)
        SELECT i, '+7900' || lpad(i::text, 7, '0'), 'Customer ' || i, date '2001-01-01' + {k},
            extract(month FROM date '2001-01-01' + {k})::int, extract(day FROM date '2001-01-01' + {k})::int,
            'r' || i, 'walk_in', {b} - interval '400 days', {b} - interval '400 days',
            CASE WHEN (i % 1000 + 1) * 10000 >= 5000000 THEN 1 ELSE 0 END,
            {b} - make_interval(days => {k}) - interval '3 hours', false, 0, (i % 1000 + 1) * 10000, 1, 0, 0
        FROM {seq}""",
        f"""INSERT INTO telegram_accounts (telegram_id, customer_id, first_name, unreachable, created_at)
        SELECT 1000000000 + i, i, 'C', false, {b} - interval '400 days' FROM {seq} WHERE i % 10 < 7""",
        f"""INSERT INTO operations (id, kind, customer_id, program_version, created_at, amount_kopecks,
            cash_kopecks, points_paid, cashback, referral_paid, points_delta, refunded_kopecks, shortfall,
            comment, channel)
        SELECT 2 * i - 1, 'purchase', i, 1, {b} - make_interval(days => {k}) - interval '3 hours',
            (i % 1000 + 1) * 10000, (i % 1000 + 1) * 10000, 0, (i % 1000) * 3, 0, 0, 0, 0, '', 'bot' FROM {seq}
        UNION ALL
        SELECT 2 * i, 'reward', i, 1, {b} - interval '400 days', 0, 0, 0, 0, 0, 300, 0, 0, 'welcome', 'bot'
        FROM {seq}""",
        f"""INSERT INTO lots (id, customer_id, kind, amount, remaining, created_at, expires_at, operation_id,
            expired_at, warned_at)
        SELECT 2 * i - 1, i, 'welcome', 300, CASE WHEN {k} < 179 THEN 0 ELSE 300 END, {b} - interval '400 days',
            {b} + make_interval(days => {k} - 180) + interval '10 hours', 2 * i,
            CASE WHEN {k} < 179 THEN {b} + make_interval(days => {k} - 180) + interval '10 hours' END,
            CASE WHEN {k} < 194 THEN {b} - interval '1 day' END FROM {seq}
        UNION ALL
        SELECT 2 * i, i, 'cashback', 50, 50, {b} - make_interval(days => {k}),
            {b} + make_interval(days => 200 + {k}), 2 * i - 1, NULL, NULL FROM {seq}""",
        """INSERT INTO ledger_entries (lot_id, customer_id, operation_id, kind, delta, created_at)
        SELECT l.id, l.customer_id, l.operation_id,
            (ARRAY['grant', 'redeem', 'return', 'redeem', 'return'])[f.j + 1],
            CASE f.j WHEN 0 THEN l.amount WHEN 1 THEN -1 WHEN 2 THEN 1 WHEN 3 THEN -1 ELSE 1 END, l.created_at
        FROM lots l CROSS JOIN generate_series(0, 4) AS f(j)""",
    ]


# --- Running ---------------------------------------------------------------------------------

async def prepare(backend: str, args: argparse.Namespace) -> tuple[Database, str | None]:
    if backend == "sqlite":
        path = Path(args.sqlite_path)
        for suffix in ("", "-wal", "-shm"):
            os.unlink(f"{path}{suffix}") if os.path.exists(f"{path}{suffix}") else None  # noqa: ASYNC240
        return Database(f"sqlite+aiosqlite:///{path}"), None
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(normalise_url(args.pg_url))
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return Database(args.pg_url, schema=schema), schema


async def fill(db: Database, dom: Domain, n: int) -> dict[str, float]:
    await db.create_all()
    program = load_program_file(ROOT / "programs" / "case-a.toml")
    # A rolling window, so the tiers job has customers to move down on the measured day.
    program = program.model_copy(update={"tiers": program.tiers.model_copy(update={"window_days": 180})})
    await ensure_program(dom, program)
    base = start_of_day(DAY, TZ).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    statements = sqlite_fill(n, base) if db.is_sqlite else postgres_fill(n, base)
    timings: dict[str, float] = {}
    async with db.engine.begin() as conn:
        for sql, table in zip(statements, ["customers", "telegram_accounts", "operations", "lots",
                                           "ledger_entries"], strict=True):
            started = time.perf_counter()
            await conn.execute(text(sql))
            timings[table] = time.perf_counter() - started
            print(f"  filled {table} in {timings[table]:.1f} s", flush=True)
    # The running totals the reports read (customers' revenue, till_hours), as purchases keep them.
    started = time.perf_counter()
    async with db.transaction() as session:
        await rebuild_running_totals(session)
    timings["running totals"] = time.perf_counter() - started
    print(f"  running totals rebuilt in {timings['running totals']:.1f} s", flush=True)
    async with db.engine.begin() as conn:
        if not db.is_sqlite:  # explicit ids above: move the sequences past them
            for table in ("customers", "operations", "lots"):
                await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
        started = time.perf_counter()
        await conn.execute(text("ANALYZE"))
        print(f"  analyzed in {time.perf_counter() - started:.1f} s", flush=True)
    # The tiers job ran yesterday with this program: today is the daily (incremental) run.
    async with db.transaction() as session:
        session.add(JobRun(name="tiers", business_date=DAY - timedelta(days=1), started_at=dom.clock.now(),
                           finished_at=dom.clock.now(), holder="bench", program_version=1, result={}))
    return timings


async def scan(db: Database, sql: str = "SELECT count(*) FROM customers") -> float:
    best = float("inf")
    for _ in range(3):
        async with db.reading() as session:
            started = time.perf_counter()
            await session.execute(text(sql))
            best = min(best, time.perf_counter() - started)
    return best


# --- The floor: the birthday job's writes as bare SQL ------------------------------------------
# What any implementation of the birthday job must write for a day's 2,740 birthdays, done the
# cheapest way the database offers: one transaction of set-based INSERT ... SELECT, no Python per
# row, no chunks, no re-checks, a constant message. It serves the birthdays of the day after
# DAY (customers the measured job did not touch), after the jobs ran. A job cannot be faster
# than this, so this bounds the ratio any implementation could reach against `count(*)`.

FLOOR_DAY = DAY + timedelta(days=1)


def floor_statements(is_sqlite: bool) -> list[str]:
    payload = ("'{\"key\": \"scheduler-birthday\", \"args\": {}}'" if is_sqlite
               else "'{\"key\": \"scheduler-birthday\", \"args\": {}}'::json")
    return [
        "CREATE TEMP TABLE floor_due AS SELECT id FROM customers "
        "WHERE birth_month = :month AND birth_day = :day AND erased_at IS NULL AND NOT blocked",
        "INSERT INTO reward_claims (kind, subject, period, created_at) "
        "SELECT 'birthday', CAST(id AS VARCHAR), 'floor', :now FROM floor_due",
        "INSERT INTO operations (kind, customer_id, program_version, created_at, amount_kopecks, cash_kopecks, "
        "points_paid, cashback, referral_paid, points_delta, refunded_kopecks, shortfall, comment, channel) "
        "SELECT 'reward', id, 1, :now, 0, 0, 0, 0, 0, 1000, 0, 0, 'certificate: birthday', 'job' FROM floor_due",
        "INSERT INTO lots (customer_id, kind, amount, remaining, created_at, expires_at, operation_id, "
        "max_redeem_percent, certificate_kind) SELECT customer_id, 'certificate', 1000, 1000, created_at, "
        ":expires, id, '30', 'birthday' FROM operations WHERE id > :max_operation",
        "INSERT INTO ledger_entries (lot_id, customer_id, operation_id, kind, delta, created_at) "
        "SELECT id, customer_id, operation_id, 'grant', 1000, created_at FROM lots WHERE id > :max_lot",
        "INSERT INTO outbox (chat_id, method, payload, dedupe_key, status, attempts, not_before, created_at) "
        f"SELECT t.telegram_id, 'sendMessage', {payload}, 'floor:' || CAST(d.id AS VARCHAR), 'pending', 0, "
        ":now, :now FROM floor_due d JOIN telegram_accounts t ON t.customer_id = d.id",
        "DROP TABLE floor_due",
    ]


async def floor(db: Database, now: datetime) -> tuple[float, int]:
    """Seconds for the floor's transaction (statements and commit) and the certificates written."""
    from models.kernel.base import UTCDateTime

    async with db.engine.connect() as conn:
        started = time.perf_counter()
        await conn.begin()
        params = {"month": FLOOR_DAY.month, "day": FLOOR_DAY.day, "now": now, "expires": now + timedelta(days=30),
                  "max_operation": (await conn.execute(text("SELECT max(id) FROM operations"))).scalar(),
                  "max_lot": (await conn.execute(text("SELECT max(id) FROM lots"))).scalar()}
        written = 0
        for sql in floor_statements(db.is_sqlite):
            statement = text(sql)
            names = {name for name in params if f":{name}" in sql}
            if {"now", "expires"} & names:
                statement = statement.bindparams(*(bindparam(n, type_=UTCDateTime) for n in ("now", "expires")
                                                   if n in names))
            result = await conn.execute(statement, {n: params[n] for n in names})
            if sql.startswith("INSERT INTO operations"):
                written = result.rowcount
        await conn.commit()
        return time.perf_counter() - started, written


async def run_backend(backend: str, args: argparse.Namespace) -> list[str]:
    db, schema = await prepare(backend, args)
    clock = ManualClock(datetime(DAY.year, DAY.month, DAY.day, 13, 0, tzinfo=TZ))
    dom = Domain(db=db, clock=clock, tz=TZ)
    lines = []
    try:
        print(f"{backend}: filling {args.customers:,} customers ...", flush=True)
        started = time.perf_counter()
        await fill(db, dom, args.customers)
        fill_time = time.perf_counter() - started
        async with db.reading() as session:
            counts = {t: (await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar()
                      for t in ("customers", "operations", "lots", "ledger_entries")}
        print(f"  {counts} in {fill_time:.0f} s; peak memory so far {peak_mb():.0f} MB", flush=True)
        count_time = await scan(db)
        runner = JobRunner(dom, owner_ids=[1], lease_name=f"bench-{uuid.uuid4().hex[:6]}")
        lines.append(f"| {backend} | `SELECT count(*) FROM customers` | {count_time * 1000:.1f} ms | 1.0× | — |")
        # For reading the ratios: SQLite answers count(*) from the smallest index's page count,
        # so a scan that reads every row is shown too.
        row_scan = await scan(db, "SELECT sum(lock_version + tier_index) FROM customers")
        lines.append(f"| {backend} | reference: `SELECT sum(...) FROM customers` (reads every row) | "
                     f"{row_scan * 1000:.0f} ms | {row_scan / count_time:.1f}× | — |")
        for name in JOBS:
            started = time.perf_counter()
            [outcome] = await runner.run(name, DAY)
            took = time.perf_counter() - started
            detail = ", ".join(f"{k} {v}" for k, v in outcome.result.items() if k not in ("full",))
            line = (f"| {backend} | {name} | {took * 1000:.0f} ms | {took / count_time:.1f}× "
                    f"({took / row_scan:.1f}× row scan) | {outcome.status}: {detail} |")
            print(line, flush=True)
            lines.append(line)
        took, written = await floor(db, clock.now())
        line = (f"| {backend} | floor: the birthday job's writes as bare SQL, one transaction | "
                f"{took * 1000:.0f} ms | {took / count_time:.1f}× ({took / row_scan:.1f}× row scan) | "
                f"{written} certificates |")
        print(line, flush=True)
        lines.append(line)
        # The first run (or after a program change) recalculates every customer's tier.
        started = time.perf_counter()
        from models.automation.jobs import recalculate_tiers

        full = await recalculate_tiers(dom, DAY, full=True)
        took = time.perf_counter() - started
        line = (f"| {backend} | tiers, full recalculation (first run / program changed) | {took * 1000:.0f} ms | "
                f"{took / count_time:.1f}× | changed {full.recalculated} |")
        print(line, flush=True)
        lines.append(line)
        lines.append(f"| {backend} | peak memory of the process (fill included) | {peak_mb():.0f} MB | | "
                     f"{counts['customers']:,} customers, {counts['ledger_entries']:,} ledger entries, "
                     f"filled in {fill_time:.0f} s |")
        print(lines[-1], flush=True)
    finally:
        await db.dispose()
        if schema and not args.keep:
            admin = create_async_engine(normalise_url(args.pg_url))
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
    return lines


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                           "postgresql+asyncpg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--sqlite-path", default="/tmp/bench_jobs.db")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema afterwards")
    args = parser.parse_args()
    phone_key.configure_throwaway()  # made-up customers; the birthday job keys claims by phone
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    lines = ["| backend | job | time | × scan | result |", "|---|---|---|---|---|"]
    for backend in backends:
        lines += await run_backend(backend, args)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
