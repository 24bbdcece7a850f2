"""Files an owner might send to /import (or `loyalty-bot import`) that cannot be read as a base:
each is built here from a real workbook openpyxl wrote, damaged the way files get damaged or
forged (issue 14, section 4)."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"


def workbook(*rows: list[object]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = workbook(["phone", "name", "balance"], ["+79160000701", "Ольга", 50])


def rewrite(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """The same archive with each member passed through `change` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = change(info.filename, source.read(info.filename))
            if content is not None:
                target.writestr(info.filename, content)
    return out.getvalue()


def truncated_sheet() -> bytes:
    """The sheet's XML cut in the middle (a download that stopped, a disk that filled up)."""
    return rewrite(GOOD, lambda name, content: content[: len(content) // 2] if name == SHEET else content)


_LAUGHS = "".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
BOMB_SHEET = (
    '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY lol0 "lol">' + _LAUGHS + ']>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
    '</sheetData></worksheet>').encode()
XXE_SHEET = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c><c r="B1" t="inlineStr"><is><t>&secret;</t>'
    b'</is></c></row></sheetData></worksheet>')


def entity_bomb() -> bytes:
    """"Billion laughs": ten levels of entities, 10^9 copies of "lol" if a parser expanded them."""
    return rewrite(GOOD, lambda name, content: BOMB_SHEET if name == SHEET else content)


def external_entity() -> bytes:
    """XXE: an entity that would read a file of the server into a cell."""
    return rewrite(GOOD, lambda name, content: XXE_SHEET if name == SHEET else content)


def without_sheets() -> bytes:
    """A workbook whose list of sheets is empty (the sheet, its relation and content type removed)."""
    def change(name: str, content: bytes) -> bytes | None:
        if name == SHEET:
            return None
        if name == "xl/workbook.xml":
            return re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", content, flags=re.S)
        if name == "xl/_rels/workbook.xml.rels":
            return re.sub(rb"<Relationship [^>]*worksheet[^>]*/>", b"", content)
        if name == "[Content_Types].xml":
            return re.sub(rb'<Override PartName="/xl/worksheets/sheet1.xml"[^>]*/>', b"", content)
        return content
    return rewrite(GOOD, change)


def empty_workbook() -> bytes:
    """A new workbook saved as it is: one sheet, no cells."""
    return workbook()


def empty_archive() -> bytes:
    """A zip without a single member, named .xlsx."""
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    return buffer.getvalue()


def huge_csv_cell() -> bytes:
    """A 200 KB cell on line 3 (in practice: a quote opened in a name and never closed)."""
    return b'phone,name\n+79160000702,Ok\n+79160000703,"' + b"x" * 200_000 + b'"\n+79160000704,Later\n'


# (file name, content, ImportFileError code, the start of the owner's one-line answer in Russian)
BAD_FILES: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("truncated.xlsx", truncated_sheet, "bad_xlsx", "Не удалось открыть книгу Excel"),
    ("bomb.xlsx", entity_bomb, "unsafe_xlsx", "Эта книга Excel содержит объявления XML-сущностей"),
    ("xxe.xlsx", external_entity, "unsafe_xlsx", "Эта книга Excel содержит объявления XML-сущностей"),
    ("nosheets.xlsx", without_sheets, "no_sheets", "В книге Excel нет ни одного листа"),
    ("empty.xlsx", empty_workbook, "empty", "Файл пустой"),
    ("nothing.xlsx", empty_archive, "bad_xlsx", "Не удалось открыть книгу Excel"),
    ("zero.xlsx", lambda: b"", "empty", "Файл пустой"),
    ("long.csv", huge_csv_cell, "cell_too_long", "Строка 3: ячейка длиннее 128 КБ"),
]
