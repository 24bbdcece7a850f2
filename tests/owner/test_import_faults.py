"""Bases that cannot be read get one clear line, in the bot and on the command line (issue 14,
section 4): a truncated sheet XML, an XML entity bomb (and an external entity), a workbook without
sheets, an empty workbook, an empty archive, a zero-byte file and a 200 KB CSV cell. Before, most
of them were a traceback (ParseError, IndexError, csv.Error) in the log, "something went wrong" in
the bot and a traceback on the console; nothing is written either way."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from models.kernel.context import Domain
from models.kernel.tables import Customer
from models.owner.imports import ImportFileError, plan_import
from tests.owner.bad_files import BAD_FILES

from .conftest import BotEnv

ROOT = Path(__file__).resolve().parents[2]
IDS = [name for name, *_ in BAD_FILES]


async def customers(dom: Domain) -> int:
    async with dom.db.reading() as session:
        return int((await session.execute(select(func.count()).select_from(Customer))).scalar() or 0)


@pytest.mark.parametrize(("name", "make", "code", "_answer"), BAD_FILES, ids=IDS)
async def test_each_unreadable_file_is_one_import_error(dom: Domain, name: str, make, code: str,  # type: ignore[no-untyped-def]
                                                        _answer: str) -> None:
    with pytest.raises(ImportFileError) as refused:
        await plan_import(dom, make(), name)
    assert refused.value.code == code
    assert "\n" not in refused.value.detail and len(refused.value.detail) <= 300
    assert await customers(dom) == 0


async def test_the_owner_gets_one_clear_line_for_each_unreadable_file(botenv: BotEnv) -> None:
    owner = botenv.owner
    await owner.send("/import")
    await owner.expect_text("phone,name")
    for name, make, _code, answer in BAD_FILES:
        await owner.send_document(make(), name)
        reply = await owner.expect()
        assert reply.text is not None and reply.text.startswith(answer), (name, reply.text)
        assert "\n" not in reply.text and "Что-то пошло не так" not in reply.text, (name, reply.text)
        await botenv.settle()
    assert await customers(botenv.dom) == 0
    assert not botenv.errors  # no traceback was logged (the harness also fails the test on one)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_command_line_prints_one_line_and_exits_2(dom: Domain, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", dom.db.url)
    monkeypatch.setenv("PROGRAM_FILE", str(ROOT / "programs/case-a.toml"))
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    for name, make, code, _answer in BAD_FILES:
        path = tmp_path / name
        path.write_bytes(make())
        for dry_run in (["--dry-run"], []):
            # `main` runs its own event loop, as `loyalty-bot import` does: in a thread here.
            status = await asyncio.to_thread(main, ["import", str(path), *dry_run])
            captured = capsys.readouterr()
            assert status == 2, (name, captured)
            lines = captured.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"{path}: {code}"), (name, captured.err)
            assert "Traceback" not in captured.err + captured.out
    assert await customers(dom) == 0
