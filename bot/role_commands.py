"""Each role's command menu (issue 16, "Roles").

Customers see the default list (all private chats, bot/runner.py `set_commands`). Every
staff member and owner gets a list of their own, `BotCommandScopeChat(chat_id=<their private
chat>)`, in Russian (no language code: the default) and in English (`en`), like the
customer's. It is set

* when a cashier joins (the invite accepted, handlers/staff.py `accept_invite`),
* deleted when they are revoked (handlers/staff.py `staff_revoke`): they fall back to the
  customer's default list,
* and at start-up for everyone (`start_sync`, a background task of `loyalty-bot run`), so
  a slow Telegram never holds polling; revoked members' lists are deleted there too, in case
  the deletion at revocation did not reach Telegram.

A Telegram fault here (a chat the bot has never seen, an outage) is one warning line, never a
traceback: the list is a convenience, and every staff and owner action re-checks the role on
the server anyway (bot/middlewares.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import BotCommand, BotCommandScopeChat
from sqlalchemy import select

from bot.i18n import I18n
from bot.services import Services
from models.kernel import Role, Staff

log = logging.getLogger(__name__)

STAFF_COMMANDS: tuple[str, ...] = ("start", "sale", "refund", "me", "card", "help", "cancel")
OWNER_COMMANDS: tuple[str, ...] = (
    "start", "owner", "report", "staff", "program", "campaigns", "promocodes", "broadcast", "broadcasts",
    "find", "import", "export", "audit", "api", "sale", "refund", "me", "card", "help", "cancel")
# (locale, language_code) of each list, as bot/runner.py set_commands: Russian is the default.
LANGUAGES: tuple[tuple[str, str | None], ...] = (("ru", None), ("en", "en"))
MAX_RETRY_AFTER = 60  # seconds: a longer 429 wait is given up (one line), the next start tries again

OWNER = Role.OWNER.value
STAFF = Role.STAFF.value


def command_names(role: str) -> tuple[str, ...]:
    return OWNER_COMMANDS if role == OWNER else STAFF_COMMANDS


def commands(i18n: I18n, role: str, locale: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=i18n.get(locale, f"cmd-{name}")) for name in command_names(role)]


def _one_line(text: object) -> str:
    return " ".join(str(text).split())[:300]


async def _call(what: str, chat_id: int, call: Callable[[], Awaitable[Any]]) -> bool:
    """`call()`; a 429 waits once as asked; any other fault is one warning line and False."""
    for attempt in range(2):
        try:
            await call()
            return True
        except TelegramRetryAfter as exc:
            if attempt == 0 and exc.retry_after <= MAX_RETRY_AFTER:
                await asyncio.sleep(exc.retry_after)
                continue
            log.warning("role commands: %s for chat %s: Telegram asks to wait %s s; left as it was",
                        what, chat_id, exc.retry_after)
        except TelegramAPIError as exc:  # network errors too (TelegramNetworkError)
            log.warning("role commands: %s for chat %s failed: %s", what, chat_id, _one_line(exc.message))
            return False
    return False


async def set_for(bot: Bot, i18n: I18n, chat_id: int, role: str) -> bool:
    """The role's list in `chat_id`'s private chat, in every language; False if Telegram refused."""
    done = True
    for locale, code in LANGUAGES:
        listed = commands(i18n, role, locale)
        done = await _call("setMyCommands", chat_id, lambda listed=listed, code=code: bot.set_my_commands(  # type: ignore[misc]
            listed, scope=BotCommandScopeChat(chat_id=chat_id), language_code=code)) and done
    return done


async def clear_for(bot: Bot, chat_id: int) -> bool:
    """Delete the chat's own lists: the person sees the customer's default again."""
    done = True
    for _, code in LANGUAGES:
        done = await _call("deleteMyCommands", chat_id, lambda code=code: bot.delete_my_commands(  # type: ignore[misc]
            scope=BotCommandScopeChat(chat_id=chat_id), language_code=code)) and done
    return done


async def roles_now(services: Services) -> tuple[dict[int, str], set[int]]:
    """Who has a role now (telegram id -> "owner"/"staff", as bot/middlewares.py decides it:
    OWNER_IDS first, then an active staff row), and the revoked members who have none."""
    async with services.db.reading() as session:
        rows = (await session.execute(select(Staff.telegram_id, Staff.active)
                                      .where(Staff.telegram_id.is_not(None)))).all()
    roles: dict[int, str] = {tid: STAFF for tid, active in rows if active and tid is not None}
    roles.update({owner: OWNER for owner in services.settings.owner_ids})
    revoked = {tid for tid, active in rows if not active and tid is not None} - set(roles)
    return roles, revoked


async def sync_all(bot: Bot, services: Services, i18n: I18n) -> None:
    """Every current role's list set, every revoked member's deleted; one line at the end."""
    roles, revoked = await roles_now(services)
    failed = 0
    for chat_id, role in sorted(roles.items()):
        failed += not await set_for(bot, i18n, chat_id, role)
    for chat_id in sorted(revoked):
        failed += not await clear_for(bot, chat_id)
    log.info("role commands: %d staff and owners, %d revoked; %d not reached", len(roles), len(revoked), failed)


def start_sync(bot: Bot, services: Services, i18n: I18n,
               stop_event: asyncio.Event | None = None) -> asyncio.Task[None]:
    """`sync_all` in the background (start-up must not wait for it). It gives up when
    `stop_event` is set (polling closes the Bot's session as it stops); `stop_sync` cancels it."""
    async def run() -> None:
        work = asyncio.create_task(sync_all(bot, services, i18n))
        stopped = asyncio.create_task(stop_event.wait()) if stop_event is not None else None
        try:
            await asyncio.wait({work, *([stopped] if stopped else [])}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():
                log.info("role commands: stopping; the lists not set yet are set at the next start")
                work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        except Exception as exc:  # the database at start-up, say: the bot works without the lists
            log.warning("role commands: not set at start-up: %s", _one_line(f"{type(exc).__name__}: {exc}"))
        finally:
            work.cancel()
            if stopped is not None:
                stopped.cancel()

    return asyncio.create_task(run(), name="role-commands")


async def stop_sync(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


__all__ = ["LANGUAGES", "OWNER_COMMANDS", "STAFF_COMMANDS", "clear_for", "command_names", "commands", "roles_now",
           "set_for", "start_sync", "stop_sync", "sync_all"]
