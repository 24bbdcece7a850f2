"""How long `/report` blocks the event loop the bot, the partner API and the sender share.

    python bench/report_loop.py [--customers 1200] [--months 18] [--rounds 3] [--sqlite FILE]

Simulates a business (case A, through the real operations: models/reports/simulator.py), then runs
the owner's `/report` path for all time — `build_report`, the text, the charts and the XLSX —
while two things run on the same event loop:

  * a probe that sleeps 1 ms at a time and records how late it wakes up: its longest delay
    is the longest time the loop was blocked (goal < 50 ms with the attachments off the loop);
  * a till making purchases one after another (`commit_purchase`, what the partner API's
    `POST /operations` runs), whose slowest purchase is what a cashier would wait for.

The attachments are rendered four ways, rounds alternating, in the same run:

  * idle:       no report at all, the probe and the till alone for as long as a report takes
                (the floor: what this machine's scheduling costs anyway);
  * no files:   the report without charts and XLSX (build_report and the text only);
  * on loop:    charts and XLSX rendered in the handler (the former design);
  * thread:     `asyncio.to_thread` (off the loop, but the render holds the GIL);
  * process:    bot/report_pool.py's worker process (the design now; warmed up first).

Each line prints the longest block and its ratio to the idle floor, the probe's 99th
percentile delay, the purchases made during the report and the slowest one (each the median
over the rounds of the round's figure). The machine is
shared: only figures of the same run compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.i18n import default_i18n  # noqa: E402
from bot.report_pool import ReportRenderer  # noqa: E402
from bot.report_render import render_attachments, render_text  # noqa: E402
from models.customers.accounts import Registration, register_customer  # noqa: E402
from models.kernel import phone_key  # noqa: E402
from models.kernel.clock import ManualClock  # noqa: E402
from models.kernel.context import Domain  # noqa: E402
from models.kernel.db import Database  # noqa: E402
from models.program.rules import load_program_file  # noqa: E402
from models.purchase.purchases import PurchaseRequest, commit_purchase  # noqa: E402
from models.reports.report import build_report  # noqa: E402
from models.reports.simulator import SimulationConfig, simulate  # noqa: E402

TARGET_MS = 50.0
PROBE_S = 0.001


class Probe:
    """Wakes up every PROBE_S; records how late each wake-up was (ms)."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            self.delays.append((time.perf_counter() - before - PROBE_S) * 1000)

    def stop(self) -> None:
        self._stop.set()


class Till:
    """Purchases one after another until stopped; records each one's duration (ms)."""

    def __init__(self, dom: Domain, customer_id: int) -> None:
        self.dom, self.customer_id = dom, customer_id
        self.durations: list[float] = []
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            before = time.perf_counter()
            await commit_purchase(self.dom, PurchaseRequest(customer_id=self.customer_id, amount_kopecks=35_000))
            self.durations.append((time.perf_counter() - before) * 1000)
            await asyncio.sleep(0.005)  # a till does not hammer: about one purchase per 5 ms of idle loop

    def stop(self) -> None:
        self._stop.set()


async def measured(dom: Domain, customer_id: int, work: Callable[[], Awaitable[object]]) -> dict[str, float]:
    probe, till = Probe(), Till(dom, customer_id)
    tasks = [asyncio.create_task(probe.run()), asyncio.create_task(till.run())]
    await asyncio.sleep(0.05)  # both running before the report starts
    probe.delays.clear()
    till.durations.clear()
    started = time.perf_counter()
    await work()
    wall = time.perf_counter() - started
    probe.stop()
    till.stop()
    await asyncio.gather(*tasks)
    delays = sorted(probe.delays)
    return {"wall_s": wall, "max_block_ms": delays[-1], "p99_ms": delays[int(0.99 * (len(delays) - 1))],
            "purchases": len(till.durations), "slowest_purchase_ms": max(till.durations, default=float("nan"))}


