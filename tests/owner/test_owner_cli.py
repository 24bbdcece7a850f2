"""`loyalty-bot import` and `loyalty-bot export`, called in-process (a subprocess per call
would spend most of the test starting Python)."""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.commands.owner import export_command, import_command
from models.kernel.context import Domain
from models.kernel.tables import AuditEntry, Customer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def cli_env(dom: Domain, monkeypatch: pytest.MonkeyPatch) -> Domain:
    monkeypatch.setenv("DATABASE_URL", dom.db.url)
    monkeypatch.setenv("PROGRAM_FILE", str(ROOT / "programs/case-a.toml"))
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return dom


async def test_import_dry_run_then_import_then_nothing(cli_env: Domain, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "base.csv"
    base.write_bytes("phone;name;balance\r\n89160000401;Ольга;100\r\nплохой;x;1\r\n".encode("cp1251"))
    assert await import_command(argparse.Namespace(file=str(base), dry_run=True)) == 0
    out = capsys.readouterr().out
    assert "customers to create: 1, points: 100" in out and "line 3, phone: bad_phone" in out
    async with cli_env.db.reading() as session:
        assert (await session.execute(select(func.count()).select_from(Customer))).scalar() == 0
    assert await import_command(argparse.Namespace(file=str(base), dry_run=False)) == 0
    assert "imported: 1 customer(s), 100 point(s)" in capsys.readouterr().out
    assert await import_command(argparse.Namespace(file=str(base), dry_run=False)) == 0
    assert "imported: 0 customer(s)" in capsys.readouterr().out
    fake = tmp_path / "fake.xlsx"
    fake.write_text("phone\n+79160000402\n", encoding="utf-8")
    assert await import_command(argparse.Namespace(file=str(fake), dry_run=True)) == 2
    assert "not_xlsx" in capsys.readouterr().err
    target = tmp_path / "customers.csv"
    assert await export_command(argparse.Namespace(what="customers", format="csv", output=str(target),
                                                   locale="ru")) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert [(r["Телефон"], r["Баллы"], r["Откуда пришёл"]) for r in rows] == [("+79160000401", "100", "Импорт")]
    assert await export_command(argparse.Namespace(what="customers", format="csv", output=str(target),
                                                   locale="en")) == 0
    rows = list(csv.DictReader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert [(r["Phone"], r["Points"], r["Came from"]) for r in rows] == [("+79160000401", "100", "Import")]
    async with cli_env.db.reading() as session:
        actions = list((await session.execute(select(AuditEntry.action, AuditEntry.actor_role))).all())
    assert ("owner.import", "cli") in actions and ("owner.export", "cli") in actions


def test_export_takes_a_language_and_defaults_to_russian(backend: str) -> None:  # backend: the module marks
    from bot.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["export"]).locale == "ru"
    assert parser.parse_args(["export", "--lang", "en"]).locale == "en"
    assert parser.parse_args(["export", "--locale", "en"]).locale == "en"  # as `loyalty-bot report` spells it
    with pytest.raises(SystemExit):
        parser.parse_args(["export", "--lang", "de"])
