"""The full report (every figure + RFM) against a plain scan of the operations table.

    python bench/report.py [--customers 1000000] [--operations 10000000] [--postgres URL] [--sqlite FILE]
                           [--reuse] [--skip-sqlite] [--runs N] [--verify]

Bulk-generates a business straight in SQL (a recursive CTE on SQLite, generate_series on
PostgreSQL): customers from every source with referral chains and 92% linked to Telegram,
operations (85% purchases with points, refunds and certificates; 10% sales without a
card; 5% rewards) spread over two years, certificate lots, ledger entries, ratings and link
visits; the running totals the operations keep (customers' report totals, `till_hours`) are
then derived from the generated operations set-based, and checked against them on a sample.
Then, in the same run, it times

  * scan:   SELECT sum(amount_kopecks) FROM operations   (the floor: one pass over the table)
  * report: models.reports.report.build_report for all time, RFM and its month-over-month movement
            included (what the owner's /report and `loyalty-bot report` run)

(`--verify`: also the report straight from the operations, which must be identical)
and prints both, the ratio report/scan (goal ≤ 15×) and the process's peak memory (goal
< 500 MB; SQLite runs inside the process, PostgreSQL's own memory is not counted). The
machine is shared and noisy: only numbers taken side by side mean anything. Defaults are
a tenth of the full size so `make bench` stays short; pass the full size explicitly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Index, text  # noqa: E402

from models.kernel.clock import ManualClock  # noqa: E402
from models.kernel.context import Domain  # noqa: E402
from models.kernel.db import Database  # noqa: E402
from models.kernel.tables import Operation  # noqa: E402
from models.ledger.running_totals import check_running_totals, rebuild_running_totals  # noqa: E402
from models.program.rules import load_program_file  # noqa: E402
from models.program.store import ensure_program  # noqa: E402
from models.reports.report import build_report  # noqa: E402

START = datetime(2024, 11, 1, tzinfo=UTC)
SPAN_SECONDS = 730 * 86400  # two years of history
STAFF = 10
CAMPAIGNS = 6


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _stamp(dialect: str, offset_sql: str) -> str:
    """An SQL expression for START + offset seconds, in the column's storage format."""
    if dialect == "sqlite":
        return (f"strftime('%Y-%m-%d %H:%M:%S', '{START:%Y-%m-%d %H:%M:%S}', '+' || ({offset_sql}) || ' seconds')"
                " || '.000000'")
    return f"(TIMESTAMPTZ '{START.isoformat()}' + ({offset_sql}) * INTERVAL '1 second')"


def _series(dialect: str, n: int, body: str) -> str:
    """`body` (a SELECT using `x`) over x = 1..n."""
    if dialect == "sqlite":
        return f"WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {n}) {body} FROM seq"
    return f"{body} FROM generate_series(1::bigint, {n}) AS seq(x)"


