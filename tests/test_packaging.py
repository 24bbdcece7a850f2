"""Installable and reproducible (issue 21, section 5): the programs are package data, PROGRAM_FILE
finds them from any directory. The installed wheel itself is checked by `.ci/wheel`."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

import programs
from bot.config import SettingsError, load_settings
from models.program.rules import load_program_file

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
    from models.kernel.clock import SystemClock
    from models.kernel.context import Domain
    from models.kernel.db import Database

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


def test_the_example_env_file_is_valid_as_it_is(elsewhere: Path) -> None:
    """`cp .env.example .env` gives a bot that starts (the sandbox, with no token yet)."""
    (elsewhere / ".env").write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings()
    assert settings.bot_token is None and settings.owner_ids == frozenset() and settings.staff_chat_id is None
    assert settings.program_file == programs.shipped_path("default.toml")
    assert settings.database_url == "sqlite+aiosqlite:///loyalty.db"


def _pins(name: str) -> dict[str, str]:
    import re

    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    return {m[1].lower().replace("_", "-"): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.M)}


def test_the_locks_cover_pyproject_and_agree() -> None:
    """A dependency added to pyproject.toml without `make lock` would be missing from the
    installs (the project itself is installed with --no-deps): this catches it."""
    import re
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    run, dev, build = _pins("run.txt"), _pins("dev.txt"), _pins("build.txt")

    def name(spec: str) -> str:
        return re.sub(r"[-_.]+", "-", Requirement(spec).name).lower()

    assert {name(d) for d in project["dependencies"]} - set(run) == set()
    assert {name(d) for d in project["optional-dependencies"]["test"]} - set(dev) == set()
    assert {"setuptools", "pip"} <= set(build) & set(run) & set(dev)
    assert {k: dev[k] for k in run} == run  # the dev lock is constrained by the run lock
    assert {k: run[k] for k in build} == build
    for lock in ("run.txt", "dev.txt", "build.txt"):
        text = (ROOT / "requirements" / lock).read_text(encoding="utf-8")
        assert "autogenerated by pip-compile with Python 3.11" in text and "--hash=sha256:" in text
        assert "file://" not in text and "--index-url" not in text  # nothing of this machine in a lock


def test_the_image_runs_the_python_the_locks_were_made_for() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    bases = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert bases and all(b.startswith("python:3.11-") for b in bases)
    assert "--require-hashes -r requirements/build.txt" in dockerfile
    assert "--require-hashes -r /tmp/run.txt" in dockerfile and "COPY requirements/run.txt /tmp/run.txt" in dockerfile
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    for service in ("bot", "postgres", "redis"):
        assert f"\n  {service}:\n" in compose
    assert ".env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
