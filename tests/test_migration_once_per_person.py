"""Migration 4d8a1f6c3b27 rewrites the once-only claims an old database holds from customer ids
to person keys (issue 14 §3): the claims made before the upgrade keep blocking after it when the
customer erases their data and registers again with the same phone, and the referrer recorded
before the upgrade stays fixed for the phone. No phone needs to be known to anyone but the
migration, which keys them as models/kernel/phone_key.py does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from migrations.runner import upgrade_head
from models.automation.jobs import birthday_certificates
from models.customers.accounts import (
    Attribution,
    Registration,
    _referrer_for,
    erase_customer,
    register_customer,
)
from models.customers.reviews import review_status, site_key
from models.kernel.claims import phone_person_key
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.tables import Campaign, Customer, Lot, LotKind, RewardClaim
from models.program.rules import Program
from models.program.store import ensure_program
from models.purchase.purchases import PurchaseRequest, commit_purchase
from tests.conftest import drop_schema, make_database
from tests.helpers import assert_invariants

BEFORE = "9c2e4a6b8d10"
ANNA, BORIS, CARL, IRA = "+79161120001", "+79161120002", "+79161120003", "+79161120004"


def _old_code(patch: pytest.MonkeyPatch) -> None:
    """What the code before this change keyed the claims by: the customer id; no referrer record."""
    async def by_id(_session: Any, customer_id: int) -> str:
        return str(customer_id)

    async def link_only(session: Any, code: str | None, telegram_id: int, phone: str, customer_id: int | None,
                        _now: Any) -> int | None:
        return await _referrer_for(session, code, telegram_id, phone, customer_id)

    for module in ("models.purchase.purchases", "models.campaigns.certificates", "models.customers.reviews"):
        patch.setattr(f"{module}.person_key", by_id)
    patch.setattr("models.automation.jobs.person_key_for", lambda customer_id, _phone: str(customer_id))
    patch.setattr("models.customers.accounts._fixed_referrer", link_only)


async def test_id_keyed_claims_become_person_keys(backend: str, tmp_path: Path, clock: ManualClock,
                                                  case_a: Program, monkeypatch: pytest.MonkeyPatch) -> None:
    program = case_a.model_copy(update={"referral": case_a.referral.model_copy(update={"first_purchase_points": 300})})
    db, schema = await make_database(backend, tmp_path)
    try:
        await upgrade_head(db.url, db, revision=BEFORE)
        dom = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
        await ensure_program(dom, program)
        today = clock.now().astimezone(dom.tz).date()
        birthday = today.replace(year=1990)
        with monkeypatch.context() as old:
            _old_code(old)
            boris = await register_customer(dom, Registration(telegram_id=2, phone=BORIS, name="Борис"))
            carl = await register_customer(dom, Registration(telegram_id=3, phone=CARL, name="Карл"))
            async with db.reading() as session:
                codes = {c.id: c.referral_code for c in (await session.execute(select(Customer))).scalars()}
            anna = await register_customer(dom, Registration(
                telegram_id=1, phone=ANNA, name="Анна", birthday=birthday,
                attribution=Attribution(referral_code=codes[boris.customer_id], campaign_code="partner1")))
            assert anna.referrer_id == boris.customer_id and anna.campaign_points == 500
            await commit_purchase(dom, PurchaseRequest(customer_id=anna.customer_id, amount_kopecks=100_000))
            ira = await register_customer(dom, Registration(telegram_id=4, phone=IRA, name="Ира", birthday=birthday,
                                                            attribution=Attribution(campaign_code="partner1")))
            async with db.transaction() as session:  # a review paid by the old code
                session.add(RewardClaim(kind="review", subject=str(anna.customer_id), period=site_key("2GIS"),
                                        created_at=clock.now()))
            assert (await birthday_certificates(dom, today)).issued == 2
            await erase_customer(dom, ira.customer_id)
        async with db.reading() as session:
            campaign_id = (await session.execute(select(Campaign.id).where(Campaign.code == "partner1"))).scalar_one()
            before = {(c.kind, c.subject, c.period) for c in (await session.execute(select(RewardClaim))).scalars()
                      if c.kind != "welcome"}
        a, i = str(anna.customer_id), str(ira.customer_id)
        assert before == {("referral_first", a, ""), ("campaign", a, str(campaign_id)), ("review", a, "2gis"),
                          ("birthday", a, str(today.year)), ("campaign", i, str(campaign_id)),
                          ("birthday", i, str(today.year))}

        await upgrade_head(db.url, db)

        async with db.reading() as session:
            after = {(c.kind, c.subject, c.period) for c in (await session.execute(select(RewardClaim))).scalars()
                     if c.kind != "welcome"}
        p = phone_person_key(ANNA)
        assert after == {("referral_first", p, ""), ("campaign", p, str(campaign_id)), ("review", p, "2gis"),
                         ("birthday", p, str(today.year)), ("referrer", p, str(boris.customer_id)),
                         # an erased customer's claims stay: no phone is left, and they claim nothing again
                         ("campaign", i, str(campaign_id)), ("birthday", i, str(today.year))}
        assert not any(ANNA[1:] in subject for _, subject, _ in after)

        # With the new code: Anna erases her data and comes back through Carl's link.
        await erase_customer(dom, anna.customer_id)
        clock.advance(timedelta(hours=1))
        again = await register_customer(dom, Registration(
            telegram_id=1, phone=ANNA, name="Анна", birthday=birthday,
            attribution=Attribution(referral_code=codes[carl.customer_id], campaign_code="partner1")))
        assert again.referrer_id == boris.customer_id and again.campaign_points == 0
        bought = await commit_purchase(dom, PurchaseRequest(customer_id=again.customer_id, amount_kopecks=100_000))
        async with db.reading() as session:
            paid = {cid: total for cid, total in (await session.execute(
                select(Lot.customer_id, func.sum(Lot.amount)).where(Lot.operation_id == bought.operation_id,
                                                                    Lot.kind == LotKind.REFERRAL)
                .group_by(Lot.customer_id))).all()}
        assert 0 < paid[boris.customer_id] < 300 and carl.customer_id not in paid
        assert await review_status(dom, again.customer_id, "2GIS") == "rewarded"
        assert (await birthday_certificates(dom, today)).issued == 0
        await assert_invariants(dom)
    finally:
        await db.dispose()
        if schema:
            await drop_schema(schema)
