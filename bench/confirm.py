"""The cashier's Confirm tap through the real bot, and a purchase through the partner API, each
against the bare INSERT + COMMIT measured in the same run.

    python bench/confirm.py [--taps 60] [--lots 20 250] [--postgres URL] [--sqlite-only] [--profile DIR]

For each database (a SQLite file; PostgreSQL when --postgres or TEST_POSTGRES_URL is set) and
each number of live lots on the buyer's account:

  * bare:     INSERT one row into a scratch table and COMMIT;
  * commit:   `commit_purchase` for the same buyer, paying 100 points (the domain alone);
  * tap:      the cashier's Confirm tap through the real bot: the production Dispatcher
              (`bot.bootstrap.assemble`, the outbox sender running) polling fakegram over HTTP;
              the time from the tap (the callback query is queued in fakegram) until the
              checkout message is edited into the receipt. Before each tap the cashier opens
              the card by its code, types 1 000 ₽ and pays the most points the tier allows
              (100 or 150), untimed;
  * api:      `POST /partner/v2/operations` (accrual by phone, one client, one request at a
              time) to `loyalty-bot api` started as a subprocess on the same database.

The four are interleaved (bare, commit, tap, api, bare, ...) so that a noisy neighbour hits all
of them alike, and the medians are printed with their ratio to the bare commit. Each purchase
adds a cashback lot, so the buyer's live lots grow by one per purchase during a row (printed).

`--profile DIR` also writes a pyinstrument profile of the taps (HTML and text) per database and row.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiogram.fsm.storage.memory import MemoryStorage  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench.api import free_port, on_fresh_postgres, start_server, stop_server  # noqa: E402
from bot.app import create_bot  # noqa: E402
from bot.bootstrap import assemble  # noqa: E402
from bot.i18n import default_i18n  # noqa: E402
from bot.services import Services  # noqa: E402
from fakegram import FakeTelegram, FakeUser  # noqa: E402
from models.customers.accounts import Registration, create_phone_customer, issue_code, register_customer  # noqa: E402
from models.kernel import phone_key  # noqa: E402
from models.kernel.clock import SystemClock  # noqa: E402
from models.kernel.context import Domain  # noqa: E402
from models.kernel.db import Database  # noqa: E402
from models.kernel.tables import Lot, Role, Staff  # noqa: E402
from models.ledger.invariants import check_ledger  # noqa: E402
from models.partner.api_keys import create_api_key  # noqa: E402
from models.program.rules import load_program_file, program_from_document  # noqa: E402
from models.program.store import ensure_program  # noqa: E402
from models.purchase.purchases import PurchaseRequest, adjust_points, commit_purchase  # noqa: E402
from tests.bot.conftest import OWNER_ID, STAFF_CHAT_ID, TOKEN, make_settings, press_when_shown  # noqa: E402

PROGRAM = ROOT / "programs" / "case-a.toml"
CONFIRM = "✅ Подтвердить"
Timed = Callable[[int], Awaitable[None]]


async def _live_lots(db: Database, customer_id: int) -> int:
    async with db.reading() as s:
        return int((await s.scalar(select(func.count()).select_from(Lot).where(
            Lot.customer_id == customer_id, Lot.remaining > 0))) or 0)


class Till:
    """One business with a running bot on fakegram, a cashier and a buyer with many lots."""

    def __init__(self, db: Database, stack: contextlib.AsyncExitStack) -> None:
        self.db = db
        self.stack = stack
        self.dom = Domain(db=db, clock=SystemClock(), tz=ZoneInfo("Europe/Moscow"))

    async def start(self) -> None:
        phone_key.configure_throwaway()  # made-up customers: a key for this run only
        program = load_program_file(PROGRAM).to_document()
        program["limits"]["max_reward_points"] = 10_000_000
        await ensure_program(self.dom, program_from_document(program))
        self.tg = await self.stack.enter_async_context(FakeTelegram(token=TOKEN))
        settings = make_settings(self.tg, self.db)
        services = Services(settings=settings, dom=self.dom, bot_username=self.tg.bot_username)
        bot = create_bot(TOKEN, self.tg.base_url)
        self.stack.push_async_callback(bot.session.close)
        assembly = assemble(services, bot, default_i18n(), storage=MemoryStorage(), with_sender=True)
        dp = assembly.dp
        assert assembly.sender is not None
        stop = asyncio.Event()
        task = asyncio.create_task(assembly.sender.run(stop))

        async def stop_sender() -> None:
            stop.set()
            await asyncio.wait_for(task, 10)

        self.stack.push_async_callback(stop_sender)
        self.tg.user(id=OWNER_ID, first_name="Owner", phone="+79990000001")
        self.tg.group(chat_id=STAFF_CHAT_ID, title="Staff")
        await self.stack.enter_async_context(
            self.tg.polling(dp, bot, allowed_updates=dp.resolve_used_update_types()))
        self.cashier: FakeUser = self.tg.user(first_name="Мария", phone="+79990000002")
        async with self.db.transaction() as s:
            s.add(Staff(telegram_id=self.cashier.id, display_name="Мария", role=Role.STAFF, active=True,
                        created_at=self.dom.clock.now()))
        async with self.db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS bench_bare (id INTEGER PRIMARY KEY, v INTEGER)"))
        self.bare_ids = iter(range(1, 10**9))
        self.names: dict[int, str] = {}

    async def buyer(self, lots: int, n: int) -> int:
        user = self.tg.user(first_name=f"Покупатель {n}", phone=f"+7916{n:07d}")
        reg = await register_customer(self.dom, Registration(telegram_id=user.id, phone=user.phone or "",
                                                             name=user.first_name))
        self.names[reg.customer_id] = user.first_name
        for _ in range(lots - await _live_lots(self.db, reg.customer_id)):
            await adjust_points(self.dom, reg.customer_id, 10_000, "bench lot", notify=False)
        return reg.customer_id

    async def bare(self, _i: int) -> None:
        async with self.db.transaction() as s:
            await s.execute(text("INSERT INTO bench_bare (id, v) VALUES (:id, 1)"), {"id": next(self.bare_ids)})

    def commit(self, customer_id: int) -> Timed:
        async def one(_i: int) -> None:
            await commit_purchase(self.dom, PurchaseRequest(
                customer_id=customer_id, amount_kopecks=100_000, points=100, phone_confirmed=True,
                idempotency_key=f"bench:{uuid.uuid4().hex}", found_by="phone"))
        return one

    async def open_checkout(self, customer_id: int) -> None:
        """Untimed: the card by its code, the amount, 100 points; the Confirm screen is shown."""
        code = (await issue_code(self.dom, customer_id, limited=False)).code
        await self.cashier.start(f"c_{code}")  # the card's QR opens this link
        await self.cashier.expect_text(self.names[customer_id], timeout=10)
        await self.cashier.send("1000")
        screen = await self.cashier.expect_text("Чек", timeout=10)
        # The most the tier allows (100 or 150 points: the buyer climbs tiers during a row).
        most = next(label for label in screen.button_texts if label.startswith("Списать "))
        await press_when_shown(self.tg, self.cashier, most, timeout=10)
        await self.cashier.expect_text("К оплате", timeout=10)

    async def tap(self) -> float:
        start = time.perf_counter()
        await press_when_shown(self.tg, self.cashier, CONFIRM, timeout=10)
        await self.cashier.expect_text("Покупка №", timeout=10)
        return time.perf_counter() - start


async def timed(one: Timed, i: int) -> float:
    start = time.perf_counter()
    await one(i)
    return time.perf_counter() - start


async def api_client(port: int, company: int, secret: str) -> tuple[aiohttp.ClientSession, Timed]:
    url = f"http://127.0.0.1:{port}/partner/v2/operations"
    auth = {"Authorization": "Basic " + base64.b64encode(f"{company}:{secret}".encode()).decode()}
    http = aiohttp.ClientSession(headers=auth)

    async def one(i: int) -> None:
        body = {"participant": {"phone": "+79260000001"}, "nonce": str(uuid.uuid4()),
                "cashier": {"externalId": "bench-till", "name": "Bench"},
                "receipt": {"total": 1000, "cash": 1000, "points": 0, "number": str(i)}}
        async with http.post(url, json=body, headers={"X-Origin-Request-Id": str(uuid.uuid4())}) as r:
            if r.status != 200:
                raise RuntimeError(f"API purchase failed: {r.status} {await r.text()}")
            await r.read()
    return http, one


async def bench_database(label: str, url: str, lots_list: list[int], taps: int, profile: Path | None) -> None:
    db = Database(url, pool_size=10)
    await db.create_all()
    async with contextlib.AsyncExitStack() as stack:
        till = Till(db, stack)
        await till.start()
        await create_phone_customer(till.dom, "+79260000001", staff_id=None)
        key = await create_api_key(till.dom, "bench")
        port = free_port()
        proc = await start_server(url, port)
        stack.callback(stop_server, proc)
        http, api = await api_client(port, key.company_id, key.secret)
        stack.push_async_callback(http.close)
        print(f"\n{label}: {taps} of each per row, medians (ms) and ratio to the bare commit")
        print("| live lots (start→end) | bare | commit_purchase | Confirm tap (bot) | partner API |")
        print("|---|---:|---:|---:|---:|")
        for n, lots in enumerate(lots_list):
            buyer = await till.buyer(lots, n)
            commit = till.commit(buyer)
            for i in range(3):  # warm-up: connections, caches, code paths
                await till.bare(i)
                await commit(i)
                await api(i)
                await till.open_checkout(buyer)
                await till.tap()
            start_lots = await _live_lots(db, buyer)
            times: dict[str, list[float]] = {"bare": [], "commit": [], "tap": [], "api": []}
            profiler = None
            if profile is not None:
                from pyinstrument import Profiler  # dev dependency, only with --profile
                profiler = Profiler(async_mode="disabled")  # every task on the loop: the bot, fakegram, the sender
            for i in range(taps):
                times["bare"].append(await timed(till.bare, i))
                times["commit"].append(await timed(commit, i))
                await till.open_checkout(buyer)
                if profiler is not None:
                    profiler.start()
                times["tap"].append(await till.tap())
                if profiler is not None:
                    profiler.stop()
                times["api"].append(await timed(api, i))
            end_lots = await _live_lots(db, buyer)
            med = {k: statistics.median(v) * 1000 for k, v in times.items()}
            cells = " | ".join(f"{med[k]:.2f} ({med[k] / med['bare']:.1f}×)" for k in ("commit", "tap", "api"))
            print(f"| {start_lots}→{end_lots} | {med['bare']:.2f} (1.0×) | {cells} |", flush=True)
            if profiler is not None and profile is not None:
                profile.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
                out = profile / f"confirm-{label.lower()}-{lots}.html"
                out.write_text(profiler.output_html())
                out.with_suffix(".txt").write_text(profiler.output_text(show_all=False))
                print(f"  profile: {out} (and .txt)")
    problems = await check_ledger(db)
    await db.dispose()
    if problems:
        raise RuntimeError(f"ledger invariants broken after the benchmark: {problems[:3]}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--taps", type=int, default=60, help="timed repetitions of each per row")
    parser.add_argument("--lots", type=int, nargs="+", default=[20, 250])
    parser.add_argument("--postgres", default=os.environ.get("TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--profile", type=Path, help="write pyinstrument profiles of the taps here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench_database("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.lots, args.taps, args.profile)
    if args.postgres and not args.sqlite_only:
        await on_fresh_postgres(args.postgres, "bench_confirm",
                                lambda url: bench_database("PostgreSQL", url, args.lots, args.taps, args.profile))


if __name__ == "__main__":
    started = datetime.now(UTC)
    asyncio.run(main())
    print(f"\n({(datetime.now(UTC) - started).total_seconds():.0f} s)")
