"""Purchases, refunds, sales without a card and manual adjustments (DOMAIN.md, "A purchase",
"Refunds", "Referrals").

`quote_purchase` is the one place a purchase is computed; `commit_purchase` recomputes the
quote inside its own transaction (under the customer's lock) and writes the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import ledger
from models.claims import claim_once
from models.context import Domain
from models.customers import get_customer, peek_code
from models.db import lock_customer
from models.errors import (
    CertificateNotApplicable,
    CustomerBlocked,
    InsufficientFunds,
    InvalidAmount,
    NotFound,
    RedeemLimitExceeded,
    RedeemNotAuthorised,
    RefundNotAllowed,
    RefundTooLarge,
    RefundWindowClosed,
)
from models.money import points_share
from models.outbox import notify_customer
from models.program import Program
from models.programs_store import current_program, program_at
from models.tables import (
    Customer,
    EntryKind,
    LedgerEntry,
    Lot,
    LotKind,
    Operation,
    OperationKind,
)
from models.tiers import recalculate_tier


@dataclass(frozen=True)
class CertificateOption:
    lot_id: int
    remaining: int
    max_redeem_percent: Decimal
    allowed: int  # floor(redeemable × cap), at most the remaining
    expires_at: datetime | None
    kind: str | None


@dataclass(frozen=True)
class Quote:
    customer_id: int
    program_version: int
    tier_index: int
    tier_name: str
    amount_kopecks: int
    redeemable_kopecks: int  # the part of the check points may pay
    balance: int  # spendable regular points
    pending: int
    regular_cap: int  # floor(redeemable × tier cap)
    regular_allowed: int  # min(cap, balance)
    certificate: CertificateOption | None  # the one that applies
    certificates: tuple[CertificateOption, ...]
    max_points: int
    cashback_percent: Decimal
    max_redeem_percent: Decimal
    point_value_kopecks: int
    cashback_base_kopecks: int  # check minus the part excluded from loyalty

    def split(self, points: int | None) -> tuple[int, int]:
        """(certificate part, regular part) for a requested number of points (None: maximum)."""
        want = self.max_points if points is None else points
        if want < 0:
            raise InvalidAmount("negative points")
        cert_allowed = self.certificate.allowed if self.certificate else 0
        if want > self.balance + (self.certificate.remaining if self.certificate else 0):
            raise InsufficientFunds(f"{want} > balance")
        if want > self.max_points:
            raise RedeemLimitExceeded(f"{want} > {self.max_points}")
        cert = min(want, cert_allowed)
        return cert, want - cert

    def cashback_for(self, points: int) -> int:
        """Cashback = floor((A − P) × tier cashback %): no points on the part paid with points."""
        paid = max(self.cashback_base_kopecks - points * self.point_value_kopecks, 0)
        return points_share(paid, self.cashback_percent, self.point_value_kopecks)

    def cash_for(self, points: int) -> int:
        return self.amount_kopecks - points * self.point_value_kopecks


async def _quote(
    session: AsyncSession,
    customer: Customer,
    version: int,
    program: Program,
    amount: int,
    now: datetime,
    certificate_lot_id: int | None,
    use_certificate: bool,
    skip_loyalty_kopecks: int = 0,
    unredeemable_kopecks: int = 0,
) -> Quote:
    if amount <= 0:
        raise InvalidAmount("zero")
    if amount > program.limits.max_check_kopecks:
        raise InvalidAmount("too_large")
    if skip_loyalty_kopecks < 0 or unredeemable_kopecks < 0 or (
        skip_loyalty_kopecks + unredeemable_kopecks > amount
    ):
        raise InvalidAmount("excluded parts exceed the check")
    tier = program.tier(customer.tier_index)
    pv = program.points.point_value_kopecks
    redeemable = amount - skip_loyalty_kopecks - unredeemable_kopecks
    bal = await ledger.balance(session, customer.id, now)
    cap = points_share(redeemable, tier.max_redeem_percent, pv)
    regular_allowed = min(cap, bal.regular)
    options = []
    if use_certificate:
        for lot in await ledger.live_certificates(session, customer.id, now):
            pct = Decimal(lot.max_redeem_percent or "100")
            allowed = min(points_share(redeemable, pct, pv), lot.remaining)
            options.append(CertificateOption(lot.id, lot.remaining, pct, allowed, lot.expires_at,
                                             lot.certificate_kind.value if lot.certificate_kind else None))
    chosen: CertificateOption | None = None
    if certificate_lot_id is not None:
        chosen = next((o for o in options if o.lot_id == certificate_lot_id), None)
        if chosen is None:
            raise CertificateNotApplicable(str(certificate_lot_id))
    else:
        # The soonest-expiring applicable certificate (options are in spending order).
        chosen = next((o for o in options if o.allowed > 0), None)
    total_cap = redeemable // pv  # total points paid never exceed the check
    max_points = min(regular_allowed + (chosen.allowed if chosen else 0), total_cap)
    return Quote(
        customer_id=customer.id, program_version=version, tier_index=customer.tier_index,
        tier_name=tier.name, amount_kopecks=amount, redeemable_kopecks=redeemable,
        balance=bal.regular, pending=bal.pending, regular_cap=cap, regular_allowed=regular_allowed,
        certificate=chosen, certificates=tuple(options), max_points=max_points,
        cashback_percent=tier.cashback_percent, max_redeem_percent=tier.max_redeem_percent,
        point_value_kopecks=pv, cashback_base_kopecks=amount - skip_loyalty_kopecks,
    )


async def quote_purchase(
    dom: Domain,
    customer_id: int,
    amount_kopecks: int,
    *,
    certificate_lot_id: int | None = None,
    use_certificate: bool = True,
    skip_loyalty_kopecks: int = 0,
    unredeemable_kopecks: int = 0,
) -> Quote:
    async with dom.db.reading() as session:
        version, program = await current_program(session)
        customer = await get_customer(session, customer_id)
        if customer.blocked:
            raise CustomerBlocked()
        return await _quote(session, customer, version, program, amount_kopecks, dom.clock.now(),
                            certificate_lot_id, use_certificate, skip_loyalty_kopecks,
                            unredeemable_kopecks)


@dataclass(frozen=True)
class PurchaseRequest:
    customer_id: int
    amount_kopecks: int
    points: int | None = 0  # None: as much as allowed
    staff_id: int | None = None
    idempotency_key: str | None = None
    certificate_lot_id: int | None = None
    use_certificate: bool = True
    code: str | None = None  # a fresh card code: authorises paying with points, used up
    phone_confirmed: bool = False  # the customer confirmed in the bot after a phone lookup
    found_by: str = "code"
    channel: str = "bot"
    receipt_number: str | None = None
    skip_loyalty_kopecks: int = 0  # no points earned or paid on this part (UDS skipLoyaltyTotal)
    unredeemable_kopecks: int = 0  # earns cashback but cannot be paid with points
    expected_points: int | None = None  # with a stale quote, refuse instead of paying otherwise


@dataclass(frozen=True)
class ReferralReward:
    customer_id: int
    level: int
    points: int


@dataclass(frozen=True)
class PurchaseResult:
    operation_id: int
    customer_id: int
    amount_kopecks: int
    points_paid: int
    certificate_points: int
    cash_kopecks: int
    cashback: int
    referral_rewards: tuple[ReferralReward, ...]
    tier_before: int
    tier_after: int
    balance_after: int
    created_at: datetime
    replayed: bool = False  # the idempotency key had been used: this is the first result
    program_version: int = 0


class StaleQuote(RedeemLimitExceeded):
    """The balance changed since the quote; the caller re-quotes."""

    code = "stale_quote"


async def commit_purchase(dom: Domain, req: PurchaseRequest) -> PurchaseResult:
    try:
        return await _commit_purchase(dom, req)
    except IntegrityError:
        # The same idempotency key committed concurrently for another customer row.
        if req.idempotency_key:
            async with dom.db.reading() as session:
                found = await _by_key(session, req.idempotency_key)
                if found is not None:
                    return await _result_from_operation(session, found, dom.clock.now(), True)
        raise


async def _by_key(session: AsyncSession, key: str) -> Operation | None:
    return (await session.execute(select(Operation).where(Operation.idempotency_key == key))).scalar()


async def _commit_purchase(dom: Domain, req: PurchaseRequest) -> PurchaseResult:
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await lock_customer(session, req.customer_id)
        if req.idempotency_key:
            found = await _by_key(session, req.idempotency_key)
            if found is not None:
                return await _result_from_operation(session, found, now, True)
        version, program = await current_program(session)
        customer = await get_customer(session, req.customer_id)
        if customer.blocked:
            raise CustomerBlocked()
        quote = await _quote(session, customer, version, program, req.amount_kopecks, now,
                             req.certificate_lot_id, req.use_certificate,
                             req.skip_loyalty_kopecks, req.unredeemable_kopecks)
        wanted = quote.max_points if req.points is None else req.points
        if req.expected_points is not None and wanted != req.expected_points:
            raise StaleQuote(f"quote said {req.expected_points}, now {wanted}")
        code_row = None
        if req.code is not None:
            code_row = await peek_code(session, req.code, now)
            if code_row.customer_id != customer.id:
                raise NotFound("code belongs to another customer")
        if wanted > 0 and code_row is None and not req.phone_confirmed:
            raise RedeemNotAuthorised()
        cert_part, regular_part = quote.split(wanted)
        points = cert_part + regular_part
        cashback = quote.cashback_for(points)
        cash = quote.cash_for(points)
        op = Operation(
            kind=OperationKind.PURCHASE, customer_id=customer.id, staff_id=req.staff_id,
            program_version=version, idempotency_key=req.idempotency_key, created_at=now,
            amount_kopecks=req.amount_kopecks, cash_kopecks=cash, points_paid=points,
            cashback=cashback, tier_index=customer.tier_index,
            certificate_lot_id=quote.certificate.lot_id if cert_part else None,
            found_by=req.found_by, channel=req.channel, receipt_number=req.receipt_number,
        )
        session.add(op)
        await session.flush()
        if code_row is not None:
            code_row.used_at = now
            code_row.operation_id = op.id
        if cert_part and quote.certificate is not None:
            await ledger.debit(session, quote.certificate.lot_id, customer.id, cert_part, op.id,
                               EntryKind.REDEEM, now)
        await ledger.spend_regular(session, customer.id, regular_part, op.id, EntryKind.REDEEM, now)
        await ledger.grant(
            session, customer_id=customer.id, kind=LotKind.CASHBACK, amount=cashback,
            operation=op, now=now, validity_days=program.points.validity_days,
            pending_days=program.points.pending_days,
        )
        rewards = await _referral_rewards(session, customer, program, op,
                                          max(cash - req.skip_loyalty_kopecks, 0), now)
        op.referral_paid = sum(r.points for r in rewards)
        customer.last_purchase_at = now
        before, after = await recalculate_tier(session, customer, program, now)
        balance_after = (await ledger.balance(session, customer.id, now)).regular
        await notify_customer(
            session, customer.id, "notify-purchase", now,
            args={"amount": req.amount_kopecks, "paid": points, "earned": cashback,
                  "balance": balance_after, "operation": op.id},
            markup={"kind": "rating", "operation_id": op.id},
        )
        if after > before:
            await notify_customer(session, customer.id, "notify-tier-up", now,
                                  args={"tier": program.tier(after).name})
        for reward in rewards:
            await notify_customer(session, reward.customer_id, "notify-referral-reward", now,
                                  args={"points": reward.points, "level": reward.level})
        return PurchaseResult(
            operation_id=op.id, customer_id=customer.id, amount_kopecks=req.amount_kopecks,
            points_paid=points, certificate_points=cert_part, cash_kopecks=cash,
            cashback=cashback, referral_rewards=tuple(rewards), tier_before=before,
            tier_after=after, balance_after=balance_after, created_at=now,
            program_version=version,
        )


async def _referral_rewards(
    session: AsyncSession, customer: Customer, program: Program, op: Operation,
    paid_kopecks: int, now: datetime,
) -> list[ReferralReward]:
    """Rewards up the chain of referrers, each a % of the money paid; plus the fixed sum to
    level 1 on the friend's first purchase (DOMAIN.md, "A purchase")."""
    rewards: list[ReferralReward] = []
    pv = program.points.point_value_kopecks
    levels = program.referral.level_percents
    depth = max(len(levels), 1 if program.referral.first_purchase_points else 0)
    cursor = customer.referrer_id
    for level in range(1, depth + 1):
        if cursor is None:
            break
        referrer = await session.get(Customer, cursor)
        if referrer is None:
            break
        cursor = referrer.referrer_id
        if referrer.blocked or referrer.erased_at is not None:
            continue  # a blocked customer can neither earn nor pay
        points = points_share(paid_kopecks, levels[level - 1], pv) if level <= len(levels) else 0
        if level == 1 and program.referral.first_purchase_points and await claim_once(
            session, "referral_first", customer.id, now=now, operation_id=op.id
        ):
            points += program.referral.first_purchase_points
        lot = await ledger.grant(
            session, customer_id=referrer.id, kind=LotKind.REFERRAL, amount=points, operation=op,
            now=now, validity_days=program.points.validity_days,
            pending_days=program.points.pending_days,
        )
        if lot is not None:
            rewards.append(ReferralReward(referrer.id, level, points))
    return rewards


