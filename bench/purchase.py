"""Commit-purchase latency and throughput vs a bare one-row INSERT + COMMIT.

    python bench/purchase.py [--tills 1 8 32] [--purchases 400] [--postgres URL]

For each database (a SQLite file; PostgreSQL when --postgres or TEST_POSTGRES_URL is set)
and each number of concurrent tills, it runs the same number of
  * bare commits: INSERT one row into a scratch table and COMMIT, and
  * purchases: models.purchase.purchases.commit_purchase for a customer with a referral chain of
    three, paying points (the full path: lock, quote, redeem, cashback, referral, tier,
    notification),
measured in the same run, and prints p50/p99 latency, throughput and the ratio
purchase/bare (the goal is ≤ 3×). The machine is shared and noisy, so only the ratio of
numbers taken side by side means anything.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from models.customers.accounts import Attribution, Registration, register_customer  # noqa: E402
from models.kernel import phone_key  # noqa: E402
from models.kernel.clock import ManualClock  # noqa: E402
from models.kernel.context import Domain  # noqa: E402
from models.kernel.db import Database, normalise_url  # noqa: E402
from models.program.rules import load_program_file, program_from_document  # noqa: E402
from models.program.store import ensure_program  # noqa: E402
from models.purchase.purchases import PurchaseRequest, adjust_points, commit_purchase  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run_concurrently(tills: int, total: int, one) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    counter = iter(range(total))

    async def till(t: int) -> None:
        for i in counter:
            start = time.perf_counter()
            await one(t, i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(till(t) for t in range(tills)))
    return latencies, time.perf_counter() - start


async def setup(db: Database, tills: int) -> tuple[Domain, list[int]]:
    dom = Domain(db=db, clock=ManualClock(datetime(2026, 3, 1, 9, tzinfo=UTC)), tz=ZoneInfo("Europe/Moscow"))
    phone_key.configure_throwaway()  # made-up customers: a key for this run only
    program = load_program_file(ROOT / "programs/case-a.toml").to_document()
    program["limits"]["max_reward_points"] = 10_000_000  # the bench's balance in one grant
    await ensure_program(dom, program_from_document(program))
    customers = []
    for t in range(tills):
        ref = None
        for level in range(4):  # a referral chain of three above the buyer
            reg = await register_customer(dom, Registration(
                telegram_id=10_000 * (t + 1) + level, phone=f"+7916{t:03d}{level:04d}", name=f"C{t}.{level}",
                attribution=Attribution(referral_code=ref)))
            async with db.reading() as s:
                from models.kernel.tables import Customer
                ref = (await s.get(Customer, reg.customer_id)).referral_code  # type: ignore[union-attr]
        await adjust_points(dom, reg.customer_id, 10_000_000, "bench balance")
        customers.append(reg.customer_id)
    async with db.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS bench_bare (id INTEGER PRIMARY KEY, v INTEGER)"))
    return dom, customers


async def bench_database(label: str, db: Database, tills_list: list[int], total: int) -> list[dict[str, float]]:
    await db.create_all()
    dom, customers = await setup(db, max(tills_list))
    rows = []
    ids = iter(range(1, 10**9))
    for tills in tills_list:
        async def bare(t: int, i: int) -> None:
            async with db.transaction() as s:
                await s.execute(text("INSERT INTO bench_bare (id, v) VALUES (:id, :v)"), {"id": next(ids), "v": i})

        async def purchase(t: int, i: int) -> None:
            await commit_purchase(dom, PurchaseRequest(
                customer_id=customers[t], amount_kopecks=1_225_000, points=100, phone_confirmed=True,
                idempotency_key=f"bench:{uuid.uuid4().hex}", found_by="phone"))

        await run_concurrently(tills, min(total, 50), bare)  # warm up both paths
        await run_concurrently(tills, min(total, 50), purchase)
        b_lat, b_wall = await run_concurrently(tills, total, bare)
        p_lat, p_wall = await run_concurrently(tills, total, purchase)
        row = {
            "tills": tills,
            "bare_p50_ms": statistics.median(b_lat) * 1000, "bare_p99_ms": pct(b_lat, 99) * 1000,
            "bare_per_s": total / b_wall,
            "purchase_p50_ms": statistics.median(p_lat) * 1000, "purchase_p99_ms": pct(p_lat, 99) * 1000,
            "purchase_per_s": total / p_wall,
        }
        row["ratio_p50"] = row["purchase_p50_ms"] / row["bare_p50_ms"]
        row["ratio_throughput"] = row["bare_per_s"] / row["purchase_per_s"]
        rows.append(row)
        print(f"{label:10} tills={tills:>2}  bare p50 {row['bare_p50_ms']:6.2f} ms p99 {row['bare_p99_ms']:6.2f} ms "
              f"{row['bare_per_s']:7.0f}/s | purchase p50 {row['purchase_p50_ms']:6.2f} ms "
              f"p99 {row['purchase_p99_ms']:6.2f} ms {row['purchase_per_s']:6.0f}/s | "
              f"ratio p50 {row['ratio_p50']:.2f}x, throughput {row['ratio_throughput']:.2f}x", flush=True)
    await db.dispose()
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tills", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--purchases", type=int, default=400)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench_database("sqlite", Database(f"sqlite+aiosqlite:///{tmp}/bench.db"), args.tills, args.purchases)
    if args.postgres:
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        admin = create_async_engine(normalise_url(args.postgres))
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            await bench_database("postgresql", Database(args.postgres, schema=schema, pool_size=40),
                                 args.tills, args.purchases)
        finally:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
