"""Everything the doors share, built once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import Settings, configure_phones
from bot.report_pool import ReportRenderer, shared_renderer
from models.clock import Clock, SystemClock
from models.context import Domain
from models.db import Database
from models.program import load_program_file
from models.programs_store import ensure_program


@dataclass
class Services:
    settings: Settings
    dom: Domain
    bot_username: str = "loyalty_bot"
    extras: dict[str, object] = field(default_factory=dict)
    renderer: ReportRenderer = field(default_factory=shared_renderer)  # /report's charts and XLSX, off the loop

    @property
    def db(self) -> Database:
        return self.dom.db


async def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Open the database, and seed the program from PROGRAM_FILE if the database has none."""
    configure_phones(settings)  # PHONE_REGION, and the phone hash key (never created here)
    db = Database(settings.database_url)
    dom = Domain(db=db, clock=clock or SystemClock(), tz=settings.tz)
    await ensure_program(dom, load_program_file(settings.program_file))
    return Services(settings=settings, dom=dom)
