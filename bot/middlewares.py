"""Update middlewares: who is acting (re-checked on every update), their language, errors.

Roles are read from the database (and OWNER_IDS) for every update, so revoking a staff
member takes effect at once and no button or callback can carry a role with it
(DOMAIN.md, "Roles").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import Chat, TelegramObject, User
from sqlalchemy import and_, select, update

from bot.i18n import I18n, resolve_locale
from bot.services import Services
from models.customers import touch_account
from models.kernel import Role, Staff, TelegramAccount

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """The person behind an update, as the database sees them right now."""

    telegram_id: int
    first_name: str
    role: str  # "owner", "staff" or "customer"
    staff_id: int | None
    staff_name: str | None
    customer_id: int | None
    locale: str

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER.value

    @property
    def is_staff(self) -> bool:
        """Staff or owner: both may work at the till."""
        return self.role in (Role.OWNER.value, Role.STAFF.value)


async def load_actor(services: Services, user: User, *, in_private_chat: bool = False) -> Actor:
    now = services.dom.clock.now()
    async with services.db.reading() as session:
        # One statement for everyone who has written before (every update pays for it).
        known = (await session.execute(
            select(TelegramAccount, Staff)
            .outerjoin(Staff, and_(Staff.telegram_id == TelegramAccount.telegram_id, Staff.active.is_(True)))
            .where(TelegramAccount.telegram_id == user.id).limit(1)
        )).first()
        account, staff = known if known is not None else (None, None)
        if account is None:  # a newcomer (or an owner-added staff member's first message)
            staff = (await session.execute(
                select(Staff).where(Staff.telegram_id == user.id, Staff.active.is_(True))
            )).scalar()
    if account is None:
        async with services.db.transaction() as session:
            account = await touch_account(session, user.id, user.first_name, user.username,
                                          None, now)
    elif account.unreachable and in_private_chat:
        # A 403 marked them unreachable; writing to the bot in private means they unblocked
        # it ("Restart" sends /start), so notifications may reach them again.
        async with services.db.transaction() as session:
            await session.execute(update(TelegramAccount).where(TelegramAccount.telegram_id == user.id)
                                  .values(unreachable=False))
    is_owner = user.id in services.settings.owner_ids
    if is_owner and staff is None:
        staff = await ensure_owner_staff(services, user)
    role = Role.OWNER.value if is_owner else (Role.STAFF.value if staff is not None else "customer")
    return Actor(
        telegram_id=user.id,
        first_name=user.first_name,
        role=role,
        staff_id=staff.id if staff is not None else None,
        staff_name=staff.display_name if staff is not None else None,
        customer_id=account.customer_id,
        locale=resolve_locale(user.language_code, account.language),
    )


async def ensure_owner_staff(services: Services, user: User) -> Staff:
    """Owners work at the till too; their operations are recorded under a staff row."""
    now = services.dom.clock.now()
    async with services.db.transaction() as session:
        staff = (await session.execute(select(Staff).where(Staff.telegram_id == user.id))).scalar()
        if staff is None:
            staff = Staff(telegram_id=user.id, display_name=user.full_name[:100] or "Owner",
                          role=Role.OWNER, created_at=now)
            session.add(staff)
        else:
            staff.active, staff.revoked_at, staff.role = True, None, Role.OWNER
        await session.flush()
        return staff


class ActorMiddleware(BaseMiddleware):
    """Injects `services`, `dom`, `settings`, `actor` and `t` (a Translator) into handlers."""

    def __init__(self, services: Services, i18n: I18n) -> None:
        self.services = services
        self.i18n = i18n

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        data["services"] = self.services
        data["dom"] = self.services.dom
        data["settings"] = self.services.settings
        data["i18n"] = self.i18n
        if user is None or user.is_bot:
            data["t"] = self.i18n.translator(resolve_locale(None, None))
            data["actor"] = None
            return await handler(event, data)
        chat: Chat | None = data.get("event_chat")
        actor = await load_actor(self.services, user,
                                 in_private_chat=chat is not None and chat.type == "private" and chat.id == user.id)
        data["actor"] = actor
        data["t"] = self.i18n.translator(actor.locale)
        return await handler(event, data)


class SkipRepeatedUpdates(BaseMiddleware):
    """Telegram delivers a webhook update again when our answer came late (a slow handler, a
    slow lock): an update already handled in full, by this process or another, is skipped.
    Runs inside the per-user lock, so a repeat that arrives while the first delivery is still
    being handled waits for it and then sees it done. An update whose handling did not finish
    (the process died) is not marked, so its redelivery is handled."""

    def __init__(self, redis: Any, prefix: str, ttl: timedelta) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        update_id = getattr(event, "update_id", None)
        bot = data.get("bot")
        if update_id is None or bot is None:
            return await handler(event, data)
        key = f"{self.prefix}:{bot.id}:update:{update_id}"
        if await self.redis.exists(key):
            log.info("update %s was handled already (a redelivery); skipped", update_id)
            return UNHANDLED
        result = await handler(event, data)
        await self.redis.set(key, 1, ex=self.ttl)
        return result
