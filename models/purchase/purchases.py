"""Purchases, refunds, sales without a card and manual adjustments (DOMAIN.md, "A purchase",
"Refunds", "Referrals").

`quote_purchase` is the one place a purchase is computed; `commit_purchase` recomputes the
quote inside its own transaction (under the customer's lock) and writes the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.customers.accounts import get_customer, peek_code
from models.kernel.base import UTCDateTime, table_of
from models.kernel.claims import claim_once, person_key
from models.kernel.context import Domain
from models.kernel.db import lock_customer
from models.kernel.errors import (
    CertificateNotApplicable,
    CustomerBlocked,
    CustomerErased,
    CustomerNotFound,
    InsufficientFunds,
    InvalidAmount,
    NotFound,
    RedeemLimitExceeded,
    RedeemNotAuthorised,
    RefundNotAllowed,
    RefundTooLarge,
    RefundWindowClosed,
)
from models.kernel.money import points_share
from models.kernel.outbox import Outgoing, enqueue_many, message_payload, notify_customer
from models.kernel.replays import check_replay, request_digest
from models.kernel.tables import (
    Customer,
    CustomerCode,
    EntryKind,
    LedgerEntry,
    Lot,
    LotKind,
    Operation,
    OperationKind,
    ProgramVersion,
    TelegramAccount,
)
from models.ledger import entries as ledger
from models.ledger.running_totals import add_to_till, last_live_purchase, net_points
from models.program.rules import LocalText, Program, ThresholdBasis
from models.program.store import current_program, program_at
from models.program.tiers import progress_value, recalculate_tier, tier_for_value


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
    tier_name: LocalText  # the staff member reads it in their language (models.program.rules.text_in)
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


# The hot path writes through Core tables: the ORM's bulk machinery costs more than the SQL.
CUSTOMERS = table_of(Customer)
OPERATIONS = table_of(Operation)
LOTS = table_of(Lot)
LEDGER = table_of(LedgerEntry)
CODES = table_of(CustomerCode)

LOT_COLUMNS = (Lot.id, Lot.kind, Lot.remaining, Lot.expires_at, Lot.available_at, Lot.max_redeem_percent,
               Lot.certificate_kind)


async def live_lot_rows(session: AsyncSession, customer_id: int, now: datetime) -> list[Any]:
    """Every live lot of a customer in spending order: one query feeds the whole quote."""
    return list((await session.execute(
        select(*LOT_COLUMNS).where(Lot.customer_id == customer_id, ledger.live(now)).order_by(*ledger.SPEND_ORDER)
    )).all())


def compute_quote(
    customer_id: int,
    tier_index: int,
    version: int,
    program: Program,
    amount: int,
    lots: list[Any],
    now: datetime,
    certificate_lot_id: int | None = None,
    use_certificate: bool = True,
    skip_loyalty_kopecks: int = 0,
    unredeemable_kopecks: int = 0,
) -> Quote:
    """The one place a purchase is computed (DOMAIN.md, "A purchase"), from the live lots."""
    if amount <= 0:
        raise InvalidAmount("zero")
    if amount > program.limits.max_check_kopecks:
        raise InvalidAmount("too_large")
    if skip_loyalty_kopecks < 0 or unredeemable_kopecks < 0 or (
        skip_loyalty_kopecks + unredeemable_kopecks > amount
    ):
        raise InvalidAmount("excluded parts exceed the check")
    tier = program.tier(tier_index)
    pv = program.points.point_value_kopecks
    redeemable = amount - skip_loyalty_kopecks - unredeemable_kopecks
    regular = pending = 0
    options = []
    for lot in lots:
        available = lot.available_at is None or lot.available_at <= now
        if lot.kind is not LotKind.CERTIFICATE:
            if available:
                regular += lot.remaining
            else:
                pending += lot.remaining
        elif use_certificate and available:
            pct = Decimal(lot.max_redeem_percent or "100")
            allowed = min(points_share(redeemable, pct, pv), lot.remaining)
            options.append(CertificateOption(lot.id, lot.remaining, pct, allowed, lot.expires_at,
                                             lot.certificate_kind.value if lot.certificate_kind else None))
    cap = points_share(redeemable, tier.max_redeem_percent, pv)
    regular_allowed = min(cap, regular)
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
        customer_id=customer_id, program_version=version, tier_index=tier_index,
        tier_name=tier.name, amount_kopecks=amount, redeemable_kopecks=redeemable,
        balance=regular, pending=pending, regular_cap=cap, regular_allowed=regular_allowed,
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
        now = dom.clock.now()
        return compute_quote(customer.id, customer.tier_index, version, program, amount_kopecks,
                             await live_lot_rows(session, customer.id, now), now, certificate_lot_id,
                             use_certificate, skip_loyalty_kopecks, unredeemable_kopecks)


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
    # What the caller was asked, as it was asked (the partner API: the request body); by
    # default the figures below. A used idempotency key answers only the same request.
    request_hash: str | None = None

    def digest(self) -> str:
        if self.request_hash is not None:
            return self.request_hash
        return request_digest(
            "purchase", customer=self.customer_id, amount=self.amount_kopecks, points=self.points,
            certificate=self.certificate_lot_id, use_certificate=self.use_certificate,
            skip=self.skip_loyalty_kopecks, unredeemable=self.unredeemable_kopecks,
            receipt=self.receipt_number,
        )

    def check_replay(self, found: Operation) -> None:
        check_replay(found, OperationKind.PURCHASE, digest=self.digest(), customer_id=self.customer_id,
                     amount_kopecks=self.amount_kopecks, points_paid=self.points)


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
                    req.check_replay(found)
                    return await purchase_result_in(session, found, dom.clock.now(), True)
        raise


async def _by_key(session: AsyncSession, key: str) -> Operation | None:
    return (await session.execute(select(Operation).where(Operation.idempotency_key == key))).scalar()


async def _commit_purchase(dom: Domain, req: PurchaseRequest) -> PurchaseResult:
    async with dom.db.transaction() as session:
        return await commit_purchase_in(session, req, dom.clock.now())


async def commit_purchase_in(session: AsyncSession, req: PurchaseRequest, now: datetime) -> PurchaseResult:
    """The hot path of the till, written as a dozen set-based statements (see
    docs/PERFORMANCE.md): lock-and-read the customer, read the live lots once, write the
    operation, the debits, the new lots, their ledger entries and the notifications in bulk.
    Runs inside the caller's transaction (a use case owns exactly one: `commit_purchase`, or
    the till's `confirm_checkout` that also ties the quote to the purchase)."""
    # The row write is the per-customer lock (models/kernel/db.py); RETURNING reads it in the same trip.
    customer = (await session.execute(
        update(CUSTOMERS).where(CUSTOMERS.c.id == req.customer_id)
        .values(lock_version=CUSTOMERS.c.lock_version + 1)
        .returning(CUSTOMERS.c.id, CUSTOMERS.c.tier_index, CUSTOMERS.c.tier_pinned, CUSTOMERS.c.blocked,
                   CUSTOMERS.c.erased_at, CUSTOMERS.c.referrer_id, CUSTOMERS.c.paid_total_kopecks,
                   CUSTOMERS.c.purchase_count)
    )).first()
    if customer is None:
        raise CustomerNotFound(str(req.customer_id))
    existing_id, version = (await session.execute(select(
        select(Operation.id).where(Operation.idempotency_key == req.idempotency_key).scalar_subquery()
        if req.idempotency_key else literal(None),
        select(func.max(ProgramVersion.version)).scalar_subquery(),
    ))).one()
    if existing_id is not None:
        found = await session.get(Operation, existing_id)
        assert found is not None
        req.check_replay(found)
        return await purchase_result_in(session, found, now, True)
    if customer.erased_at is not None:
        raise CustomerErased(str(req.customer_id))
    if customer.blocked:
        raise CustomerBlocked()
    program = await program_at(session, version)
    lots = await live_lot_rows(session, customer.id, now)
    quote = compute_quote(customer.id, customer.tier_index, version, program, req.amount_kopecks, lots, now,
                          req.certificate_lot_id, req.use_certificate, req.skip_loyalty_kopecks,
                          req.unredeemable_kopecks)
    wanted = quote.max_points if req.points is None else req.points
    if req.expected_points is not None and wanted != req.expected_points:
        raise StaleQuote(f"quote said {req.expected_points}, now {wanted}")
    if wanted > 0 and req.code is None and not req.phone_confirmed:
        raise RedeemNotAuthorised()
    cert_part, regular_part = quote.split(wanted)
    points = cert_part + regular_part
    cashback = quote.cashback_for(points)
    cash = quote.cash_for(points)
    paid_for_referrals = max(cash - req.skip_loyalty_kopecks, 0)
    chain = await _chain(session, customer.id, _referral_depth(program))

    rewards: list[ReferralReward] = []
    levels = program.referral.level_percents
    pv = program.points.point_value_kopecks
    for ref in chain:
        if ref.level == 0 or ref.blocked or ref.erased_at is not None:
            continue  # a blocked customer can neither earn nor pay
        reward = points_share(paid_for_referrals, levels[ref.level - 1], pv) if ref.level <= len(levels) else 0
        if ref.level == 1 and program.referral.first_purchase_points and customer.purchase_count == 0 and (
            await claim_once(session, "referral_first", await person_key(session, customer.id), now=now)
        ):
            reward += program.referral.first_purchase_points
        if reward > 0:
            rewards.append(ReferralReward(ref.id, ref.level, reward))
    op_id = (await session.execute(insert(OPERATIONS).values(
        kind=OperationKind.PURCHASE, customer_id=customer.id, staff_id=req.staff_id,
        program_version=version, idempotency_key=req.idempotency_key,
        request_hash=req.digest() if req.idempotency_key else None, created_at=now,
        amount_kopecks=req.amount_kopecks, cash_kopecks=cash, points_paid=points,
        cashback=cashback, referral_paid=sum(r.points for r in rewards), tier_index=customer.tier_index,
        certificate_lot_id=quote.certificate.lot_id if cert_part and quote.certificate else None,
        found_by=req.found_by, channel=req.channel, receipt_number=req.receipt_number,
    ).returning(OPERATIONS.c.id))).scalar_one()
    if req.code is not None:
        await _use_code(session, req.code, customer.id, op_id, now)

    entries: list[dict[str, Any]] = []

    async def take(lot_id: int, part: int) -> None:
        await ledger.debit_only(session, lot_id, part)
        entries.append({"lot_id": lot_id, "customer_id": customer.id, "operation_id": op_id,
                        "kind": EntryKind.REDEEM, "delta": -part, "created_at": now})

    if cert_part and quote.certificate is not None:
        await take(quote.certificate.lot_id, cert_part)
    left = regular_part
    for lot in lots:
        if left <= 0:
            break
        if lot.kind is LotKind.CERTIFICATE or (lot.available_at is not None and lot.available_at > now):
            continue
        part = min(lot.remaining, left)
        await take(lot.id, part)
        left -= part

    # New lots: the cashback, and the referral rewards up the chain.
    validity = program.points.validity_days
    pending = program.points.pending_days
    grants: list[tuple[int, LotKind, int]] = []
    if cashback > 0:
        grants.append((customer.id, LotKind.CASHBACK, cashback))
    grants.extend((r.customer_id, LotKind.REFERRAL, r.points) for r in rewards)
    if grants:
        lot_ids = (await session.execute(
            insert(LOTS).returning(LOTS.c.id, sort_by_parameter_order=True),
            [{"customer_id": cid, "kind": kind, "amount": amount, "remaining": amount, "created_at": now,
              "expires_at": now + timedelta(days=validity) if validity else None,
              "available_at": now + timedelta(days=pending) if pending else None,
              "operation_id": op_id} for cid, kind, amount in grants],
        )).scalars().all()
        entries.extend({"lot_id": lot_id, "customer_id": cid, "operation_id": op_id, "kind": EntryKind.GRANT,
                        "delta": amount, "created_at": now}
                       for lot_id, (cid, _, amount) in zip(lot_ids, grants, strict=True))
    if entries:
        await session.execute(insert(LEDGER), entries)

    # Running totals and the tier for the next purchase (DOMAIN.md, "Tiers").
    paid_total = customer.paid_total_kopecks + cash
    purchases = customer.purchase_count + 1
    before = customer.tier_index
    after = await _tier_after_purchase(session, customer, program, paid_total, purchases, now)
    with_certificate = bool(cert_part and quote.certificate)
    await session.execute(
        update(CUSTOMERS).where(CUSTOMERS.c.id == customer.id)
        .values(last_purchase_at=now, tier_index=after, paid_total_kopecks=paid_total, purchase_count=purchases,
                # the reports' running totals (models/ledger/running_totals.py)
                revenue_kopecks=CUSTOMERS.c.revenue_kopecks + req.amount_kopecks,
                points_paid_kopecks=CUSTOMERS.c.points_paid_kopecks + (req.amount_kopecks - cash),
                certificate_revenue_kopecks=CUSTOMERS.c.certificate_revenue_kopecks
                + (req.amount_kopecks if with_certificate else 0),
                last_live_purchase_at=case(
                    (CUSTOMERS.c.last_live_purchase_at > now, CUSTOMERS.c.last_live_purchase_at),
                    else_=literal(now, UTCDateTime)))
    )
    balance_after = quote.balance - regular_part + (cashback if not pending else 0)

    chats = {ref.id: ref.chat_id for ref in chain if ref.chat_id is not None and not ref.unreachable}
    messages = []
    if customer.id in chats:
        messages.append((chats[customer.id], message_payload(
            "notify-purchase",
            {"amount": req.amount_kopecks, "paid": points, "earned": cashback, "balance": balance_after,
             "operation": op_id},
            {"kind": "rating", "operation_id": op_id})))
        if after > before:
            tier_up = message_payload("notify-tier-up", {"tier": program.tier(after).name})
            messages.append((chats[customer.id], tier_up))
    messages.extend(
        (chats[r.customer_id], message_payload("notify-referral-reward", {"points": r.points, "level": r.level}))
        for r in rewards if r.customer_id in chats
    )
    await enqueue_many(session, [Outgoing(chat, payload) for chat, payload in messages], now)
    # Last, so the hour's row is locked for the shortest time (concurrent purchases of one
    # staff member in one hour queue on it).
    await add_to_till(session, now, req.staff_id, card_n=1, card_rev=req.amount_kopecks,
                      card_pts=req.amount_kopecks - cash)
    return PurchaseResult(
        operation_id=op_id, customer_id=customer.id, amount_kopecks=req.amount_kopecks,
        points_paid=points, certificate_points=cert_part, cash_kopecks=cash,
        cashback=cashback, referral_rewards=tuple(rewards), tier_before=before,
        tier_after=after, balance_after=balance_after, created_at=now,
        program_version=version,
    )


