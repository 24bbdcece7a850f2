"""`loyalty-bot sandbox`: the whole program in a browser, with no Telegram token.

One process on localhost: a fake Bot API server (fakegram), the real bot polling it, the
outbox sender, the scheduler, and a web page with a customer's, a cashier's and the
owner's chats (sandbox/). It never talks to Telegram, so it refuses to start when a real
BOT_TOKEN is configured together with the real TELEGRAM_API_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

import programs
from bot.config import TELEGRAM_API, SettingsError, load_settings

DEFAULT_PORT = 8081


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sandbox", help="try the bot in a browser: a local fake Telegram, no token needed")
    p.add_argument("--program", type=programs.resolve, default=None,
                   help="program TOML file (default: PROGRAM_FILE, else programs/default.toml; "
                        "programs/case-a.toml is a worked example)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"web page port (default {DEFAULT_PORT})")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this computer only)")
    p.set_defaults(func=sandbox_command)


def real_telegram_token_configured() -> bool:
    """BOT_TOKEN is set and TELEGRAM_API_URL is Telegram's own: the sandbox must not run."""
    try:
        settings = load_settings()
    except SettingsError:  # a broken .env still must not let a real token through
        token = os.environ.get("BOT_TOKEN", "").strip()
        url = os.environ.get("TELEGRAM_API_URL", TELEGRAM_API)
        return bool(token) and url.rstrip("/") == TELEGRAM_API
    return settings.bot_token is not None and settings.is_real_telegram


def _timezone() -> str:
    try:
        return load_settings().timezone
    except SettingsError:
        return "Europe/Moscow"


SANDBOX_DEFAULT = "case-a"


def _configured_program() -> Path:
    """The program the real bot would run (PROGRAM_FILE), so the sandbox shows the same thing.

    With no PROGRAM_FILE at all, case A: the worked example, where every mechanic shows within
    the clock panel's jumps (its win-back comes 30 days after the last purchase, so "+31 день"
    shows it; the starter template waits 45 days). The page's program list has the others.
    """
    try:
        settings = load_settings()
    except SettingsError:
        env_program = os.environ.get("PROGRAM_FILE")
        return programs.resolve(env_program) if env_program else programs.shipped_path(SANDBOX_DEFAULT)
    if "program_file" not in settings.model_fields_set:
        return programs.shipped_path(SANDBOX_DEFAULT)
    return settings.program_file


async def sandbox_command(args: argparse.Namespace) -> int:
    if real_telegram_token_configured():
        print("refusing to start the sandbox: BOT_TOKEN is set and TELEGRAM_API_URL is the real Telegram. "
              "The sandbox never talks to Telegram; unset BOT_TOKEN (or run the bot with `loyalty-bot run`).",
              file=sys.stderr)
        return 2
    program = args.program if args.program is not None else _configured_program()
    if not program.is_file():
        print(f"error: no such program file: {program}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print("error: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    return await run_sandbox(program, host=args.host, port=args.port)


async def run_sandbox(program: Path, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                      notice: str | None = None) -> int:
    """Serve until Ctrl+C / SIGTERM. `notice` replaces the first line (e.g. "BOT_TOKEN is not set: ...")."""
    from sandbox.server import SandboxServer, is_loopback
    from sandbox.world import Sandbox

    url_host = f"[{host}]" if ":" in host else host
    # One line per job, trigger and poll would bury the address; warnings and errors still show.
    for name in ("apscheduler", "aiogram.dispatcher", "aiogram.event", "scheduler.runner"):
        logging.getLogger(name).setLevel(logging.WARNING)
    print(notice or f"Starting the sandbox (program {program.name}): a local fake Telegram, no token needed.",
          flush=True)
    if not is_loopback(host):
        print("!" * 78 + f"\n!! WARNING: the sandbox is bound to {host}, not 127.0.0.1: anyone who can reach "
              "this\n!! address can act as the owner, the cashier and every customer. There is no login.\n"
              + "!" * 78, file=sys.stderr, flush=True)
    server = SandboxServer(Sandbox(program, timezone=_timezone()), host=host, port=port)
    try:
        await server.start()
    except OSError as exc:
        print(f"error: cannot listen on {url_host}:{port}: {exc.strerror or exc} (try --port)", file=sys.stderr)
        return 2
    print(f"Sandbox is ready: open http://{url_host}:{server.port}  (Ctrl+C to stop)", flush=True)
    print(f"Its database (gone when it stops): {server.sandbox.w.database_path}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0


async def start_sandbox_instead() -> int:
    """For `loyalty-bot run` / `make run` without BOT_TOKEN: say so first, then run the sandbox
    (on PROGRAM_FILE when it is set, else case A)."""
    program = _configured_program()
    return await run_sandbox(program if program.is_file() else programs.shipped_path(SANDBOX_DEFAULT), notice=(
        f"BOT_TOKEN is not set: starting the sandbox instead — open http://127.0.0.1:{DEFAULT_PORT} "
        "(a local fake Telegram; set BOT_TOKEN from @BotFather to run the real bot)."))
