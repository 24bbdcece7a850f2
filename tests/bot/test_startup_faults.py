"""`loyalty-bot run` meets a world that is not ready (issue 14, section 4), as a real process.

Before, each of these printed a chained traceback of about a hundred lines and, for Telegram,
stopped: Telegram unreachable (a real-looking token, TELEGRAM_API_URL at a closed port), a
transient error on setMyCommands, the HTTP port already taken, a token Telegram refuses. Now each
is one clear line; where waiting helps (the network, Telegram's 5xx and 429, a port a previous
process is letting go of) it retries with backoff and carries on once the fault is gone; SIGTERM
during the wait stops it cleanly. The test reads the process's stderr.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import httpx
import pytest

from fakegram import FakeTelegram
from migrations.runner import upgrade_head

from .conftest import TOKEN

pytestmark = pytest.mark.slow  # seven interpreters starting (about a minute); CI runs the slow tests

ROOT = Path(__file__).resolve().parents[2]
START = 60.0  # a fresh interpreter, a migration, on a shared 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    async def wait_for(self, pattern: str, *, count: int = 1, timeout: float = START) -> list[str]:  # noqa: ASYNC109
        regex = re.compile(pattern)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            found = [line for line in self.lines if regex.search(line)]
            if len(found) >= count:
                return found
            if self.proc.returncode is not None:
                break
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {count} line(s) matching {pattern!r} (exit {self.proc.returncode}):\n{self.stderr}")

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 30)
        await self._reader
        return code


@asynccontextmanager
async def bot_process(tmp_path: Path, **env: str) -> AsyncIterator[BotProcess]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"  # `loyalty-bot run` migrates it first
    child_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEBHOOK_URL", "BOT_TOKEN")}
    child_env.update({"BOT_TOKEN": TOKEN, "DATABASE_URL": url, "PROGRAM_FILE": str(ROOT / "programs/case-a.toml"),
                      "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(free_port()), "LOG_LEVEL": "INFO"})
    child_env.update(env)
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "run", cwd=str(tmp_path),
                                                env=child_env, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.PIPE)
    process = BotProcess(proc)
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            if proc.returncode is None:
                proc.kill()
        with suppress(Exception):
            await asyncio.wait_for(proc.wait(), 10)


def assert_no_traceback(process: BotProcess) -> None:
    assert "Traceback" not in process.stderr, process.stderr
    assert not any(line.startswith("  File ") for line in process.lines), process.stderr


async def test_telegram_unreachable_is_one_line_per_retry_and_the_bot_starts_when_it_is_back(tmp_path: Path) -> None:
    port = free_port()  # nobody listens here yet
    async with bot_process(tmp_path, TELEGRAM_API_URL=f"http://127.0.0.1:{port}") as bot:
        lines = await bot.wait_for(r"start-up: getMe: Telegram is unreachable at http://127\.0\.0\.1:\d+ .*"
                                   r"retrying in \d+ s", count=2)
        assert "retrying in 1 s" in lines[0] and "retrying in 2 s" in lines[1]  # backoff
        async with FakeTelegram(token=TOKEN, port=port) as tg:  # the network is back
            await tg.wait_for(lambda: tg.stats.calls["getUpdates"] > 0, timeout=START)
            assert {lang for _, lang in tg.commands} == {"", "en"}
            await bot.wait_for(r"is polling")
            assert await bot.stop() == 0
    assert_no_traceback(bot)


async def test_sigterm_while_telegram_is_unreachable_stops_cleanly(tmp_path: Path) -> None:
    async with bot_process(tmp_path, TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}") as bot:
        await bot.wait_for(r"Telegram is unreachable")
        assert await bot.stop() == 0
    assert_no_traceback(bot)


async def test_transient_errors_on_set_my_commands_are_retried(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as tg:
        tg.fail_next("setMyCommands", status=502, count=2)
        tg.fail_next("setMyCommands", status=429, retry_after=1)
        async with bot_process(tmp_path, TELEGRAM_API_URL=tg.base_url) as bot:
            await tg.wait_for(lambda: tg.stats.calls["getUpdates"] > 0, timeout=START)
            assert {lang for _, lang in tg.commands} == {"", "en"}
            retries = [line for line in bot.lines if "start-up: setMyCommands" in line]
            assert len(retries) == 3, bot.stderr
            assert "Telegram answered" in retries[0] and "retrying in 1 s" in retries[0]
            assert "retrying in 2 s" in retries[1]
            assert "asks to wait 1 s (429)" in retries[2]
            assert await bot.stop() == 0
    assert_no_traceback(bot)


async def test_a_taken_http_port_is_one_line_the_bot_polls_and_the_api_comes_when_it_is_free(tmp_path: Path) -> None:
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    port = squatter.getsockname()[1]
    try:
        async with FakeTelegram(token=TOKEN) as tg, \
                bot_process(tmp_path, TELEGRAM_API_URL=tg.base_url, HTTP_PORT=str(port)) as bot:
            await tg.wait_for(lambda: tg.stats.calls["getUpdates"] > 0, timeout=START)  # the bot works meanwhile
            taken = await bot.wait_for(rf"HTTP: 127\.0\.0\.1:{port} is already in use .*set HTTP_PORT")
            assert len(taken) == 1
            squatter.close()  # the other program lets go of the port
            async with httpx.AsyncClient() as http:
                for _ in range(200):
                    with suppress(httpx.TransportError):
                        if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.2)
                else:
                    raise AssertionError(f"the HTTP server never came up:\n{bot.stderr}")
            assert await bot.stop() == 0
            assert len([line for line in bot.lines if "already in use" in line]) == 1  # one line, not one per try
    finally:
        squatter.close()
    assert_no_traceback(bot)


async def test_a_webhook_bot_without_its_port_exits_2_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        async with FakeTelegram(token=TOKEN) as tg, bot_process(
                tmp_path, TELEGRAM_API_URL=tg.base_url, HTTP_PORT=str(port),
                WEBHOOK_URL="https://bot.example.com/tg/hook", WEBHOOK_SECRET="s3cret") as bot:
            code = await asyncio.wait_for(bot.proc.wait(), START)
            await bot._reader
    assert code == 2, bot.stderr
    errors = [line for line in bot.lines if line.startswith("error:")]
    assert len(errors) == 1 and f"127.0.0.1:{port} is already in use" in errors[0], bot.stderr
    assert_no_traceback(bot)


async def test_a_refused_token_is_one_line_and_exit_2(tmp_path: Path) -> None:
    async with FakeTelegram(token="999999:SOMEONE-ELSES-TOKEN-xyz") as tg:  # any other token: 401
        async with bot_process(tmp_path, TELEGRAM_API_URL=tg.base_url) as bot:
            code = await asyncio.wait_for(bot.proc.wait(), START)
            await bot._reader
    assert code == 2, bot.stderr
    assert [line for line in bot.lines if line.startswith("error:")] == [
        "error: Telegram refused BOT_TOKEN (401 Unauthorized): check the token from @BotFather (and TELEGRAM_API_URL)"]
    assert_no_traceback(bot)


async def test_loyalty_bot_api_on_a_taken_port_exits_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
    await upgrade_head(url)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = {**os.environ, "DATABASE_URL": url, "PROGRAM_FILE": str(ROOT / "programs/case-a.toml"),
               "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(port)}
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.cli", "api", cwd=str(tmp_path),
                                                    env=env, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), START)
    text = err.decode()
    assert proc.returncode == 1, text
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "is already in use" in errors[0], text
