"""Exporting customers and operations to CSV and XLSX (issue 6, "Customers"; issue 16).

A file the owner opens in Excel, in the owner's language (Russian by default, English when
the owner speaks English): translated headers and values (tier names, «да»/«нет», how a
customer came, kinds of operations), numbers as numbers and dates as dates.

* XLSX: a number cell with a number format (`#,##0` for counts and points, `#,##0.00` for
  roubles — Excel shows the grouping the reader's way, "12 250,50" or "12,250.50"; ids `0`),
  dates and times as date cells (`DD.MM.YYYY`, `DD.MM.YYYY HH:MM` in Russian; `D MMM YYYY`
  in English), in the business's time zone. Phones are text.
* CSV: UTF-8 with a BOM (Excel then opens Cyrillic correctly). Russian: `;` between cells and
  a decimal comma ("1000,50"), dates `15.03.1985`, as Russian Excel reads them; English: `,`
  and a decimal point, ISO dates (`1985-03-15`). Money in roubles without digit grouping,
  kopecks only when there are any.

The customers export starts with the import's columns (phone, name, birthday, balance, total
spent, purchases, source — the source as its campaign or source-tag code), so an export
imports into another database: models/owner/imports.py reads the Russian and the English headers
as well as the column ids. Balances come from one grouped query over live lots (DOMAIN.md,
"Points lots and the ledger": a balance is the sum of remaining over live lots).

Names, comments and staff names are typed by people, so neither file may turn them into
formulas: in CSV a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a leading `'` (phones such as `+79161234567` are left alone); in XLSX every text cell is
written as text, never as a formula.

Texts come from the caller's translator (bot/locales/*/exports.ftl): the domain never
imports the bot, it only needs something that turns a message key into text in a locale.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from models.kernel.context import Domain
from models.kernel.tables import Campaign, Customer, Lot, LotKind, Operation, Staff, TelegramAccount
from models.ledger import entries as ledger
from models.program.rules import text_in
from models.program.store import current_program
from models.reports.rfm import segment_list


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ExportWhat(StrEnum):
    CUSTOMERS = "customers"
    OPERATIONS = "operations"


class Texts(Protocol):
    """What an export needs from the translation layer (bot.i18n.Translator is one)."""

    @property
    def locale(self) -> str: ...

    def __call__(self, key: str, /, **args: Any) -> str: ...


class Kind(StrEnum):
    """How a column's values are written."""

    TEXT = "text"  # as typed (formula-safe); phones, names, codes, translated words
    DATE = "date"
    MOMENT = "moment"  # a date and time, in the business's time zone
    MONEY = "money"  # integer kopecks, written as roubles
    COUNT = "count"  # points, purchases: whole numbers, grouped in XLSX
    ID = "id"  # a record's number: never grouped


@dataclass(frozen=True)
class Column:
    key: str  # the column id; its header is the message `export-column-<key>`
    kind: Kind


_T, _D, _M, _R, _N, _I = Kind.TEXT, Kind.DATE, Kind.MOMENT, Kind.MONEY, Kind.COUNT, Kind.ID
CUSTOMER_COLUMNS = tuple(Column(key, kind) for key, kind in (
    ("phone", _T), ("name", _T), ("birthday", _D), ("balance", _N), ("total_spent", _R), ("purchases", _N),
    ("source", _T), ("id", _I), ("certificates", _N), ("tier", _T), ("tier_pinned", _T), ("source_kind", _T),
    ("registered_at", _M), ("telegram_linked", _T), ("blocked", _T), ("created_at", _M),
    ("last_purchase_at", _M), ("referrer_id", _I)))
OPERATION_COLUMNS = tuple(Column(key, kind) for key, kind in (
    ("operation_id", _I), ("when", _M), ("kind", _T), ("customer_id", _I), ("phone", _T), ("staff", _T),
    ("amount", _R), ("money_paid", _R), ("points_paid", _N), ("cashback", _N), ("referral_paid", _N),
    ("points_delta", _N), ("refunded", _R), ("shortfall", _N), ("receipt_number", _T), ("channel", _T),
    ("program_version", _I), ("comment", _T)))
CHANNELS = ("bot", "api", "cli", "job", "import")  # Operation.channel values with a name of their own