async def _result_from_operation(
    session: AsyncSession, op: Operation, now: datetime, replayed: bool
) -> PurchaseResult:
    rewards = (await session.execute(
        select(Lot.customer_id, Lot.amount).where(Lot.operation_id == op.id, Lot.kind == LotKind.REFERRAL)
        .order_by(Lot.id)
    )).all()
    cert_points = 0
    if op.certificate_lot_id is not None:
        cert_points = -int((await session.execute(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                LedgerEntry.operation_id == op.id, LedgerEntry.lot_id == op.certificate_lot_id,
                LedgerEntry.kind == EntryKind.REDEEM)
        )).scalar() or 0)
    customer_id = op.customer_id or 0
    bal = (await ledger.balance(session, customer_id, now)).regular
    return PurchaseResult(
        operation_id=op.id, customer_id=customer_id, amount_kopecks=op.amount_kopecks,
        points_paid=op.points_paid, certificate_points=cert_points, cash_kopecks=op.cash_kopecks,
        cashback=op.cashback,
        referral_rewards=tuple(ReferralReward(cid, i + 1, amt) for i, (cid, amt) in enumerate(rewards)),
        tier_before=op.tier_index or 0, tier_after=op.tier_index or 0, balance_after=bal,
        created_at=op.created_at, replayed=replayed, program_version=op.program_version,
    )


