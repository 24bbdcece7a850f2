"""Housekeeping of the till's server-side state: unanswered phone confirmations expire,
finished checkouts are forgotten after a day, anything still open is kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.automation.jobs import housekeeping
from models.kernel.context import Domain
from models.kernel.tables import CheckoutQuote, PhoneConfirmation, Role, Staff
from tests.helpers import register


async def test_stale_checkouts_are_cleaned(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    customer = await register(dom)
    now = clock.now()
    async with dom.db.transaction() as s:
        staff = Staff(telegram_id=1, display_name="Кассир", role=Role.STAFF, created_at=now)
        s.add(staff)
        await s.flush()

        def quote(minutes_left: int) -> CheckoutQuote:
            return CheckoutQuote(staff_id=staff.id, customer_id=customer, amount_kopecks=100_000, found_by="phone",
                                 created_at=now, expires_at=now + timedelta(minutes=minutes_left))

        old, asked, fresh = quote(30), quote(30), quote(60 * 72)
        s.add_all([old, asked, fresh])
        await s.flush()
        s.add(PhoneConfirmation(quote_id=asked.id, staff_id=staff.id, customer_id=customer, amount_kopecks=100_000,
                                points=10, created_at=now, expires_at=now + timedelta(minutes=5)))
        ids = (old.id, asked.id, fresh.id)
    clock.advance(timedelta(days=2))
    done = await housekeeping(dom)
    assert done["checkouts"] >= 2
    async with dom.db.reading() as s:
        left = set((await s.execute(select(CheckoutQuote.id))).scalars())
        statuses = list((await s.execute(select(PhoneConfirmation.status))).scalars())
    assert ids[0] not in left and ids[2] in left
    # the answered-late confirmation is now expired, and with its quote gone after another day
    assert statuses in ([], ["expired"])
    clock.advance(timedelta(days=2))
    await housekeeping(dom)
    async with dom.db.reading() as s:
        assert list((await s.execute(select(PhoneConfirmation.id))).scalars()) == []
        assert ids[1] not in set((await s.execute(select(CheckoutQuote.id))).scalars())