CSV_DELIMITER = {"ru": ";", "en": ","}
DECIMAL_SEPARATOR = {"ru": ",", "en": "."}
CSV_DATE = {"ru": "%d.%m.%Y", "en": "%Y-%m-%d"}
CSV_MOMENT = {"ru": "%d.%m.%Y %H:%M:%S", "en": "%Y-%m-%d %H:%M:%S"}
XLSX_FORMAT = {
    Kind.MONEY: "#,##0.00", Kind.COUNT: "#,##0", Kind.ID: "0",
}
XLSX_DATE = {"ru": "DD.MM.YYYY", "en": "D MMM YYYY"}
XLSX_MOMENT = {"ru": "DD.MM.YYYY HH:MM", "en": "D MMM YYYY HH:MM"}


def _lang(locale: str) -> str:
    return locale if locale in CSV_DELIMITER else "ru"


def headers(columns: Sequence[Column], t: Texts) -> list[str]:
    return [t(f"export-column-{column.key}") for column in columns]


def _local(moment: datetime | None, dom: Domain) -> datetime | None:
    """A stored instant as the business's wall-clock time (spreadsheets have no time zones)."""
    return None if moment is None else moment.astimezone(dom.tz).replace(tzinfo=None)


def _yes_no(value: bool, t: Texts) -> str:
    return t("export-yes") if value else t("export-no")


async def customer_rows(dom: Domain, t: Texts) -> list[list[Any]]:
    """One row per customer (not erased), values typed as CUSTOMER_COLUMNS says."""
    now = dom.clock.now()
    balances = (
        select(Lot.customer_id.label("customer_id"),
               func.sum(case((Lot.kind == LotKind.CERTIFICATE, 0), else_=Lot.remaining)).label("regular"),
               func.sum(case((Lot.kind == LotKind.CERTIFICATE, Lot.remaining), else_=0)).label("certificates"))
        .where(ledger.live(now)).group_by(Lot.customer_id).subquery("balances"))
    linked = select(TelegramAccount.customer_id).where(TelegramAccount.customer_id.is_not(None))
    query = (
        select(Customer, func.coalesce(balances.c.regular, 0), func.coalesce(balances.c.certificates, 0),
               Campaign.code, Customer.id.in_(linked))
        .outerjoin(balances, balances.c.customer_id == Customer.id)
        .outerjoin(Campaign, Campaign.id == Customer.campaign_id)
        .where(Customer.erased_at.is_(None))
        .order_by(Customer.id))
    async with dom.db.reading() as session:
        _version, program = await current_program(session)
        _rows = (await session.execute(query)).all()
    levels = program.tiers.levels

    def tier(index: int | None) -> str | None:
        if index is None:
            return None
        return text_in(levels[index].name, t.locale) if 0 <= index < len(levels) else str(index + 1)

    out: list[list[Any]] = []
    for customer, regular, certificates, campaign_code, is_linked in _rows:
        out.append([
            customer.phone or "", customer.name or "", customer.birthday, int(regular),
            customer.paid_total_kopecks, customer.purchase_count, campaign_code or "",
            customer.id, int(certificates), tier(customer.tier_index), tier(customer.tier_pinned),
            t(f"export-came-from-{customer.source_kind.value}"), _local(customer.registered_at, dom),
            _yes_no(bool(is_linked), t), _yes_no(customer.blocked, t), _local(customer.created_at, dom),
            _local(customer.last_purchase_at, dom), customer.referrer_id,
        ])
    return out


async def operation_rows(dom: Domain, t: Texts, since: datetime | None = None) -> list[list[Any]]:
    """One row per operation, values typed as OPERATION_COLUMNS says."""
    customer = aliased(Customer)
    query = (select(Operation, customer.phone, Staff.display_name)
             .outerjoin(customer, customer.id == Operation.customer_id)
             .outerjoin(Staff, Staff.id == Operation.staff_id)
             .order_by(Operation.id))
    if since is not None:
        query = query.where(Operation.created_at >= since)
    async with dom.db.reading() as session:
        rows = (await session.execute(query)).all()
    return [[
        op.id, _local(op.created_at, dom), t(f"export-kind-{op.kind.value}"), op.customer_id, phone or "",
        staff_name or "", op.amount_kopecks, op.cash_kopecks, op.points_paid, op.cashback, op.referral_paid,
        op.points_delta, op.refunded_kopecks, op.shortfall, op.receipt_number or "",
        t(f"export-channel-{op.channel}") if op.channel in CHANNELS else op.channel,
        op.program_version, op.comment,
    ] for op, phone, staff_name in rows]