async def get_purchase_result(dom: Domain, operation_id: int) -> PurchaseResult:
    async with dom.db.reading() as session:
        op = await session.get(Operation, operation_id)
        if op is None or op.kind is not OperationKind.PURCHASE:
            raise NotFound(str(operation_id))
        return await _result_from_operation(session, op, dom.clock.now(), False)


# --- Refunds (DOMAIN.md, "Refunds") -------------------------------------------------------

@dataclass(frozen=True)
class RefundResult:
    operation_id: int
    purchase_id: int
    customer_id: int | None
    amount_kopecks: int
    cash_kopecks: int
    points_returned: int
    points_lost: int  # returned to lots that expired meanwhile (not revived)
    cashback_reversed: int
    referral_reversed: int
    shortfall: int
    fully_refunded: bool
    replayed: bool = False


async def refund_purchase(
    dom: Domain,
    purchase_id: int,
    amount_kopecks: int | None = None,
    *,
    staff_id: int | None = None,
    override_window: bool = False,
    idempotency_key: str | None = None,
    channel: str = "bot",
) -> RefundResult:
    """Refund a purchase fully (amount None) or partly.

    Everything is computed cumulatively over all refunds of the purchase, so partial
    refunds that add up to the whole check return exactly what a full refund would.
    """
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        purchase = await session.get(Operation, purchase_id)
        if purchase is None or purchase.kind is not OperationKind.PURCHASE:
            raise NotFound(str(purchase_id))
        if idempotency_key:
            found = await _by_key(session, idempotency_key)
            if found is not None:
                return await _refund_result(session, found, purchase, True)
        referrer_ids = list((await session.execute(
            select(Lot.customer_id).where(Lot.operation_id == purchase.id, Lot.kind == LotKind.REFERRAL)
        )).scalars())
        # Lock every customer whose balance changes, in id order, so refunds never deadlock.
        for cid in sorted({purchase.customer_id, *referrer_ids} - {None}):
            await lock_customer(session, cid)  # type: ignore[arg-type]
        await session.refresh(purchase)
        version, program = await current_program(session)
        if purchase.refunded_kopecks >= purchase.amount_kopecks:
            raise RefundNotAllowed("already refunded")
        refundable = purchase.amount_kopecks - purchase.refunded_kopecks
        amount = refundable if amount_kopecks is None else amount_kopecks
        if amount <= 0:
            raise InvalidAmount("zero")
        if amount > refundable:
            raise RefundTooLarge(f"{amount} > {refundable}")
        window = (await program_at(session, purchase.program_version)).refunds.window_days
        if not override_window and now - purchase.created_at > timedelta(days=window):
            raise RefundWindowClosed()
        before = purchase.refunded_kopecks
        after = before + amount
        total = purchase.amount_kopecks

        def share_delta(value: int) -> int:
            return value * after // total - value * before // total

        refund = Operation(
            kind=OperationKind.REFUND, customer_id=purchase.customer_id, staff_id=staff_id,
            program_version=version, idempotency_key=idempotency_key, parent_id=purchase.id,
            created_at=now, amount_kopecks=amount, cash_kopecks=share_delta(purchase.cash_kopecks),
            channel=channel,
        )
        session.add(refund)
        await session.flush()
        customer_id = purchase.customer_id
        returned = lost = 0
        if customer_id is not None:
            returned, lost = await _return_points(session, purchase, share_delta(purchase.points_paid),
                                                  refund.id, now)
        refund.points_paid = returned
        # Cashback and referral lots granted by the purchase are reversed in proportion.
        granted = (await session.execute(
            select(Lot).where(Lot.operation_id == purchase.id,
                              Lot.kind.in_([LotKind.CASHBACK, LotKind.REFERRAL]))
        )).scalars().all()
        shortfall = cashback_rev = referral_rev = 0
        for lot in granted:
            due = share_delta(lot.amount)
            taken = await _take_back(session, lot, due, refund.id, now)
            shortfall += due - taken
            if lot.kind is LotKind.CASHBACK:
                cashback_rev += taken
            else:
                referral_rev += taken
        refund.cashback = cashback_rev
        refund.referral_paid = referral_rev
        refund.shortfall = shortfall
        refund.comment = f"{lost} points not returned: their lots expired" if lost else ""
        purchase.refunded_kopecks = after
        if customer_id is not None:
            customer = await session.get(Customer, customer_id)
            if customer is not None and customer.erased_at is None:
                await recalculate_tier(session, customer, program, now)
                await notify_customer(session, customer_id, "notify-refund", now, args={
                    "amount": amount, "returned": returned, "reversed": cashback_rev,
                    "operation": purchase.id})
        return RefundResult(
            operation_id=refund.id, purchase_id=purchase.id, customer_id=customer_id,
            amount_kopecks=amount, cash_kopecks=refund.cash_kopecks, points_returned=returned,
            points_lost=lost, cashback_reversed=cashback_rev, referral_reversed=referral_rev,
            shortfall=shortfall, fully_refunded=after >= total,
        )


