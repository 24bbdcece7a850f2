"""The customer and operation exports as the owner opens them (issue 16): numbers as number
cells and dates as date cells with their formats, Russian headers and values by default and
English for an English-speaking owner, CSV with `;` and a decimal comma for Russian Excel;
and an export imports back into another database, in either language and either format."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from bot.i18n import I18n, default_i18n
from models.customers.accounts import create_phone_customer
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.owner import tools as owner
from models.owner.exports import CUSTOMER_COLUMNS, ExportFormat, ExportWhat, export
from models.owner.imports import COLUMNS, HEADINGS, header_key, plan_import
from models.program.rules import Program
from models.program.store import ensure_program
from models.purchase.purchases import PurchaseRequest, commit_purchase, refund_purchase
from tests.bot.conftest import BotEnv
from tests.conftest import drop_schema, make_database
from tests.helpers import referral_code_of, register

RU_IMPORT_HEADERS = ["Телефон", "Имя", "День рождения", "Баллы", "Сумма покупок, ₽", "Покупок", "Источник"]
EN_IMPORT_HEADERS = ["Phone", "Name", "Birthday", "Points", "Total spent, ₽", "Purchases", "Source"]
ACTOR = owner.OwnerActor(telegram_id=777)


@pytest.fixture
def i18n() -> I18n:
    return default_i18n()


async def _base(dom: Domain) -> dict[str, int]:
    """Anna (birthday, a 1 234,50 ₽ purchase, pinned tier 2, blocked), her friend Boris, and a
    customer a cashier added by phone (no Telegram). The clock: 2 March 2026, 09:00 UTC."""
    anna = await register(dom, name="Анна", phone="+79160000501", birthday=date(1985, 3, 15))
    boris = await register(dom, name="Борис", phone="+79160000502", referral_code=await referral_code_of(dom, anna))
    phone_only = await create_phone_customer(dom, "+79160000503", staff_id=None, name="Вера")
    purchase = await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=123_450, points=0,
                                                          found_by="phone"))
    await refund_purchase(dom, purchase.operation_id, 23_450)
    await owner.pin_tier(dom, ACTOR, anna, 1)
    await owner.set_blocked(dom, ACTOR, anna, True)
    return {"anna": anna, "boris": boris, "phone_only": phone_only}


def _sheet(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


async def test_customers_xlsx_in_russian_has_number_and_date_cells(dom: Domain, i18n: I18n) -> None:
    ids = await _base(dom)
    data, name = await export(dom, ExportWhat.CUSTOMERS, ExportFormat.XLSX, i18n.translator("ru"))
    assert name.endswith(".xlsx")
    rows = _sheet(data)
    header = [c.value for c in rows[0]]
    assert header[:7] == RU_IMPORT_HEADERS
    assert header[7:] == ["Клиент №", "Баллы сертификатов", "Статус", "Закреплённый статус", "Откуда пришёл",
                          "Зарегистрировался в боте", "Карта в Telegram", "Заблокирован", "В базе с",
                          "Последняя покупка", "Пригласил (клиент №)"]
    anna = {h: c for h, c in zip(header, rows[1], strict=True)}
    phone = anna["Телефон"]
    assert (phone.value, phone.data_type) == ("+79160000501", "s")  # a phone is text, not a number
    birthday = anna["День рождения"]
    assert birthday.is_date and birthday.value == datetime(1985, 3, 15) and birthday.number_format == "DD.MM.YYYY"
    points = anna["Баллы"]
    assert (points.value, points.data_type, points.number_format) == (300 + 30, "n", "#,##0")  # welcome + 3% of 1 000
    spent = anna["Сумма покупок, ₽"]
    assert (spent.value, spent.data_type, spent.number_format) == (1000, "n", "#,##0.00")  # 1 234,50 − 234,50
    assert (anna["Покупок"].value, anna["Клиент №"].value, anna["Клиент №"].number_format) == (1, ids["anna"], "0")
    assert (anna["Статус"].value, anna["Закреплённый статус"].value) == ("Статус 2", "Статус 2")
    assert (anna["Откуда пришёл"].value, anna["Карта в Telegram"].value, anna["Заблокирован"].value) == (
        "С улицы", "да", "да")
    joined = anna["В базе с"]  # 09:00 UTC is 12:00 in Moscow
    assert joined.is_date and joined.value == datetime(2026, 3, 2, 12, 0) and joined.number_format == "DD.MM.YYYY HH:MM"
    boris = {h: c.value for h, c in zip(header, rows[2], strict=True)}
    assert (boris["Откуда пришёл"], boris["Пригласил (клиент №)"], boris["Заблокирован"]) == (
        "По рекомендации", ids["anna"], "нет")
    assert boris["Закреплённый статус"] is None and boris["Статус"] == "Статус 1"
    vera = {h: c.value for h, c in zip(header, rows[3], strict=True)}
    assert (vera["Карта в Telegram"], vera["День рождения"], vera["Зарегистрировался в боте"]) == ("нет", None, None)


async def test_customers_xlsx_in_english(dom: Domain, i18n: I18n) -> None:
    await _base(dom)
    data, _ = await export(dom, ExportWhat.CUSTOMERS, ExportFormat.XLSX, i18n.translator("en"))
    rows = _sheet(data)
    header = [c.value for c in rows[0]]
    assert header[:7] == EN_IMPORT_HEADERS and "Card in Telegram" in header and "Came from" in header
    anna = {h: c for h, c in zip(header, rows[1], strict=True)}
    assert anna["Birthday"].is_date and anna["Birthday"].number_format == "D MMM YYYY"
    assert (anna["Blocked"].value, anna["Card in Telegram"].value, anna["Came from"].value) == ("yes", "yes", "Walk-in")
    assert (anna["Total spent, ₽"].value, anna["Total spent, ₽"].number_format) == (1000, "#,##0.00")


async def test_customers_csv_russian_uses_semicolons_and_a_decimal_comma(dom: Domain, i18n: I18n) -> None:
    clock = dom.clock
    assert isinstance(clock, ManualClock)
    anna = await register(dom, name="Анна", phone="+79160000511", birthday=date(1985, 3, 15))
    await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=123_450, points=0, found_by="phone"))
    data, name = await export(dom, ExportWhat.CUSTOMERS, ExportFormat.CSV, i18n.translator("ru"))
    assert name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")  # Excel reads the BOM as UTF-8
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("Телефон;Имя;День рождения;Баллы;Сумма покупок, ₽;Покупок;Источник;")
    [row] = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert (row["Телефон"], row["Имя"], row["День рождения"]) == ("+79160000511", "Анна", "15.03.1985")
    assert (row["Сумма покупок, ₽"], row["Баллы"], row["Покупок"]) == ("1234,50", "337", "1")  # 300 + 3% of 1 234,50
    assert (row["Карта в Telegram"], row["Заблокирован"], row["Статус"]) == ("да", "нет", "Статус 1")
    assert row["В базе с"] == "02.03.2026 12:00:00" and row["Откуда пришёл"] == "С улицы"

    data, _ = await export(dom, ExportWhat.CUSTOMERS, ExportFormat.CSV, i18n.translator("en"))
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith('Phone,Name,Birthday,Points,"Total spent, ₽",Purchases,Source,')
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert (row["Birthday"], row["Total spent, ₽"], row["Card in Telegram"]) == ("1985-03-15", "1234.50", "yes")
    assert row["In the base since"] == "2026-03-02 12:00:00"


async def test_operations_in_both_languages(dom: Domain, i18n: I18n) -> None:
    anna = await register(dom, name="Анна", phone="+79160000521")
    purchase = await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=100_050, points=0,
                                                           found_by="phone"))
    await refund_purchase(dom, purchase.operation_id)
    await owner.adjust(dom, ACTOR, anna, -50, "=ошибка кассы")  # typed by a person: a formula to a spreadsheet
    data, _ = await export(dom, ExportWhat.OPERATIONS, ExportFormat.XLSX, i18n.translator("ru"))
    rows = _sheet(data)
    header = [c.value for c in rows[0]]
    assert header[:3] == ["Операция №", "Дата и время", "Операция"]
    by_kind = {row[2].value: {h: c for h, c in zip(header, row, strict=True)} for row in rows[1:]}
    assert set(by_kind) == {"Начисление баллов", "Покупка", "Возврат покупки", "Ручное изменение баллов"}
    bought = by_kind["Покупка"]
    assert (bought["Сумма чека, ₽"].value, bought["Сумма чека, ₽"].number_format) == (1000.5, "#,##0.00")
    assert (bought["Начислено баллов"].value, bought["Начислено баллов"].number_format) == (30, "#,##0")
    assert bought["Дата и время"].is_date and bought["Откуда"].value == "бот"
    manual = by_kind["Ручное изменение баллов"]
    assert (manual["Изменение баллов"].value, manual["Изменение баллов"].data_type) == (-50, "n")  # sign and all
    assert (manual["Комментарий"].value, manual["Комментарий"].data_type) == ("=ошибка кассы", "s")
    assert bought["Возвращено, ₽"].value == 1000.5  # the purchase records how much of it was refunded
    data, _ = await export(dom, ExportWhat.OPERATIONS, ExportFormat.CSV, i18n.translator("ru"))
    ops = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    bought_row = next(r for r in ops if r["Операция"] == "Покупка")
    assert (bought_row["Сумма чека, ₽"], bought_row["Возвращено, ₽"]) == ("1000,50", "1000,50")
    manual_row = next(r for r in ops if r["Операция"] == "Ручное изменение баллов")
    # A number keeps its minus; text a person typed never starts a formula.
    assert (manual_row["Изменение баллов"], manual_row["Комментарий"]) == ("-50", "'=ошибка кассы")
    data, _ = await export(dom, ExportWhat.OPERATIONS, ExportFormat.CSV, i18n.translator("en"))
    ops = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(r["Operation"] for r in ops) == ["Manual points change", "Points granted", "Purchase",
                                                   "Refund of a purchase"]
    assert next(r for r in ops if r["Operation"] == "Purchase")["Check amount, ₽"] == "1000.50"


def test_the_import_reads_the_export_headers_of_every_language(i18n: I18n) -> None:
    """models/owner/imports.py's table of headers is the export's, word for word (the locale files)."""
    assert [c.key for c in CUSTOMER_COLUMNS[:len(COLUMNS)]] == list(COLUMNS)
    for column in COLUMNS:
        for locale in ("ru", "en"):
            header = i18n.get(locale, f"export-column-{column}")
            assert header_key(header) == column, (locale, header)
            assert header_key(f" {header.upper()} ") == column
        assert header_key(column) == column
    assert set(HEADINGS) == set(COLUMNS)
    assert header_key("Баллы сертификатов") not in COLUMNS


@pytest.mark.parametrize(("fmt", "locale"), [(f, loc) for f in ExportFormat for loc in ("ru", "en")])
async def test_an_export_imports_into_another_database(dom: Domain, i18n: I18n, case_a: Program, backend: str,
                                                       tmp_path: Path, fmt: ExportFormat, locale: str) -> None:
    await _base(dom)
    data, name = await export(dom, ExportWhat.CUSTOMERS, fmt, i18n.translator(locale))
    (tmp_path / "other").mkdir()
    other_db, schema = await make_database(backend, tmp_path / "other")
    try:
        await other_db.create_all()
        other = Domain(db=other_db, clock=ManualClock(dom.clock.now()), tz=ZoneInfo("Europe/Moscow"))
        await ensure_program(other, case_a)
        plan = await plan_import(other, data, name)
    finally:
        await other_db.dispose()
        if schema:
            await drop_schema(schema)
    assert plan.errors == [] and plan.already_imported == 0 and plan.total_lines == 3
    assert [(r.phone, r.name, r.birthday, r.balance, r.total_spent_kopecks, r.purchases, r.source)
            for r in plan.rows] == [
        ("+79160000501", "Анна", date(1985, 3, 15), 330, 100_000, 1, None),
        ("+79160000502", "Борис", None, 300, 0, 0, None),
        ("+79160000503", "Вера", None, 0, 0, 0, None),
    ]
    t = i18n.translator(locale)
    assert plan.unknown_columns == [t(f"export-column-{c.key}") for c in CUSTOMER_COLUMNS[len(COLUMNS):]]


async def test_an_english_speaking_owner_gets_an_english_csv_from_the_bot(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна", phone="+79160000531")
    await botenv.register(anna)
    owner_user = botenv.owner
    await botenv.choose_language(owner_user, "en")
    await owner_user.send("/export")
    await botenv.press(owner_user, "Customers, CSV")
    sent = await owner_user.expect()
    while sent.document is None:
        sent = await owner_user.expect()
    assert sent.document_name is not None and sent.document_name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(sent.document.decode("utf-8-sig"))))  # "," for English
    assert [(r["Phone"], r["Name"], r["Points"], r["Card in Telegram"]) for r in rows] == [
        ("+79160000531", "Анна", "300", "yes")]
    await botenv.press(owner_user, "Customers, XLSX")
    sent = await owner_user.expect()
    while sent.document is None:
        sent = await owner_user.expect()
    assert sent.document is not None
    header = [c.value for c in load_workbook(io.BytesIO(sent.document)).active[1]]
    assert header[:7] == EN_IMPORT_HEADERS
