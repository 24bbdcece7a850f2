"""The UDS partner API v2 in domain terms (framework-free; `bot/http/partner.py` is the door).

The till speaks UDS's protocol: money as decimal currency units, points as numbers, the
customer found by a payment code, a phone or a uid. This module translates both ways and
calls the one set of domain functions (`models.purchase.purchases`), so the API can never compute a
purchase differently from the bot.

Rules this module adds (documented in docs/API.md):
- Money in is rounded half-up to kopecks; points in are rounded down to whole points
  (UDS "Numbers and Rounding"); money out has two decimals, points out are whole.
- A customer's `uid` is their referral code: stable, unique and already public.
- Paying with points needs the fresh 6-digit card code (DOMAIN.md, "The customer code").
  By uid it is never allowed (UDS: `withdrawNotPermitted`). By phone it is allowed only
  when the program allows redemption by phone (`limits.redeem_by_phone`); a till cannot
  wait for the customer's confirmation in the bot, so the register that sends points with
  a phone vouches for the customer (it is recorded as `found_by="phone"`, `channel="api"`).
- Accrual by an unknown phone creates a phone-only customer (DOMAIN.md, "Customers").
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import (
    create_phone_customer,
    customer_by_phone,
    get_customer,
    issue_code,
    peek_code,
)
from models.kernel.context import Domain
from models.kernel.errors import CustomerNotFound, DomainError, InsufficientFunds, InvalidAmount, NotFound
from models.kernel.phone import normalize_phone
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
    Staff,
)
from models.kernel.text import ascii_int, foreign_digits
from models.ledger import entries as ledger
from models.partner.api_keys import cashier_staff, idempotency_key
from models.program.rules import Program, default_text
from models.program.store import current_program, program_at
from models.purchase.purchases import (
    PurchaseRequest,
    Quote,
    adjust_points,
    commit_purchase,
    quote_purchase,
    record_sale_without_card,
    refund_purchase,
)

CENT = Decimal("0.01")
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
INT64_MAX = 2**63 - 1  # ids are int64 (UDS `components/parameters/id`; BIGINT columns)
LONG_CODE_HOURS = 24  # UDS: an exchanged code lets the till deduct points within 24 hours


class PartnerError(DomainError):
    """An error with a UDS `errorCode` of its own."""

    code = "partner_error"
    error_code = "badRequest"
    status = 400


class InvalidChecksum(PartnerError):
    code = "invalid_checksum"
    error_code = "invalidChecksum"


class WithdrawNotPermitted(PartnerError):
    code = "withdraw_not_permitted"
    error_code = "withdrawNotPermitted"


class BadRequest(PartnerError):
    code = "bad_request"
    error_code = "badRequest"


# --- Numbers (UDS "Numbers and Rounding") ---------------------------------------------------

def _number(value: Decimal | float | int | str, field: str) -> Decimal:
    """A Decimal from a number, or from text written with the digits 0-9 only (Decimal() itself
    also reads "１０００", "١٠٠٠" and "1_000")."""
    if isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value.strip()):
        raise BadRequest(f"{field}: a number written with the digits 0-9 is expected", field=field)
    return Decimal(str(value).strip())


def to_kopecks(value: Decimal | float | int | str, field: str = "total") -> int:
    try:
        number = _number(value, field)
    except InvalidOperation as exc:
        raise BadRequest(f"{field}: not a number", field=field) from exc
    if not number.is_finite():
        raise BadRequest(f"{field}: not a number", field=field)
    if number < 0:
        raise BadRequest(f"{field}: must not be negative", field=field)
    if number > Decimal(10) ** 12:
        raise BadRequest(f"{field}: too large", field=field)
    return int(number.quantize(CENT, rounding=ROUND_HALF_UP) * 100)


def to_points(value: Decimal | float | int | str | None, field: str = "points") -> int:
    if value is None:
        return 0
    try:
        number = _number(value, field)
    except InvalidOperation as exc:
        raise BadRequest(f"{field}: not a number", field=field) from exc
    if not number.is_finite() or number < 0:
        raise BadRequest(f"{field}: must be a number not below zero", field=field)
    if number > Decimal(10) ** 12:
        raise BadRequest(f"{field}: too large", field=field)
    return int(number.to_integral_value(rounding=ROUND_FLOOR))


def money(kopecks: int) -> float:
    """Kopecks as currency units with two decimals (exact for any kopeck amount)."""
    return float(Decimal(kopecks) / 100)


def percent(part: int, whole: int) -> float:
    if whole <= 0:
        return 0.0
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(CENT, rounding=ROUND_HALF_UP))


def timestamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- Finding the customer -------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    customer_id: int
    found_by: str  # "code", "phone" or "uid"
    code: str | None = None


# The current program version, fetched in the same statement as the customer: on the till's
# hot path every query counts (bench/api.py).
_CURRENT_VERSION = select(func.max(ProgramVersion.version)).scalar_subquery()


@dataclass(frozen=True)
class Found:
    found_by: str  # "code", "phone" or "uid"
    customer: Customer | None  # None: a phone nobody registered
    value: str | None  # the code, or the E.164 phone
    program_version: int | None  # None when nothing matched


async def find_customer(
    session: AsyncSession, now: datetime, *, code: str | None, phone: str | None, uid: str | None,
) -> Found:
    """Whom the till means. If several identifiers are sent, the code wins, then the phone,
    then the uid (UDS asks for one; its own example sends all three)."""
    if code:
        code = code.strip()
        if foreign_digits(code):
            raise BadRequest("code: the customer code is six digits 0-9", field="code")
        row = (await session.execute(
            select(CustomerCode, Customer, _CURRENT_VERSION)
            .join(Customer, Customer.id == CustomerCode.customer_id).where(CustomerCode.code == code)
        )).first()
        # Both rows are in the session now: these checks run without another query.
        code_row = await peek_code(session, code, now)
        return Found("code", await get_customer(session, code_row.customer_id), code, row[2] if row else None)
    if phone:
        e164 = normalize_phone(phone)
        row = (await session.execute(select(Customer, _CURRENT_VERSION).where(Customer.phone == e164))).first()
        if row is not None and row[0].erased_at is not None:
            raise CustomerNotFound(e164)
        return Found("phone", row[0] if row else None, e164, row[1] if row else None)
    if uid:
        row = (await session.execute(
            select(Customer, _CURRENT_VERSION).where(Customer.referral_code == uid.strip())
        )).first()
        if row is None or row[0].erased_at is not None:
            raise CustomerNotFound(uid)
        return Found("uid", row[0], None, row[1])
    raise BadRequest("one of code, phone or uid is required", field="code")


async def identify(
    dom: Domain, *, code: str | None = None, phone: str | None = None, uid: str | None = None,
) -> Identity:
    """The customer a till means (unknown phones are not found here)."""
    async with dom.db.reading() as session:
        found = await find_customer(session, dom.clock.now(), code=code, phone=phone, uid=uid)
    if found.customer is None:
        raise CustomerNotFound(found.value or "")
    return Identity(found.customer.id, found.found_by, found.value if found.found_by == "code" else None)


async def _phone_customer(dom: Domain, e164: str, staff_id: int | None) -> int:
    try:
        return await create_phone_customer(dom, e164, staff_id=staff_id)
    except IntegrityError:  # the same new phone arrived from two tills at once
        async with dom.db.reading() as session:
            found = await customer_by_phone(session, e164)
        if found is None:
            raise
        return found.id


def may_redeem(found_by: str, program: Program) -> bool:
    """Points are paid with a fresh code; by phone only if the program allows it; never by uid."""
    if found_by == "code":
        return True
    if found_by == "phone":
        return program.limits.redeem_by_phone
    return False


async def exchange_code(dom: Domain, customer_id: int) -> str:
    """A new payment code valid for 24 hours; the customer's earlier codes stop working."""
    issued = await issue_code(dom, customer_id)
    async with dom.db.transaction() as session:
        await session.execute(
            update(CustomerCode).where(CustomerCode.code == issued.code)
            .values(expires_at=issued.issued_at + timedelta(hours=LONG_CODE_HOURS))
        )
    return issued.code


