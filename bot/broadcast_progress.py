"""The live progress message of each broadcast (the owner's /broadcast, handlers/owner_broadcasts.py).

`BroadcastProgress` is a listener of the outbox sender (bot/sender.py): at most every
`interval` seconds, and once more when nothing is left, it edits the broadcast's progress
message in the owner's chat. One per process, kept in `services.broadcast_progress`. A
restarted bot reattaches it (`ensure_progress`: by the runner at start-up, and for every
update reaching the owner router), and the queue itself is durable, so sending resumes
where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import I18n, Translator, default_i18n, resolve_locale
from bot.sender import SendOutcome
from bot.services import Services
from handlers.owner_views import BroadcastCb, button, keyboard
from models import owner as domain
from models.kernel import BroadcastStatus

log = logging.getLogger(__name__)


class BroadcastProgress:
    """Edits each broadcast's progress message; one per process, a listener of the sender."""

    def __init__(self, services: Services, bot: Bot, i18n: I18n | None = None, *, interval: float = 3.0,
                 monotonic: Any = time.monotonic) -> None:
        self.services = services
        self.bot = bot
        self.i18n = i18n or default_i18n()
        self.interval = interval
        self.monotonic = monotonic
        self._last: dict[int, float] = {}
        self._scheduled: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_outcome(self, outcome: SendOutcome) -> None:
        if outcome.broadcast_id is None or outcome.status == "deferred":
            return
        await self.refresh(outcome.broadcast_id)

    async def refresh(self, broadcast_id: int, *, force: bool = False) -> None:
        """Edit now if the interval has passed (or force); else once it ends.

        The interval is checked before any query, so a broadcast of 100,000 rows costs one
        grouped count per interval, not one per message; the trailing refresh scheduled
        after the last outcome shows the final counts.
        """
        due = self.monotonic() - self._last.get(broadcast_id, float("-inf")) >= self.interval
        if not (force or due):
            self._schedule(broadcast_id)
            return
        lock = self._locks.setdefault(broadcast_id, asyncio.Lock())
        async with lock:
            self._last[broadcast_id] = self.monotonic()
            shown = await domain.progress_message(self.services.dom, broadcast_id)
            if shown is not None:
                await self._edit(broadcast_id, shown)

    def _schedule(self, broadcast_id: int) -> None:
        """One trailing refresh per interval; outcomes arriving meanwhile mark it dirty again."""
        self._dirty.add(broadcast_id)
        task = self._scheduled.get(broadcast_id)
        if task is not None and not task.done():
            return

        async def later() -> None:
            while broadcast_id in self._dirty:
                elapsed = self.monotonic() - self._last.get(broadcast_id, float("-inf"))
                await asyncio.sleep(max(self.interval - elapsed, 0.05))
                self._dirty.discard(broadcast_id)
                try:
                    await self.refresh(broadcast_id, force=True)
                except Exception:  # the database blinked; the next outcome schedules another
                    log.warning("broadcast %s: progress refresh failed", broadcast_id, exc_info=True)

        task = asyncio.create_task(later(), name=f"broadcast-progress-{broadcast_id}")
        self._scheduled[broadcast_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _edit(self, broadcast_id: int, shown: domain.ProgressMessage) -> None:
        if shown.message_id is None:
            return
        progress = shown.progress
        t = self.i18n.translator(resolve_locale(None, shown.language))
        text, markup = progress_view(t, progress, self.services.settings.send_rate)
        try:
            await self.bot.edit_message_text(text=text, chat_id=shown.chat_id, message_id=shown.message_id,
                                             reply_markup=markup)
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                log.warning("broadcast %s: progress message not edited: %s", broadcast_id, exc)
        except TelegramAPIError as exc:  # a 429 or 5xx on an edit: the next one will catch up
            log.warning("broadcast %s: progress edit failed: %s", broadcast_id, exc)

    async def resume(self) -> None:
        """After a restart: show where every unfinished broadcast stands."""
        for broadcast_id in await domain.unfinished(self.services.dom):
            await self.refresh(broadcast_id, force=True)


def progress_view(t: Translator, progress: domain.Progress, rate: float) -> tuple[str, InlineKeyboardMarkup | None]:
    key = {BroadcastStatus.DONE: "broadcast-progress-done",
           BroadcastStatus.CANCELLED: "broadcast-progress-cancelled"}.get(progress.status,
                                                                               "broadcast-progress")
    text = t(key, id=progress.broadcast_id, total=progress.total, sent=progress.sent, failed=progress.failed,
             blocked=progress.blocked, remaining=progress.remaining, cancelled=progress.cancelled,
             eta=_eta(t, progress.eta_seconds(rate)))
    markup = None
    if progress.status is BroadcastStatus.SENDING and progress.remaining:
        stop = BroadcastCb(action="stop", broadcast_id=progress.broadcast_id)
        markup = keyboard([button(t("broadcast-button-stop"), stop)])
    return text, markup


def _eta(t: Translator, seconds: int) -> str:
    if seconds >= 3600:
        return t("owner-eta-hours", h=seconds // 3600, m=seconds % 3600 // 60)
    if seconds >= 60:
        return t("owner-eta-minutes", m=seconds // 60, s=seconds % 60)
    return t("owner-eta-seconds", s=seconds)


def ensure_progress(services: Services, bot: Bot) -> BroadcastProgress | None:
    """Attach the progress listener to this process's sender once (the runner may call it too)."""
    if services.broadcast_progress is not None:
        return services.broadcast_progress
    sender = services.sender
    if sender is None:
        return None
    progress = BroadcastProgress(services, bot)
    services.broadcast_progress = progress
    sender.add_listener(progress.on_outcome)
    task = asyncio.get_running_loop().create_task(progress.resume(), name="broadcast-progress-resume")
    progress._tasks.add(task)
    task.add_done_callback(progress._tasks.discard)
    return progress


__all__ = ["BroadcastProgress", "ensure_progress", "progress_view"]
