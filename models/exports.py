"""Exporting customers and operations to CSV and XLSX (issue 6, "Customers").

The customers export starts with the import columns (`phone,name,birthday,balance,
total_spent,purchases,source`, money in roubles), so an export can be imported into another
database; more columns follow. Balances come from one grouped query over live lots
(DOMAIN.md, "Points lots and the ledger": a balance is the sum of remaining over live lots).
CSV is UTF-8 with a BOM (Excel then opens Cyrillic correctly), comma separated.

Names, comments and staff names are typed by people, so neither file may turn them into
formulas: in CSV a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a leading `'` (numbers and phones such as `+79161234567` are left alone); in XLSX every
text cell is written as text, never as a formula.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from models import ledger
from models.context import Domain
from models.tables import Campaign, Customer, Lot, LotKind, Operation, Staff, TelegramAccount


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ExportWhat(StrEnum):
    CUSTOMERS = "customers"
    OPERATIONS = "operations"


CUSTOMER_COLUMNS = ("phone", "name", "birthday", "balance", "total_spent", "purchases", "source",
                    "id", "certificates", "tier", "tier_pinned", "source_kind", "registered_at",
                    "telegram_linked", "blocked", "created_at", "last_purchase_at", "referrer_id")
OPERATION_COLUMNS = ("id", "created_at", "kind", "customer_id", "phone", "staff", "amount", "money_paid",
                     "points_paid", "cashback", "referral_paid", "points_delta", "refunded", "shortfall",
                     "receipt_number", "channel", "program_version", "comment")


def roubles(kopecks: int) -> str:
    return f"{Decimal(kopecks) / 100:.2f}"


def _iso(moment: datetime | date | None, dom: Domain) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return moment.astimezone(dom.tz).replace(tzinfo=None).isoformat(timespec="seconds")
    return moment.isoformat()


async def customer_rows(dom: Domain) -> list[list[Any]]:
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
        _rows = (await session.execute(query)).all()
    out: list[list[Any]] = []
    for customer, regular, certificates, campaign_code, is_linked in _rows:
        out.append([
            customer.phone or "", customer.name or "", _iso(customer.birthday, dom), int(regular),
            roubles(customer.paid_total_kopecks), customer.purchase_count, campaign_code or "",
            customer.id, int(certificates), customer.tier_index + 1,
            "" if customer.tier_pinned is None else customer.tier_pinned + 1, customer.source_kind.value,
            _iso(customer.registered_at, dom), "yes" if is_linked else "no", "yes" if customer.blocked else "no",
            _iso(customer.created_at, dom), _iso(customer.last_purchase_at, dom), customer.referrer_id or "",
        ])
    return out


async def operation_rows(dom: Domain, since: datetime | None = None) -> list[list[Any]]:
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
        op.id, _iso(op.created_at, dom), op.kind.value, op.customer_id or "", phone or "", staff_name or "",
        roubles(op.amount_kopecks), roubles(op.cash_kopecks), op.points_paid, op.cashback, op.referral_paid,
        op.points_delta, roubles(op.refunded_kopecks), op.shortfall, op.receipt_number or "", op.channel,
        op.program_version, op.comment,
    ] for op, phone, staff_name in rows]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")  # [0-9]: "-١٢" is text to a spreadsheet


def csv_safe(value: Any) -> Any:
    """A text cell spreadsheets would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_safe(value) for value in row] for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def to_xlsx(header: Sequence[str], rows: list[list[Any]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str) and value.startswith("="):  # openpyxl would store a formula
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                value = cell
            cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def export(dom: Domain, what: ExportWhat, fmt: ExportFormat) -> tuple[bytes, str]:
    """(file bytes, suggested file name)."""
    if what is ExportWhat.CUSTOMERS:
        header, rows = CUSTOMER_COLUMNS, await customer_rows(dom)
    else:
        header, rows = OPERATION_COLUMNS, await operation_rows(dom)
    stamp = dom.clock.now().astimezone(dom.tz).strftime("%Y%m%d-%H%M")
    name = f"{what.value}-{stamp}.{fmt.value}"
    if fmt is ExportFormat.CSV:
        return to_csv(header, rows), name
    return to_xlsx(header, rows, what.value), name


__all__ = ["CUSTOMER_COLUMNS", "OPERATION_COLUMNS", "ExportFormat", "ExportWhat", "customer_rows", "export",
           "operation_rows", "to_csv", "to_xlsx"]