async def main_async(args: argparse.Namespace) -> int:
    path = Path(args.sqlite)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.create_all()
    tz = ZoneInfo("Europe/Moscow")
    dom = Domain(db=db, clock=ManualClock(datetime.now(UTC)), tz=tz)
    phone_key.configure_throwaway()  # made-up customers: a key for this run only
    program = load_program_file(ROOT / "programs" / "case-a.toml")
    started = time.perf_counter()
    result = await simulate(dom, program, SimulationConfig(customers=args.customers, months=args.months, seed=1))
    dom.clock.set(datetime.now(UTC) + timedelta(minutes=1))  # type: ignore[attr-defined]
    till_customer = (await register_customer(dom, Registration(telegram_id=999_999_999, phone="+79169999999",
                                                              name="Касса"))).customer_id
    print(f"simulated {args.months} months in {time.perf_counter() - started:.1f} s: {result.customers} customers, "
          f"{result.purchases} purchases (SQLite {path})")

    t = default_i18n().translator("ru")
    renderer = ReportRenderer()
    report = await build_report(dom, None, None)
    await renderer.render(report, "ru")  # start and warm the worker: it lives across reports
    charts, xlsx = render_attachments(report, "ru")  # warm matplotlib's font cache in this process too
    print(f"the report: {len(report.monthly)} months, {len(charts)} charts "
          f"({sum(len(p) for _, p in charts) // 1024} KiB), XLSX {len(xlsx) // 1024} KiB")

    async def report_path(attachments: Callable[[object], Awaitable[object]] | None) -> None:
        r = await build_report(dom, None, None)
        render_text(r, t)
        if attachments is not None:
            await attachments(r)

    async def on_loop(r: object) -> object:
        return render_attachments(r, "ru")  # type: ignore[arg-type]

    async def thread(r: object) -> object:
        return await asyncio.to_thread(render_attachments, r, "ru")  # type: ignore[arg-type]

    async def process(r: object) -> object:
        return await renderer.render(r, "ru")  # type: ignore[arg-type]

    async def idle_for(seconds: float) -> None:
        await asyncio.sleep(seconds)

    ways: dict[str, Callable[[], Awaitable[object]]] = {
        "no files": lambda: report_path(None),
        "on loop (before)": lambda: report_path(on_loop),
        "thread": lambda: report_path(thread),
        "process (now)": lambda: report_path(process),
    }
    results: dict[str, list[dict[str, float]]] = {"idle": [], **{name: [] for name in ways}}
    for _ in range(args.rounds):
        for name, work in ways.items():
            results[name].append(await measured(dom, till_customer, work))
        seconds = statistics.median(r["wall_s"] for r in results["process (now)"])
        results["idle"].append(await measured(dom, till_customer, lambda s=seconds: idle_for(s)))  # type: ignore[misc]
    renderer.close()
    await db.dispose()

    def worst(name: str, key: str) -> float:
        """The round's figure, median over the rounds (one preempted round does not decide)."""
        return statistics.median(r[key] for r in results[name])

    floor = worst("idle", "max_block_ms")
    print(f"{args.rounds} rounds; each figure is the median over the rounds of its worst in the round "
          f"(goal: the loop blocked < {TARGET_MS:.0f} ms)")
    print(f"{'':18}{'report s':>9}{'blocked ms':>11}{'÷ idle':>8}{'p99 ms':>8}{'purchases':>10}{'slowest ms':>11}")
    for name in results:
        purchases = int(statistics.median(r["purchases"] for r in results[name]))
        print(f"{name:18}{statistics.median(r['wall_s'] for r in results[name]):9.2f}"
              f"{worst(name, 'max_block_ms'):11.1f}{worst(name, 'max_block_ms') / floor:8.1f}"
              f"{worst(name, 'p99_ms'):8.1f}{purchases:10d}{worst(name, 'slowest_purchase_ms'):11.1f}")
    now = worst("process (now)", "max_block_ms")
    print(f"process (now): the loop blocked at most {now:.1f} ms: {'OK' if now < TARGET_MS else 'OVER TARGET'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1200)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sqlite", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "bench-report-loop.db"))
    args = parser.parse_args()
    for suffix in ("", "-wal", "-shm"):  # a fresh simulation every run
        Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
