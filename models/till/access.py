"""Who is acting at the till: the staff actor, the role re-checked on the server for every action,
the audit entry, and the rule that a cashier never rewards themselves (DOMAIN.md, "Roles").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel import audit
from models.kernel.context import Domain
from models.kernel.errors import DomainError, OwnAccount
from models.kernel.tables import Role, Staff, TelegramAccount


class NotAllowed(DomainError):
    """The actor's current role does not allow this (re-checked in the database)."""

    code = "not_allowed"


@dataclass(frozen=True)
class StaffActor:
    """The person acting, as the door saw them; re-checked against the database here."""

    telegram_id: int | None
    staff_id: int | None
    is_owner: bool = False

    @property
    def role(self) -> str:
        return Role.OWNER.value if self.is_owner else Role.STAFF.value


async def require_staff(session: AsyncSession, actor: StaffActor) -> Staff:
    """The actor's active staff row; a revoked member loses every action at once."""
    staff = await session.get(Staff, actor.staff_id) if actor.staff_id is not None else None
    return check_staff(staff, actor)


def check_staff(staff: Staff | None, actor: StaffActor) -> Staff:
    if staff is None or not staff.active or (
        actor.telegram_id is not None and staff.telegram_id not in (None, actor.telegram_id)
    ):
        raise NotAllowed("not active staff")
    return staff


def audit_in(session: AsyncSession, now: datetime, actor: StaffActor, action: str,
           target: str | None = None, **details: object) -> None:
    audit.record(session, now, action, actor_telegram_id=actor.telegram_id, actor_role=actor.role,
                 target=target, details={k: v for k, v in details.items() if v is not None})


async def audit_action(dom: Domain, actor: StaffActor, action: str, target: str | None = None,
                       **details: object) -> None:
    """An audit entry in its own transaction (for actions whose work ran in another one)."""
    async with dom.db.transaction() as session:
        audit_in(session, dom.clock.now(), actor, action, target, **details)


async def refuse_staff_button(dom: Domain, telegram_id: int, role: str, data: str) -> None:
    """Someone who is not (or no longer) staff pressed a till's button: nothing happens, it is audited."""
    async with dom.db.transaction() as session:
        audit.record(session, dom.clock.now(), "staff.callback_refused", actor_telegram_id=telegram_id,
                     actor_role=role, target=data[:80])


async def check_not_own_account(session: AsyncSession, customer_id: int, actor: StaffActor) -> None:
    """Staff never run operations on their own customer account (DOMAIN.md, "Roles")."""
    if actor.telegram_id is None:
        return
    linked = (await session.execute(
        select(TelegramAccount.customer_id).where(TelegramAccount.telegram_id == actor.telegram_id)
    )).scalar()
    if linked == customer_id:
        raise OwnAccount()