# --- Views (UDS JSON shapes) ------------------------------------------------------------------

def tier_view(program: Program, index: int) -> dict[str, Any]:
    tier = program.tier(index)
    view: dict[str, Any] = {
        "uid": f"tier-{min(max(index, 0), len(program.tiers.levels) - 1) + 1}",
        "name": default_text(tier.name),  # the partner API keeps one string: the default language's
        "rate": float(tier.cashback_percent),
        "maxScoresDiscount": float(tier.max_redeem_percent),
        "conditions": {},
    }
    if program.tiers.basis.value == "money":
        view["conditions"] = {"totalCashSpent": {"target": float(tier.threshold)}}
    return view


def settings_view(program: Program, company: int, bot_username: str) -> dict[str, Any]:
    levels = program.tiers.levels
    return {
        "id": company,
        "name": default_text(program.business.name),
        "promoCode": bot_username,
        "currency": "RUB",
        "baseDiscountPolicy": "CHARGE_SCORES",
        "loyaltyProgramSettings": {
            "baseMembershipTier": tier_view(program, 0),
            "membershipTiers": [tier_view(program, i) for i in range(len(levels))],
            "referralCashbackRates": [float(p) for p in program.referral.level_percents],
            "cashierAward": None,
            "referralReward": program.referral.first_purchase_points or None,
            "discountVip": None,
            "receiptLimit": float(program.limits.max_check_rub),
            "deferPointsForDays": program.points.pending_days or None,
            "firstPurchasePoints": None,
        },
        "purchaseByPhone": True,  # accrual by phone is always allowed (DOMAIN.md, "The customer code")
        "usePointsByPhone": program.limits.redeem_by_phone,
        "writeInvoice": False,
        "slug": bot_username,
    }


