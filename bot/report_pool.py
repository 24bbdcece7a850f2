"""Rendering `/report`'s charts and workbook off the event loop.

matplotlib and openpyxl are pure CPU for 0.5–1.5 s per report. Inside a handler that time
would block the one event loop every update, the partner API (a till's purchase), the outbox
sender and the scheduler share; in a thread it would still hold the GIL for most of it. So
`ReportRenderer` sends the finished `Report` (a plain picklable value: figures, tables, no
database objects) with the owner's locale to a worker **process** and awaits the PNGs and
the XLSX; the loop only pickles the report and unpickles the bytes (docs/PERFORMANCE.md,
"Reports and the event loop").

The worker is started (spawn: a fresh interpreter, nothing inherited from the bot's threads)
on the first report and kept for the next ones; one worker renders one report at a time,
later ones queue. If it dies (killed, out of memory) the pool is replaced and the report
tried once more; if that worker dies too, the report is rendered in a thread this time.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from models.reports import Report

log = logging.getLogger(__name__)

Rendered = tuple[list[tuple[str, bytes]], bytes]  # [(file name, PNG)], XLSX


def process_pool(*, initializer: Callable[..., object] | None = None, initargs: tuple[Any, ...] = ()) -> Executor:
    """One spawned worker process; it imports matplotlib and openpyxl when it starts."""
    from bot import report_render

    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=initializer or report_render.warm_up, initargs=initargs)


class ReportRenderer:
    """`await renderer.render(report, "ru")` -> (charts, xlsx), rendered in `executor_factory()`'s
    executor (a worker process by default; tests may pass their own)."""

    def __init__(self, executor_factory: Callable[[], Executor] = process_pool) -> None:
        self._factory = executor_factory
        self._executor: Executor | None = None
        self._lock = threading.Lock()

    def _current(self) -> Executor:
        with self._lock:
            if self._executor is None:
                self._executor = self._factory()
            return self._executor

    def _replace(self, broken: Executor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    async def render(self, report: Report, locale: str) -> Rendered:
        from bot.report_render import render_attachments

        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            executor = self._current()
            try:
                return await loop.run_in_executor(executor, render_attachments, report, locale)
            except BrokenProcessPool:
                self._replace(executor)
                if attempt == 1:
                    log.warning("report renderer: the worker process died; starting a new one and trying again")
        # A worker that cannot even start (a main module it cannot re-import, no processes allowed):
        # the report still goes out, rendered in a thread (off the loop, but holding the GIL).
        log.error("report renderer: no worker process could render the report; rendering it in a thread")
        return await asyncio.to_thread(render_attachments, report, locale)

    def close(self) -> None:
        """Stop the worker (it is also stopped when the process exits)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: ReportRenderer | None = None
_shared_lock = threading.Lock()


def shared_renderer() -> ReportRenderer:
    """The process's renderer: one worker for every bot, sandbox world and test in the process."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ReportRenderer()
        return _shared
