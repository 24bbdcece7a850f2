"""Purchases per second through the partner API vs calling the domain directly.

    python bench/api.py [--requests 2000] [--clients 50] [--rounds 2] [--postgres URL] [--sqlite-only]

For each database (a SQLite file; PostgreSQL when --postgres or TEST_POSTGRES_URL is set):
  * direct: `models.purchase.purchases.commit_purchase` from 50 concurrent tasks in this process;
  * API: `loyalty-bot api` (the real command: uvicorn on 127.0.0.1, one process) started as
    a subprocess, and 50 concurrent aiohttp clients in this process sending
    `POST /partner/v2/operations` (the till's accrual by phone with a nonce and a cashier:
    auth, cashier lookup, customer lookup, idempotency check, the purchase, the answer).
Both sides make the same number of purchases on the same customers; rounds alternate
direct/API and the best round of each is kept (the machine is shared and noisy, so only
numbers taken side by side mean anything). The goal: the API adds at most 50% per purchase.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from models.customers.accounts import create_phone_customer  # noqa: E402
from models.kernel.context import Domain  # noqa: E402
from models.kernel.db import Database, normalise_url  # noqa: E402
from models.ledger.invariants import check_ledger  # noqa: E402
from models.partner.api_keys import cashier_staff, create_api_key  # noqa: E402
from models.program.rules import load_program_file  # noqa: E402
from models.program.store import ensure_program  # noqa: E402
from models.purchase.purchases import PurchaseRequest, commit_purchase  # noqa: E402

PROGRAM = ROOT / "programs" / "case-a.toml"
CUSTOMERS = 300


@dataclass
class Round:
    kind: str
    purchases: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.purchases / self.seconds

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def run_concurrently(clients: int, total: int, one) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    counter = iter(range(total))

    async def client(c: int) -> None:
        for i in counter:
            start = time.perf_counter()
            await one(c, i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    return time.perf_counter() - start, latencies


def phone(i: int) -> str:
    return f"+7926{i:07d}"


def amount(i: int) -> int:
    return 50_000 + (i * 7919) % 1_000_000  # 500 ₽ .. 10 500 ₽ in kopecks


async def direct_round(dom: Domain, customer_ids: list[int], staff_id: int, clients: int, total: int) -> Round:
    async def one(_c: int, i: int) -> None:
        await commit_purchase(dom, PurchaseRequest(
            customer_id=customer_ids[i % len(customer_ids)], amount_kopecks=amount(i), points=0,
            staff_id=staff_id, idempotency_key=f"bench-direct:{uuid.uuid4()}", found_by="phone", channel="bench"))

    seconds, latencies = await run_concurrently(clients, total, one)
    return Round("direct", total, seconds, latencies)


async def api_round(port: int, company: int, secret: str, clients: int, total: int) -> Round:
    url = f"http://127.0.0.1:{port}/partner/v2/operations"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{company}:{secret}".encode()).decode()}
    failures: list[str] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients), headers=auth) as http:
        async def one(_c: int, i: int) -> None:
            kopecks = amount(i)
            body = {"participant": {"phone": phone(i % CUSTOMERS)}, "nonce": str(uuid.uuid4()),
                    "cashier": {"externalId": "bench-till", "name": "Bench"},
                    "receipt": {"total": kopecks / 100, "cash": kopecks / 100, "points": 0, "number": str(i)}}
            async with http.post(url, json=body, headers={"X-Origin-Request-Id": str(uuid.uuid4())}) as r:
                if r.status != 200:
                    failures.append(f"{r.status} {await r.text()}")
                await r.read()

        seconds, latencies = await run_concurrently(clients, total, one)
    if failures:
        raise RuntimeError(f"{len(failures)} API purchases failed, e.g. {failures[0]}")
    return Round("api", total, seconds, latencies)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start_server(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port),
           "PROGRAM_FILE": str(PROGRAM), "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "api"], cwd=ROOT, env=env,  # noqa: ASYNC220 (spawn only)
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                    if r.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"the API server did not start: {err}")
            await asyncio.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def prepare(url: str, pool_size: int) -> tuple[Domain, list[int], int, int, str]:
    db = Database(url, pool_size=pool_size)
    await db.create_all()
    dom = Domain(db=db)
    await ensure_program(dom, load_program_file(PROGRAM))
    customers = [await create_phone_customer(dom, phone(i), staff_id=None) for i in range(CUSTOMERS)]
    staff_id, _ = await cashier_staff(dom, "bench-till", "Bench")
    key = await create_api_key(dom, "bench")
    return dom, customers, staff_id, key.company_id, key.secret


async def bench_database(label: str, url: str, requests: int, clients: int, rounds: int) -> list[Round]:
    dom, customers, staff_id, company, secret = await prepare(url, pool_size=10)
    port = free_port()
    proc = await start_server(url, port)
    results: list[Round] = []
    try:
        # Warm-up: first connections, program cache, code paths on both sides.
        await direct_round(dom, customers, staff_id, clients, clients * 2)
        await api_round(port, company, secret, clients, clients * 2)
        for _ in range(rounds):
            results.append(await direct_round(dom, customers, staff_id, clients, requests))
            results.append(await api_round(port, company, secret, clients, requests))
    finally:
        stop_server(proc)
    problems = await check_ledger(dom.db)
    await dom.db.dispose()
    if problems:
        raise RuntimeError(f"ledger invariants broken after the benchmark: {problems[:3]}")
    report(label, results, clients)
    return results


def report(label: str, results: list[Round], clients: int) -> None:
    best = {kind: max((r for r in results if r.kind == kind), key=lambda r: r.rate) for kind in ("direct", "api")}
    overhead = best["direct"].rate / best["api"].rate - 1
    print(f"\n{label}: {clients} concurrent clients, {best['api'].purchases} purchases per round, "
          f"best of {len(results) // 2} rounds")
    print("| side | purchases/s | p50 ms | p99 ms | all rounds (purchases/s) |")
    print("|---|---:|---:|---:|---|")
    for kind in ("direct", "api"):
        r = best[kind]
        rounds = ", ".join(f"{x.rate:.0f}" for x in results if x.kind == kind)
        print(f"| {kind} | {r.rate:.0f} | {r.pct(50):.1f} | {r.pct(99):.1f} | {rounds} |")
    mean_direct = statistics.mean(x.rate for x in results if x.kind == "direct")
    mean_api = statistics.mean(x.rate for x in results if x.kind == "api")
    print(f"API overhead per purchase: {overhead:+.0%} (best rounds), {mean_direct / mean_api - 1:+.0%} (means); "
          f"goal ≤ +50%")


async def on_fresh_postgres(base_url: str, prefix: str, run: Callable[[str], Awaitable[None]]) -> None:
    """`run(url)` on a database of its own, created for it and dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(base_url)).set(database=name).render_as_string(hide_password=False)
    try:
        await run(url)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def with_postgres_database(base_url: str, requests: int, clients: int, rounds: int) -> None:
    await on_fresh_postgres(base_url, "bench_api",
                            lambda url: bench_database("PostgreSQL", url, requests, clients, rounds))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="purchases per round and side")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    args = parser.parse_args()
    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as tmp:
            await bench_database("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.requests, args.clients,
                                 args.rounds)
    if args.postgres and not args.sqlite_only:
        await with_postgres_database(args.postgres, args.requests, args.clients, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
