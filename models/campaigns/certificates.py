"""Certificates and campaigns (DOMAIN.md, "Certificates and campaigns").

A certificate is a lot of kind CERTIFICATE with its own cap and validity.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.claims import claim_once, person_key
from models.kernel.context import Domain
from models.kernel.errors import CampaignUnavailable
from models.kernel.outbox import notify_customer
from models.kernel.tables import Campaign, CertificateKind, LinkVisit, Lot, LotKind, Operation, OperationKind
from models.ledger import entries as ledger
from models.program.store import current_program


async def issue_certificate(
    session: AsyncSession,
    *,
    customer_id: int,
    kind: CertificateKind,
    points: int,
    max_redeem_percent: Decimal,
    validity_days: int,
    program_version: int,
    now: datetime,
    campaign_id: int | None = None,
    staff_id: int | None = None,
    comment: str = "",
    notify: bool = True,
) -> Lot | None:
    """The certificate lot and its operation; `notify=False` when the bot answers the customer
    itself in this very conversation (a promo code), so no second message goes out."""
    op = Operation(
        kind=OperationKind.REWARD, customer_id=customer_id, program_version=program_version,
        created_at=now, points_delta=points, staff_id=staff_id,
        comment=comment or f"certificate: {kind.value}",
    )
    session.add(op)
    await session.flush()
    lot = await ledger.grant(
        session, customer_id=customer_id, kind=LotKind.CERTIFICATE, amount=points,
        operation=op, now=now, validity_days=validity_days,
        max_redeem_percent=max_redeem_percent, certificate_kind=kind, campaign_id=campaign_id,
    )
    if lot is not None and notify:
        await notify_customer(
            session, customer_id, "notify-certificate", now,
            args={"kind": kind.value, "points": points,
                  "cap": str(max_redeem_percent), "expires": lot.expires_at.isoformat()
                  if lot.expires_at else ""},
        )
    return lot


async def grant_campaign_certificate(
    session: AsyncSession, customer_id: int, campaign: Campaign, program_version: int, now: datetime,
    *, strict: bool = False,
) -> Lot | None:
    """A campaign's certificate, at most once per person (phone, across erasure), within its
    limit and end date.

    A campaign that ran out gives nothing: None, or CampaignUnavailable when `strict`
    (an existing customer opening the link is told; a registration just goes on without it).
    """
    if not campaign.active or campaign.is_source or campaign.points <= 0:
        return None
    if campaign.ends_at is not None and campaign.ends_at <= now:
        return None
    try:
        async with session.begin_nested():  # the claim and the count stand or fall together
            if not await claim_once(session, "campaign", await person_key(session, customer_id), str(campaign.id),
                                    now=now):
                return None
            # The limit is a conditional update, so concurrent claims cannot exceed it.
            taken = await session.execute(
                update(Campaign)
                .where(Campaign.id == campaign.id,
                       or_(Campaign.issue_limit.is_(None), Campaign.issued_count < Campaign.issue_limit))
                .values(issued_count=Campaign.issued_count + 1)
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise CampaignUnavailable("limit reached")
    except CampaignUnavailable:
        if strict:
            raise
        return None
    return await issue_certificate(
        session, customer_id=customer_id, kind=CertificateKind.CAMPAIGN, points=campaign.points,
        max_redeem_percent=Decimal(campaign.max_redeem_percent),
        validity_days=campaign.validity_days, program_version=program_version, now=now,
        campaign_id=campaign.id, comment=f"campaign {campaign.code}",
    )


async def claim_campaign(dom: Domain, customer_id: int, code: str) -> Lot | None:
    """An existing customer opened a campaign link. None if nothing is due (already got it)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        version, _ = await current_program(session)
        campaign = (await session.execute(select(Campaign).where(Campaign.code == code))).scalar()
        if campaign is None or campaign.is_source:
            raise CampaignUnavailable("unknown")
        if not campaign.active or (campaign.ends_at is not None and campaign.ends_at <= now):
            raise CampaignUnavailable("ended")
        if campaign.issue_limit is not None and campaign.issued_count >= campaign.issue_limit:
            raise CampaignUnavailable("limit reached")
        return await grant_campaign_certificate(session, customer_id, campaign, version, now, strict=True)


async def record_link_visit(dom: Domain, code: str, telegram_id: int) -> Campaign | None:
    """The top of a campaign's funnel: the first time an account opened its link."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        campaign = (await session.execute(select(Campaign).where(Campaign.code == code))).scalar()
        if campaign is None:
            return None
        seen = (await session.execute(select(LinkVisit.id).where(
            LinkVisit.campaign_id == campaign.id, LinkVisit.telegram_id == telegram_id
        ))).scalar()
        if seen is None:
            session.add(LinkVisit(campaign_id=campaign.id, telegram_id=telegram_id, created_at=now))
        return campaign


async def owner_certificate(
    dom: Domain, customer_id: int, points: int, max_redeem_percent: Decimal, validity_days: int,
    staff_id: int | None = None,
) -> Lot | None:
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        version, _ = await current_program(session)
        return await issue_certificate(
            session, customer_id=customer_id, kind=CertificateKind.OWNER, points=points,
            max_redeem_percent=max_redeem_percent, validity_days=validity_days,
            program_version=version, now=now, staff_id=staff_id,
        )
