"""Importing an old customer base from CSV or XLSX (issue 6, "Customers").

Header `phone,name,birthday,balance,total_spent,purchases,source` (or the export's); only the phone is required.
The headers of the bot's own export are read too, in Russian and English («Телефон», «Имя»,
«День рождения», «Баллы», «Сумма покупок, ₽», «Покупок», «Источник»), so an export imports
back into another database whichever language it was written in.
Files come as spreadsheets export them: `;` or `,` separators, UTF-8 (with or without BOM)
or Windows-1251, XLSX. Birthdays `dd.mm.yyyy` or `yyyy-mm-dd`; `total_spent` in roubles;
`balance` in whole points; `purchases` a whole number; `source` an optional campaign or
source-tag code: an unknown one is created as a source tag by the import (the dry run lists
it first), one that cannot be a tag (other characters, over 32) is left out with a note.

Two steps: `plan_import` (the dry run: what would be created, per-row errors) and
`apply_import` (the same plan, written in one transaction). Imported customers:

* source kind IMPORT (DOMAIN.md, "Customers": first-touch source), no Telegram yet;
* `imported_key` = "imp:<phone>" (unique) — a re-import of the same file finds every row
  already imported and changes nothing; erasure replaces it with a fingerprint of the phone
  (`erased_import_key`), and such rows also count as already imported;
* the balance becomes one lot of kind IMPORT through an IMPORT operation (DOMAIN.md,
  "Points lots and the ledger"), with the program's regular validity;
* `total_spent`/`purchases` become the customer's base history (`base_paid_kopecks`,
  `base_purchase_count`) and the running totals start equal to them, so `loyalty-bot check`
  (paid_total = base + operations) holds, and the initial tier follows from them.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import erased_import_key, new_referral_code, validate_birthday
from models.kernel import audit
from models.kernel.context import Domain
from models.kernel.dates import parse_date
from models.kernel.errors import DomainError, InvalidDate, InvalidPhone
from models.kernel.phone import normalize_phone
from models.kernel.tables import Campaign, Customer, LotKind, Operation, OperationKind, SourceKind
from models.kernel.text import SOURCE_TAG_RE
from models.ledger import entries as ledger
from models.program.rules import Program, ThresholdBasis
from models.program.store import current_program
from models.program.tiers import tier_for_value

log = logging.getLogger(__name__)

COLUMNS = ("phone", "name", "birthday", "balance", "total_spent", "purchases", "source")
# The export's headers for these columns (bot/locales/*/exports.ftl, `export-column-<id>`), as
# `header_key` leaves them; tests/owner/test_export_files.py holds this table to the locale files.
HEADINGS: dict[str, tuple[str, ...]] = {
    "phone": ("телефон", "phone"),
    "name": ("имя", "name"),
    "birthday": ("день рождения", "birthday"),
    "balance": ("баллы", "points"),
    "total_spent": ("сумма покупок", "total spent"),
    "purchases": ("покупок", "purchases"),
    "source": ("источник", "source"),
}
_HEADING_COLUMN = {heading: column for column, headings in HEADINGS.items() for heading in (column, *headings)}
MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024  # Telegram's getFile limit; the command line uses the same
MAX_UNPACKED_BYTES = 400 * 1024 * 1024  # an XLSX unpacked (100,000 rows take ~50 MB); more is a zip bomb
MAX_POINTS = 10_000_000
MAX_SPENT_KOPECKS = 10**13


class ImportFileError(DomainError):
    """The file as a whole cannot be read. `.code` is translated by the doors:
    not_xlsx (claims to be XLSX but is not), bad_xlsx (damaged: truncated XML, missing parts),
    unsafe_xlsx (declares XML entities: an entity bomb; Excel never writes them), no_sheets (a
    workbook without a worksheet), not_text (binary, not CSV), cell_too_long (a CSV cell over
    csv's field limit, usually an unclosed quote), bad_csv, no_header, no_phone_column, empty,
    too_many_rows, too_large. `detail` is one line for the command line; `line` the CSV line
    where reading stopped, if known."""

    def __init__(self, code: str, detail: str = "", *, line: int | None = None) -> None:
        detail = " ".join(detail.split())[:300]  # one line, whatever the parser said
        super().__init__(detail or code)
        self.code = code
        self.line = line


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based line (row) in the file, the header being line 1
    column: str
    reason: str  # bad_phone, bad_date, duplicate, exists, bad_number, missing_phone, bad_name
    value: str


@dataclass(frozen=True)
class ImportRow:
    line: int
    phone: str
    name: str | None
    birthday: date | None
    balance: int
    total_spent_kopecks: int
    purchases: int
    source: str | None

    @property
    def key(self) -> str:
        return f"imp:{self.phone}"


@dataclass
class ImportPlan:
    rows: list[ImportRow] = field(default_factory=list)  # to be created
    already_imported: int = 0  # rows a previous import of this base already created
    errors: list[RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    unknown_sources: list[str] = field(default_factory=list)  # new source tags the import creates
    bad_sources: list[str] = field(default_factory=list)  # cannot be tags: the rows import without them
    total_lines: int = 0  # data rows read (empty lines skipped)

    @property
    def points(self) -> int:
        return sum(r.balance for r in self.rows)


@dataclass(frozen=True)
class ImportResult:
    created: int
    points: int
    already_imported: int
    errors: int


# --- Reading the file -----------------------------------------------------------------------------

def read_table(data: bytes, filename: str = "") -> list[list[str]]:
    """Rows of cells as text (header first) from CSV or XLSX bytes."""
    if len(data) > MAX_BYTES:
        raise ImportFileError("too_large")
    if not data.strip():
        raise ImportFileError("empty")
    is_zip = data[:4] in (b"PK\x03\x04", b"PK\x05\x06")  # a zip with entries, or an empty one
    if filename.lower().endswith((".xlsx", ".xlsm")) and not is_zip:
        raise ImportFileError("not_xlsx", f"{filename} is not an XLSX workbook")
    if is_zip:
        return _read_xlsx(data)
    return _read_csv(data)


def _read_xlsx(data: bytes) -> list[list[str]]:
    # openpyxl parses with defusedxml when it is installed (a dependency): a workbook that declares
    # XML entities (the "billion laughs" bomb) is refused instead of being expanded.
    from openpyxl import load_workbook  # imported here: only imports need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFileError("bad_xlsx", str(exc)) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError("too_large", f"unpacks to {unpacked} bytes")
    # openpyxl reports a damaged workbook as whatever its parsers raise (ParseError, KeyError,
    # ValueError, IndexError, TypeError...): any of them, here or while reading the rows, is
    # the file's fault, and the owner gets one line saying so rather than a traceback.
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise _workbook_error(exc) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError("no_sheets", "the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        rows: list[list[str]] = []
        try:
            for values in sheet.iter_rows(values_only=True):
                if len(rows) > MAX_ROWS + 1:
                    raise ImportFileError("too_many_rows")
                rows.append([_cell_text(v) for v in values])
        except ImportFileError:
            raise
        except Exception as exc:
            raise _workbook_error(exc) from exc
        return rows
    finally:
        workbook.close()


def _workbook_error(exc: BaseException) -> ImportFileError:
    """What a parser's exception says about the workbook: unsafe (entities), or damaged."""
    from defusedxml import DefusedXmlException

    cause: BaseException | None = exc
    while cause is not None:
        # defusedxml refuses entity declarations; without it expat stops an amplification bomb.
        if isinstance(cause, DefusedXmlException) or "amplification" in str(cause):
            log.debug("import: a workbook with XML entity declarations refused: %s", cause)
            return ImportFileError("unsafe_xlsx", "the workbook declares XML entities (an entity bomb?)")
        cause = cause.__cause__ or cause.__context__
    log.debug("import: a damaged workbook: %s: %s", type(exc).__name__, exc)
    return ImportFileError("bad_xlsx", f"{type(exc).__name__}: {exc}")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or a count typed into a number cell
    return str(value).strip()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1251 (what Russian Excel saves)."""
    if b"\x00" in data:  # UTF-16 or a binary file; PostgreSQL text cannot hold NUL either
        raise ImportFileError("not_text")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")  # every byte is defined in cp1251 except 0x98


def _read_csv(data: bytes) -> list[list[str]]:
    try:
        text = decode_text(data)
    except UnicodeDecodeError as exc:
        raise ImportFileError("not_text") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append([cell.strip() for cell in row])
            if len(rows) > MAX_ROWS + 1:
                raise ImportFileError("too_many_rows")
    except csv.Error as exc:
        # A cell over csv's field limit (128 KB) is nearly always a quote opened and never closed.
        code = "cell_too_long" if "field limit" in str(exc) else "bad_csv"
        raise ImportFileError(code, f"line {reader.line_num}: {exc}", line=reader.line_num) from exc
    return rows


# --- Parsing the cells ------------------------------------------------------------------------

def _number_text(raw: str) -> str:
    return raw.replace("\u00a0", "").replace(" ", "").replace(",", ".")


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # [0-9]: Decimal() also reads "١٠٠٠", "1_000", "1e3", "NaN"


def _decimal(raw: str) -> Decimal:
    """A plain decimal number written with the digits 0-9."""
    text = _number_text(raw)
    if not _NUMBER.fullmatch(text):
        raise ValueError(raw)
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # not reached for text the pattern admits
        raise ValueError(raw) from exc


def parse_roubles(raw: str) -> int:
    """Roubles with at most two decimals → kopecks; empty is 0."""
    if not raw.strip():
        return 0
    value = _decimal(raw)
    if value < 0 or value * 100 > MAX_SPENT_KOPECKS:
        raise ValueError(raw)
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(raw)
    return int(value * 100)


def parse_whole(raw: str, maximum: int) -> int:
    if not raw.strip():
        return 0
    value = _decimal(raw)
    if value < 0 or value > maximum or value != int(value):
        raise ValueError(raw)
    return int(value)


_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+")  # a date cell exported with its time


def parse_import_birthday(raw: str, today: date) -> date | None:
    text = raw.strip()
    if not text:
        return None
    if _ISO_DATETIME.fullmatch(text):
        text = text[:10]
    return validate_birthday(parse_date(text), today)


def header_key(cell: str) -> str:
    """The column a header cell names: a column id ("phone"), or the export's header in Russian
    or English ("Телефон", "Сумма покупок, ₽") — case, spaces and a ", ₽" unit aside; any
    other header comes back normalised (and is reported as an unknown column)."""
    text = " ".join(cell.replace("\u00a0", " ").lstrip("\ufeff").split()).lower()
    text = re.sub(r"\s*,\s*(₽|руб\.?|rub)$", "", text)
    return _HEADING_COLUMN.get(text, text)


def parse_rows(table: list[list[str]], today: date) -> ImportPlan:
    """Validate every row; the plan has the rows that are well-formed and unique in the file."""
    while table and not any(cell.strip() for cell in table[0]):
        table = table[1:]
    if not table:
        raise ImportFileError("empty")
    header = [header_key(cell) for cell in table[0]]
    if "phone" not in header:
        raise ImportFileError("no_phone_column")
    index = {name: header.index(name) for name in COLUMNS if name in header}
    plan = ImportPlan(unknown_columns=[cell.strip().lstrip("\ufeff") for cell, key in zip(table[0], header, strict=True)
                                       if key and key not in COLUMNS])
    seen: dict[str, int] = {}
    for line, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        plan.total_lines += 1

        def cell(name: str, cells: list[str] = cells) -> str:
            position = index.get(name)
            return cells[position].strip() if position is not None and position < len(cells) else ""

        row = _parse_row(plan, line, cell, today)
        if row is None:
            continue
        if row.phone in seen:
            plan.errors.append(RowError(line, "phone", "duplicate", f"{row.phone} (line {seen[row.phone]})"))
            continue
        seen[row.phone] = line
        plan.rows.append(row)
    return plan


def _parse_row(plan: ImportPlan, line: int, cell: Any, today: date) -> ImportRow | None:
    errors: list[RowError] = []
    phone = ""
    raw_phone = cell("phone")
    if not raw_phone:
        errors.append(RowError(line, "phone", "missing_phone", ""))
    else:
        try:
            phone = normalize_phone(raw_phone)
        except InvalidPhone:
            errors.append(RowError(line, "phone", "bad_phone", raw_phone))
    birthday = None
    try:
        birthday = parse_import_birthday(cell("birthday"), today)
    except InvalidDate:
        errors.append(RowError(line, "birthday", "bad_date", cell("birthday")))
    numbers: dict[str, int] = {}
    for column, parse in (("balance", lambda v: parse_whole(v, MAX_POINTS)), ("total_spent", parse_roubles),
                          ("purchases", lambda v: parse_whole(v, 1_000_000))):
        try:
            numbers[column] = parse(cell(column))
        except ValueError:
            errors.append(RowError(line, column, "bad_number", cell(column)))
    name = cell("name")
    if len(name) > 100:
        errors.append(RowError(line, "name", "bad_name", name[:40] + "…"))
    if errors:
        plan.errors.extend(errors)
        return None
    return ImportRow(line=line, phone=phone, name=name or None, birthday=birthday,
                     balance=numbers["balance"], total_spent_kopecks=numbers["total_spent"],
                     purchases=numbers["purchases"], source=cell("source") or None)


# --- Against the database ---------------------------------------------------------------------

async def _existing(session: AsyncSession, phones: list[str]) -> dict[str, str | None]:
    """phone → imported_key of the customers that already exist (chunked IN lists)."""
    found: dict[str, str | None] = {}
    for start in range(0, len(phones), 500):
        chunk = phones[start:start + 500]
        rows = await session.execute(select(Customer.phone, Customer.imported_key).where(Customer.phone.in_(chunk)))
        found.update({str(phone): key for phone, key in rows.all()})
    # Imported customers who later erased their data keep only a fingerprint of the phone.
    erased = {erased_import_key(phone): phone for phone in phones if phone not in found}
    keys = list(erased)
    for start in range(0, len(keys), 500):
        rows = await session.execute(select(Customer.imported_key).where(
            Customer.imported_key.in_(keys[start:start + 500])))
        found.update({erased[str(key)]: f"imp:{erased[str(key)]}" for key in rows.scalars()})
    return found


async def _campaigns_by_code(session: AsyncSession, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = await session.execute(select(Campaign.code, Campaign.id).where(
        func.lower(Campaign.code).in_([c.lower() for c in codes])))
    return {str(code).lower(): int(cid) for code, cid in rows.all()}


async def _resolve(session: AsyncSession, plan: ImportPlan) -> dict[str, int]:
    """Drop rows whose phone is already a customer; returns source code → campaign id."""
    existing = await _existing(session, [r.phone for r in plan.rows])
    fresh: list[ImportRow] = []
    for row in plan.rows:
        if row.phone not in existing:
            fresh.append(row)
        elif existing[row.phone] == row.key:
            plan.already_imported += 1
        else:
            plan.errors.append(RowError(row.line, "phone", "exists", row.phone))
    plan.rows = fresh
    plan.errors.sort(key=lambda e: e.line)
    sources = {r.source for r in plan.rows if r.source}
    campaigns = await _campaigns_by_code(session, sources)
    unknown = {s.lower(): s for s in sorted(sources) if s.lower() not in campaigns}
    plan.unknown_sources = sorted(tag for tag in unknown.values() if SOURCE_TAG_RE.match(tag))
    plan.bad_sources = sorted(tag for tag in unknown.values() if not SOURCE_TAG_RE.match(tag))
    return campaigns


async def _create_sources(session: AsyncSession, plan: ImportPlan, now: datetime, actor_telegram_id: int | None,
                          actor_role: str) -> dict[str, int]:
    """The base's unknown source codes become source tags (s_<tag> links), audited."""
    created: dict[str, int] = {}
    for tag in plan.unknown_sources:
        source = Campaign(code=tag, name=tag[:80], is_source=True, points=0, created_at=now)
        session.add(source)
        await session.flush()
        audit.record(session, now, "owner.source_create", actor_telegram_id=actor_telegram_id,
                     actor_role=actor_role, target=f"campaign:{source.id}", details={"code": tag, "by": "import"})
        created[tag.lower()] = source.id
    return created


async def plan_import(dom: Domain, data: bytes, filename: str = "") -> ImportPlan:
    """The dry run: nothing is written."""
    today = dom.clock.now().astimezone(dom.tz).date()
    plan = parse_rows(read_table(data, filename), today)
    async with dom.db.reading() as session:
        await _resolve(session, plan)
    return plan


def _initial_tier(program: Program, row: ImportRow) -> int:
    value = row.total_spent_kopecks if program.tiers.basis is ThresholdBasis.MONEY else row.purchases
    return tier_for_value(program, value)


async def apply_import(
    dom: Domain, data: bytes, filename: str = "", *, actor_telegram_id: int | None = None,
    actor_role: str = "owner", channel: str = "bot",
) -> ImportResult:
    """Write the plan in one transaction (re-planned inside it, so a re-run changes nothing)."""
    now = dom.clock.now()
    today = now.astimezone(dom.tz).date()
    plan = parse_rows(read_table(data, filename), today)
    async with dom.db.transaction() as session:
        version, program = await current_program(session)
        campaigns = await _resolve(session, plan)
        campaigns.update(await _create_sources(session, plan, now, actor_telegram_id, actor_role))
        customers = [Customer(
            phone=row.phone, name=row.name, birthday=row.birthday,
            birth_month=row.birthday.month if row.birthday else None,
            birth_day=row.birthday.day if row.birthday else None,
            referral_code=new_referral_code(), source_kind=SourceKind.IMPORT,
            campaign_id=campaigns.get((row.source or "").lower()), created_at=now,
            tier_index=_initial_tier(program, row), imported_key=row.key,
            base_paid_kopecks=row.total_spent_kopecks, paid_total_kopecks=row.total_spent_kopecks,
            base_purchase_count=row.purchases, purchase_count=row.purchases,
        ) for row in plan.rows]
        session.add_all(customers)
        await session.flush()
        with_balance = [(customer, row) for customer, row in zip(customers, plan.rows, strict=True) if row.balance]
        operations = [Operation(
            kind=OperationKind.IMPORT, customer_id=customer.id, program_version=version, created_at=now,
            points_delta=row.balance, comment="import", channel="import",
        ) for customer, row in with_balance]
        session.add_all(operations)
        await session.flush()
        for (customer, row), operation in zip(with_balance, operations, strict=True):
            await ledger.grant(session, customer_id=customer.id, kind=LotKind.IMPORT, amount=row.balance,
                               operation=operation, now=now, validity_days=program.points.validity_days)
        audit.record(session, now, "owner.import", actor_telegram_id=actor_telegram_id, actor_role=actor_role,
                     target=filename[:80] or None,
                     details={"created": len(customers), "points": plan.points, "channel": channel,
                              "already_imported": plan.already_imported, "errors": len(plan.errors)})
    return ImportResult(created=len(customers), points=plan.points, already_imported=plan.already_imported,
                        errors=len(plan.errors))


__all__ = [
    "COLUMNS", "HEADINGS", "ImportFileError", "ImportPlan", "ImportResult", "ImportRow", "RowError", "apply_import",
    "decode_text", "header_key", "parse_rows", "plan_import", "read_table",
]
