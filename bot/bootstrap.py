"""The one place the bot's pieces are put together (docs/ARCHITECTURE.md, "Assembly").

`assemble` takes the process's `Services` (bot/services.py `build_services`, or built in
code by the sandbox and the tests) and gives back the Dispatcher with every area's router
and the outbox sender, registered on `services.sender` (not started: the caller runs it
under its stop event). The runner (`loyalty-bot run`, bot/runner.py), the sandbox
(sandbox/world.py) and the tests' bot harness (tests/bot/conftest.py) all call it, so what
the tests drive is what production runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage

from bot.app import build_dispatcher
from bot.i18n import I18n
from bot.sender import OutboxSender
from bot.services import Services


@dataclass
class Assembly:
    dp: Dispatcher
    sender: OutboxSender | None  # None when assembled without one (`with_sender=False`)


def assemble(services: Services, bot: Bot, i18n: I18n, *, storage: BaseStorage | None = None,
             with_sender: bool = True, **sender_options: Any) -> Assembly:
    """The Dispatcher (every router, the actor middleware, FSM `storage` or the settings'
    default) and, unless `with_sender=False`, the outbox sender at the settings' SEND_RATE
    (`sender_options` go to OutboxSender: per_chat_interval, poll_interval...)."""
    dp = build_dispatcher(services, i18n, storage)
    sender = None
    if with_sender:
        options = {"rate": services.settings.send_rate,
                   "group_per_minute": services.settings.group_messages_per_minute} | sender_options
        sender = OutboxSender(bot, services, i18n, **options)
        services.sender = sender
    return Assembly(dp=dp, sender=sender)


__all__ = ["Assembly", "assemble"]
