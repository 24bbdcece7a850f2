"""Ratings of purchases and rewarded reviews (DOMAIN.md, "Reviews and ratings").

* A rating (1–5) belongs to one purchase of the customer who rates it, once, and records
  the staff member of that purchase. A rating at or below `program.limits.low_rating`
  alerts the staff chat (an outbox row in the same transaction).
* A review claim is a screenshot of a review on one of `program.reviews` sites. It goes to
  the staff chat with Approve / Reject; approval pays the site's points once per person
  per site (`claim_once("review", person_key, site)`: the phone, across erasure) as a REWARD
  operation with a REVIEW lot.
  The customer is told either way. Every decision is audited.
* Nobody approves their own review: a staff member or the owner whose Telegram account is
  the claim's customer gets `OwnAccount` and nothing changes (docs/RULES.md, "Reviews");
  rejecting one's own claim is allowed (it pays nothing).
* Names and sites in outbox arguments are HTML-escaped by `models.kernel.outbox.message_payload`.

Framework-free: the doors (bot handlers) call these and translate the errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import get_customer
from models.kernel import audit
from models.kernel.claims import claim_once, is_claimed, person_key
from models.kernel.context import Domain
from models.kernel.db import lock_customer
from models.kernel.errors import DomainError, NotFound, OwnAccount
from models.kernel.outbox import enqueue, message_payload, notify_customer
from models.kernel.tables import (
    Customer,
    LotKind,
    Operation,
    OperationKind,
    OutboxMessage,
    Rating,
    ReviewClaim,
    ReviewStatus,
    Staff,
    TelegramAccount,
)
from models.ledger import entries as ledger
from models.program.store import current_program


class ReviewAlreadyRewarded(DomainError):
    code = "review_already_rewarded"


class ReviewPending(DomainError):
    code = "review_pending"


class UnknownReviewSite(NotFound):
    code = "review_site_unknown"


def site_key(site: str) -> str:
    """Sites are matched case-insensitively (models/program/rules.py `Program.review`)."""
    return site.strip().lower()


# --- ratings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RateResult:
    status: str  # "rated", "already", "not_found"
    low: bool = False


async def rate_purchase(dom: Domain, customer_id: int, operation_id: int, score: int, *,
                        staff_chat_id: int | None) -> RateResult:
    if not 1 <= score <= 5:
        return RateResult("not_found")
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        _, program = await current_program(session)
        op = await session.get(Operation, operation_id)
        if op is None or op.kind is not OperationKind.PURCHASE or op.customer_id != customer_id:
            return RateResult("not_found")
        exists = (await session.execute(select(Rating.id).where(Rating.operation_id == operation_id))).scalar()
        if exists is not None:
            return RateResult("already")
        try:
            async with session.begin_nested():
                session.add(Rating(operation_id=operation_id, customer_id=customer_id, staff_id=op.staff_id,
                                   score=score, created_at=now))
        except IntegrityError:  # the same purchase rated twice at once
            return RateResult("already")
        low = score <= program.limits.low_rating
        if low and staff_chat_id is not None:
            customer = await session.get(Customer, customer_id)
            staff = await session.get(Staff, op.staff_id) if op.staff_id is not None else None
            await enqueue(session, staff_chat_id, {
                **message_payload("notify-staff-low-rating", {
                    "score": score, "name": (customer.name if customer else None) or "—",
                    "customer": str(customer_id),
                    "operation": str(operation_id), "amount": op.amount_kopecks,
                    "staff": staff.display_name if staff is not None else "—"}),
            }, now)
        return RateResult("rated", low)


MAX_RATING_COMMENT = 1000  # characters of "what went wrong" forwarded to the staff chat


async def comment_on_rating(dom: Domain, customer_id: int, operation_id: int, text: str, *,
                            staff_chat_id: int | None) -> bool:
    """After a low rating the customer says what went wrong: forwarded to the staff chat
    through the outbox, once per rating (a second message is not sent again). False when the
    customer has no low rating of that purchase."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        _, program = await current_program(session)
        rating = (await session.execute(select(Rating).where(
            Rating.operation_id == operation_id, Rating.customer_id == customer_id))).scalar()
        if rating is None or rating.score > program.limits.low_rating:
            return False
        key = f"rating-comment:{rating.id}"
        if staff_chat_id is None or (await session.execute(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))).scalar() is not None:
            return True
        customer = await session.get(Customer, customer_id)
        await enqueue(session, staff_chat_id, message_payload("notify-staff-rating-comment", {
            "score": rating.score, "name": (customer.name if customer else None) or "—",
            "customer": str(customer_id), "operation": str(operation_id),
            "text": " ".join(text.split())[:MAX_RATING_COMMENT]}), now, dedupe_key=key)
    return True


async def last_unrated_purchase(dom: Domain, customer_id: int) -> tuple[int, datetime] | None:
    """The customer's newest purchase without a rating: (operation id, when)."""
    async with dom.db.reading() as session:
        row = (await session.execute(
            select(Operation.id, Operation.created_at)
            .outerjoin(Rating, Rating.operation_id == Operation.id)
            .where(Operation.customer_id == customer_id, Operation.kind == OperationKind.PURCHASE,
                   Rating.id.is_(None))
            .order_by(Operation.id.desc()).limit(1)
        )).first()
    return (int(row[0]), row[1]) if row is not None else None