def _referral_depth(program: Program) -> int:
    return max(len(program.referral.level_percents), 1 if program.referral.first_purchase_points else 0)


def _chain_statement() -> Any:
    """Built once: the customer (level 0) and their referrers up to :depth, with their chats."""
    base = select(Customer.id, Customer.referrer_id, Customer.blocked, Customer.erased_at,
                  literal(0).label("level")).where(Customer.id == bindparam("customer_id"))
    chain = base.cte("chain", recursive=True)
    parent = aliased(Customer)
    chain = chain.union_all(
        select(parent.id, parent.referrer_id, parent.blocked, parent.erased_at, (chain.c.level + 1).label("level"))
        .where(parent.id == chain.c.referrer_id, chain.c.level < bindparam("depth"))
    )
    return (
        select(chain.c.id, chain.c.level, chain.c.blocked, chain.c.erased_at,
               TelegramAccount.telegram_id.label("chat_id"), TelegramAccount.unreachable)
        .outerjoin(TelegramAccount, TelegramAccount.customer_id == chain.c.id)
        .order_by(chain.c.level)
    )


_CHAIN = _chain_statement()


async def _chain(session: AsyncSession, customer_id: int, depth: int) -> list[Any]:
    """One recursive query instead of a lookup per referral level."""
    return list((await session.execute(_CHAIN, {"customer_id": customer_id, "depth": depth})).all())


