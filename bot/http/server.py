"""Running uvicorn inside the bot's own event loop (no threads, no second process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the process owner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: FastAPI, host: str, port: int, *, access_log: bool = False) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=access_log,
                            lifespan="off", proxy_headers=True, server_header=False)
    return _EmbeddedServer(config)


async def serve_http(app: FastAPI, host: str, port: int, stop_event: asyncio.Event) -> None:
    """Serve until `stop_event` is set, then finish the requests in flight and return."""
    server = make_server(app, host, port)
    task = asyncio.create_task(server.serve())
    stopper = asyncio.create_task(stop_event.wait())
    try:
        done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            try:
                task.result()
            except SystemExit as exc:  # uvicorn exits when it cannot bind
                raise RuntimeError(f"cannot serve HTTP on {host}:{port} (is the port taken?)") from exc
            return
        log.info("HTTP server on %s:%s stopping", host, port)
        server.should_exit = True
        await task
    finally:
        stopper.cancel()
        if not task.done():
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await task
