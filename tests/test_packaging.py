"""Installable and reproducible (issue 21, section 5): the programs are package data, PROGRAM_FILE
finds them from any directory. The installed wheel itself is checked by `.ci/wheel`."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

import programs
from bot.config import SettingsError, load_settings
from models.program import load_program_file

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with no programs/ folder and no .env (as for an installed wheel)."""
    monkeypatch.chdir(tmp_path)
    for name in ("PROGRAM_FILE", "BOT_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_programs_are_package_data() -> None:
    assert programs.names() == ["case-a.toml", "cosmocode.toml", "default.toml"]
    for name in programs.names():
        shipped = files("programs").joinpath(name).read_text(encoding="utf-8")
        assert shipped == (ROOT / "programs" / name).read_text(encoding="utf-8")
        load_program_file(programs.shipped_path(name))  # every shipped program is valid


def test_the_default_program_comes_from_the_package(elsewhere: Path) -> None:
    settings = load_settings()
    assert settings.program_file.read_text(encoding="utf-8") == files("programs").joinpath(
        "default.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("value", ["programs/case-a.toml", "case-a.toml", "case-a"])
def test_program_file_names_a_shipped_program_from_any_directory(elsewhere: Path, value: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROGRAM_FILE", value)
    assert load_settings().program_file == programs.shipped_path("case-a.toml")


def test_a_file_of_that_name_wins_over_the_shipped_one(elsewhere: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (elsewhere / "programs").mkdir()
    own = elsewhere / "programs" / "case-a.toml"
    own.write_text(programs.shipped_path("cosmocode.toml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("PROGRAM_FILE", "programs/case-a.toml")
    assert load_settings().program_file == Path("programs/case-a.toml")


@pytest.mark.parametrize("value", ["no-such", "programs/no-such.toml", "/etc/case-a.toml", "other/case-a.toml"])
def test_an_unknown_program_is_one_line(elsewhere: Path, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROGRAM_FILE", value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == (f"PROGRAM_FILE: no such file: {value} "
                                 "(shipped programs: case-a.toml, cosmocode.toml, default.toml)")



async def test_one_version_everywhere(tmp_path: Path) -> None:
    """The package metadata, `bot.__version__`, the API's OpenAPI document and `/healthz` agree."""
    from importlib.metadata import metadata, version
    from zoneinfo import ZoneInfo

    import httpx

    import bot
    from bot.http import build_app
    from bot.services import Services
    from models.clock import SystemClock
    from models.context import Domain
    from models.db import Database

    assert version("telegram-loyalty") == bot.__version__
    meta = metadata("telegram-loyalty")
    assert meta["License-Expression"] == "MIT" and "LICENSE" in (meta.get_all("License-File") or [])

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'v.db'}")
    await db.create_all()
    dom = Domain(db=db, clock=SystemClock(), tz=ZoneInfo("Europe/Moscow"))
    app = build_app(Services(settings=load_settings(_env_file=None), dom=dom))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            assert (await http.get("/openapi.json")).json()["info"]["version"] == bot.__version__
            health = await http.get("/healthz")
    finally:
        await db.dispose()
    assert health.json() == {"status": "ok", "version": bot.__version__, "database": "ok"}
