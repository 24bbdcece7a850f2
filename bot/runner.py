"""`loyalty-bot run`: the bot in long-polling mode, with the outbox sender and the scheduler.

Start-up order: services (database, program) → Bot → getMe (the username goes into
`services.bot_username`, deep links need it) → setMyCommands in ru and en → the outbox
sender task (it takes the "outbox-sender" lease itself, so a second process just waits)
→ the scheduler (if the scheduler package provides `start_scheduler`) → polling.

SIGINT/SIGTERM stop polling; then the sender finishes the message in flight (so a normal
restart never leaves an ambiguous "sending" row, see bot/sender.py), the scheduler stops,
and the Bot session and the database are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from bot.app import build_dispatcher, create_bot
from bot.config import Settings
from bot.i18n import I18n
from bot.sender import OutboxSender
from bot.services import Services, build_services

log = logging.getLogger(__name__)

# The customer's menu, also reachable by these commands (handlers/common.py, handlers/customer.py).
MENU_COMMANDS = ("start", "card", "balance", "certificates", "invite", "review", "settings", "help",
                 "cancel")


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu in Russian (default, no language code) and in English."""
    for locale, language_code in (("ru", None), ("en", "en")):
        commands = [BotCommand(command=name, description=i18n.get(locale, f"cmd-{name}"))
                    for name in MENU_COMMANDS]
        await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(),
                                  language_code=language_code)


Stopper = Callable[[], Awaitable[None]]


async def start_scheduler_if_available(services: Services) -> Stopper | None:
    """THE one place the scheduler is started (scheduler/service.py, written by another area).

    `start_scheduler(services)` may return an object with `shutdown()` (sync or async) or an
    async stop function; whatever it returns is turned into one async stop callable.
    """
    if importlib.util.find_spec("scheduler.service") is None:
        log.info("scheduler: scheduler/service.py not present; automatic jobs are off")
        return None
    module = importlib.import_module("scheduler.service")
    start = getattr(module, "start_scheduler", None)
    if start is None:
        log.warning("scheduler: scheduler.service has no start_scheduler; automatic jobs are off")
        return None
    handle: Any = start(services)
    if asyncio.iscoroutine(handle):
        handle = await handle

    async def stop() -> None:
        target = getattr(handle, "shutdown", None) or getattr(handle, "stop", None) or handle
        if callable(target):
            result = target()
            if asyncio.iscoroutine(result):
                await result

    return stop if handle is not None else None


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _install_signal_handlers(stop_event: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def request_stop() -> None:
        log.info("stop requested; finishing the work in flight")
        stop_event.set()  # the watcher stops polling; the sender finishes its row

    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, request_stop)


def _remove_signal_handlers() -> None:
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(sig)


async def _stop_when_set(dp: Dispatcher, stop_event: asyncio.Event) -> None:
    await stop_event.wait()
    while True:
        try:
            await dp.stop_polling()
            return
        except RuntimeError:  # polling has not started yet: try again in a moment
            await asyncio.sleep(0.05)


async def run_bot(settings: Settings, *, stop_event: asyncio.Event | None = None,
                  install_signals: bool = True) -> int:
    """Run until SIGINT/SIGTERM (or until `stop_event` is set); returns the exit code."""
    if settings.bot_token is None:
        print("BOT_TOKEN is not set: put the token from @BotFather into BOT_TOKEN (environment or .env) "
              "and run again", file=sys.stderr)
        return 2
    services = await build_services(settings)
    i18n = I18n()
    bot = create_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url)
    stop_event = stop_event or asyncio.Event()
    sender_task: asyncio.Task[None] | None = None
    watcher: asyncio.Task[None] | None = None
    stop_scheduler: Stopper | None = None
    try:
        me = await bot.get_me()
        if me.username:
            services.bot_username = me.username
        await set_commands(bot, i18n)
        dp = build_dispatcher(services, i18n)
        sender = OutboxSender(bot, services, i18n, rate=settings.send_rate)
        services.extras["sender"] = sender
        sender_task = asyncio.create_task(sender.run(stop_event), name="outbox-sender")
        stop_scheduler = await start_scheduler_if_available(services)
        if install_signals:
            _install_signal_handlers(stop_event)
        watcher = asyncio.create_task(_stop_when_set(dp, stop_event), name="stop-watcher")
        log.info("bot @%s is polling", services.bot_username)
        await dp.start_polling(bot, handle_signals=False,
                               allowed_updates=dp.resolve_used_update_types())
        return 0
    finally:
        stop_event.set()
        if install_signals:
            _remove_signal_handlers()
        if watcher is not None:
            watcher.cancel()
        if sender_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await sender_task
        if stop_scheduler is not None:
            try:
                await stop_scheduler()
            except Exception:  # stopping must go on whatever the scheduler does
                log.exception("scheduler: shutdown failed")
        await bot.session.close()
        await services.db.dispose()
