"""`loyalty-bot import FILE [--dry-run]` and `loyalty-bot export [--what] [--format] [--output] [--lang]`.

The same domain functions as the owner's /import and /export in the bot (models/owner/imports.py,
models/owner/exports.py); the command line is audited as the role "cli".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.config import load_settings
from bot.i18n import DEFAULT_LOCALE, LOCALES, default_i18n
from models.owner import (
    MAX_BYTES,
    ExportFormat,
    ExportWhat,
    ImportFileError,
    ImportPlan,
    apply_import,
    export,
    plan_import,
)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("import", help="import customers from CSV or XLSX (phone,name,birthday,balance,"
                                      "total_spent,purchases,source)")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="check the file and show what would change")
    p.set_defaults(func=import_command)
    p = sub.add_parser("export", help="export customers or operations to CSV or XLSX")
    p.add_argument("--what", choices=[w.value for w in ExportWhat], default=ExportWhat.CUSTOMERS.value)
    p.add_argument("--format", choices=[f.value for f in ExportFormat], default=ExportFormat.CSV.value)
    p.add_argument("--output", help="file to write (default: a dated name in the current folder; - for stdout)")
    p.add_argument("--lang", "--locale", dest="locale", choices=LOCALES, default=DEFAULT_LOCALE,
                   help="headers and values in Russian (default: CSV with ';' and a decimal comma) "
                        "or English (',' and a decimal point)")
    p.set_defaults(func=export_command)


def _print_plan(plan: ImportPlan) -> None:
    print(f"rows read: {plan.total_lines}")
    print(f"customers to create: {len(plan.rows)}, points: {plan.points}")
    print(f"already imported: {plan.already_imported}")
    if plan.unknown_columns:
        print(f"unknown columns skipped: {', '.join(plan.unknown_columns)}")
    if plan.unknown_sources:
        print(f"new sources (created as source tags): {', '.join(plan.unknown_sources)}")
    if plan.bad_sources:
        print(f"sources that cannot be tags (rows import without them): {', '.join(plan.bad_sources)}")
    print(f"errors: {len(plan.errors)}")
    for error in plan.errors:
        print(f"  line {error.line}, {error.column}: {error.reason} ({error.value})")


def _read(path: Path) -> bytes | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            print(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB; split it", file=sys.stderr)
            return None
        return path.read_bytes()
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return None


def _write(target: Path, data: bytes) -> None:
    target.write_bytes(data)


async def import_command(args: argparse.Namespace) -> int:
    from bot.services import build_services

    path = Path(args.file)
    data = _read(path)
    if data is None:
        return 2
    services = await build_services(load_settings())
    try:
        try:
            plan = await plan_import(services.dom, data, path.name)
        except ImportFileError as exc:
            print(f"{path}: {exc.code}: {exc.detail}", file=sys.stderr)
            return 2
        _print_plan(plan)
        if args.dry_run:
            print("dry run: nothing was written")
            return 0
        result = await apply_import(services.dom, data, path.name, actor_role="cli", channel="cli")
        print(f"imported: {result.created} customer(s), {result.points} point(s); "
              f"already imported: {result.already_imported}; rows with errors: {result.errors}")
        return 0
    finally:
        await services.db.dispose()


async def export_command(args: argparse.Namespace) -> int:
    from bot.services import build_services
    from models.kernel import record_alone

    services = await build_services(load_settings())
    try:
        t = default_i18n().translator(getattr(args, "locale", DEFAULT_LOCALE))
        data, name = await export(services.dom, ExportWhat(args.what), ExportFormat(args.format), t)
        await record_alone(services.dom, "owner.export", actor_telegram_id=None, actor_role="cli", target=name,
                                 bytes=len(data))
    finally:
        await services.db.dispose()
    if args.output == "-":
        sys.stdout.buffer.write(data)
        return 0
    target = Path(args.output or name)
    _write(target, data)
    print(f"written {target} ({len(data)} bytes)")
    return 0
