"""migrate, check, program show|set, run."""

from __future__ import annotations

import argparse
import sys

import programs
from bot.config import configure_phones, load_settings
from models.kernel import Database
from models.ledger import check_ledger
from models.program import load_program_file, program_diff, program_in_force, set_program


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("migrate", help="create or upgrade the database schema (Alembic)")
    p.set_defaults(func=migrate)
    p = sub.add_parser("check", help="verify every ledger invariant; non-zero exit if broken")
    p.set_defaults(func=check)
    p = sub.add_parser("program", help="show the current program or set a new version")
    psub = p.add_subparsers(dest="program_command", required=True)
    show = psub.add_parser("show", help="print the current program version")
    show.set_defaults(func=program_show)
    setp = psub.add_parser("set", help="validate a TOML file and store it as a new version")
    setp.add_argument("file")
    setp.add_argument("--comment", default="set from the command line")
    setp.set_defaults(func=program_set)
    p = sub.add_parser("run", help="start the bot (polling, or webhook when WEBHOOK_URL is set); "
                                          "without BOT_TOKEN, the sandbox")
    p.set_defaults(func=run)


async def migrate(_args: argparse.Namespace) -> int:
    settings = load_settings()  # first: LOG_LEVEL applies to Alembic's import-time messages too
    from migrations.runner import upgrade_head

    configure_phones(settings, create=True)  # the phone hash key file is written here, once (mode 0600)
    await upgrade_head(settings.database_url)
    print(f"database is at the latest schema: {Database(settings.database_url).url.split('@')[-1]}")
    return 0


async def check(_args: argparse.Namespace) -> int:
    settings = load_settings()
    db = Database(settings.database_url)
    try:
        problems = await check_ledger(db)
    finally:
        await db.dispose()
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print("ledger OK: every lot matches its entries, no balance below zero")
    return 0


async def program_show(_args: argparse.Namespace) -> int:
    from bot.services import build_services

    services = await build_services(load_settings())
    try:
        version, program = await program_in_force(services.dom)
        print(f"# program version {version}")
        import tomli_w

        print(tomli_w.dumps(program.to_document()))
    finally:
        await services.db.dispose()
    return 0


async def program_set(args: argparse.Namespace) -> int:
    from bot.services import build_services

    new = load_program_file(programs.resolve(args.file))
    services = await build_services(load_settings())
    try:
        old_version, old = await program_in_force(services.dom)
        diff = program_diff(old, new)
        if not diff:
            print(f"no changes: version {old_version} already has these settings")
            return 0
        for key, before, after in diff:
            print(f"{key}: {before!r} -> {after!r}")
        version = await set_program(services.dom, new, None, args.comment)
        print(f"program version {version} is now in force")
    finally:
        await services.db.dispose()
    return 0


async def run(_args: argparse.Namespace) -> int:
    """The bot when BOT_TOKEN is set; otherwise the sandbox, saying so in its first line."""
    settings = load_settings()
    if settings.bot_token is None:
        from bot.commands.sandbox import start_sandbox_instead

        return await start_sandbox_instead()
    from bot.runner import run_bot
    from migrations.runner import upgrade_head

    configure_phones(settings, create=True)
    await upgrade_head(settings.database_url)
    return await run_bot(settings)
