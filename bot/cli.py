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
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

import bot.commands
from bot.config import SettingsError
from models.errors import DomainError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loyalty-bot", description="A Telegram loyalty program.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {bot.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(bot.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bot.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(asyncio.run(args.func(args)) or 0)
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
