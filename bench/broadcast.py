"""Broadcast throughput and crash safety (issue 6, "Performance").

    python bench/broadcast.py [--queue 100000] [--send 10000] [--limit 30] [--rate 28.5]
                              [--kill-at 0.5] [--database-url URL]

1. Queue: a database with `--queue` registered customers; one broadcast to everyone is
   queued by `models.owner.broadcasts.queue_broadcast` (one INSERT ... SELECT). Goal < 5 s.
   Those rows are then cancelled (one UPDATE) so they are not sent.
2. Send: a second broadcast to `--send` of them (a birthday-month segment) is delivered by
   the real outbox sender (bot/sender.py) in a *separate process* through the fake Bot API
   (fakegram.FakeTelegram, served by this process) with `enforce_limits(global_per_second
   =--limit)`; the sender is configured at `--rate` (just under the limit).
3. Crash: when `--kill-at` of the messages were accepted, the sending process is killed
   with SIGKILL and a new one is started; it takes the lease once the dead one's expires
   (lease TTL 5 s here; rows the dead one had reserved are due again after the claim TTL,
   5 s here) and finishes the queue.

Reported: queue time; the achieved send rate of each process as a share of `--rate`
(measured from fakegram's accepted-send timestamps, first to last, so the restart gap is
not counted); 429s received; and from fakegram's per-chat transcript: duplicates (chats
that got the message more than once) and losses (chats that never got it), plus the rows
the sender marked "uncertain" (their HTTP call under way, or its answer not yet written,
when the kill came; never resent by design: bot/sender.py, "Delivery semantics"), and how
many of those fakegram shows as delivered.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

import models.kernel.schema  # noqa: E402,F401  (every table)
from models.kernel.db import Database  # noqa: E402
from models.kernel.tables import Customer, OutboxMessage, OutboxStatus, SourceKind, TelegramAccount  # noqa: E402
from models.owner import broadcasts  # noqa: E402

TOKEN = "123456:BENCH-TOKEN-abcdefghij"
FIRST_CHAT = 10_000_000


async def seed(db: Database, customers: int, segment_size: int) -> None:
    """`customers` registered customers with Telegram; the first `segment_size` born in January."""
    now = datetime.now(UTC)
    batch = 5_000
    for start in range(0, customers, batch):
        rows = range(start, min(start + batch, customers))
        async with db.transaction() as session:
            await session.execute(insert(Customer), [{
                "id": i + 1, "phone": f"+7900{i:07d}", "name": f"Клиент {i}", "referral_code": f"b{i:09d}",
                "source_kind": SourceKind.WALK_IN, "created_at": now, "registered_at": now, "tier_index": 0,
                "birth_month": 1 if i < segment_size else 2 + i % 11, "birth_day": 1,
            } for i in rows])
            await session.execute(insert(TelegramAccount), [{
                "telegram_id": FIRST_CHAT + i, "customer_id": i + 1, "first_name": "B", "created_at": now,
            } for i in rows])


async def queue(db: Database, segment: str) -> tuple[int, int, float]:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        draft = await broadcasts.create_draft(session, now=now, owner_id=1, owner_chat_id=1,
                                              text="<b>Распродажа</b> до конца недели", photo=None,
                                              buttons=[[{"text": "Сайт", "url": "https://example.com"}]],
                                              segment=broadcasts.Segment.parse(segment))
        draft_id = draft.id
    started = time.perf_counter()
    async with db.transaction() as session:
        queued = await broadcasts.queue_broadcast(session, draft_id, now)
    return draft_id, queued, time.perf_counter() - started


# --- The sending process ---------------------------------------------------------------------

async def worker(args: argparse.Namespace) -> int:
    import logging

    from bot.app import create_bot
    from bot.config import Settings
    from bot.i18n import I18n
    from bot.sender import OutboxSender
    from bot.services import Services
    from models.kernel.clock import SystemClock
    from models.kernel.context import Domain

    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s worker {os.getpid()} %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("aiogram").setLevel(logging.WARNING)
    db = Database(args.database_url)
    settings = Settings(_env_file=None, bot_token=TOKEN, database_url=args.database_url,  # type: ignore[call-arg]
                        telegram_api_url=args.api_url)
    services = Services(settings=settings, dom=Domain(db=db, clock=SystemClock(), tz=settings.tz))
    bot = create_bot(TOKEN, args.api_url)
    sender = OutboxSender(bot, services, I18n(), rate=args.rate, per_chat_interval=1.0, batch_size=args.batch,
                          lease_ttl=timedelta(seconds=5), claim_ttl=timedelta(seconds=5), poll_interval=0.2,
                          holder=f"bench-{os.getpid()}")
    log = logging.getLogger("bench")
    log.info("worker started")
    first_outcome: list[bool] = []

    def on_outcome(outcome: object) -> None:
        if not first_outcome:
            first_outcome.append(True)
            log.info("first outcome: %s", outcome)

    sender.add_listener(on_outcome)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        while True:
            await asyncio.sleep(0.5)
            async with db.reading() as session:
                left = (await session.execute(select(func.count()).select_from(OutboxMessage).where(
                    OutboxMessage.broadcast_id == args.broadcast_id,
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])))).scalar()
            if not left and sender.lease.held:
                break
    finally:
        stop.set()
        await task
        await bot.session.close()
        await db.dispose()
    return 0


async def start_worker(args: argparse.Namespace, api_url: str, broadcast_id: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--worker", "--database-url", args.database_url, "--api-url", api_url,
        "--rate", str(args.rate), "--broadcast-id", str(broadcast_id), "--batch", str(args.batch))


# --- The bench -------------------------------------------------------------------------------

async def main(args: argparse.Namespace) -> int:
    from fakegram import FakeTelegram

    db = Database(args.database_url)
    await db.drop_all()
    await db.create_all()
    print(f"database: {db.dialect}; seeding {args.queue:,} customers …", flush=True)
    await seed(db, args.queue, args.send)

    everyone, queued, seconds = await queue(db, "all")
    print(f"queue: {queued:,} recipients in {seconds:.2f} s (one INSERT ... SELECT; goal < 5 s)", flush=True)
    async with db.transaction() as session:
        await broadcasts.cancel_broadcast(session, everyone, datetime.now(UTC))

    if not args.send:
        await db.dispose()
        return 0
    broadcast_id, to_send, _ = await queue(db, "birthday_month:1")
    assert to_send == args.send, (to_send, args.send)
    async with FakeTelegram(token=TOKEN, strict_chats=False) as tg:
        tg.enforce_limits(per_chat_per_second=1, global_per_second=args.limit)
        first = await start_worker(args, tg.base_url, broadcast_id)
        kill_at = int(args.send * args.kill_at)
        while tg.stats.total_sends < kill_at and first.returncode is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        killed_at = time.monotonic()
        sends_first = sorted(tg.stats.sends.get(chat, [0.0])[0] for chat in tg.stats.sends)
        print(f"killed the sending process (SIGKILL) after {len(sends_first):,} accepted sends", flush=True)
        second = await start_worker(args, tg.base_url, broadcast_id)
        restarted_at = time.monotonic()
        await second.wait()
        all_times = sorted(t for times in tg.stats.sends.values() for t in times)
        first_times = [t for t in all_times if t <= killed_at]
        second_times = [t for t in all_times if t > killed_at]
        per_chat = [len(tg.stats.sends.get(FIRST_CHAT + i, [])) for i in range(args.send)]
        rate_limited = tg.stats.rate_limited
    async with db.reading() as session:
        statuses = dict((await session.execute(
            select(OutboxMessage.status, func.count()).where(OutboxMessage.broadcast_id == broadcast_id)
            .group_by(OutboxMessage.status))).all())
        uncertain_chats = list((await session.execute(select(OutboxMessage.chat_id).where(
            OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.error.like("uncertain%")))).scalars())
    uncertain = len(uncertain_chats)
    uncertain_delivered = sum(1 for chat in uncertain_chats if per_chat[chat - FIRST_CHAT] > 0)
    await db.dispose()

    def achieved(times: list[float]) -> float:
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    duplicates = sum(1 for n in per_chat if n > 1)
    losses = sum(1 for n in per_chat if n == 0)
    print(f"send: {args.send:,} messages, limit {args.limit}/s, sender configured at {args.rate}/s, "
          f"batch {args.batch}")
    for name, times in (("first process", first_times), ("after restart", second_times)):
        rate = achieved(times)
        print(f"  {name}: {len(times):,} sent at {rate:.2f}/s = {rate / args.rate:.1%} of the configured rate")
    if first_times and second_times:
        print(f"  restart: new process started {restarted_at - killed_at:.1f} s after the kill, first send "
              f"{second_times[0] - killed_at:.1f} s after it (Python start-up of the new process on this machine, "
              "then the dead one's 5 s lease and 5 s reservations)")
    print(f"  429s received: {rate_limited}")
    print(f"  outbox rows: { {str(getattr(k, 'value', k)): v for k, v in statuses.items()} }; uncertain: {uncertain}"
          f" ({uncertain_delivered} of them delivered before the kill)")
    print(f"  duplicates: {duplicates}; losses: {losses} (chats that never got it)")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queue", type=int, default=100_000)
    parser.add_argument("--send", type=int, default=10_000, help="0: only the queue measurement")
    parser.add_argument("--limit", type=float, default=30.0, help="fakegram's global limit, messages/s")
    parser.add_argument("--rate", type=float, default=28.5, help="the sender's configured rate, messages/s")
    parser.add_argument("--batch", type=int, default=20, help="the sender's batch size")
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of messages sent before SIGKILL")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--broadcast-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.database_url is None:
        args.database_url = f"sqlite+aiosqlite:///{Path(tempfile.gettempdir()) / 'bench-broadcast.sqlite'}"
    return args


if __name__ == "__main__":
    arguments = parse_args()
    sys.exit(asyncio.run(worker(arguments) if arguments.worker else main(arguments)))
