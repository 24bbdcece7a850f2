"""`loyalty-bot outbox status|retry` on a real SQLite file (issue 21 §1)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models.kernel.db import Database
from models.kernel.tables import OutboxMessage, OutboxStatus
from tests.test_cli_and_settings import run_cli

MSK = ZoneInfo("Europe/Moscow")


def _row(now: datetime, status: OutboxStatus, *, age: timedelta, error: str | None = None,
         broadcast_id: int | None = None, chat_id: int = 1001) -> OutboxMessage:
    return OutboxMessage(chat_id=chat_id, method="sendMessage", payload={"key": "purchase-notify", "args": {}},
                         status=status, attempts=3, not_before=now - age, created_at=now - age, error=error,
                         broadcast_id=broadcast_id)


async def _seed(url: str) -> dict[str, int]:
    now = datetime.now(UTC)
    db = Database(url)
    rows = {
        "waiting": _row(now, OutboxStatus.PENDING, age=timedelta(minutes=12)),
        # In backoff through an outage: tried, its next try moved 20 minutes ahead — stuck too.
        "backoff": _row(now, OutboxStatus.PENDING, age=timedelta(minutes=30)),
        # Queued on purpose for later and never tried: not stuck.
        "scheduled": _row(now, OutboxStatus.PENDING, age=timedelta(hours=1)),
        "failed_recent": _row(now, OutboxStatus.FAILED, age=timedelta(hours=2), error="502: Bad Gateway"),
        "failed_old": _row(now, OutboxStatus.FAILED, age=timedelta(days=3), error="502: Bad Gateway"),
        "failed_400": _row(now, OutboxStatus.FAILED, age=timedelta(days=3), error="400: Bad Request: chat not found"),
        "broadcast": _row(now, OutboxStatus.FAILED, age=timedelta(hours=1), error="timeout", broadcast_id=7),
        "blocked": _row(now, OutboxStatus.BLOCKED, age=timedelta(hours=1), error="403: Forbidden: bot was blocked"),
    }
    rows["backoff"].not_before = now + timedelta(minutes=20)
    rows["scheduled"].attempts = 0
    rows["scheduled"].not_before = now + timedelta(hours=1)
    try:
        async with db.transaction() as session:
            session.add_all(rows.values())
            await session.flush()
            return {name: row.id for name, row in rows.items()}
    finally:
        await db.dispose()


async def _rows(url: str) -> dict[int, OutboxMessage]:
    db = Database(url)
    try:
        async with db.reading() as session:
            return {row.id: row for row in (await session.execute(select(OutboxMessage))).scalars()}
    finally:
        await db.dispose()


async def _mark_sent(url: str) -> None:
    db = Database(url)
    try:
        async with db.transaction() as session:
            for row in (await session.execute(select(OutboxMessage).where(
                    OutboxMessage.status == OutboxStatus.PENDING))).scalars():
                row.status = OutboxStatus.SENT
    finally:
        await db.dispose()


def test_status_and_retry_by_hand(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/outbox.db"
    env = {"DATABASE_URL": url, "PHONE_HASH_KEY": "k" * 32}
    assert run_cli("migrate", env=env).returncode == 0
    ids = asyncio.run(_seed(url))

    status = run_cli("outbox", "status", env=env)
    assert status.returncode == 1, status.stdout + status.stderr  # stuck: a message waits 12 minutes
    assert "pending 3, sending 0, failed 4, blocked by the customer 1" in status.stdout
    assert "failed 2: 502: Bad Gateway" in status.stdout
    assert "failed 1: 400: Bad Request: chat not found" in status.stdout
    assert "oldest pending message due 12 min ago" in status.stdout
    assert "STUCK: 2 message(s)" in status.stdout and "Traceback" not in status.stderr

    bad = run_cli("outbox", "retry", "--failed", "--since", "31.02.2026", env=env)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "--since" in bad.stderr

    yesterday = (datetime.now(MSK) - timedelta(days=1)).strftime("%d.%m.%Y")
    recent = run_cli("outbox", "retry", "--failed", "--since", yesterday, env=env)
    assert recent.returncode == 0, recent.stderr
    assert "requeued 1 failed message(s)" in recent.stdout  # the 2-hour-old one; the broadcast is left
    assert "left 1 failed broadcast message(s) alone" in recent.stdout

    everything = run_cli("outbox", "retry", "--failed", env=env)
    assert "requeued 2 failed message(s)" in everything.stdout

    rows = asyncio.run(_rows(url))
    for name in ("failed_recent", "failed_old", "failed_400"):
        row = rows[ids[name]]
        assert row.status is OutboxStatus.PENDING and row.attempts == 0 and row.error is None
        requeued = datetime.fromisoformat(row.payload["requeued_at"])
        assert abs(requeued - datetime.now(UTC)) < timedelta(minutes=5)  # a fresh retry window
        assert row.payload["key"] == "purchase-notify"
    assert rows[ids["broadcast"]].status is OutboxStatus.FAILED  # at most once
    assert rows[ids["blocked"]].status is OutboxStatus.BLOCKED  # never retried

    asyncio.run(_mark_sent(url))
    healthy = run_cli("outbox", "status", env=env)
    assert healthy.returncode == 0, healthy.stdout
    assert "pending 0" in healthy.stdout and "STUCK" not in healthy.stdout
