"""Fixtures for the staff area: an owner and an enrolled cashier on the `dom` fixture."""

from __future__ import annotations

import pytest

from models.kernel.context import Domain
from models.kernel.tables import Role, Staff
from models.till.access import StaffActor
from models.till.team import accept_invite, create_invite

OWNER_TG = 500
CASHIER_TG = 501


async def make_owner(dom: Domain, telegram_id: int = OWNER_TG) -> StaffActor:
    async with dom.db.transaction() as session:
        staff = Staff(telegram_id=telegram_id, display_name="Owner", role=Role.OWNER, created_at=dom.clock.now())
        session.add(staff)
        await session.flush()
        return StaffActor(telegram_id=telegram_id, staff_id=staff.id, is_owner=True)


async def make_cashier(dom: Domain, owner: StaffActor, telegram_id: int = CASHIER_TG,
                       name: str = "Мария") -> StaffActor:
    invite = await create_invite(dom, owner)
    member = await accept_invite(dom, invite.token, telegram_id, name)
    return StaffActor(telegram_id=telegram_id, staff_id=member.id)


@pytest.fixture
async def owner(dom: Domain) -> StaffActor:
    return await make_owner(dom)


@pytest.fixture
async def cashier(dom: Domain, owner: StaffActor) -> StaffActor:
    return await make_cashier(dom, owner)


# The end-to-end harness of the customer area, re-exported for the staff tests.
from tests.bot.conftest import BotEnv, botenv  # noqa: E402,F401
