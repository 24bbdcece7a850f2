"""`loyalty-bot run`: the bot in long-polling mode, with the outbox sender and the scheduler.

Start-up order: services (database, program) → Bot → getMe (the username goes into
`services.bot_username`, deep links need it) → setMyCommands in ru and en (the customer's
default list) → the outbox sender task (it takes the "outbox-sender" lease itself, so a
second process just waits) → each staff member's and owner's own command list in a
background task (bot/role_commands.py; polling does not wait for it) → the scheduler (if
the scheduler package provides `start_scheduler`) → polling.

SIGINT/SIGTERM stop polling; then the sender finishes the message in flight (so a normal
restart never leaves an ambiguous "sending" row, see bot/sender.py), the scheduler stops,
and the Bot session and the database are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from bot.app import create_bot, redis_problem
from bot.bootstrap import assemble
from bot.broadcast_progress import ensure_progress
from bot.config import Settings
from bot.i18n import I18n
from bot.role_commands import start_sync, stop_sync
from bot.sender import OutboxSender
from bot.services import Services, build_services

log = logging.getLogger(__name__)

# The customer's menu, also reachable by these commands (handlers/common.py, handlers/customer.py).
MENU_COMMANDS = ("start", "card", "balance", "certificates", "promo", "invite", "review", "settings", "help",
                 "cancel")


# Start-up calls to Telegram that fail for a reason that passes (no network yet, Telegram's 5xx,
# a 429) are retried after 1, 2, 4 ... seconds, at most STARTUP_MAX_RETRY apart, for as long as
# it takes (or until SIGTERM): one warning line per attempt, never a traceback.
STARTUP_FIRST_RETRY = 1.0
STARTUP_MAX_RETRY = 60.0


class StartupError(Exception):
    """Start-up cannot go on (the token is refused, Telegram rejects a call for good); the message
    is one line for the operator."""


class StartupCancelled(Exception):
    """Stopped (SIGTERM, the stop event) while waiting to retry a start-up call."""


T = TypeVar("T")


async def _wait_or_stop(stop_event: asyncio.Event | None, seconds: float) -> None:
    if stop_event is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), seconds)
    if stop_event.is_set():
        raise StartupCancelled()


async def telegram_call(what: str, call: Callable[[], Awaitable[T]], *, stop_event: asyncio.Event | None = None,
                        api_url: str = "Telegram") -> T:
    """`call()`, retried with backoff while Telegram is unreachable or failing for a moment.

    A refused token is StartupError at once; any other refusal (a 4xx) is StartupError too:
    retrying the same request cannot change Telegram's answer.
    """
    delay = STARTUP_FIRST_RETRY
    while True:
        try:
            return await call()
        except TelegramUnauthorizedError:
            raise StartupError("Telegram refused BOT_TOKEN (401 Unauthorized): check the token from @BotFather "
                               "(and TELEGRAM_API_URL)") from None
        except TelegramRetryAfter as exc:
            wait, reason = float(exc.retry_after), f"Telegram asks to wait {exc.retry_after} s (429)"
        except TelegramNetworkError as exc:
            wait, reason = delay, f"Telegram is unreachable at {api_url} ({_one_line(exc.message)})"
        except TelegramServerError as exc:
            wait, reason = delay, f"Telegram answered {_one_line(exc.message)}"
        except TelegramAPIError as exc:
            raise StartupError(f"Telegram refused {what}: {_one_line(exc.message)}") from None
        log.warning("start-up: %s: %s; retrying in %.0f s", what, reason, wait)
        await _wait_or_stop(stop_event, wait)
        delay = min(delay * 2, STARTUP_MAX_RETRY)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


async def set_commands(bot: Bot, i18n: I18n, *, stop_event: asyncio.Event | None = None,
                       api_url: str = "Telegram") -> None:
    """The command menu in Russian (default, no language code) and in English. Transient errors
    are retried; a refusal leaves the menu as it was, with a warning (the bot works without it)."""
    for locale, language_code in (("ru", None), ("en", "en")):
        commands = [BotCommand(command=name, description=i18n.get(locale, f"cmd-{name}"))
                    for name in MENU_COMMANDS]
        try:
            await telegram_call(
                "setMyCommands",
                lambda commands=commands, code=language_code: bot.set_my_commands(  # type: ignore[misc]
                    commands, scope=BotCommandScopeAllPrivateChats(), language_code=code),
                stop_event=stop_event, api_url=api_url)
        except StartupError as exc:
            log.warning("start-up: the command menu (%s) was not set: %s", locale, exc)


Stopper = Callable[[], Awaitable[None]]


async def start_up(bot: Bot, services: Services, i18n: I18n, *, storage: BaseStorage | None = None,
                   stop_event: asyncio.Event | None = None, **sender_options: Any) -> tuple[Dispatcher, OutboxSender]:
    """What production (`run_bot`) and the sandbox do before polling: the bot's own username,
    the command menu, then `bot.bootstrap.assemble` (the dispatcher with every router, and the
    outbox sender on `services.sender`, not started: the caller runs it under its stop event).
    Telegram's transient failures are retried (see `telegram_call`) until `stop_event` is set."""
    api_url = services.settings.telegram_api_url
    me = await telegram_call("getMe", bot.me, stop_event=stop_event, api_url=api_url)  # cached: polling asks too
    if me.username:
        services.bot_username = me.username
    await set_commands(bot, i18n, stop_event=stop_event, api_url=api_url)
    assembly = assemble(services, bot, i18n, storage=storage, **sender_options)
    assert assembly.sender is not None
    return assembly.dp, assembly.sender


