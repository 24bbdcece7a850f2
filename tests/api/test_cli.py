"""`loyalty-bot apikey ...` and `loyalty-bot api` (a real uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from models.kernel.db import Database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def create() -> None:
        db = Database(url)
        await db.create_all()
        await db.dispose()

    asyncio.run(create())
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PROGRAM_FILE", str(ROOT / "programs" / "case-a.toml"))
    return url


def test_apikey_create_list_revoke(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "create", "kassa-1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("companyId: ") and out[0].removeprefix("companyId: ").isdigit()
    assert out[1].startswith("apiKey: ") and len(out[1]) > 40
    assert len(out) == 2
    assert main(["apikey", "create", "kassa-1"]) == 1  # the name is taken
    capsys.readouterr()
    assert main(["apikey", "create", "kassa-2"]) == 0
    second = capsys.readouterr().out.splitlines()
    assert second[0] == out[0]  # one company id per installation
    assert main(["apikey", "list"]) == 0
    assert "kassa-2" in capsys.readouterr().out
    assert main(["apikey", "revoke", "kassa-1"]) == 0
    assert "revoked: kassa-1" in capsys.readouterr().out
    assert main(["apikey", "revoke", "kassa-1"]) == 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_command_serves_and_stops_on_sigterm(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apikey", "create", "kassa-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    company, key = lines[0].split(": ")[1], lines[1].split(": ")[1]
    port = free_port()
    env = {**os.environ, "HTTP_PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "api"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90  # a loaded CI machine starts slowly
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(proc.stderr.read().decode() if proc.stderr else "no output") from None
                time.sleep(0.1)
        assert r.status_code == 200
        r = httpx.get(f"http://127.0.0.1:{port}/partner/v2/settings", auth=(company, key), timeout=5)
        assert r.status_code == 200 and r.json()["id"] == int(company)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
