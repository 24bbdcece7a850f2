"""`loyalty-bot report` and `loyalty-bot simulate` argument handling and outputs (SQLite files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import build_parser
from models.kernel.context import Domain
from tests.reports.test_figures import build_data_set


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_report_command_writes_json_xlsx_charts_and_a_segment(dom: Domain, tmp_path: Path) -> None:
    await build_data_set(dom)
    url = dom.db.url
    parser = build_parser()

    async def run(*argv: str) -> int:
        args = parser.parse_args(["report", "--database", url, *argv])
        return int(await args.func(args))

    assert await run("--from", "2026-03-01", "--to", "2026-03-31", "--format", "json",
                     "--output", str(tmp_path / "r.json")) == 0
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["figures"]["purchases"] == 9 and data["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert await run("--to", "2026-03-31", "--format", "xlsx", "--output", str(tmp_path / "r.xlsx"),
                     "--charts", str(tmp_path / "charts")) == 0
    assert (tmp_path / "r.xlsx").read_bytes()[:2] == b"PK"
    assert len(list((tmp_path / "charts").glob("*.png"))) == 5
    assert await run("--format", "xlsx") == 2  # xlsx needs --output
    assert await run("--by", "nonsense") == 2
    assert await run("--to", "2026-03-31", "--segment", "lost", "--output", str(tmp_path / "lost.csv")) == 0
    assert (tmp_path / "lost.csv").read_bytes().decode("utf-8-sig").startswith("Клиент №;Имя;Телефон\r\n")
    assert await run("--to", "2026-03-31", "--segment", "lost", "--locale", "en", "--output",
                     str(tmp_path / "lost-en.csv")) == 0
    assert (tmp_path / "lost-en.csv").read_bytes().decode("utf-8-sig").startswith("Customer No.,Name,Phone\r\n")
    assert await run("--segment", "nope") == 2
    # A date with no day boundary in the business's time zone is a usage error, not a traceback.
    for bad in (["--to", "9999-12-31"], ["--from", "0001-01-01"], ["--from", "31.03.2026"]):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(["report", "--database", url, *bad])
        assert exited.value.code == 2
