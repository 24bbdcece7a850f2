"""Everything the doors share, built once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings, configure_phones
from bot.report_pool import ReportRenderer, shared_renderer
from models.kernel import Clock, Database, Domain, SystemClock
from models.program import ensure_program, load_program_file

if TYPE_CHECKING:
    from bot.broadcast_progress import BroadcastProgress
    from bot.sender import OutboxSender
    from scheduler.runner import JobRunner


@dataclass
class Services:
    settings: Settings
    dom: Domain
    bot_username: str = "loyalty_bot"
    renderer: ReportRenderer = field(default_factory=shared_renderer)  # /report's charts and XLSX, off the loop
    # The long-lived workers of this process, when it runs them (None in the CLI, the API alone...):
    sender: OutboxSender | None = None  # bot.bootstrap.assemble; `wake_sender` nudges it
    job_runner: JobRunner | None = None  # scheduler.service.start_scheduler; the sandbox's clock panel
    broadcast_progress: BroadcastProgress | None = None  # bot.broadcast_progress.ensure_progress

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
