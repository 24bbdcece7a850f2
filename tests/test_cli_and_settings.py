"""Settings errors are one line naming the variable; the command line's core commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "OWNER_", "PROGRAM_"))}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd or ROOT, timeout=120)


@pytest.mark.parametrize(("env", "variable"), [
    ({"OWNER_IDS": "12,abc"}, "OWNER_IDS"),
    ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
    ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"PROGRAM_FILE": "/nonexistent.toml"}, "PROGRAM_FILE"),
    ({"HTTP_PORT": "70000"}, "HTTP_PORT"),
    ({"DATABASE_URL": "postgresql+asyncpg://u:s3cret@host:notaport/db"}, "DATABASE_URL"),
    ({"DATABASE_URL": "sqlite"}, "DATABASE_URL"),
    ({"WEBHOOK_URL": "http://loyalty.example.com/telegram/webhook"}, "WEBHOOK_URL"),
    ({"WEBHOOK_SECRET": "has spaces!"}, "WEBHOOK_SECRET"),
    ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
])
def test_bad_setting_is_one_line(env: dict[str, str], variable: str, tmp_path: Path) -> None:
    result = run_cli("check", env={**env, "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")},
                     cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr


def test_log_level_is_applied(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/log.db", "LOG_LEVEL": "WARNING"}
    result = run_cli("migrate", env=env)
    assert result.returncode == 0 and " INFO " not in result.stderr, result.stderr
    assert " INFO " in run_cli("migrate", env={**env, "LOG_LEVEL": "info"}).stderr


@pytest.mark.parametrize("args", [
    ("export", "--output", "/nonexistent/dir/customers.csv"),
    ("report", "--format", "json", "--output", "/nonexistent/dir/report.json"),
])
def test_unwritable_output_is_one_line(args: tuple[str, ...], tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/out.db",
           "PROGRAM_FILE": str(ROOT / "programs/case-a.toml")}
    assert run_cli("migrate", env=env).returncode == 0
    assert run_cli("program", "show", env=env).returncode == 0
    result = run_cli(*args, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "/nonexistent/dir/" in result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("url", [
    "sqlite+aiosqlite:///{tmp}/nodir/x.db",  # a folder that does not exist
    "postgresql+asyncpg://loyalty:s3cret@127.0.0.1:9/loyalty",  # nobody listens
])
def test_unreachable_database_is_one_line(url: str, tmp_path: Path) -> None:
    result = run_cli("check", env={"DATABASE_URL": url.format(tmp=tmp_path)})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "s3cret" not in result.stderr


def test_check_before_migrate_says_so(tmp_path: Path) -> None:
    result = run_cli("check", env={"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/empty.db"})
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "loyalty-bot migrate" in result.stderr


def test_settings_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OWNER_IDS", "1, 2;3")
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCDEFGHIJKLMNOP")
    s = load_settings()
    assert s.owner_ids == frozenset({1, 2, 3})
    assert s.bot_token is not None and s.bot_token.get_secret_value().startswith("123456:")
    assert s.database_url.startswith("sqlite+aiosqlite")
    monkeypatch.setenv("STAFF_CHAT_ID", "group")
    with pytest.raises(SettingsError, match="STAFF_CHAT_ID"):
        load_settings()


def test_migrate_program_and_check(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
           "PROGRAM_FILE": str(ROOT / "programs/case-a.toml")}
    assert run_cli("migrate", env=env).returncode == 0
    shown = run_cli("program", "show", env=env)
    assert shown.returncode == 0 and "# program version 1" in shown.stdout and "Статус 5" in shown.stdout
    changed = run_cli("program", "set", str(ROOT / "programs/cosmocode.toml"), env=env)
    assert changed.returncode == 0 and "welcome.points: 300 -> 1000" in changed.stdout
    assert "program version 2 is now in force" in changed.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[business]\nname = ''\n", encoding="utf-8")
    refused = run_cli("program", "set", str(bad), env=env)
    assert refused.returncode == 1 and "business.name" in refused.stderr
    ok = run_cli("check", env=env)
    assert ok.returncode == 0 and "ledger OK" in ok.stdout


def test_check_reports_broken_ledger(tmp_path: Path) -> None:
    import sqlite3

    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/broken.db",
           "PROGRAM_FILE": str(ROOT / "programs/case-a.toml")}
    assert run_cli("migrate", env=env).returncode == 0
    assert run_cli("program", "show", env=env).returncode == 0  # seeds version 1
    con = sqlite3.connect(tmp_path / "broken.db")
    con.execute("INSERT INTO customers (id, referral_code, source_kind, created_at, tier_index, blocked, lock_version,"
                " paid_total_kopecks, purchase_count, base_paid_kopecks, base_purchase_count)"
                " VALUES (1, 'abc', 'walk_in', '2026-01-01 00:00:00', 0, 0, 0, 0, 0, 0, 0)")
    con.execute("INSERT INTO operations (id, kind, program_version, created_at, amount_kopecks, cash_kopecks,"
                " points_paid, cashback, referral_paid, points_delta, refunded_kopecks, shortfall, comment, channel)"
                " VALUES (1, 'manual', 1, '2026-01-01 00:00:00', 0, 0, 0, 0, 0, 10, 0, 0, '', 'cli')")
    con.execute("INSERT INTO lots (id, customer_id, kind, amount, remaining, created_at, operation_id)"
                " VALUES (1, 1, 'manual', 10, 10, '2026-01-01 00:00:00', 1)")  # no ledger entry
    con.commit()
    con.close()
    result = run_cli("check", env=env)
    assert result.returncode == 1 and "lot 1" in result.stdout