PLACEHOLDER_POLICY_HOSTS = ("example.com", "example.org", "example.net")


def policy_warning(settings: Settings, program_url: str) -> str | None:
    """One line for the operator when customers would be asked for consent without a real
    privacy-policy link: none at all, or the presets' example.com placeholder. A business must
    set PRIVACY_POLICY_URL (or business.policy_url) before it goes live."""
    url = settings.policy_url(program_url)
    if not url:
        return ("PRIVACY_POLICY_URL is not set and the program has no policy_url: customers are asked "
                "for consent without a link to your privacy policy; set it before going live")
    host = url.split("://", 1)[-1].split("/", 1)[0].lower()
    if host in PLACEHOLDER_POLICY_HOSTS or host.endswith(tuple("." + h for h in PLACEHOLDER_POLICY_HOSTS)):
        return (f"the privacy policy link is a placeholder ({url}): set PRIVACY_POLICY_URL to your own "
                "policy before going live")
    return None


async def start_scheduler(services: Services) -> Stopper:
    """THE one place the scheduler is started; returns its async stop function."""
    from scheduler.service import start_scheduler as start

    scheduler = start(services)

    async def stop() -> None:
        scheduler.shutdown(wait=False)

    return stop


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
                  install_signals: bool = True, services: Services | None = None) -> int:
    """Run until SIGINT/SIGTERM (or until `stop_event` is set); returns the exit code.

    One process serves everything the settings ask for: the bot (long polling, or Telegram's
    webhook when WEBHOOK_URL is set), the HTTP server (partner API, /healthz, /metrics, the
    webhook), the outbox sender and the scheduler (both under leases, so several processes
    can share one database and only one of each runs).

    `services` replaces `build_services(settings)` (the horizon test's bot process passes one
    on the business clock); run_bot closes its database on the way out either way.
    """
    if settings.bot_token is None:
        print("BOT_TOKEN is not set: put the token from @BotFather into BOT_TOKEN (environment or .env) "
              "and run again", file=sys.stderr)
        return 2
    if settings.redis_url and (problem := await redis_problem(settings.redis_url)) is not None:
        print(f"REDIS_URL is set but Redis does not answer ({problem}): start Redis or fix REDIS_URL",
              file=sys.stderr)
        return 2
    services = services or await build_services(settings)
    i18n = I18n()
    bot = create_bot(settings.bot_token.get_secret_value(), settings.telegram_api_url)
    stop_event = stop_event or asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    stop_scheduler: Stopper | None = None
    role_commands: asyncio.Task[None] | None = None
    api_url = settings.telegram_api_url
    if install_signals:  # before Telegram is asked anything: SIGTERM also stops a start-up retrying
        _install_signal_handlers(stop_event)
    try:
        from models.program import program_in_force

        _, program = await program_in_force(services.dom)
        if (warning := policy_warning(settings, program.business.policy_url)) is not None:
            log.warning("%s", warning)
        dp, sender = await start_up(bot, services, i18n, stop_event=stop_event)
        tasks.append(asyncio.create_task(sender.run(stop_event), name="outbox-sender"))
        role_commands = start_sync(bot, services, i18n, stop_event)  # staff and owners' own lists, in the background
        # Broadcasts under way before a restart get their live progress message back at once.
        ensure_progress(services, bot)
        stop_scheduler = await start_scheduler(services)
        http = asyncio.create_task(_serve_http(services, dp, bot, stop_event), name="http")
        tasks.append(http)
        if settings.webhook_url:
            from bot.http.webhook import webhook_secret

            await telegram_call("setWebhook", lambda: bot.set_webhook(
                settings.webhook_url or "", secret_token=webhook_secret(settings),
                allowed_updates=dp.resolve_used_update_types(), drop_pending_updates=False),
                stop_event=stop_event, api_url=api_url)
            log.info("bot @%s receives updates by webhook at %s", services.bot_username, settings.webhook_url)
            await stop_event.wait()
            return 2 if http.done() and http.result() is False else 0
        tasks.append(asyncio.create_task(_stop_when_set(dp, stop_event), name="stop-watcher"))
        await telegram_call("deleteWebhook", lambda: bot.delete_webhook(drop_pending_updates=False),
                            stop_event=stop_event, api_url=api_url)
        log.info("bot @%s is polling", services.bot_username)
        await dp.start_polling(bot, handle_signals=False,
                               allowed_updates=dp.resolve_used_update_types())
        return 0
    except StartupCancelled:
        log.info("stopped before start-up finished")
        return 0
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        stop_event.set()
        if install_signals:
            _remove_signal_handlers()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                if task.get_name() == "stop-watcher":
                    task.cancel()
                await task
        await stop_sync(role_commands)
        if stop_scheduler is not None:
            try:
                await stop_scheduler()
            except Exception:  # stopping must go on whatever the scheduler does
                log.exception("scheduler: shutdown failed")
        await bot.session.close()
        await asyncio.to_thread(services.renderer.close)  # the report worker, if a report started one
        await services.db.dispose()


WEBHOOK_PORT_WAIT = 10.0  # seconds a webhook bot waits for its taken HTTP port before it gives up


async def _serve_http(services: Services, dp: Dispatcher, bot: Bot, stop_event: asyncio.Event) -> bool:
    """The HTTP server beside the bot; False if it could not be opened. A taken port is retried
    in the background (one warning line): a polling bot works meanwhile, and serves the partner
    API once the port is free; a webhook bot receives nothing without it, so after
    WEBHOOK_PORT_WAIT seconds it stops (exit 2) with one line."""
    from bot.http.app import build_app
    from bot.http.server import CannotServe, serve_http

    settings = services.settings
    app = build_app(services, dispatcher=dp, bot=bot)
    try:
        await serve_http(app, settings.http_host, settings.http_port, stop_event,
                         give_up_after=WEBHOOK_PORT_WAIT if settings.webhook_url else None)
    except CannotServe as exc:
        if settings.webhook_url:
            print(f"error: {exc}; a webhook bot cannot receive updates without it", file=sys.stderr)
            stop_event.set()
        else:
            log.error("%s; the bot works, the HTTP API (partner API, /healthz, /metrics) is off", exc)
        return False
    return True