# --- review claims ------------------------------------------------------------------------


async def review_status(dom: Domain, customer_id: int, site: str) -> str:
    """"open" (may submit), "rewarded" (paid already) or "pending" (waiting for staff)."""
    async with dom.db.reading() as session:
        if await is_claimed(session, "review", await person_key(session, customer_id), site_key(site)):
            return "rewarded"
        pending = (await session.execute(select(ReviewClaim.id).where(
            ReviewClaim.customer_id == customer_id, ReviewClaim.site == site,
            ReviewClaim.status == ReviewStatus.PENDING))).scalar()
    return "pending" if pending is not None else "open"


async def submit_review(dom: Domain, customer_id: int, site: str, file_id: str, *,
                        staff_chat_id: int | None) -> int:
    """Record the screenshot and send it to the staff chat; returns the claim id."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        _, program = await current_program(session)
        review = program.review(site)
        if review is None:
            raise UnknownReviewSite(site)
        customer = await get_customer(session, customer_id)
        await lock_customer(session, customer_id)  # one claim at a time per customer
        if await is_claimed(session, "review", await person_key(session, customer_id),
                            site_key(review.key)):
            raise ReviewAlreadyRewarded(review.key)
        pending = (await session.execute(select(ReviewClaim.id).where(
            ReviewClaim.customer_id == customer_id, ReviewClaim.site == review.key,
            ReviewClaim.status == ReviewStatus.PENDING))).scalar()
        if pending is not None:
            raise ReviewPending(review.key)
        claim = ReviewClaim(customer_id=customer_id, site=review.key, file_id=file_id[:200], created_at=now)
        session.add(claim)
        await session.flush()
        if staff_chat_id is not None:
            payload = message_payload(
                "notify-staff-review",
                {"site": review.site, "name": customer.name or "—", "customer": customer_id,
                 "points": review.points},
                {"kind": "review-decision", "claim_id": claim.id})
            payload["photo"] = file_id
            await enqueue(session, staff_chat_id, payload, now, dedupe_key=f"review-claim:{claim.id}")
        return claim.id


async def _check_not_own_review(session: AsyncSession, customer_id: int, telegram_id: int) -> None:
    """The approver's own customer account (their Telegram link) is the claim's: refused."""
    linked = (await session.execute(
        select(TelegramAccount.customer_id).where(TelegramAccount.telegram_id == telegram_id))).scalar()
    if linked == customer_id:
        raise OwnAccount("own review")


@dataclass(frozen=True)
class ReviewDecision:
    claim_id: int
    customer_id: int
    site: str
    status: str  # "approved" or "rejected"
    points: int  # paid by this decision (0: rejected, or the site was rewarded before)
    already_decided: bool = False


async def decide_review(dom: Domain, claim_id: int, *, approve: bool, actor_telegram_id: int,
                        actor_role: str, staff_id: int | None = None) -> ReviewDecision:
    """Approve (pay once per customer per site) or reject a pending claim; audited."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        claim = await session.get(ReviewClaim, claim_id, with_for_update=not dom.db.is_sqlite)
        if claim is None:
            raise NotFound(f"review claim {claim_id}")
        if claim.status is not ReviewStatus.PENDING:
            return ReviewDecision(claim.id, claim.customer_id, claim.site, claim.status.value,
                                  0, already_decided=True)
        if approve:
            await _check_not_own_review(session, claim.customer_id, actor_telegram_id)
        version, program = await current_program(session)
        await lock_customer(session, claim.customer_id)
        customer = await session.get(Customer, claim.customer_id)
        claim.decided_at, claim.decided_by = now, actor_telegram_id
        points = 0
        shown = program.review(claim.site)
        site = shown.site if shown is not None else claim.site  # read in the customer's language
        if not approve:
            claim.status = ReviewStatus.REJECTED
            await notify_customer(session, claim.customer_id, "notify-review-rejected", now,
                                  args={"site": site})
        else:
            claim.status = ReviewStatus.APPROVED
            review = program.review(claim.site)
            payable = review is not None and customer is not None and customer.erased_at is None \
                and not customer.blocked
            if payable and review is not None and await claim_once(
                    session, "review", await person_key(session, claim.customer_id), site_key(claim.site), now=now):
                op = Operation(kind=OperationKind.REWARD, customer_id=claim.customer_id, staff_id=staff_id,
                               program_version=version, created_at=now, points_delta=review.points,
                               comment=f"review: {claim.site}")
                session.add(op)
                await session.flush()
                await ledger.grant(session, customer_id=claim.customer_id, kind=LotKind.REVIEW,
                                   amount=review.points, operation=op, now=now,
                                   validity_days=program.points.validity_days)
                claim.operation_id = op.id
                points = review.points
                await notify_customer(session, claim.customer_id, "notify-review-approved", now,
                                      args={"site": site, "points": points})
            else:
                await notify_customer(session, claim.customer_id, "notify-review-approved-again", now,
                                      args={"site": site})
        audit.record(session, now, "review.approve" if approve else "review.reject",
                     actor_telegram_id=actor_telegram_id, actor_role=actor_role, target=f"review:{claim.id}",
                     details={"customer_id": claim.customer_id, "site": claim.site, "points": points})
        return ReviewDecision(claim.id, claim.customer_id, claim.site, claim.status.value, points)
