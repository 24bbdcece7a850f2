"""`loyalty-bot run` (bot/runner.py run_bot): polling against the fake Telegram, the command
menu in two languages, notifications delivered by the sender it starts, a clean stop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.runner import run_bot
from fakegram import FakeTelegram
from models.kernel.db import Database
from models.purchase.purchases import adjust_points

from .conftest import TOKEN

CASE_A = Path(__file__).resolve().parents[2] / "programs" / "case-a.toml"


async def test_run_bot_polls_sets_commands_sends_notifications_and_stops(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
    schema = Database(url)
    await schema.create_all()  # production runs `loyalty-bot migrate` first
    await schema.dispose()
    async with FakeTelegram(token=TOKEN, bot_username="cafe_bonus_bot") as tg:
        from tests.bot.conftest import make_settings

        settings = make_settings(tg, schema, database_url=url,
                                 program_file=CASE_A)
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(settings, stop_event=stop, install_signals=False))
        try:
            await tg.wait_for(lambda: tg.stats.calls["getUpdates"] > 0, timeout=15)
            assert {lang for _, lang in tg.commands} == {"", "en"}
            user = tg.user(first_name="Анна", phone="+79160000001")
            await user.start()
            await user.expect_text("Добро пожаловать в программу лояльности «Case A»")
            # A registered member gets notifications through the sender run_bot started.
            await user.expect_text("согласие на обработку")
            await user.press("Согласен")
            await user.expect_text("номером телефона")
            await user.press("Поделиться номером")
            await user.expect_text("Как к вам обращаться")
            await user.press("Оставить")
            await user.expect_text("Когда у вас день рождения")
            await user.press("Пропустить")
            card = await user.expect_text("Покажите QR-код")
            assert card.photo is not None
            from bot.services import build_services

            services = await build_services(settings)
            try:
                async with services.db.reading() as session:
                    from models.customers.accounts import customer_by_telegram

                    customer = await customer_by_telegram(session, user.id)
                assert customer is not None
                await adjust_points(services.dom, customer.id, 10, "тест")
            finally:
                await services.db.dispose()
            await user.expect_text("Баланс изменён: +10 баллов", timeout=10)
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 15) == 0


async def test_run_bot_without_a_token_says_so(capsys: object) -> None:
    from bot.config import Settings

    assert await run_bot(Settings(_env_file=None, bot_token=None)) == 2  # type: ignore[call-arg]
    assert "BOT_TOKEN is not set" in capsys.readouterr().err  # type: ignore[attr-defined]


async def test_run_bot_in_webhook_mode_serves_the_webhook_and_the_api(tmp_path: Path) -> None:
    """WEBHOOK_URL set: setWebhook with a secret, updates arrive over HTTP, forged ones are refused;
    the same HTTP server answers /healthz."""
    import json
    import socket

    import httpx

    url = f"sqlite+aiosqlite:///{tmp_path / 'hook.db'}"
    schema = Database(url)
    await schema.create_all()
    await schema.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with FakeTelegram(token=TOKEN, bot_username="cafe_bonus_bot") as tg:
        from tests.bot.conftest import make_settings

        settings = make_settings(tg, schema, database_url=url, program_file=CASE_A, http_port=port,
                                 webhook_url="https://bot.example.com/tg/hook", webhook_secret="s3cret-token")
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(settings, stop_event=stop, install_signals=False))
        try:
            await tg.wait_for(lambda: tg.webhook is not None and bool(tg.webhook), timeout=15)
            user = tg.user(first_name="Анна", phone="+79160000002")
            update = {"update_id": 1, "message": {
                "message_id": 1, "date": 1_700_000_000, "chat": {"id": user.id, "type": "private"},
                "from": {"id": user.id, "is_bot": False, "first_name": "Анна", "language_code": "ru"},
                "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(100):  # the server starts beside setWebhook
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                forged = await http.post("/tg/hook", content=json.dumps(update),
                                         headers={"content-type": "application/json"})
                assert forged.status_code == 403
                real = await http.post("/tg/hook", content=json.dumps(update), headers={
                    "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "s3cret-token"})
                assert real.status_code == 200
            await user.expect_text("Добро пожаловать в программу лояльности «Case A»")
            assert tg.stats.calls["getUpdates"] == 0  # webhook mode never polls
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 15) == 0


async def test_run_bot_with_redis_unreachable_says_so_and_stops(tmp_path: Path, capsys: object) -> None:
    """REDIS_URL set but nothing listens: a clear error and exit 2 at start-up, before setWebhook,
    not a process that takes updates and fails every one of them."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'redis.db'}"
    schema = Database(url)
    await schema.create_all()
    await schema.dispose()
    async with FakeTelegram(token=TOKEN, bot_username="cafe_bonus_bot") as tg:
        from tests.bot.conftest import make_settings

        settings = make_settings(tg, schema, database_url=url, program_file=CASE_A,
                                 redis_url="redis://127.0.0.1:1/0",
                                 webhook_url="https://bot.example.com/tg/hook", webhook_secret="s3cret-token")
        stop = asyncio.Event()
        task = asyncio.create_task(run_bot(settings, stop_event=stop, install_signals=False))
        try:
            done, _ = await asyncio.wait({task}, timeout=20)
            assert task in done, "run_bot kept running without Redis"
            assert task.result() == 2
            assert not tg.webhook
        finally:
            stop.set()
            if not task.done():
                await asyncio.wait_for(task, 15)
    assert "Redis" in capsys.readouterr().err  # type: ignore[attr-defined]