# --- CSV ---------------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")  # [0-9]: "-١٢" is text to a spreadsheet


def csv_safe(value: Any) -> Any:
    """A text cell spreadsheets would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def roubles_text(kopecks: int, locale: str = "ru") -> str:
    """Kopecks as roubles for a CSV cell: "1000", "1000,50" (ru) / "1000.50" (en); no grouping,
    kopecks only when there are any (what every spreadsheet reads back as a number)."""
    text = f"{Decimal(kopecks) / 100:.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    return text.replace(".", DECIMAL_SEPARATOR[_lang(locale)])


def csv_cell(value: Any, kind: Kind, locale: str) -> str:
    if value is None:
        return ""
    lang = _lang(locale)
    if kind is Kind.DATE:
        return value.strftime(CSV_DATE[lang])
    if kind is Kind.MOMENT:
        return value.strftime(CSV_MOMENT[lang])
    if kind is Kind.MONEY:
        return roubles_text(int(value), lang)
    if kind in (Kind.COUNT, Kind.ID):
        return str(int(value))
    return str(csv_safe(str(value)))


def to_csv(columns: Sequence[Column], rows: list[list[Any]], t: Texts) -> bytes:
    lang = _lang(t.locale)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER[lang], lineterminator="\r\n")
    writer.writerow(headers(columns, t))
    writer.writerows([csv_cell(value, column.kind, lang) for value, column in zip(row, columns, strict=True)]
                     for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


# --- XLSX --------------------------------------------------------------------------------------

def to_xlsx(columns: Sequence[Column], rows: list[list[Any]], title: str, t: Texts) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    lang = _lang(t.locale)
    formats: dict[Kind, str] = {**XLSX_FORMAT, Kind.DATE: XLSX_DATE[lang], Kind.MOMENT: XLSX_MOMENT[lang]}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    names = headers(columns, t)
    for index, (name, column) in enumerate(zip(names, columns, strict=True), start=1):
        width = {Kind.DATE: 12, Kind.MOMENT: 17, Kind.TEXT: 16}.get(column.kind, 10)
        sheet.column_dimensions[get_column_letter(index)].width = max(width, len(name) + 2)
    sheet.freeze_panes = "A2"
    header_cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells: list[Any] = []
        for value, column in zip(row, columns, strict=True):
            if value is None or value == "":
                cells.append(None)
                continue
            if column.kind is Kind.TEXT:
                cell = WriteOnlyCell(sheet, value=str(value))
                cell.data_type = "s"  # text, even "=1+1" or "+7916…": never a formula or a number
            else:
                if column.kind is Kind.MONEY:
                    value = float(Decimal(value) / 100)  # the exact kopecks, shown as roubles
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = formats[column.kind]
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def export(dom: Domain, what: ExportWhat, fmt: ExportFormat, t: Texts) -> tuple[bytes, str]:
    """(file bytes, suggested file name), in `t`'s language."""
    if what is ExportWhat.CUSTOMERS:
        columns, rows = CUSTOMER_COLUMNS, await customer_rows(dom, t)
    else:
        columns, rows = OPERATION_COLUMNS, await operation_rows(dom, t)
    stamp = dom.clock.now().astimezone(dom.tz).strftime("%Y%m%d-%H%M")
    name = f"{what.value}-{stamp}.{fmt.value}"
    if fmt is ExportFormat.CSV:
        return to_csv(columns, rows, t), name
    return to_xlsx(columns, rows, t(f"export-sheet-{what.value}"), t), name


__all__ = ["CUSTOMER_COLUMNS", "OPERATION_COLUMNS", "Column", "ExportFormat", "ExportWhat", "Kind", "Texts",
           "csv_cell", "customer_rows", "export", "headers", "operation_rows", "roubles_text", "to_csv", "to_xlsx"]


SEGMENT_COLUMNS = (Column("id", Kind.ID), Column("name", Kind.TEXT), Column("phone", Kind.TEXT))


async def export_segment(dom: Domain, segment: str, as_of: datetime, t: Texts) -> bytes:
    """An RFM segment's customers as CSV (`loyalty-bot report --segment`): number, name, phone,
    written like every other export (the owner's language, `;` for Russian). ValueError for an
    unknown segment."""
    rows = await segment_list(dom, segment, as_of)
    return to_csv(SEGMENT_COLUMNS, [list(row) for row in rows], t)