async def customer_view(
    session: AsyncSession, customer: Customer, program: Program, now: datetime, *, detail: bool = True
) -> dict[str, Any]:
    pv = program.points.point_value_kopecks
    bal = await ledger.balance(session, customer.id, now)
    is_purchase = Operation.kind == OperationKind.PURCHASE
    is_refund = Operation.kind == OperationKind.REFUND
    stats = (await session.execute(
        select(
            func.coalesce(func.sum(case((is_purchase, Operation.cash_kopecks),
                                        (is_refund, -Operation.cash_kopecks), else_=0)), 0),
            func.coalesce(func.sum(case((is_purchase, Operation.points_paid),
                                        (is_refund, -Operation.points_paid), else_=0)), 0),
            func.count().filter(is_purchase),
            func.count().filter(is_purchase, Operation.refunded_kopecks >= Operation.amount_kopecks),
        ).where(Operation.customer_id == customer.id)
    )).one()
    invited = (await session.execute(
        select(func.count(), func.count(Customer.last_purchase_at)).where(Customer.referrer_id == customer.id)
    )).one()
    expires = (await session.execute(
        select(func.min(Lot.expires_at)).where(
            Lot.customer_id == customer.id, Lot.kind != LotKind.CERTIFICATE, ledger.live(now))
    )).scalar()
    tier = program.tier(customer.tier_index)
    view: dict[str, Any] = {
        "uid": customer.referral_code,
        "avatar": None,
        "displayName": customer.name or "",
        "gender": None,
        "phone": customer.phone,
        "birthDate": customer.birthday.isoformat() if isinstance(customer.birthday, date) else None,
        "participant": {
            "id": customer.id,
            "inviterId": customer.referrer_id,
            "points": bal.regular,
            "discountRate": 0,
            "cashbackRate": float(tier.cashback_percent),
            "cashSpent": money(max(int(stats[0]), 0)),
            "savedFunds": money(max(int(stats[1]), 0) * pv),
            "invitedCount": int(invited[0]),
            "effectiveInvitedCount": int(invited[1]),
            "operationsCount": int(stats[2]),
            "fullRefundsCount": int(stats[3]),
            "note": None,
            "membershipTier": tier_view(program, customer.tier_index),
            "dateCreated": timestamp(customer.created_at),
            "lastTransactionTime": timestamp(customer.last_purchase_at),
            "pointsExpireIn": timestamp(expires),
        },
        "channelName": customer.source_kind.value if customer.source_kind else None,
        "email": None,
    }
    if detail:
        view["tags"] = []
    return view


async def customer_detail(dom: Domain, customer_id: int) -> dict[str, Any]:
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        customer = await get_customer(session, customer_id)
        return await customer_view(session, customer, program, dom.clock.now())


async def list_customers(dom: Domain, limit: int, offset: int) -> list[dict[str, Any]]:
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        rows = (await session.execute(
            select(Customer).where(Customer.erased_at.is_(None)).order_by(Customer.id)
            .offset(offset).limit(limit)
        )).scalars().all()
        now = dom.clock.now()
        return [await customer_view(session, c, program, now, detail=False) for c in rows]