async def _use_code(session: AsyncSession, code: str, customer_id: int, op_id: int, now: datetime) -> None:
    """Use up the card's code in the purchase's transaction (DOMAIN.md, "The customer code")."""
    used = (await session.execute(
        update(CODES)
        .where(CODES.c.code == code, CODES.c.customer_id == customer_id,
               CODES.c.used_at.is_(None), CODES.c.expires_at > now)
        .values(used_at=now, operation_id=op_id)
        .returning(CODES.c.code)
    )).first()
    if used is None:
        row = await peek_code(session, code, now)  # raises the precise reason
        if row.customer_id != customer_id:
            raise NotFound("code belongs to another customer")


async def _tier_after_purchase(
    session: AsyncSession, customer: Any, program: Program, paid_total: int, purchases: int, now: datetime
) -> int:
    if customer.tier_pinned is not None:
        return min(customer.tier_pinned, len(program.tiers.levels) - 1)
    if program.tiers.window_days:
        row = await session.get(Customer, customer.id)
        assert row is not None
        return tier_for_value(program, await progress_value(session, row, program, now))
    value = paid_total if program.tiers.basis is ThresholdBasis.MONEY else purchases
    return tier_for_value(program, value)


async def purchase_result_in(
    session: AsyncSession, op: Operation, now: datetime, replayed: bool
) -> PurchaseResult:
    """What the receipt of the stored purchase `op` says (a replay answers with it)."""
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
        return await purchase_result_in(session, op, dom.clock.now(), False)


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
    customer_erased: bool = False  # erased before the refund: points_lost were not given back


