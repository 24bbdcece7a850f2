"""The `loyalty-bot` command line.

Subcommands live in `bot/commands/*.py`; each module defines `register(subparsers)` and
sets `func` (an async function taking the parsed args and returning an exit code).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import pkgutil
import sys
import threading
import time
from collections.abc import Awaitable, Sequence

from sqlalchemy.exc import DBAPIError

import bot.commands
from bot.config import SettingsError
from models.kernel import DomainError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loyalty-bot", description="A Telegram loyalty program.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {bot.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(bot.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bot.commands.{info.name}")
        module.register(sub)
    return parser


async def _within_loop(command: Awaitable[int | None]) -> int | None:
    """Run the command; if it fails, let aiosqlite's worker threads finish first.

    aiosqlite answers a failed connect (a folder that does not exist, a file it cannot open)
    by queueing the thread's stop without awaiting it; the thread then posts to the event
    loop. If `asyncio.run` has already closed the loop, that thread dies with a traceback on
    the console ("Event loop is closed") after our one-line error. Waiting here, while the
    loop still runs, for those threads to end (at most a second) keeps the error one line."""
    try:
        return await command
    except BaseException:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and _sqlite_threads_alive():  # noqa: ASYNC110 (no event to wait on)
            await asyncio.sleep(0.01)
        raise


def _sqlite_threads_alive() -> bool:
    return any(thread.is_alive() and "_connection_worker_thread" in thread.name for thread in threading.enumerate())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(asyncio.run(_within_loop(args.func(args))) or 0)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc}", file=sys.stderr)
        logging.getLogger(__name__).debug("OS error", exc_info=True)
        return 1
    except KeyboardInterrupt:
        return 130
    except DBAPIError as exc:  # the driver's message only: never the statement or the URL
        message = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
        missing_table = "no such table" in message or ("relation" in message and "does not exist" in message)
        hint = " (run `loyalty-bot migrate` first)" if missing_table else ""
        print(f"database error: {message}{hint}", file=sys.stderr)
        logging.getLogger(__name__).debug("database error", exc_info=True)  # LOG_LEVEL=DEBUG: where it came from
        return 1
    except OSError as exc:  # an unwritable --output, a database server nobody listens on
        print(f"error: {exc}", file=sys.stderr)
        logging.getLogger(__name__).debug("OS error", exc_info=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
