"""`loyalty-bot run` on the business clock: the horizon test's bot as a real process.

    python -m tests.horizon.bot_process

Reads the usual settings from the environment (BOT_TOKEN, TELEGRAM_API_URL, DATABASE_URL, ...)
and two of the test's own: BUSINESS_NOW, the ISO instant the business clock starts at (it then
runs at the speed of real time), and DATABASE_SCHEMA, the PostgreSQL schema the test's
database lives in (tests/conftest.py gives each test one). Then it is `bot.runner.run_bot`:
the same start-up, polling, outbox sender, scheduler and shutdown as production, so the test
can SIGKILL it in the middle of the day and start it again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from datetime import datetime, timedelta

from bot.config import Settings, configure_phones
from bot.runner import run_bot
from bot.services import Services
from models.kernel.context import Domain
from models.kernel.db import Database


class RunningClock:
    """Business time that starts at `start` and moves with real time (monotonic)."""

    def __init__(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


async def main() -> int:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    configure_phones(settings)
    start = datetime.fromisoformat(os.environ["BUSINESS_NOW"])
    db = Database(settings.database_url, schema=os.environ.get("DATABASE_SCHEMA") or None)
    dom = Domain(db=db, clock=RunningClock(start), tz=settings.tz)
    return await run_bot(settings, services=Services(settings=settings, dom=dom))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(main()))