# The comment of a refund whose customer had erased their data (nothing given back to them).
ERASED_REFUND_COMMENT = "customer erased their data"


def refund_share(value: int, total: int, before: int, amount: int) -> int:
    """The part of `value` (points paid, cashback, cash) that a refund of `amount` kopecks of a
    `total` check takes back, `before` being refunded already. Cumulative and rounded down, so
    partial refunds that add up to the whole check take exactly what a full refund would."""
    return value * (before + amount) // total - value * before // total


@dataclass(frozen=True)
class RefundPreview:
    """What a refund would do, before the cashier confirms it (the same arithmetic)."""

    purchase_id: int
    amount_kopecks: int
    cash_kopecks: int
    points_returned: int
    cashback_reversed: int
    fully_refunded: bool


def refund_amount(total: int, refunded: int, amount_kopecks: int | None) -> int:
    """The kopecks a refund of `amount_kopecks` (None: the rest) takes from a `total` check of
    which `refunded` is refunded already, or the reason it cannot be (pure: no database)."""
    if refunded >= total:
        raise RefundNotAllowed("already refunded")
    refundable = total - refunded
    amount = refundable if amount_kopecks is None else amount_kopecks
    if amount <= 0:
        raise InvalidAmount("zero")
    if amount > refundable:
        raise RefundTooLarge(f"{amount} > {refundable}")
    return amount


