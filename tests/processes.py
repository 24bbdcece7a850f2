"""Real bot processes for the tests that kill one: start, wait until it answers, stop.

Used by the scale-out test (tests/api/test_scale_out.py: `loyalty-bot run` twice behind a
balancer) and the 90-day horizon test (tests/horizon: a bot process SIGKILLed mid-run and
started again on the business clock).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 90.0  # an interpreter, the migrations and aiogram on a 2-core machine shared with others
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PHONE_HASH_KEY")


def base_env(**values: str) -> dict[str, str]:
    """The child's environment: only what an interpreter needs, the tests' phone hash key, and `values`."""
    env = {key: value for key, value in os.environ.items() if key in PASSED_ENV}
    env.update(PYTHONUNBUFFERED="1", **values)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class BotProcess:
    name: str
    port: int
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 60) -> str:
        with suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    async def kill(self) -> int:
        """SIGKILL: no handler runs, nothing is flushed or released; returns the exit code."""
        self.proc.send_signal(signal.SIGKILL)
        return await asyncio.wait_for(self.proc.wait(), 10)


async def start_process(name: str, env: dict[str, str], log_dir: Path,
                        command: tuple[str, ...] = ("-m", "bot.cli", "run")) -> BotProcess:
    """`python <command>` in the repository with `env` plus HTTP_HOST/HTTP_PORT on a free port."""
    port = free_port()
    child_env = {**env, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port)}
    log = log_dir / f"bot-{name}.log"
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *command, cwd=str(ROOT), env=child_env,
            stdout=out, stderr=asyncio.subprocess.STDOUT)
    return BotProcess(name, port, proc, log)


async def wait_healthy(bot: BotProcess, http: httpx.AsyncClient) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT
    while asyncio.get_running_loop().time() < deadline:
        if bot.proc.returncode is not None:
            pytest.fail(f"process {bot.name} exited with {bot.proc.returncode}:\n{bot.tail()}")
        with suppress(httpx.TransportError):
            if (await http.get(f"{bot.base}/healthz", timeout=5)).status_code == 200:
                return
        await asyncio.sleep(0.2)
    pytest.fail(f"process {bot.name} did not answer /healthz within {START_TIMEOUT}s:\n{bot.tail()}")


async def stop_process(bot: BotProcess) -> int:
    """SIGTERM, as systemd stops the bot; SIGKILL if it has not exited after 20 s. The exit code."""
    if bot.proc.returncode is None:
        bot.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(bot.proc.wait(), 20)
        except TimeoutError:
            bot.proc.kill()
            await bot.proc.wait()
    assert bot.proc.returncode is not None
    return bot.proc.returncode
