"""`loyalty-bot report`: the result figures for a period as text, JSON or XLSX (models/reports/report.py)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from models.kernel import Database, Domain, SystemClock

if TYPE_CHECKING:
    from bot.i18n import Translator
    from models.reports import Report


def report_date(text: str) -> date:
    """A --from/--to value: YYYY-MM-DD within `models.reports.report.REPORT_YEARS`."""
    from models.reports import REPORT_YEARS

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None
    if day.year not in REPORT_YEARS:
        raise argparse.ArgumentTypeError(
            f"{text}: a report date is between {REPORT_YEARS[0]} and {REPORT_YEARS[-1]}")
    return day


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help="print or write the result figures for a period (text, json, xlsx)")
    p.add_argument("--from", dest="period_from", type=report_date, default=None,
                   help="first day, YYYY-MM-DD (default: the first customer or operation)")
    p.add_argument("--to", dest="period_to", type=report_date, default=None,
                   help="last day, included, YYYY-MM-DD (default: today)")
    p.add_argument("--format", choices=("text", "json", "xlsx"), default="text")
    p.add_argument("--output", "-o", default=None, help="write to FILE instead of standard output (xlsx needs it)")
    p.add_argument("--by", default=None, help="one cohort: source:<kind>, campaign:<id> or staff:<id>")
    p.add_argument("--locale", choices=("ru", "en"), default="ru")
    p.add_argument("--charts", default=None, metavar="DIR", help="also write the PNG charts into DIR")
    p.add_argument("--no-definitions", action="store_true", help="text: figures without their definitions")
    p.add_argument("--segment", default=None, metavar="NAME",
                   help="instead of the report, print the customers of an RFM segment as CSV "
                        "(champions, loyal, new, potential, cant_lose, at_risk, hibernating, lost), as of --to")
    p.add_argument("--database", default=None, help="database URL (default: DATABASE_URL from the settings)")
    p.add_argument("--timezone", default=None, help="business time zone (default: TIMEZONE from the settings)")
    p.set_defaults(func=report)


def open_domain(database: str | None, timezone: str | None) -> Domain:
    """A domain on `database` (or the configured one) with the system clock."""
    if database is None:
        from bot.config import load_settings

        settings = load_settings()
        return Domain(db=Database(settings.database_url), clock=SystemClock(),
                      tz=ZoneInfo(timezone) if timezone else settings.tz)
    return Domain(db=Database(database), clock=SystemClock(), tz=ZoneInfo(timezone or "Europe/Moscow"))


async def report(args: argparse.Namespace) -> int:
    from bot.i18n import default_i18n
    from models.reports import build_report

    if args.format == "xlsx" and not args.output:
        print("error: --format xlsx needs --output FILE", file=sys.stderr)
        return 2
    dom = open_domain(args.database, args.timezone)
    if args.segment:
        return await export_segment(dom, args)
    try:
        result = await build_report(dom, args.period_from, args.period_to, by=args.by)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        await dom.db.dispose()
    t = default_i18n().translator(args.locale)
    _write_output(args, result, t)
    return 0


def _write_output(args: argparse.Namespace, result: Report, t: Translator) -> None:
    """Files are written synchronously: the command has nothing else to do meanwhile."""
    from bot.report_render import render_charts, render_text, render_xlsx, report_as_dict

    if args.format == "xlsx":
        Path(args.output).write_bytes(render_xlsx(result, t))
        print(f"written {args.output}")
    else:
        text = (json.dumps(report_as_dict(result), ensure_ascii=False, indent=2) if args.format == "json"
                else render_text(result, t, definitions=not args.no_definitions))
        if args.output:
            Path(args.output).write_text(text + "\n", encoding="utf-8")
            print(f"written {args.output}")
        else:
            print(text)
    if args.charts:
        folder = Path(args.charts)
        folder.mkdir(parents=True, exist_ok=True)
        for name, png in render_charts(result, t):
            (folder / name).write_bytes(png)
        print(f"charts written to {folder}", file=sys.stderr)


async def export_segment(dom: Domain, args: argparse.Namespace) -> int:
    """An RFM segment as CSV (customer number, name, phone; in --locale's language, `;` for
    Russian, like the owner's exports) on standard output or --output."""
    from datetime import timedelta

    from bot.i18n import default_i18n
    from models.kernel import start_of_day
    from models.owner import export_segment as segment_csv

    as_of = start_of_day(args.period_to + timedelta(days=1), dom.tz) if args.period_to else dom.clock.now()
    try:
        data = await segment_csv(dom, args.segment, as_of, default_i18n().translator(args.locale))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        await dom.db.dispose()
    _emit_bytes(args.output, data)
    return 0


def _emit_bytes(output: str | None, data: bytes) -> None:
    if output:
        Path(output).write_bytes(data)
        print(f"written {output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)


def _emit(output: str | None, text: str) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"written {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
