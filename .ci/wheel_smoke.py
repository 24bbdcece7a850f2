"""A short start of the INSTALLED wheel (run by .ci/wheel with the wheel's venv, from an empty
directory, so nothing of the source tree can be imported).

1. `loyalty-bot run` with a token, against fakegram (the installed package) on localhost:
   `/healthz` answers with the package version, a customer's /start gets the bot's answer, the
   owner's /report gets its charts and workbook (the report worker process starts from the
   installed wheel), SIGTERM stops it with exit 0.
2. `loyalty-bot run` without a token: the sandbox starts, its page answers, SIGTERM stops it.
Neither may print a traceback. Every wait is bounded; the script exits non-zero on failure.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from importlib.metadata import version
from pathlib import Path

import aiohttp

from bot.i18n import default_i18n
from fakegram import FakeTelegram

TOKEN = "7000000002:WHEEL-smoke-test-local-only-token"
OWNER_ID = 700_000_900
LIMIT = 90.0  # seconds for any one step (a loaded CI machine), never a measurement


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BOT_", "DATABASE_", "OWNER_", "PROGRAM_", "REDIS_", "WEBHOOK_", "TELEGRAM_",
                                "HTTP_", "STAFF_", "PYTHONPATH"))}
    env.update(extra)
    return env


class Process:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            self.lines.append(line)
            print(f"    | {line}", flush=True)

    async def wait_for(self, pattern: str) -> None:
        deadline = time.monotonic() + LIMIT
        while not any(re.search(pattern, line) for line in self.lines):
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise SystemExit(f"no line matching {pattern!r} (exit {self.proc.returncode})")
            await asyncio.sleep(0.1)

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), LIMIT)
        await self._reader
        if any("Traceback" in line or line.startswith("  File ") for line in self.lines):
            raise SystemExit("a traceback was printed")
        return code


async def start(*args: str, env: dict[str, str], cwd: Path) -> Process:
    # One stream: the sandbox prints its address on stdout, the bot logs on stderr.
    proc = await asyncio.create_subprocess_exec("loyalty-bot", *args, cwd=str(cwd), env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    return Process(proc)


async def get(url: str) -> tuple[int, str]:
    deadline = time.monotonic() + LIMIT
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as r:
                    return r.status, await r.text()
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} never answered") from None
                await asyncio.sleep(0.2)


async def the_bot(folder: Path) -> None:
    t = default_i18n().translator("ru")
    port = free_port()
    async with FakeTelegram(token=TOKEN) as tg:
        owner = tg.user(id=OWNER_ID, first_name="Owner", phone="+79990000901")
        customer = tg.user(id=OWNER_ID + 1, first_name="Анна", phone="+79990000902")
        bot = await start("run", cwd=folder, env=clean_env(
            BOT_TOKEN=TOKEN, TELEGRAM_API_URL=tg.base_url, DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'bot.db'}",
            OWNER_IDS=str(OWNER_ID), HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), PROGRAM_FILE="programs/case-a.toml"))
        try:
            await bot.wait_for(r"is polling")
            status, body = await get(f"http://127.0.0.1:{port}/healthz")
            assert status == 200 and f'"version":"{version("telegram-loyalty")}"' in body.replace(" ", ""), body
            print("  /healthz:", body, flush=True)
            await customer.start()
            answer = await customer.expect(timeout=LIMIT)
            print("  /start answered:", (answer.text or "")[:60].replace("\n", " "), flush=True)
            await owner.send("/report")
            await owner.expect_text(t("report-choose-period"), timeout=LIMIT)
            await owner.press(t("report-period-all"), timeout=LIMIT)
            await tg.wait_for(lambda: any(m.document_name for m in owner.bot_messages()), timeout=LIMIT)
            photos = [m for m in owner.bot_messages() if m.photo is not None]
            print(f"  /report: {len(photos)} chart(s) and the workbook", flush=True)
        finally:
            code = await bot.stop()
        if code != 0:
            raise SystemExit(f"loyalty-bot run exited {code} on SIGTERM")


async def the_sandbox(folder: Path) -> None:
    port = free_port()
    sandbox = await start("sandbox", "--port", str(port), "--program", "cosmocode", cwd=folder, env=clean_env())
    try:
        await sandbox.wait_for(r"Sandbox is ready")
        status, body = await get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "cosmocode.toml" in body, status
        for name in ("sandbox.js", "sandbox.css"):  # package data
            status, body = await get(f"http://127.0.0.1:{port}/static/{name}")
            assert status == 200 and body, (name, status)
        print("  the sandbox page and its scripts answer", flush=True)
    finally:
        code = await sandbox.stop()
    if code != 0:
        raise SystemExit(f"loyalty-bot sandbox exited {code} on SIGTERM")


async def main() -> None:
    folder = Path.cwd()
    assert not (folder / "pyproject.toml").exists(), "run from an empty directory"
    print("start: loyalty-bot run against fakegram", flush=True)
    await the_bot(folder)
    print("start: loyalty-bot sandbox", flush=True)
    await the_sandbox(folder)


if __name__ == "__main__":
    asyncio.run(main())
    print("wheel smoke test: OK")
    sys.exit(0)
