"""The team: invites, joining, renaming, the staff list and revoking (DOMAIN.md, "Roles").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import new_referral_code
from models.kernel import audit
from models.kernel.context import Domain
from models.kernel.errors import DomainError, NotFound
from models.kernel.outbox import enqueue, message_payload
from models.kernel.tables import Role, Staff, StaffInvite
from models.till.access import NotAllowed, StaffActor, audit_in, require_staff

INVITE_VALIDITY = timedelta(hours=24)


class InviteNotFound(NotFound):
    code = "invite_not_found"


class InviteExpired(DomainError):
    code = "invite_expired"


class InviteUsed(DomainError):
    code = "invite_used"


class AlreadyStaff(DomainError):
    code = "already_staff"


class CannotRevokeOwner(DomainError):
    code = "cannot_revoke_owner"


@dataclass(frozen=True)
class Invite:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class StaffMember:
    id: int
    telegram_id: int | None
    display_name: str
    role: str
    active: bool
    referral_code: str | None


def _member(staff: Staff) -> StaffMember:
    return StaffMember(staff.id, staff.telegram_id, staff.display_name, staff.role.value, staff.active,
                       staff.referral_code)


async def create_invite(dom: Domain, actor: StaffActor, display_name: str = "") -> Invite:
    """A one-time invite valid 24 hours; only the owner may create one."""
    if not actor.is_owner:
        raise NotAllowed("only the owner invites staff")
    now = dom.clock.now()
    token = secrets.token_urlsafe(18)  # 24 characters of A–Z a–z 0–9 _ -: a valid deep link
    async with dom.db.transaction() as session:
        session.add(StaffInvite(token=token, created_by=actor.telegram_id or 0,
                                display_name=display_name[:100], created_at=now,
                                expires_at=now + INVITE_VALIDITY))
        audit_in(session, now, actor, "staff.invite", token[:6])
    return Invite(token, now + INVITE_VALIDITY)


async def _unique_staff_code(session: AsyncSession) -> str:
    for _ in range(20):
        code = new_referral_code()
        taken = (await session.execute(select(Staff.id).where(Staff.referral_code == code))).scalar()
        if taken is None:
            return code
    raise RuntimeError("could not find a free staff referral code")  # practically unreachable


async def accept_invite(dom: Domain, token: str, telegram_id: int, display_name: str) -> StaffMember:
    """Whoever opens the invite becomes staff; the token works once (a conditional update). The
    owner who created the invite is told (an outbox row in the same transaction)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        invite = await session.get(StaffInvite, token)
        if invite is None:
            raise InviteNotFound()
        if invite.used_at is not None:
            raise InviteUsed()
        if invite.expires_at <= now:
            raise InviteExpired()
        staff = (await session.execute(select(Staff).where(Staff.telegram_id == telegram_id))).scalar()
        if staff is not None and staff.active:
            raise AlreadyStaff()
        taken = await session.execute(
            update(StaffInvite).where(StaffInvite.token == token, StaffInvite.used_at.is_(None))
            .values(used_at=now, used_by=telegram_id).execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            raise InviteUsed()
        name = (invite.display_name or display_name or "—")[:100]
        if staff is None:
            staff = Staff(telegram_id=telegram_id, display_name=name, role=Role.STAFF, active=True,
                          referral_code=await _unique_staff_code(session), created_at=now)
            session.add(staff)
        else:  # re-hired after a revocation
            staff.active, staff.revoked_at, staff.display_name = True, None, name
            staff.referral_code = staff.referral_code or await _unique_staff_code(session)
        await session.flush()
        audit.record(session, now, "staff.join", actor_telegram_id=telegram_id, actor_role="staff",
                     target=f"staff:{staff.id}", details={"invited_by": invite.created_by})
        if invite.created_by:  # the owner who made the link hears of it, with the join or not at all
            await enqueue(session, invite.created_by, message_payload("staff-joined", args={"name": name}), now,
                          dedupe_key=f"staff-joined:{token}")
        return _member(staff)


async def rename_staff(dom: Domain, actor: StaffActor, name: str) -> StaffMember:
    """A staff member sets the name customers and reports see."""
    clean = " ".join(name.split())[:100]
    if not clean:
        raise NotAllowed("empty name")
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        staff = await require_staff(session, actor)
        staff.display_name = clean
        audit_in(session, now, actor, "staff.rename", f"staff:{staff.id}", name=clean)
        return _member(staff)


async def list_staff(dom: Domain, actor: StaffActor) -> list[StaffMember]:
    if not actor.is_owner:
        raise NotAllowed("only the owner lists staff")
    async with dom.db.reading() as session:
        rows = (await session.execute(
            select(Staff).where(Staff.active.is_(True)).order_by(Staff.role, Staff.id)
        )).scalars()
        return [_member(s) for s in rows]


async def revoke_staff(dom: Domain, actor: StaffActor, staff_id: int) -> StaffMember:
    """The owner revokes a member; the member's next update already sees no staff role."""
    if not actor.is_owner:
        raise NotAllowed("only the owner revokes staff")
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        staff = await session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"staff {staff_id}")
        if staff.role is Role.OWNER:
            raise CannotRevokeOwner()
        if staff.active:
            staff.active, staff.revoked_at = False, now
            audit_in(session, now, actor, "staff.revoke", f"staff:{staff.id}")
        return _member(staff)


async def ensure_staff_referral_code(dom: Domain, staff_id: int) -> str:
    """Every staff row gets a personal enrolment code (`e_<code>`; Attribution.staff_code)."""
    async with dom.db.transaction() as session:
        staff = await session.get(Staff, staff_id)
        if staff is None:
            raise NotFound(f"staff {staff_id}")
        if staff.referral_code is None:
            staff.referral_code = await _unique_staff_code(session)
        return staff.referral_code
