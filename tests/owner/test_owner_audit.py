"""Regressions found auditing the owner's tools: import, export, erasure after an import."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.i18n import default_i18n
from models.customers.accounts import erase_customer
from models.kernel.context import Domain
from models.kernel.tables import Customer
from models.owner import imports
from models.owner.exports import ExportFormat, ExportWhat, export
from models.owner.imports import ImportFileError, apply_import, plan_import
from tests.helpers import assert_invariants, register

INJECTED = ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]


async def test_import_odd_numbers_are_row_errors_not_crashes(dom: Domain) -> None:
    text = ("phone,balance,total_spent,purchases\n"
            "89160000031,nan,,\n"
            "89160000032,,inf,\n"
            "89160000033,,1e30,\n"
            "89160000034,,,Infinity\n"
            "89160000035,sNaN,,\n"
            "89160000036,10,12.50,2\n")
    plan = await plan_import(dom, text.encode(), "base.csv")
    assert [r.phone for r in plan.rows] == ["+79160000036"]
    assert [(e.line, e.column, e.reason) for e in plan.errors] == [
        (2, "balance", "bad_number"), (3, "total_spent", "bad_number"), (4, "total_spent", "bad_number"),
        (5, "purchases", "bad_number"), (6, "balance", "bad_number")]


async def test_reimport_after_an_imported_customer_erased_their_data(dom: Domain) -> None:
    data = b"phone,name,balance\n89160000041,Olga,100\n89160000042,Ivan,50\n"
    assert (await apply_import(dom, data, "base.csv")).created == 2
    olga = await register(dom, phone="+79160000041")  # she joins her imported record
    await erase_customer(dom, olga)
    async with dom.db.reading() as session:
        erased = await session.get(Customer, olga)
        assert erased is not None and erased.phone is None
        # Nothing left on the row names her phone.
        assert "79160000041" not in (erased.imported_key or "")
    plan = await plan_import(dom, data, "base.csv")
    assert plan.rows == [] and plan.already_imported == 2
    again = await apply_import(dom, data, "base.csv")  # the same old file again: nothing changes
    assert (again.created, again.already_imported) == (0, 2)
    async with dom.db.reading() as session:
        assert len(list((await session.execute(select(Customer.id))).scalars())) == 2
    await assert_invariants(dom)


async def test_export_neutralises_formulas(dom: Domain) -> None:
    for i, name in enumerate(INJECTED):
        await register(dom, name=name, phone=f"+7916000005{i}")
    ru = default_i18n().translator("ru")
    data, _ = await export(dom, ExportWhat.CUSTOMERS, ExportFormat.CSV, ru)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert [r["Имя"] for r in rows] == ["'" + name for name in INJECTED]
    assert [r["Телефон"] for r in rows] == [f"+7916000005{i}" for i in range(len(INJECTED))]  # phones stay
    data, _ = await export(dom, ExportWhat.CUSTOMERS, ExportFormat.XLSX, ru)
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert [cell.value for cell in cells] == INJECTED  # text kept as typed, never a formula
    # The export still imports elsewhere (every row exists here, so each is an "exists" row).
    plan = await plan_import(dom, data, "c.xlsx")
    assert [e.reason for e in plan.errors] == ["exists"] * len(INJECTED)


async def test_xlsx_zip_bomb_is_refused(dom: Domain, monkeypatch: pytest.MonkeyPatch) -> None:
    # A real workbook whose sheet unpacks to far more than the limit (shrunk here so the
    # test stays fast: the default is in the hundreds of megabytes).
    monkeypatch.setattr(imports, "MAX_UNPACKED_BYTES", 4 * 1024 * 1024)
    book = Workbook()
    book.active.append(["phone"])
    plain = io.BytesIO()
    book.save(plain)
    bomb = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, \
            zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(b"<sheetData>", b"<sheetData>" + b" " * (16 * 1024 * 1024))
            archive.writestr(info.filename, content)
    assert len(bomb.getvalue()) < 100 * 1024
    with pytest.raises(ImportFileError) as refused:
        await plan_import(dom, bomb.getvalue(), "base.xlsx")
    assert refused.value.code == "too_large"


async def test_broadcast_caption_limit_counts_utf16_units_after_parsing(dom: Domain) -> None:
    from models.owner import broadcasts as bc

    async with dom.db.transaction() as session:
        common = {"now": dom.clock.now(), "owner_id": 1, "owner_chat_id": 1, "buttons": [],
                  "segment": bc.Segment.parse("all")}
        # 600 emoji are 1,200 UTF-16 units: Telegram would refuse this caption to every recipient.
        with pytest.raises(ValueError):
            await bc.create_draft(session, text="🎉" * 600, photo="file-id", **common)
        # Markup is not counted: 1,000 visible characters in bold fit a caption.
        await bc.create_draft(session, text="<b>" + "a&amp;b " * 125 + "</b>", photo="file-id", **common)


async def test_a_program_without_the_top_tiers_moves_their_customers_to_the_new_top(dom: Domain) -> None:
    from models.owner import broadcasts as bc
    from models.owner import tools as owner
    from models.program.rules import program_from_document
    from models.program.store import current_program
    from tests.helpers import set_tier

    earned, pinned = await register(dom), await register(dom)
    await set_tier(dom, earned, 4)
    await owner.pin_tier(dom, owner.OwnerActor(telegram_id=777), pinned, 3)
    async with dom.db.reading() as session:
        version, program = await current_program(session)
    document = program.to_document()
    document["tiers"]["levels"] = document["tiers"]["levels"][:3]
    await owner.apply_program(dom, owner.OwnerActor(telegram_id=777), program_from_document(document), "3 tiers",
                              expected_version=version)
    async with dom.db.reading() as session:
        rows = {c.id: (c.tier_index, c.tier_pinned) for c in (await session.execute(select(Customer))).scalars()}
        top = await bc.count_recipients(session, bc.Segment.parse("tier:2"), dom.clock.now())
    assert rows == {earned: (2, None), pinned: (2, 2)}
    assert top == 2  # a broadcast to the top tier reaches them