async def _return_points(
    session: AsyncSession, purchase: Operation, points: int, refund_id: int, now: datetime
) -> tuple[int, int]:
    """Give paid points back to the lots they came from; expired lots are not revived."""
    if points <= 0:
        return 0, 0
    drawn = (await session.execute(
        select(LedgerEntry.lot_id, -func.sum(LedgerEntry.delta))
        .where(LedgerEntry.operation_id == purchase.id, LedgerEntry.kind == EntryKind.REDEEM)
        .group_by(LedgerEntry.lot_id)
    )).all()
    back = dict((await session.execute(
        select(LedgerEntry.lot_id, func.sum(LedgerEntry.delta))
        .join(Operation, Operation.id == LedgerEntry.operation_id)
        .where(Operation.parent_id == purchase.id, LedgerEntry.kind == EntryKind.RETURN)
        .group_by(LedgerEntry.lot_id)
    )).all())
    lots = {lot.id: lot for lot in (await session.execute(
        select(Lot).where(Lot.id.in_([lot_id for lot_id, _ in drawn]))
    )).scalars()}
    # Lots that live longest get their points back first.
    order = sorted(drawn, key=lambda row: (lots[row[0]].expires_at is None,
                                           lots[row[0]].expires_at or now), reverse=True)
    returned = lost = 0
    for lot_id, taken in order:
        if points <= 0:
            break
        part = min(int(taken) - int(back.get(lot_id, 0) or 0), points)
        if part <= 0:
            continue
        lot = lots[lot_id]
        points -= part
        if lot.expired_at is not None or (lot.expires_at is not None and lot.expires_at <= now):
            lost += part
            continue
        await ledger.credit(session, lot_id, lot.customer_id, part, refund_id, EntryKind.RETURN, now)
        returned += part
    return returned, lost + max(points, 0)


