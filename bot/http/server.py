"""Running uvicorn inside the bot's own event loop (no threads, no second process).

The socket is bound here rather than by uvicorn, so a port that is taken is one clear line and a
retry with backoff (a previous process may still be letting go of it during a restart) instead of
uvicorn's own error log and a `SystemExit` wrapped in a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)

FIRST_RETRY = 1.0  # seconds before the second attempt to bind; doubled each time
MAX_RETRY = 30.0


class CannotServe(OSError):
    """The HTTP port cannot be opened; the message is one line for the operator."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the process owner decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def make_server(app: FastAPI, host: str, port: int, *, access_log: bool = False) -> uvicorn.Server:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=access_log,
                            lifespan="off", proxy_headers=True, server_header=False)
    return _EmbeddedServer(config)


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready socket on host:port (IPv6 when the host is one), or OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # not SO_REUSEPORT: a taken port stays taken
        sock.bind((host, port))
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _why(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"{host}:{port} is already in use (another loyalty-bot, or another program): "
                "set HTTP_PORT to a free port")
    if exc.errno == errno.EACCES:
        return f"{host}:{port}: permission denied (ports below 1024 need privileges): set HTTP_PORT"
    return f"{host}:{port}: {exc.strerror or exc} (check HTTP_HOST and HTTP_PORT)"


async def _stopped_within(stop_event: asyncio.Event, seconds: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), seconds)
    return stop_event.is_set()


async def bind_with_retry(host: str, port: int, stop_event: asyncio.Event, *,
                          give_up_after: float | None) -> socket.socket | None:
    """Bind host:port; while the port is taken, retry with backoff (one warning line, then quiet)
    until it is free, `give_up_after` seconds have passed (CannotServe) or `stop_event` is set
    (None). Other errors (no such address, no permission) are CannotServe at once."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    delay = FIRST_RETRY
    attempts = 0
    while True:
        try:
            sock = bind(host, port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise CannotServe(f"cannot serve HTTP on {_why(exc, host, port)}") from None
            attempts += 1
            elapsed = loop.time() - started
            if give_up_after is not None and elapsed + delay > give_up_after:
                raise CannotServe(f"cannot serve HTTP: {_why(exc, host, port)}") from None
            if attempts == 1:
                log.warning("HTTP: %s; retrying in the background", _why(exc, host, port))
            else:
                log.debug("HTTP: %s:%s still in use after %.0f s; next try in %.0f s", host, port, elapsed, delay)
            if await _stopped_within(stop_event, delay):
                return None
            delay = min(delay * 2, MAX_RETRY)
            continue
        if attempts:
            log.info("HTTP: %s:%s is free now; serving", host, port)
        return sock


async def serve_http(app: FastAPI, host: str, port: int, stop_event: asyncio.Event, *,
                     give_up_after: float | None = None) -> None:
    """Serve until `stop_event` is set, then finish the requests in flight and return. A taken
    port is retried (see `bind_with_retry`); CannotServe when it cannot be opened."""
    sock = await bind_with_retry(host, port, stop_event, give_up_after=give_up_after)
    if sock is None:
        return
    server = make_server(app, host, port)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    stopper = asyncio.create_task(stop_event.wait())
    try:
        done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            try:
                task.result()
            except SystemExit as exc:  # uvicorn exits when it cannot start
                raise CannotServe(f"cannot serve HTTP on {host}:{port}") from exc
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
        sock.close()