def calc_view(quote: Quote, points: int, max_points: int, skip_kopecks: int,
              unredeemable_kopecks: int) -> dict[str, Any]:
    cert, _regular = quote.split(points)
    pv = quote.point_value_kopecks
    paid = points * pv
    cash = quote.cash_for(points)
    return {
        "maxPoints": max_points,
        "total": money(quote.amount_kopecks),
        "skipLoyaltyTotal": money(skip_kopecks),
        "unredeemableTotal": money(unredeemable_kopecks),
        "discountAmount": 0.0,
        "discountPercent": 0.0,
        "points": points,
        "pointsPercent": percent(paid, quote.amount_kopecks),
        "netDiscount": money(paid),
        "netDiscountPercent": percent(paid, quote.amount_kopecks),
        "certificatePoints": cert,
        "cash": money(cash),
        "cashTotal": money(cash),
        "cashBack": quote.cashback_for(points),
        "extras": {"delivery": 0.0},
        "maxScoresDiscount": float(quote.max_redeem_percent),
    }


@dataclass(frozen=True)
class Receipt:
    total_kopecks: int
    points: int | None = None  # None in a calc: as much as allowed
    skip_loyalty_kopecks: int = 0
    unredeemable_kopecks: int = 0


async def calculate(dom: Domain, identity: Identity, receipt: Receipt) -> dict[str, Any]:
    """`POST /operations/calc` and the `purchase` part of `GET /customers/find`."""
    async with dom.db.reading() as session:
        _, program = await current_program(session)
    quote = await quote_purchase(
        dom, identity.customer_id, receipt.total_kopecks,
        skip_loyalty_kopecks=receipt.skip_loyalty_kopecks, unredeemable_kopecks=receipt.unredeemable_kopecks,
    )
    allowed = may_redeem(identity.found_by, program)
    max_points = quote.max_points if allowed else 0
    if receipt.points is None:
        points = max_points
    else:
        points = receipt.points
        if points > 0 and not allowed:
            raise WithdrawNotPermitted(f"paying with points by {identity.found_by} is not permitted")
    return calc_view(quote, points, max_points, receipt.skip_loyalty_kopecks, receipt.unredeemable_kopecks)


# --- Operations -------------------------------------------------------------------------------

async def operation_view(session: AsyncSession, op: Operation, now: datetime) -> dict[str, Any]:
    _, program = await current_program(session)
    customer = await session.get(Customer, op.customer_id) if op.customer_id else None
    staff = await session.get(Staff, op.staff_id) if op.staff_id else None
    customer_info: dict[str, Any] | None = None
    if customer is not None:
        customer_info = {
            "id": customer.id,
            "uid": customer.referral_code if customer.erased_at is None else None,
            "displayName": customer.name or "",
            # The tier the purchase was computed with (a refund: the customer's tier now).
            "membershipTier": tier_view(program, op.tier_index if op.tier_index is not None else customer.tier_index),
        }
    view: dict[str, Any] = {
        "id": op.id,
        "dateCreated": timestamp(op.created_at),
        "action": "PURCHASE",
        "customer": customer_info,
        "cashier": {"id": staff.id, "displayName": staff.display_name} if staff else None,
        "branch": None,
        "receiptNumber": op.receipt_number,
    }
    if op.kind is OperationKind.REFUND:
        view.update(state="REVERSAL", points=op.points_paid, certificatePoints=0,
                    cash=-money(op.cash_kopecks), total=-money(op.amount_kopecks),
                    origin={"id": op.parent_id})
        return view
    cert = 0
    if op.certificate_lot_id is not None:
        cert = -int((await session.execute(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(
                LedgerEntry.operation_id == op.id, LedgerEntry.lot_id == op.certificate_lot_id,
                LedgerEntry.kind == EntryKind.REDEEM)
        )).scalar() or 0)
    refunded = op.amount_kopecks > 0 and op.refunded_kopecks >= op.amount_kopecks
    view.update(state="CANCELED" if refunded else "NORMAL", points=-op.points_paid, certificatePoints=cert,
                cash=money(op.cash_kopecks), total=money(op.amount_kopecks), origin=None)
    return view


_LISTED = (OperationKind.PURCHASE, OperationKind.REFUND)


async def get_operation(dom: Domain, operation_id: int) -> dict[str, Any]:
    async with dom.db.reading() as session:
        op = await session.get(Operation, operation_id)
        if op is None or op.kind not in _LISTED:
            raise NotFound(str(operation_id))
        return await operation_view(session, op, dom.clock.now())