async def _take_back(session: AsyncSession, lot: Lot, due: int, refund_id: int, now: datetime) -> int:
    """Reverse `due` points of a granted lot: from the lot itself, then from the customer's
    other regular points. Never below zero; the caller records what is left as a shortfall."""
    if due <= 0:
        return 0
    await session.refresh(lot)
    alive = lot.expired_at is None and (lot.expires_at is None or lot.expires_at > now)
    first = min(lot.remaining, due) if alive else 0
    await ledger.debit(session, lot.id, lot.customer_id, first, refund_id, EntryKind.REVERSAL, now)
    rest = await ledger.spend_regular(session, lot.customer_id, due - first, refund_id,
                                      EntryKind.REVERSAL, now, strict=False)
    return first + rest


async def _refund_result(
    session: AsyncSession, refund: Operation, purchase: Operation, replayed: bool
) -> RefundResult:
    return RefundResult(
        operation_id=refund.id, purchase_id=purchase.id, customer_id=refund.customer_id,
        amount_kopecks=refund.amount_kopecks, cash_kopecks=refund.cash_kopecks,
        points_returned=refund.points_paid, points_lost=0, cashback_reversed=refund.cashback,
        referral_reversed=refund.referral_paid, shortfall=refund.shortfall,
        fully_refunded=purchase.refunded_kopecks >= purchase.amount_kopecks, replayed=replayed,
    )


