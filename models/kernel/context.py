"""What every domain operation needs: the database, a clock and the business's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from models.kernel.clock import Clock, SystemClock
from models.kernel.db import Database


@dataclass
class Domain:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
