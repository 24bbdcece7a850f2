"""`loyalty-bot outbox status|retry`: the queue of outgoing messages by hand (issue 21 §1).

`status` prints what waits, what failed and why, and exits 1 when the queue is stuck (pending
messages due for longer than five minutes: Telegram is not taking them), so a monitoring
probe can call it. `retry --failed [--since dd.mm.yyyy]` puts failed notifications back in
the queue with a fresh retry window; a running bot sends them within seconds.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, time

from bot.config import load_settings
from models.kernel import STUCK_AFTER, Database, InvalidDate, parse_date, requeue
from models.kernel import health as outbox_queue_health

EXIT_STUCK = 1
EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("outbox", help="the queue of outgoing messages: its state, or requeue failed ones")
    osub = p.add_subparsers(dest="outbox_command", required=True)
    status = osub.add_parser("status", help="pending / failed / by reason; exit 1 when the queue is stuck")
    status.set_defaults(func=outbox_status)
    retry = osub.add_parser("retry", help="put failed notifications back in the queue")
    retry.add_argument("--failed", action="store_true", required=True, help="requeue the failed messages")
    retry.add_argument("--since", default=None, metavar="DD.MM.YYYY",
                       help="only messages written on or after this day (the business's time zone)")
    retry.set_defaults(func=outbox_retry)


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


async def outbox_status(_args: argparse.Namespace) -> int:
    db = Database(load_settings().database_url)
    now = datetime.now().astimezone()
    try:
        health = await outbox_queue_health(db, now)
    finally:
        await db.dispose()
    print(f"pending {health.pending}, sending {health.sending}, failed {health.failed}, "
          f"blocked by the customer {health.blocked}")
    if health.oldest_due is not None:
        print(f"oldest pending message due {_age(max((now - health.oldest_due).total_seconds(), 0))} ago")
    for reason, rows in health.failed_by_reason:
        print(f"  failed {rows}: {reason}")
    if health.stuck:
        print(f"STUCK: {health.stuck} message(s) have waited for Telegram longer than "
              f"{_age(STUCK_AFTER.total_seconds())}")
        return EXIT_STUCK
    return 0


async def outbox_retry(args: argparse.Namespace) -> int:
    settings = load_settings()
    since = None
    if args.since is not None:
        try:
            day = parse_date(args.since)
        except InvalidDate:
            print(f"error: --since: not a date in dd.mm.yyyy form: {args.since!r}", file=sys.stderr)
            return EXIT_USAGE
        since = datetime.combine(day, time(0), tzinfo=settings.tz)
    db = Database(settings.database_url)
    try:
        done = await requeue(db, datetime.now().astimezone(), since)
    finally:
        await db.dispose()
    print(f"requeued {done.requeued} failed message(s)")
    if done.skipped_broadcast:
        print(f"left {done.skipped_broadcast} failed broadcast message(s) alone: a broadcast is sent at most once")
    return 0