# --- Sales without a card and manual adjustments -------------------------------------------

async def record_sale_without_card(
    dom: Domain, amount_kopecks: int, *, staff_id: int | None, channel: str = "bot",
    idempotency_key: str | None = None, receipt_number: str | None = None,
) -> int:
    """A check with no customer, so reports can compare average checks with and without a card."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        if idempotency_key:
            found = await _by_key(session, idempotency_key)
            if found is not None:
                return found.id
        version, program = await current_program(session)
        if amount_kopecks <= 0:
            raise InvalidAmount("zero")
        if amount_kopecks > program.limits.max_check_kopecks:
            raise InvalidAmount("too_large")
        op = Operation(
            kind=OperationKind.SALE_NO_CARD, staff_id=staff_id, program_version=version,
            created_at=now, amount_kopecks=amount_kopecks, cash_kopecks=amount_kopecks,
            channel=channel, idempotency_key=idempotency_key, receipt_number=receipt_number,
        )
        session.add(op)
        await session.flush()
        return op.id


async def adjust_points(
    dom: Domain, customer_id: int, delta: int, reason: str, *, staff_id: int | None = None,
    kind: OperationKind = OperationKind.MANUAL, idempotency_key: str | None = None,
    channel: str = "bot",
) -> int:
    """Add (a MANUAL lot with the regular validity) or take away points; returns the operation id."""
    if delta == 0:
        raise InvalidAmount("zero")
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await lock_customer(session, customer_id)
        if idempotency_key:
            found = await _by_key(session, idempotency_key)
            if found is not None:
                return found.id
        version, program = await current_program(session)
        customer = await get_customer(session, customer_id)
        if customer.blocked and delta > 0:
            raise CustomerBlocked()
        op = Operation(
            kind=kind, customer_id=customer.id, staff_id=staff_id, program_version=version,
            created_at=now, points_delta=delta, comment=reason[:300], channel=channel,
            idempotency_key=idempotency_key,
        )
        session.add(op)
        await session.flush()
        if delta > 0:
            await ledger.grant(session, customer_id=customer.id,
                               kind=LotKind.IMPORT if kind is OperationKind.IMPORT else LotKind.MANUAL,
                               amount=delta, operation=op, now=now,
                               validity_days=program.points.validity_days)
        else:
            await ledger.spend_regular(session, customer.id, -delta, op.id, EntryKind.ADJUST, now)
        await notify_customer(session, customer.id, "notify-adjustment", now,
                              args={"delta": delta, "reason": reason[:300]})
        return op.id
