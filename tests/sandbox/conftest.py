"""Fixtures for the sandbox: the whole sandbox (fake Telegram, real bot, sender, scheduler, web page)
started in-process on a free port, with case A."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from sandbox.world import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CASE_A = ROOT / "programs" / "case-a.toml"


@pytest.fixture
async def sandbox_server(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    server = SandboxServer(Sandbox(CASE_A, data_dir=tmp_path, per_chat_interval=0.05), port=0)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