def generation_sql(dialect: str, customers: int, operations: int) -> list[str]:
    buyers = max(customers * 6 // 10, 1)
    c_at = _stamp(dialect, f"x * {SPAN_SECONDS // 2} / {customers}")  # customers join over the first year
    o_at = _stamp(dialect, f"{SPAN_SECONDS // 4} + x * {SPAN_SECONDS * 3 // 4} / {operations}")
    # A skewed buyer for each purchase: squaring a uniform number favours low ids (concentration).
    u = f"((x * 2654435761) % {buyers})"
    buyer = f"(1 + ({u} * {u}) / {buyers})"
    kind = ("CASE WHEN x % 20 < 17 THEN 'purchase' WHEN x % 20 < 19 THEN 'sale_no_card' ELSE 'reward' END")
    amount = "CASE WHEN x % 20 < 19 THEN 500000 + (x * 7907) % 2000000 ELSE 0 END"
    points = "CASE WHEN x % 20 < 17 AND x % 3 = 0 THEN (500000 + (x * 7907) % 2000000) / 1000 ELSE 0 END"
    rating_offset = f"{SPAN_SECONDS // 4} + x * {SPAN_SECONDS * 3 // 4} / {max(operations // 100, 1)}"
    return [
        "INSERT INTO staff (id, display_name, role, active, created_at) "
        + _series(dialect, STAFF, f"SELECT x, 'staff ' || x, 'staff', {_true(dialect)}, {_stamp(dialect, '0')}"),
        "INSERT INTO campaigns (id, code, name, is_source, points, max_redeem_percent, validity_days, "
        "issued_count, active, created_at) "
        + _series(dialect, CAMPAIGNS, f"SELECT x, 'bench' || x, 'Campaign ' || x, "
                  f"CASE WHEN x > 4 THEN {_true(dialect)} ELSE {_false(dialect)} END, "
                  f"CASE WHEN x > 4 THEN 0 ELSE 500 END, '20', 30, 0, {_true(dialect)}, {_stamp(dialect, '0')}"),
        # Sources: 5% referral (referrer x / 2, so chains form), 60% campaigns, 10% source links,
        # 10% staff, the rest walk-in.
        "INSERT INTO customers (id, phone, name, referral_code, referrer_id, source_kind, campaign_id, "
        "enrolled_by_staff_id, created_at, registered_at, tier_index, paid_total_kopecks, purchase_count, "
        "base_paid_kopecks, base_purchase_count, blocked, lock_version, revenue_kopecks, points_paid_kopecks, "
        "certificate_revenue_kopecks) "
        + _series(dialect, customers,
                  "SELECT x, NULL, 'guest', 'b' || x, "
                  "CASE WHEN x % 20 = 0 AND x > 1 THEN x / 2 END, "
                  "CASE WHEN x % 20 = 0 THEN 'referral' WHEN x % 20 < 13 THEN 'campaign' "
                  "WHEN x % 20 < 15 THEN 'source' WHEN x % 20 < 17 THEN 'staff' ELSE 'walk_in' END, "
                  f"CASE WHEN x % 20 BETWEEN 1 AND 12 THEN 1 + x % 4 WHEN x % 20 BETWEEN 13 AND 14 THEN 5 + x % 2 END, "
                  f"CASE WHEN x % 20 BETWEEN 15 AND 16 THEN 1 + x % {STAFF} END, "
                  f"{c_at}, {c_at}, 0, 0, 0, 0, 0, {_false(dialect)}, 0, 0, 0, 0"),
        "INSERT INTO telegram_accounts (telegram_id, customer_id, first_name, unreachable, created_at, linked_at) "
        + _series(dialect, customers,
                  f"SELECT 1000000000 + x, CASE WHEN x % 13 <> 0 THEN x END, 'g', {_false(dialect)}, "
                  f"{c_at}, CASE WHEN x % 13 <> 0 THEN {c_at} END"),
        "INSERT INTO operations (id, kind, customer_id, staff_id, program_version, created_at, amount_kopecks, "
        "cash_kopecks, points_paid, cashback, referral_paid, points_delta, certificate_lot_id, "
        "refunded_kopecks, shortfall, comment, channel) "
        + _series(dialect, operations,
                  f"SELECT x, {kind}, CASE WHEN x % 20 < 17 OR x % 20 = 19 THEN {buyer} END, 1 + x % {STAFF}, 1, "
                  f"{o_at}, {amount}, ({amount}) - ({points}) * 100, {points}, 0, 0, "
                  "CASE WHEN x % 20 = 19 THEN 300 ELSE 0 END, "
                  "CASE WHEN x % 20 < 17 AND x % 25 = 0 THEN 1 + x % 1000 END, "
                  f"CASE WHEN x % 20 < 17 AND x % 50 = 0 THEN {amount} WHEN x % 20 < 17 AND x % 97 = 0 "
                  f"THEN ({amount}) / 2 ELSE 0 END, 0, '', 'bench'"),
        # Certificate lots on the reward operations (x % 20 = 19), some from campaigns.
        "INSERT INTO lots (id, customer_id, kind, amount, remaining, created_at, expires_at, operation_id, "
        "max_redeem_percent, certificate_kind, campaign_id) "
        + _series(dialect, max(operations // 200, 1),
                  f"SELECT x, {buyer.replace('x', '(x * 10)')}, 'certificate', 500, 0, "
                  f"{_stamp(dialect, f'x * {SPAN_SECONDS // 2} / {max(operations // 200, 1)}')}, NULL, x * 20 - 1, "
                  "'20', CASE x % 4 WHEN 0 THEN 'birthday' WHEN 1 THEN 'winback' WHEN 2 THEN 'campaign' "
                  "ELSE 'owner' END, CASE WHEN x % 4 = 2 THEN 1 + x % 4 END"),
        "INSERT INTO ledger_entries (id, lot_id, customer_id, operation_id, kind, delta, created_at) "
        "SELECT id, id, customer_id, operation_id, 'redeem', -500, created_at FROM lots",
        "INSERT INTO ratings (id, operation_id, customer_id, staff_id, score, created_at) "
        + _series(dialect, max(operations // 100, 1),
                  f"SELECT x, x * 100 - 99, {buyer.replace('x', '(x * 100 - 99)')}, 1 + (x * 100 - 99) % {STAFF}, "
                  f"1 + x % 5, {_stamp(dialect, rating_offset)}"),
        "INSERT INTO link_visits (id, campaign_id, telegram_id, created_at) "
        + _series(dialect, max(customers // 5, 1),
                  f"SELECT x, 1 + x % {CAMPAIGNS}, 2000000000 + x, {_stamp(dialect, 'x * 40')}"),
    ]


def _true(dialect: str) -> str:
    return "1" if dialect == "sqlite" else "TRUE"


def _false(dialect: str) -> str:
    return "0" if dialect == "sqlite" else "FALSE"


async def populate(db: Database, customers: int, operations: int) -> float:
    """Create the schema and fill it; operations' secondary indexes are built after the load."""
    await db.drop_all()
    await db.create_all()
    dom = Domain(db=db, clock=ManualClock(START), tz=ZoneInfo("Europe/Moscow"))
    program = load_program_file(ROOT / "programs" / "case-a.toml")
    await ensure_program(dom, program.model_copy(update={"campaigns": []}))  # the bench makes its own
    indexes = [ix for ix in Operation.__table__.indexes if isinstance(ix, Index)]
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        for ix in indexes:
            await conn.run_sync(lambda sync, ix=ix: ix.drop(sync))
    # The generated rows are consistent by construction: skip the per-row foreign-key checks.
    statements = generation_sql(db.dialect, customers, operations)
    if db.is_sqlite:
        await asyncio.to_thread(_load_sqlite, db.engine.url.database or "", statements)
    else:
        async with db.engine.connect() as conn:
            await conn.execute(text("SET session_replication_role = replica"))
            for statement in statements:
                await conn.execute(text(statement))
                await conn.commit()
            await conn.execute(text("SET session_replication_role = DEFAULT"))
            await conn.commit()
    # The running totals the domain keeps per operation (customers' report totals, till_hours),
    # derived set-based from the generated operations before their indexes exist.
    totals_started = time.perf_counter()
    async with db.transaction() as session:
        await rebuild_running_totals(session)
    print(f"[bench] running totals rebuilt in {time.perf_counter() - totals_started:.0f} s", flush=True)
    async with db.engine.begin() as conn:
        for ix in indexes:
            await conn.run_sync(lambda sync, ix=ix: ix.create(sync))
        await conn.execute(text("ANALYZE"))
    return time.perf_counter() - started


async def check_sample(db: Database, customers: int) -> None:
    """The running totals agree with the operations on a sample: the heaviest buyers (low ids),
    every n-th customer, and the till hours of two days."""
    ids = sorted({*range(1, min(customers, 200) + 1), *range(1, customers + 1, max(customers // 500, 1))})
    day = START + timedelta(days=400)
    async with db.reading() as session:
        problems = await check_running_totals(session, customers=ids, since=day, until=day + timedelta(days=2))
    if problems:
        raise SystemExit("running totals differ from the operations: " + "; ".join(map(str, problems[:5])))
    print(f"[bench] running totals = operations on a sample of {len(ids)} customers and 48 hours", flush=True)


def _load_sqlite(path: str, statements: list[str]) -> None:
    """A plain connection: `PRAGMA foreign_keys` only works outside a transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA journal_mode=WAL")
        for statement in statements:
            conn.execute("BEGIN")
            conn.execute(statement)
            conn.execute("COMMIT")
    finally:
        conn.close()


async def count(db: Database, table: str) -> int:
    async with db.reading() as s:
        return int((await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar() or 0)


async def measure(label: str, url: str, customers: int, operations: int, reuse: bool,
                  runs: int = 2, verify: bool = False) -> dict[str, Any]:
    db = Database(url, pool_size=2)
    try:
        have = 0
        if reuse:
            try:
                have = await count(db, "operations")
            except Exception:
                have = 0
        if have != operations or await count(db, "customers") != customers:
            print(f"[{label}] generating {customers:,} customers and {operations:,} operations ...", flush=True)
            took = await populate(db, customers, operations)
            print(f"[{label}] generated in {took:.0f} s", flush=True)
        await check_sample(db, customers)
        dom = Domain(db=db, clock=ManualClock(START + timedelta(seconds=SPAN_SECONDS)), tz=ZoneInfo("Europe/Moscow"))
        results: dict[str, Any] = {"backend": label}
        for attempt in range(runs):  # the first run warms the cache; the last is reported
            w0, c0 = time.perf_counter(), time.process_time()
            async with db.reading() as s:
                total = (await s.execute(text("SELECT sum(amount_kopecks) FROM operations"))).scalar()
            scan, scan_cpu = time.perf_counter() - w0, time.process_time() - c0
            w0, c0 = time.perf_counter(), time.process_time()
            report = await build_report(dom, None, None, with_rfm=False)
            figures, figures_cpu = time.perf_counter() - w0, time.process_time() - c0
            w0, c0 = time.perf_counter(), time.process_time()
            full = await build_report(dom, None, None)
            whole, whole_cpu = time.perf_counter() - w0, time.process_time() - c0
            results.update(scan=scan, figures=figures, report=whole, rfm=max(whole - figures, 0.0), sum=total,
                           scan_cpu=scan_cpu, report_cpu=whole_cpu, figures_cpu=figures_cpu,
                           buyers=report.overall.buyers, purchases=full.overall.purchases, attempt=attempt)
        results["peak_mb"] = peak_mb()
        if verify:  # the same report straight from the operations (the former queries): slow
            w0 = time.perf_counter()
            reference = await build_report(dom, None, None, reference=True)
            results["reference"] = time.perf_counter() - w0
            if reference != full:
                raise SystemExit(f"[{label}] the report from running totals differs from the operations")
            print(f"[{label}] --verify: identical to the report from the operations "
                  f"({results['reference']:.1f} s that way)", flush=True)
        return results
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--operations", type=int, default=1_000_000)
    parser.add_argument("--sqlite", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench-report.db"))
    parser.add_argument("--postgres", default=None, help="a PostgreSQL URL of a database the bench may wipe")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep an already generated database of the same size")
    parser.add_argument("--runs", type=int, default=2, help="measure this many times, report the last (default 2)")
    parser.add_argument("--verify", action="store_true",
                        help="also compute the report straight from the operations and require the same figures")
    args = parser.parse_args()
    targets = []
    if not args.skip_sqlite:
        targets.append(("sqlite", f"sqlite+aiosqlite:///{args.sqlite}"))
    if args.postgres:
        targets.append(("postgres", args.postgres))
    for label, url in targets:
        r = asyncio.run(measure(label, url, args.customers, args.operations, args.reuse, max(args.runs, 1),
                              args.verify))
        print(f"[{label}] {args.customers:,} customers, {args.operations:,} operations "
              f"({r['purchases']:,} live purchases, {r['buyers']:,} buyers)")
        print(f"[{label}] scan {r['scan']:.2f} s | figures {r['figures']:.2f} s | RFM {r['rfm']:.2f} s | "
              f"whole report {r['report']:.2f} s = {r['report'] / r['scan']:.1f}x the scan (goal <= 15x) | "
              f"peak memory {r['peak_mb']:.0f} MB (goal < 500 MB)", flush=True)
        if label == "sqlite":  # in-process: CPU time is steadier than wall time on a shared machine
            print(f"[{label}] CPU time: scan {r['scan_cpu']:.2f} s | whole report {r['report_cpu']:.2f} s = "
                  f"{r['report_cpu'] / max(r['scan_cpu'], 1e-9):.1f}x", flush=True)


if __name__ == "__main__":
    main()