def encode_cursor(operation_id: int) -> str:
    return base64.urlsafe_b64encode(f"op:{operation_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        operation_id = ascii_int(number, max_digits=19)
        if prefix != "op" or abs(operation_id) > INT64_MAX:
            raise ValueError(text)
        return operation_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("cursor: not a cursor this API returned", field="cursor") from exc


async def list_operations(
    dom: Domain, limit: int, *, cursor: str | None = None, offset: int = 0
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; the cursor is the last id returned (UDS: `cursor = null` at the end)."""
    query = select(Operation).where(Operation.kind.in_(_LISTED)).order_by(Operation.id.desc())
    if cursor:
        query = query.where(Operation.id < decode_cursor(cursor))
    elif offset:
        query = query.offset(offset)
    async with dom.db.reading() as session:
        rows = (await session.execute(query.limit(limit + 1))).scalars().all()
        now = dom.clock.now()
        views = [await operation_view(session, op, now) for op in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return views, next_cursor


@dataclass(frozen=True)
class PurchaseOrder:
    """`POST /operations` in domain units."""

    company: int
    receipt: Receipt
    cash_kopecks: int
    code: str | None = None
    phone: str | None = None
    uid: str | None = None
    nonce: str | None = None
    cashier_external_id: str | None = None
    cashier_name: str | None = None
    receipt_number: str | None = None


def order_digest(order: PurchaseOrder) -> str:
    """What a `POST /operations` asked for, as the till sent it: a repeated nonce must carry
    the same request (UDS treats a nonce as one request; another body is refused)."""
    return request_digest(
        "partner-purchase", code=order.code, phone=order.phone, uid=order.uid,
        total=order.receipt.total_kopecks, cash=order.cash_kopecks, points=order.receipt.points or 0,
        skip=order.receipt.skip_loyalty_kopecks, unredeemable=order.receipt.unredeemable_kopecks,
        receipt=order.receipt_number, cashier=order.cashier_external_id,
    )


async def _replay_of(session: AsyncSession, now: datetime, key: str | None,
                     digest: str) -> dict[str, Any] | None:
    """The first result of this nonce, if it was used by this same request (ReplayMismatch if
    another request used it)."""
    if key is None:
        return None
    op = (await session.execute(select(Operation).where(Operation.idempotency_key == key))).scalar()
    if op is None:
        return None
    check_replay(op, OperationKind.PURCHASE, digest=digest)
    return await operation_view(session, op, now)


async def _replayed(dom: Domain, key: str | None, digest: str) -> dict[str, Any] | None:
    async with dom.db.reading() as session:
        return await _replay_of(session, dom.clock.now(), key, digest)


@dataclass(frozen=True)
class _Prepared:
    program: Program
    version: int
    customer: Customer | None
    identity: Identity
    staff_id: int | None
    staff_name: str | None


async def _prepare_purchase(
    dom: Domain, order: PurchaseOrder, points: int, key: str | None, digest: str
) -> _Prepared | dict[str, Any]:
    """Everything `commit_purchase` needs besides the purchase, in one read transaction; or
    the first result when the nonce was used already (before anything, so a replay changes
    nothing: not even a phone nobody registered becomes a customer)."""
    now = dom.clock.now()
    async with dom.db.reading() as session:
        replay = await _replay_of(session, now, key, digest)
        if replay is not None:
            return replay
        found = await find_customer(session, now, code=order.code, phone=order.phone, uid=order.uid)
        if found.program_version is not None:
            version, program = found.program_version, await program_at(session, found.program_version)
        else:
            version, program = await current_program(session)
    if order.receipt.total_kopecks != order.cash_kopecks + points * program.points.point_value_kopecks:
        raise InvalidChecksum("total must equal cash + points")
    found_by, customer, value = found.found_by, found.customer, found.value
    # Refused before a phone nobody registered becomes a customer: a refused request changes nothing.
    if points > 0 and not may_redeem(found_by, program):
        raise WithdrawNotPermitted(f"paying with points by {found_by} is not permitted")
    if points > 0 and customer is None:
        raise InsufficientFunds(f"{points} > balance")  # a new phone has no points yet
    staff_id, staff_name = None, None
    if order.cashier_external_id:
        staff_id, staff_name = await cashier_staff(dom, order.cashier_external_id, order.cashier_name)
    identity = Identity(customer.id if customer else await _phone_customer(dom, value or "", staff_id),
                        found_by, value if found_by == "code" else None)
    return _Prepared(program, version, customer, identity, staff_id, staff_name)


async def create_purchase(dom: Domain, order: PurchaseOrder) -> dict[str, Any]:
    """`POST /operations`: one read transaction finds the customer, then `commit_purchase`."""
    key = idempotency_key(order.company, order.nonce) if order.nonce else None
    digest = order_digest(order)
    points = order.receipt.points or 0
    try:
        prepared = await _prepare_purchase(dom, order, points, key, digest)
    except DomainError:
        # The nonce may have been used in between by a concurrent retry of this request.
        replay = await _replayed(dom, key, digest)
        if replay is None:
            raise
        return replay
    if isinstance(prepared, dict):
        return prepared
    program, version, customer = prepared.program, prepared.version, prepared.customer
    identity, staff_id, staff_name = prepared.identity, prepared.staff_id, prepared.staff_name
    result = await commit_purchase(dom, PurchaseRequest(
        customer_id=identity.customer_id, amount_kopecks=order.receipt.total_kopecks, points=points,
        staff_id=staff_id, idempotency_key=key, code=identity.code,
        phone_confirmed=identity.found_by == "phone" and points > 0,
        found_by=identity.found_by, channel="api", receipt_number=order.receipt_number,
        skip_loyalty_kopecks=order.receipt.skip_loyalty_kopecks,
        unredeemable_kopecks=order.receipt.unredeemable_kopecks, request_hash=digest,
    ))
    if result.replayed or result.program_version != version or customer is None:
        # Another request with this nonce won, or the customer was just created: read it back.
        async with dom.db.reading() as session:
            op = await session.get(Operation, result.operation_id)
            assert op is not None
            return await operation_view(session, op, dom.clock.now())
    return {
        "id": result.operation_id,
        "dateCreated": timestamp(result.created_at),
        "action": "PURCHASE",
        "customer": {"id": customer.id, "uid": customer.referral_code, "displayName": customer.name or "",
                     "membershipTier": tier_view(program, result.tier_before)},
        "cashier": {"id": staff_id, "displayName": staff_name} if staff_id is not None else None,
        "branch": None,
        "receiptNumber": order.receipt_number,
        "state": "NORMAL",
        "points": -result.points_paid,
        "certificatePoints": result.certificate_points,
        "cash": money(result.cash_kopecks),
        "total": money(result.amount_kopecks),
        "origin": None,
    }


async def refund(dom: Domain, operation_id: int, partial_kopecks: int | None) -> dict[str, Any]:
    result = await refund_purchase(dom, operation_id, partial_kopecks, channel="api")
    async with dom.db.reading() as session:
        op = await session.get(Operation, result.operation_id)
        assert op is not None
        return await operation_view(session, op, dom.clock.now())


async def reward(
    dom: Domain, company: int, points: int, comment: str | None, participants: list[str], *,
    silent: bool = False, request_id: str | None = None,
) -> int:
    """Manual points to several customers; returns how many were rewarded.

    Each customer is rewarded in their own transaction (UDS accrues them separately). With an
    `X-Origin-Request-Id`, a retried request rewards nobody twice.
    """
    if points <= 0:
        raise InvalidAmount("zero")
    async with dom.db.reading() as session:
        _, program = await current_program(session)
    maximum = program.limits.max_reward_points
    if points > maximum:  # refused whole, before anybody is rewarded
        raise BadRequest(f"points: at most {maximum} in one reward (the program's limits.max_reward_points)",
                         field="points")
    accepted = 0
    salt = hashlib.sha256(request_id.encode()).hexdigest()[:24] if request_id else None
    for raw in participants:
        try:
            customer_id = ascii_int(str(raw).strip(), max_digits=19)  # int() also reads "١٢"
        except ValueError:
            continue
        if abs(customer_id) > INT64_MAX:
            continue  # no such customer: ids are int64
        key = f"api:{company}:reward:{salt}:{customer_id}" if salt else None
        try:
            await adjust_points(dom, customer_id, points, comment or "API reward", kind=OperationKind.REWARD,
                                idempotency_key=key, channel="api", notify=not silent)
        except (NotFound, DomainError):
            continue  # unknown, erased or blocked customers are not rewarded
        accepted += 1
    return accepted


async def sale_without_card(
    dom: Domain, company: int, total_kopecks: int, *, nonce: str | None, staff_id: int | None,
    receipt_number: str | None,
) -> dict[str, Any]:
    key = idempotency_key(company, nonce) if nonce else None
    op_id = await record_sale_without_card(dom, total_kopecks, staff_id=staff_id, channel="api",
                                           idempotency_key=key, receipt_number=receipt_number)
    async with dom.db.reading() as session:
        op = await session.get(Operation, op_id)
        assert op is not None
        return {"id": op.id, "dateCreated": timestamp(op.created_at), "total": money(op.amount_kopecks),
                "receiptNumber": op.receipt_number,
                "cashier": {"id": op.staff_id} if op.staff_id else None}