def _refund_amount(purchase: Operation, amount_kopecks: int | None, now: datetime, window_days: int,
                   override_window: bool) -> int:
    """The amount a refund of `amount_kopecks` (None: the rest) is, or the reason it cannot be."""
    amount = refund_amount(purchase.amount_kopecks, purchase.refunded_kopecks, amount_kopecks)
    if not override_window and now - purchase.created_at > timedelta(days=window_days):
        raise RefundWindowClosed()
    return amount


def refund_preview(purchase_id: int, total: int, before: int, amount: int, *, cash_kopecks: int,
                   points_paid: int, cashback: int) -> RefundPreview:
    """What refunding `amount` kopecks more of a `total` check (`before` refunded already)
    gives back and takes back: the pure arithmetic of `preview_refund` and `refund_purchase`."""
    return RefundPreview(
        purchase_id=purchase_id, amount_kopecks=amount,
        cash_kopecks=refund_share(cash_kopecks, total, before, amount),
        points_returned=refund_share(points_paid, total, before, amount),
        cashback_reversed=refund_share(cashback, total, before, amount),
        fully_refunded=before + amount >= total,
    )


async def preview_refund(dom: Domain, purchase_id: int, amount_kopecks: int | None, *,
                         override_window: bool = False) -> RefundPreview:
    """The figures `refund_purchase` would produce now (refused for the same reasons)."""
    now = dom.clock.now()
    async with dom.db.reading() as session:
        purchase = await session.get(Operation, purchase_id)
        if purchase is None or purchase.kind is not OperationKind.PURCHASE:
            raise NotFound(str(purchase_id))
        window = (await program_at(session, purchase.program_version)).refunds.window_days
        amount = _refund_amount(purchase, amount_kopecks, now, window, override_window)
        cashback = int((await session.execute(
            select(func.coalesce(func.sum(Lot.amount), 0))
            .where(Lot.operation_id == purchase.id, Lot.kind == LotKind.CASHBACK))).scalar() or 0)
    return refund_preview(purchase.id, purchase.amount_kopecks, purchase.refunded_kopecks, amount,
                          cash_kopecks=purchase.cash_kopecks, points_paid=purchase.points_paid, cashback=cashback)


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
        referrer_ids = list((await session.execute(
            select(Lot.customer_id).where(Lot.operation_id == purchase.id, Lot.kind == LotKind.REFERRAL)
        )).scalars())
        # Lock every customer whose balance changes, in id order, so refunds never deadlock.
        involved = {cid for cid in (purchase.customer_id, *referrer_ids) if cid is not None}
        for cid in sorted(involved):
            await lock_customer(session, cid)
        await session.refresh(purchase)
        if idempotency_key:  # under the locks, so a concurrent retry waits and finds the first refund
            found = await _by_key(session, idempotency_key)
            if found is not None:
                check_replay(found, OperationKind.REFUND, parent_id=purchase.id, amount_kopecks=amount_kopecks)
                return await _refund_result(session, found, purchase, True)
        version, program = await current_program(session)
        window = (await program_at(session, purchase.program_version)).refunds.window_days
        amount = _refund_amount(purchase, amount_kopecks, now, window, override_window)
        before = purchase.refunded_kopecks
        after = before + amount
        total = purchase.amount_kopecks

        def share_delta(value: int) -> int:
            return refund_share(value, total, before, amount)

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
        erased = False
        if customer_id is not None:
            erased = (await session.get(Customer, customer_id)).erased_at is not None  # type: ignore[union-attr]
            if erased:
                # The customer erased their data: their lots stay written off, the anonymised
                # account gets nothing back (docs/RULES.md, "Refunds"); the money refund stands.
                lost = max(share_delta(purchase.points_paid), 0)
            else:
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
        if erased:
            refund.comment = f"{ERASED_REFUND_COMMENT}: {lost} points not returned"
        else:
            refund.comment = f"{lost} points not returned: their lots expired" if lost else ""
        purchase.refunded_kopecks = after
        # The reports' running totals (models/ledger/running_totals.py): the purchase's figures shrink
        # where they were counted, the customer's totals and the purchase's hour.
        points_less = (net_points(total, purchase.cash_kopecks, before)
                       - net_points(total, purchase.cash_kopecks, after))
        if customer_id is not None:
            customer = await session.get(Customer, customer_id)
            if customer is not None:
                customer.paid_total_kopecks -= refund.cash_kopecks
                customer.revenue_kopecks -= amount
                customer.points_paid_kopecks -= points_less
                if purchase.certificate_lot_id is not None:
                    customer.certificate_revenue_kopecks -= amount
                if after >= total:
                    customer.purchase_count -= 1  # a fully refunded purchase no longer counts
                    if customer.last_live_purchase_at == purchase.created_at:
                        customer.last_live_purchase_at = await last_live_purchase(
                            session, customer_id, excluding=purchase.id)
            if customer is not None and customer.erased_at is None:
                await recalculate_tier(session, customer, program, now)
                balance_now = (await ledger.balance(session, customer_id, now)).regular
                await notify_customer(session, customer_id, "notify-refund", now, args={
                    "amount": amount, "returned": returned, "reversed": cashback_rev,
                    "operation": purchase.id, "balance": balance_now})
        await add_to_till(session, purchase.created_at, purchase.staff_id, card_n=-1 if after >= total else 0,
                          card_rev=-amount, card_pts=-points_less)
        return RefundResult(
            operation_id=refund.id, purchase_id=purchase.id, customer_id=customer_id,
            amount_kopecks=amount, cash_kopecks=refund.cash_kopecks, points_returned=returned,
            points_lost=lost, cashback_reversed=cashback_rev, referral_reversed=referral_rev,
            shortfall=shortfall, fully_refunded=after >= total, customer_erased=erased,
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
    plan, lost = return_plan([
        DrawnLot(lot_id, int(taken), int(back.get(lot_id, 0) or 0), lots[lot_id].expires_at,
                 lots[lot_id].expired_at is not None) for lot_id, taken in drawn], points, now)
    for lot_id, part in plan:
        await ledger.credit(session, lot_id, lots[lot_id].customer_id, part, refund_id, EntryKind.RETURN, now)
    return sum(part for _, part in plan), lost


@dataclass(frozen=True)
class DrawnLot:
    """A lot a purchase paid points from, as a refund sees it."""

    lot_id: int
    taken: int  # points the purchase drew from it
    returned: int  # points earlier refunds of the purchase gave back to it
    expires_at: datetime | None
    written_off: bool  # the expiry job wrote it off already


def return_plan(drawn: list[DrawnLot], points: int, now: datetime) -> tuple[list[tuple[int, int]], int]:
    """Where `points` paid points go back (pure: no database): [(lot id, points)] to credit, and
    the points lost. Lots that live longest get their points back first; a lot never gets
    back more than was drawn from it; a lot that expired meanwhile is not revived (its part is
    lost), nor is anything beyond what the purchase drew."""
    if points <= 0:
        return [], 0
    order = sorted(drawn, key=lambda d: (d.expires_at is None, d.expires_at or now), reverse=True)
    plan: list[tuple[int, int]] = []
    lost = 0
    for lot in order:
        if points <= 0:
            break
        part = min(lot.taken - lot.returned, points)
        if part <= 0:
            continue
        points -= part
        if lot.written_off or (lot.expires_at is not None and lot.expires_at <= now):
            lost += part
            continue
        plan.append((lot.lot_id, part))
    return plan, lost + max(points, 0)


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
    comment = refund.comment or ""
    erased = comment.startswith(ERASED_REFUND_COMMENT)
    not_returned = comment[len(ERASED_REFUND_COMMENT) + 2:].split(" ", 1)[0] if erased else ""
    return RefundResult(
        operation_id=refund.id, purchase_id=purchase.id, customer_id=refund.customer_id,
        amount_kopecks=refund.amount_kopecks, cash_kopecks=refund.cash_kopecks,
        points_returned=refund.points_paid, points_lost=int(not_returned) if not_returned.isdigit() else 0,
        cashback_reversed=refund.cashback,
        referral_reversed=refund.referral_paid, shortfall=refund.shortfall,
        fully_refunded=purchase.refunded_kopecks >= purchase.amount_kopecks, replayed=replayed,
        customer_erased=erased,
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
                check_replay(found, OperationKind.SALE_NO_CARD, amount_kopecks=amount_kopecks)
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
        try:
            async with session.begin_nested():
                session.add(op)
                await session.flush()
        except IntegrityError:  # the same key committed by a concurrent retry: its sale is this one
            found = await _by_key(session, idempotency_key or "")
            if found is None:
                raise
            check_replay(found, OperationKind.SALE_NO_CARD, amount_kopecks=amount_kopecks)
            return found.id
        await add_to_till(session, now, staff_id, plain_n=1, plain_rev=amount_kopecks)
        return op.id


async def adjust_points(
    dom: Domain, customer_id: int, delta: int, reason: str, *, staff_id: int | None = None,
    kind: OperationKind = OperationKind.MANUAL, idempotency_key: str | None = None,
    channel: str = "bot", notify: bool = True,
) -> int:
    """Add (a MANUAL lot with the regular validity) or take away points; returns the operation id.

    At most the program's `limits.max_reward_points` either way (InvalidAmount "too_large").
    `notify=False` skips the customer's message (the partner API's `silent` rewards)."""
    if delta == 0:
        raise InvalidAmount("zero")
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await lock_customer(session, customer_id)
        if idempotency_key:
            found = await _by_key(session, idempotency_key)
            if found is not None:
                check_replay(found, kind, customer_id=customer_id, points_delta=delta)
                return found.id
        version, program = await current_program(session)
        if abs(delta) > program.limits.max_reward_points:
            raise InvalidAmount("too_large", maximum=program.limits.max_reward_points)
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
        if notify:
            await notify_customer(session, customer.id, "notify-adjustment", now,
                                  args={"delta": delta, "reason": reason[:300]})
        return op.id
