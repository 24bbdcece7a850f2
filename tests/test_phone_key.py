"""The phone hash key file: created 0600 by `loyalty-bot migrate` only, never in the database;
any other command without a key stops with one line (issue 21 §2)."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from tests.conftest import TEST_PHONE_HASH_KEY
from tests.test_cli_and_settings import ROOT, run_cli

NO_KEY = {"PHONE_HASH_KEY": "", "PROGRAM_FILE": str(ROOT / "programs/case-a.toml")}


def test_migrate_creates_the_key_file_0600_and_other_commands_use_it(tmp_path: Path) -> None:
    db = tmp_path / "loyalty.db"
    env = {**NO_KEY, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    key_file = tmp_path / "loyalty.db.phone-hash.key"
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text(encoding="utf-8").strip()
    assert len(key) >= 32 and key != TEST_PHONE_HASH_KEY
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    assert key_file.read_text(encoding="utf-8").strip() == key  # kept, never regenerated
    shown = run_cli("program", "show", env=env, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert key not in dump  # never in the database


def test_a_command_without_a_key_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "loyalty.db"
    env = {**NO_KEY, "DATABASE_URL": f"sqlite+aiosqlite:///{db}"}
    assert run_cli("migrate", env={**env, "PHONE_HASH_KEY": TEST_PHONE_HASH_KEY}, cwd=tmp_path).returncode == 0
    assert not (tmp_path / "loyalty.db.phone-hash.key").exists()  # the env key: no file needed
    result = run_cli("program", "show", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "PHONE_HASH_KEY" in lines[0] and "loyalty-bot migrate" in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "loyalty.db.phone-hash.key").exists()


def test_key_file_setting_and_a_short_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "phone.key"
    env = {**NO_KEY, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db", "PHONE_HASH_KEY_FILE": str(key_file)}
    assert run_cli("migrate", env=env, cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_file.write_text("too short\n", encoding="utf-8")
    result = run_cli("program", "show", env=env, cwd=tmp_path)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "PHONE_HASH_KEY_FILE" in result.stderr and "too short" not in result.stderr


def test_unknown_phone_region_is_one_line(tmp_path: Path) -> None:
    result = run_cli("check", env={"PHONE_REGION": "XX", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["configuration error: PHONE_REGION: unknown country 'XX' (a two-letter code like RU, KZ, BY)"]
