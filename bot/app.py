"""The Bot, the Dispatcher and its routers (put together by bot/bootstrap.py `assemble`).

Routers are included in a fixed order: owner and staff handlers see an update before the
customer's, and the fallback router (last) answers anything nobody else handled.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation

from bot.i18n import I18n
from bot.middlewares import ActorMiddleware, SkipRepeatedUpdates
from bot.services import Services
from bot.telegram_session import BotSession

log = logging.getLogger(__name__)



def area_routers() -> tuple[Router, ...]:
    """Every area's router, in the order they see an update."""
    from handlers import common, customer, fallback, owner, owner_reports, role_keys, staff

    return (
        common.router,  # /cancel, /help, language — work in every state
        role_keys.router,  # the till's keyboard (staff, owners): a key wins over any conversation step
        owner.router,
        owner_reports.router,  # /report
        staff.router,
        customer.router,
        fallback.router,  # must stay last
    )


def _detach(router: Router) -> Router:
    """The routers are module globals and aiogram lets a router have one parent: a new
    Dispatcher in the same process (a test, a sandbox reset) takes them from the previous one,
    which must no longer be running."""
    parent = router.parent_router
    if parent is not None:
        if router in parent.sub_routers:
            parent.sub_routers.remove(router)
        router._parent_router = None
    return router


def create_bot(token: str, api_url: str) -> Bot:
    session = BotSession(api=TelegramAPIServer.from_base(api_url))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


FSM_TTL = timedelta(days=1)


def create_storage(redis_url: str | None) -> BaseStorage:
    """FSM state in Redis when several bot processes share the work, else in memory. The keys
    carry the bot's id (`fsm:<bot id>:<chat>:<user>:...`): several businesses' bots may share
    one Redis without one bot seeing a conversation the user has with another. A conversation
    left half-way expires FSM_TTL after it was last written instead of staying for ever."""
    if redis_url:
        from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage

        return RedisStorage.from_url(redis_url, key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
                                     state_ttl=FSM_TTL, data_ttl=FSM_TTL)
    return MemoryStorage()


REDIS_START_TIMEOUT = 10.0  # seconds


async def redis_problem(redis_url: str, seconds: float = REDIS_START_TIMEOUT) -> str | None:
    """None if Redis at `redis_url` answers PING within `seconds`, else why not. The
    runner refuses to start without it: every update would fail on the per-user lock; /healthz
    reports it."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url, socket_connect_timeout=seconds, socket_timeout=seconds)
    try:
        await asyncio.wait_for(client.ping(), seconds)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        await client.aclose()
    return None


def create_isolation(storage: BaseStorage) -> BaseEventIsolation:
    """One update at a time per user and chat: two taps or messages arriving together are
    handled one after the other, each seeing the FSM state the previous one left. A Redis lock
    when the state is in Redis (several bot processes), an in-process lock otherwise."""
    from aiogram.fsm.storage.redis import RedisStorage

    if isinstance(storage, RedisStorage):
        return storage.create_isolation()
    return SimpleEventIsolation()


UPDATE_SEEN_TTL = timedelta(days=1)  # Telegram gives up on an update well within a day


def create_dispatcher(storage: BaseStorage) -> Dispatcher:
    """A Dispatcher on `storage` with its events isolation; with Redis (several processes, a
    webhook) an update Telegram delivers again after it was handled is skipped."""
    from aiogram.fsm.storage.redis import RedisStorage

    dp = Dispatcher(storage=storage, events_isolation=create_isolation(storage))
    if isinstance(storage, RedisStorage):
        # Registered after the FSM middleware, so it runs inside the per-user lock.
        prefix = getattr(storage.key_builder, "prefix", "fsm")
        dp.update.outer_middleware(SkipRepeatedUpdates(storage.redis, prefix, UPDATE_SEEN_TTL))
    return dp


def build_dispatcher(services: Services, i18n: I18n | None = None,
                     storage: BaseStorage | None = None) -> Dispatcher:
    i18n = i18n or I18n()
    storage = storage or create_storage(services.settings.redis_url)
    dp = create_dispatcher(storage)
    dp["i18n"] = i18n
    dp.update.outer_middleware(ActorMiddleware(services, i18n))
    for router in area_routers():
        dp.include_router(_detach(router))
    return dp
