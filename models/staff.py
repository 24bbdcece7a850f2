"""Staff at the till: invites and roles, finding customers, server-side checkout quotes,
phone confirmations, refunds, fraud alerts and staff statistics (DOMAIN.md, "Roles",
"A purchase", "Refunds").

Framework-free: the bot, the HTTP API or the command line call these with a `StaffActor`
they built from their own notion of who is acting. Every function that acts re-checks
the actor against the database (DOMAIN.md, "Roles": "Every staff or owner action re-checks
the role on the server side") and writes an audit entry.

Decisions where the issue was silent (written down here, see also docs):

* A checkout quote lives in the database (`checkout_quotes`), not in callback data, so a
  button carries only the quote's id. The purchase's idempotency key is `quote:<id>`:
  a double tap, a retried update or two staff confirming the same quote give one purchase.
* A quote is valid `QUOTE_VALIDITY` (30 minutes): long enough for a slow till, short
  enough that yesterday's screen cannot be confirmed by accident.
* The chosen number of points is stored with the quote and passed as `expected_points`:
  if the balance changed in between, the purchase is refused by the domain and the quote
  is shown again with fresh figures instead of silently paying another amount.
* Paying with points after a phone lookup needs the customer's confirmation in their chat
  (DOMAIN.md, "A purchase"); a phone-only customer (no Telegram) can therefore only accrue.
* Any active staff member may confirm any open quote (two cashiers at one till, the staff
  group); the own-account rule is checked against whoever confirms.
* Fraud alerts go to the staff chat at most once per customer (or staff member) per
  business day: an alert is a prompt to look, not a stream.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import and_, case, delete, false, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import audit, ledger
from models.context import Domain
from models.customers import create_phone_customer, customer_by_phone, get_customer, new_referral_code, peek_code
from models.errors import (
    CertificateNotApplicable,
    CodeExpired,
    CodeNotFound,
    CodeUsed,
    CustomerBlocked,
    DomainError,
    InsufficientFunds,
    NotFound,
    OwnAccount,
    RedeemLimitExceeded,
    RedeemNotAuthorised,
)
from models.figures import average_check, live_purchase, net_revenue
from models.outbox import customer_chat, enqueue, message_payload
from models.program import LocalText, Program
from models.programs_store import current_program, program_at
from models.purchase import (
    PurchaseRequest,
    PurchaseResult,
    Quote,
    RefundPreview,
    RefundResult,
    StaleQuote,
    commit_purchase,
    commit_purchase_in,
    purchase_result_in,
    quote_purchase,
    record_sale_without_card,
    refund_purchase,
)
from models.purchase import preview_refund as preview_purchase_refund
from models.tables import (
    CheckoutQuote,
    Customer,
    Operation,
    OperationKind,
    OutboxMessage,
    PhoneConfirmation,
    Rating,
    Role,
    Staff,
    StaffInvite,
    TelegramAccount,
)

log = logging.getLogger(__name__)

INVITE_VALIDITY = timedelta(hours=24)
QUOTE_VALIDITY = timedelta(minutes=30)


# --- Errors (each with a stable code the doors translate) ----------------------------------

class NotAllowed(DomainError):
    """The actor's current role does not allow this (re-checked in the database)."""

    code = "not_allowed"


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


class QuoteNotFound(NotFound):
    code = "quote_not_found"


class QuoteExpired(DomainError):
    code = "quote_expired"


class ConfirmationExpired(DomainError):
    code = "confirmation_expired"


# --- Housekeeping of finished checkouts ------------------------------------------------------


async def purge_checkouts(session: AsyncSession, now: datetime) -> int:
    """Housekeeping: unanswered phone confirmations expire; finished checkout state goes after a day."""
    expired = await session.execute(
        update(PhoneConfirmation)
        .where(PhoneConfirmation.status == "pending", PhoneConfirmation.expires_at <= now)
        .values(status="expired", decided_at=now)
        .execution_options(synchronize_session=False)
    )
    cutoff = now - timedelta(days=1)
    old_quotes = select(CheckoutQuote.id).where(CheckoutQuote.expires_at < cutoff)
    confirmations = await session.execute(
        delete(PhoneConfirmation).where(PhoneConfirmation.quote_id.in_(old_quotes),
                                        PhoneConfirmation.status.not_in(["pending", "confirming"]))
    )
    quotes = await session.execute(
        delete(CheckoutQuote).where(
            CheckoutQuote.expires_at < cutoff,
            ~CheckoutQuote.id.in_(select(PhoneConfirmation.quote_id)),
        )
    )
    return sum(int(r.rowcount or 0) for r in (expired, confirmations, quotes))  # type: ignore[attr-defined, misc]


# --- Who is acting ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffActor:
    """The person acting, as the door saw them; re-checked against the database here."""

    telegram_id: int | None
    staff_id: int | None
    is_owner: bool = False

    @property
    def role(self) -> str:
        return Role.OWNER.value if self.is_owner else Role.STAFF.value


async def _require_staff(session: AsyncSession, actor: StaffActor) -> Staff:
    """The actor's active staff row; a revoked member loses every action at once."""
    staff = await session.get(Staff, actor.staff_id) if actor.staff_id is not None else None
    return _check_staff(staff, actor)


def _check_staff(staff: Staff | None, actor: StaffActor) -> Staff:
    if staff is None or not staff.active or (
        actor.telegram_id is not None and staff.telegram_id not in (None, actor.telegram_id)
    ):
        raise NotAllowed("not active staff")
    return staff


def _audit(session: AsyncSession, now: datetime, actor: StaffActor, action: str,
           target: str | None = None, **details: object) -> None:
    audit.record(session, now, action, actor_telegram_id=actor.telegram_id, actor_role=actor.role,
                 target=target, details={k: v for k, v in details.items() if v is not None})


async def audit_action(dom: Domain, actor: StaffActor, action: str, target: str | None = None,
                       **details: object) -> None:
    """An audit entry in its own transaction (for actions whose work ran in another one)."""
    async with dom.db.transaction() as session:
        _audit(session, dom.clock.now(), actor, action, target, **details)


async def refuse_staff_button(dom: Domain, telegram_id: int, role: str, data: str) -> None:
    """Someone who is not (or no longer) staff pressed a till's button: nothing happens, it is audited."""
    async with dom.db.transaction() as session:
        audit.record(session, dom.clock.now(), "staff.callback_refused", actor_telegram_id=telegram_id,
                     actor_role=role, target=data[:80])


async def max_check(dom: Domain) -> int:
    """The largest check the program accepts, in kopecks: what a typed amount is parsed against."""
    async with dom.db.reading() as session:
        _, program = await current_program(session)
    return program.limits.max_check_kopecks


async def check_not_own_account(session: AsyncSession, customer_id: int, actor: StaffActor) -> None:
    """Staff never run operations on their own customer account (DOMAIN.md, "Roles")."""
    if actor.telegram_id is None:
        return
    linked = (await session.execute(
        select(TelegramAccount.customer_id).where(TelegramAccount.telegram_id == actor.telegram_id)
    )).scalar()
    if linked == customer_id:
        raise OwnAccount()


# --- Invites and the staff list ----------------------------------------------------------------

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
        _audit(session, now, actor, "staff.invite", token[:6])
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
        staff = await _require_staff(session, actor)
        staff.display_name = clean
        _audit(session, now, actor, "staff.rename", f"staff:{staff.id}", name=clean)
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
            _audit(session, now, actor, "staff.revoke", f"staff:{staff.id}")
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


# --- Finding the customer --------------------------------------------------------------------

@dataclass(frozen=True)
class CustomerCard:
    """What staff see about a customer before the amount is typed."""

    customer_id: int
    name: str
    phone: str | None
    tier_name: LocalText  # the staff member reads it in their language (models.program.text_in)
    balance: int
    certificates: int
    has_telegram: bool


async def _card(session: AsyncSession, dom: Domain, customer: Customer) -> CustomerCard:
    _, program = await current_program(session)
    bal = await ledger.balance(session, customer.id, dom.clock.now())
    chat = await customer_chat(session, customer.id)
    return CustomerCard(customer.id, customer.name or "", customer.phone, program.tier(customer.tier_index).name,
                        bal.regular, bal.certificates, chat is not None)


async def find_by_code(dom: Domain, actor: StaffActor, code: str, found_by: str = "code") -> CustomerCard:
    """The customer behind a fresh card code (not used up: the purchase uses it)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await _require_staff(session, actor)
        row = await peek_code(session, code.strip(), now)
        customer = await get_customer(session, row.customer_id)
        await check_not_own_account(session, customer.id, actor)
        if customer.blocked:
            raise CustomerBlocked()
        _audit(session, now, actor, "checkout.find", f"customer:{customer.id}", by=found_by)
        return await _card(session, dom, customer)


async def find_by_phone(dom: Domain, actor: StaffActor, phone: str) -> CustomerCard | None:
    """The customer with this phone (any common format), or None."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await _require_staff(session, actor)
        customer = await customer_by_phone(session, phone)
        if customer is None or customer.erased_at is not None:
            return None
        await check_not_own_account(session, customer.id, actor)
        if customer.blocked:
            raise CustomerBlocked()
        _audit(session, now, actor, "checkout.find", f"customer:{customer.id}", by="phone")
        return await _card(session, dom, customer)


async def create_customer_by_phone(dom: Domain, actor: StaffActor, phone: str) -> CustomerCard:
    """A phone-only customer created at the till to accrue to (DOMAIN.md, "Customers")."""
    async with dom.db.reading() as session:
        await _require_staff(session, actor)
    customer_id = await create_phone_customer(dom, phone, staff_id=actor.staff_id)
    async with dom.db.transaction() as session:
        customer = await get_customer(session, customer_id)
        await check_not_own_account(session, customer.id, actor)
        _audit(session, dom.clock.now(), actor, "customer.create_by_phone", f"customer:{customer.id}")
        return await _card(session, dom, customer)


# --- Checkout quotes -------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckoutView:
    """A stored quote with fresh figures: what the staff screen shows."""

    quote_id: int
    customer: CustomerCard
    quote: Quote
    points: int | None  # chosen; None: not yet
    found_by: str
    can_redeem: bool  # False: accrual only (phone-only customer or redeeming by phone is off)
    needs_customer_confirmation: bool  # paying with points after a phone lookup
    operation_id: int | None
    expires_at: datetime

    @property
    def several_certificates(self) -> bool:
        return sum(1 for c in self.quote.certificates if c.allowed > 0) > 1

    @property
    def cap_percent(self) -> Decimal:
        return self.quote.max_redeem_percent


async def _load_quote(session: AsyncSession, quote_id: int) -> CheckoutQuote:
    row = await session.get(CheckoutQuote, quote_id)
    if row is None:
        raise QuoteNotFound(str(quote_id))
    return row


async def _view(dom: Domain, row: CheckoutQuote) -> CheckoutView:
    try:
        quote = await quote_purchase(dom, row.customer_id, row.amount_kopecks,
                                     certificate_lot_id=row.certificate_lot_id)
    except CertificateNotApplicable:  # the chosen certificate was used or expired meanwhile
        quote = await quote_purchase(dom, row.customer_id, row.amount_kopecks)
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        customer = await get_customer(session, row.customer_id)
        card = await _card(session, dom, customer)
    by_phone = row.found_by == "phone"
    can_redeem = not by_phone or (card.has_telegram and program.limits.redeem_by_phone)
    return CheckoutView(row.id, card, quote, row.points, row.found_by, can_redeem, by_phone,
                        row.operation_id, row.expires_at)


async def start_checkout(
    dom: Domain, actor: StaffActor, customer_id: int, amount_kopecks: int, *, found_by: str,
    code: str | None = None, chat_id: int | None = None,
) -> CheckoutView:
    """Store a quote for the typed amount; the staff screen offers the choices."""
    now = dom.clock.now()
    # Validates the amount (zero, over the maximum) and the customer before anything is stored.
    await quote_purchase(dom, customer_id, amount_kopecks)
    async with dom.db.transaction() as session:
        await _require_staff(session, actor)
        await check_not_own_account(session, customer_id, actor)
        row = CheckoutQuote(staff_id=actor.staff_id, chat_id=chat_id, customer_id=customer_id,
                            amount_kopecks=amount_kopecks, found_by=found_by, code=code,
                            created_at=now, expires_at=now + QUOTE_VALIDITY)
        session.add(row)
        await session.flush()
        _audit(session, now, actor, "checkout.quote", f"quote:{row.id}", customer=customer_id,
               amount=amount_kopecks)
    view = await _view(dom, row)
    if not view.can_redeem or view.quote.max_points == 0:
        # Nothing to choose: the screen goes straight to Confirm, which commits accrual alone.
        async with dom.db.transaction() as session:
            await session.execute(update(CheckoutQuote).where(CheckoutQuote.id == row.id).values(points=0))
        view = replace(view, points=0)
    return view


async def get_checkout(dom: Domain, quote_id: int) -> CheckoutView:
    async with dom.db.reading() as session:
        row = await _load_quote(session, quote_id)
    return await _view(dom, row)


async def _open_quote(session: AsyncSession, dom: Domain, actor: StaffActor, quote_id: int) -> CheckoutQuote:
    await _require_staff(session, actor)
    row = await _load_quote(session, quote_id)
    if row.operation_id is None and row.expires_at <= dom.clock.now():
        raise QuoteExpired(str(quote_id))
    return row


async def _cancel_pending(session: AsyncSession, quote_id: int, now: datetime) -> None:
    """The customer's unanswered requests for this quote can no longer be confirmed."""
    await session.execute(
        update(PhoneConfirmation)
        .where(PhoneConfirmation.quote_id == quote_id, PhoneConfirmation.status == "pending")
        .values(status="cancelled", decided_at=now)
        .execution_options(synchronize_session=False)
    )


async def cancel_checkout(dom: Domain, actor: StaffActor, quote_id: int) -> bool:
    """The cashier cancels: the quote can no longer be confirmed (by anyone, from any of its
    messages) and a pending request to the customer dies with it. False: already committed
    (or the customer's confirmation is being committed right now)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await _require_staff(session, actor)
        row = await session.get(CheckoutQuote, quote_id)
        if row is None:
            return True
        if row.operation_id is not None:
            return False
        committing = (await session.execute(
            select(PhoneConfirmation.id).where(PhoneConfirmation.quote_id == row.id,
                                               PhoneConfirmation.status.in_(["confirming", "confirmed"]))
        )).scalar()
        if committing is not None:
            return False
        row.expires_at = min(row.expires_at, now)
        await _cancel_pending(session, row.id, now)
        _audit(session, now, actor, "checkout.cancel", f"quote:{row.id}")
    return True


async def choose_points(dom: Domain, actor: StaffActor, quote_id: int, points: int | None) -> CheckoutView:
    """Pay `points` (None: the most allowed, 0: none); validated against a fresh quote."""
    async with dom.db.reading() as session:
        row = await _open_quote(session, dom, actor, quote_id)
    view = await _view(dom, row)
    if view.operation_id is not None:
        return view
    wanted = view.quote.max_points if points is None else points
    if wanted and not view.can_redeem:
        raise RedeemNotAuthorised("accrual only")
    view.quote.split(wanted)  # raises RedeemLimitExceeded / InsufficientFunds with a code
    async with dom.db.transaction() as session:
        row = await _load_quote(session, quote_id)
        row.points = wanted
    return replace(view, points=wanted)


async def choose_certificate(dom: Domain, actor: StaffActor, quote_id: int, lot_id: int) -> CheckoutView:
    """Use another applicable certificate; the points choice starts over."""
    async with dom.db.reading() as session:
        row = await _open_quote(session, dom, actor, quote_id)
    view = await _view(dom, row)
    if not any(c.lot_id == lot_id and c.allowed > 0 for c in view.quote.certificates):
        raise CertificateNotApplicable(str(lot_id))
    async with dom.db.transaction() as session:
        row = await _load_quote(session, quote_id)
        row.certificate_lot_id, row.points = lot_id, None
    return await get_checkout(dom, quote_id)


@dataclass(frozen=True)
class Committed:
    result: PurchaseResult  # what the receipt says (`replayed` when the quote was already committed)


@dataclass(frozen=True)
class Requoted:
    """The balance changed since the quote: fresh figures, choose again."""

    view: CheckoutView


@dataclass(frozen=True)
class AwaitingCustomer:
    view: CheckoutView
    confirmation_id: int
    expires_at: datetime


async def confirm_checkout(
    dom: Domain, actor: StaffActor, quote_id: int, *, alert_chat_id: int | None = None,
) -> Committed | Requoted | AwaitingCustomer:
    """Commit the quote once, whoever confirms and however often.

    The usual tap is ONE transaction (issue 15): one read of the quote, the staff member and
    the account they are themselves a customer under, the purchase, the quote tied to it, the
    audit entry and the fraud limits. The rarer answers (the choice was reset, the balance
    changed, points after a phone lookup) take their own steps."""
    with_code, collided = True, False
    while True:
        try:
            outcome = await _confirm_in_one_transaction(dom, actor, quote_id, alert_chat_id, with_code=with_code)
        except _STALE:
            return Requoted(await _reset_choice(dom, quote_id))
        except _AccrualWithoutCode:
            with_code = False  # the code was used or expired meanwhile; accrual alone needs none
            continue
        except IntegrityError:
            if collided:
                raise
            collided = True  # the same key committed at this instant elsewhere: the rerun replays it
            continue
        if outcome is not None:
            return outcome
        return await _confirm_slowly(dom, actor, quote_id, alert_chat_id)


class _AccrualWithoutCode(Exception):
    """Raised out of the transaction (rolling it back) to run it again without the code."""


_CODE_GONE = (CodeUsed, CodeExpired, CodeNotFound)


def _may_go_without_code(points: int) -> bool:
    """The code was used or expired between the scan and the tap. Paying with points needs a
    fresh code (DOMAIN.md, "The customer code"); accrual alone needs none: the customer is
    known, the code only proved they were there."""
    return points == 0


# The points were validated against a quote when chosen; if the commit finds them no longer
# allowed, the balance (or the certificate) changed in between: re-quote, never fail.
_STALE = (StaleQuote, RedeemLimitExceeded, InsufficientFunds)


async def _confirm_in_one_transaction(dom: Domain, actor: StaffActor, quote_id: int, alert_chat_id: int | None,
                                      *, with_code: bool) -> Committed | None:
    """The whole tap in one transaction, or None when the quote needs the slow path (no
    choice stored yet, or points after a phone lookup: the customer is asked first)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        own = (select(TelegramAccount.customer_id).where(TelegramAccount.telegram_id == actor.telegram_id)
               .scalar_subquery() if actor.telegram_id is not None else None)
        found = (await session.execute(
            select(CheckoutQuote, Staff, own if own is not None else literal(None))
            .outerjoin(Staff, Staff.id == actor.staff_id if actor.staff_id is not None else false())
            .where(CheckoutQuote.id == quote_id)
        )).first()
        if found is None:
            raise QuoteNotFound(str(quote_id))
        row, staff, own_customer = found
        _check_staff(staff, actor)
        if row.operation_id is not None:
            op = await session.get(Operation, row.operation_id)
            assert op is not None
            return Committed(await purchase_result_in(session, op, now, True))
        if row.expires_at <= now:
            raise QuoteExpired(str(quote_id))
        if own_customer == row.customer_id:
            raise OwnAccount()
        points = row.points
        if points is None or (points and row.found_by == "phone"):
            return None
        request = _purchase_request(row, actor.staff_id, points, code=row.code if with_code else None,
                                    phone_confirmed=False)
        try:
            result = await commit_purchase_in(session, request, now)
        except _CODE_GONE:
            if not with_code or not _may_go_without_code(points):
                raise
            raise _AccrualWithoutCode() from None
        await _tie_quote(session, now, actor, row, result)
        if not result.replayed:  # the purchase is recorded under whoever confirmed it, not who opened the quote
            await check_fraud_in(session, dom, now, customer_id=row.customer_id, staff_id=actor.staff_id,
                                 alert_chat_id=alert_chat_id, program=await program_at(session, result.program_version))
    return Committed(result)


async def _confirm_slowly(dom: Domain, actor: StaffActor, quote_id: int,
                          alert_chat_id: int | None) -> Committed | Requoted | AwaitingCustomer:
    """A quote without a stored choice (a late tap after a re-quote, or one stored before
    `start_checkout` recorded "nothing to choose"), or points after a phone lookup."""
    async with dom.db.reading() as session:
        row = await _open_quote(session, dom, actor, quote_id)
    if row.points is None:
        view = await _view(dom, row)
        if view.can_redeem and view.quote.max_points > 0:
            return Requoted(view)  # the choice was reset: show it again rather than guess the points
        await choose_points(dom, actor, quote_id, 0)
        outcome = await confirm_checkout(dom, actor, quote_id, alert_chat_id=alert_chat_id)
        return outcome
    return await _ask_customer(dom, actor, row)


def _purchase_request(row: CheckoutQuote, staff_id: int | None, points: int, *, code: str | None,
                      phone_confirmed: bool) -> PurchaseRequest:
    return PurchaseRequest(
        customer_id=row.customer_id, amount_kopecks=row.amount_kopecks, points=points,
        staff_id=staff_id, idempotency_key=f"quote:{row.id}", certificate_lot_id=row.certificate_lot_id,
        code=code, phone_confirmed=phone_confirmed, found_by=row.found_by, expected_points=points,
    )


async def _commit(dom: Domain, row: CheckoutQuote, staff_id: int | None, points: int, *, code: str | None,
                  phone_confirmed: bool) -> PurchaseResult:
    request = _purchase_request(row, staff_id, points, code=code, phone_confirmed=phone_confirmed)
    try:
        return await commit_purchase(dom, request)
    except _CODE_GONE:
        if not _may_go_without_code(points):
            raise
        return await commit_purchase(dom, replace(request, code=None))


async def _reset_choice(dom: Domain, quote_id: int) -> CheckoutView:
    async with dom.db.transaction() as session:
        row = await _load_quote(session, quote_id)
        row.points = None
    return await get_checkout(dom, quote_id)


async def _tie_quote(session: AsyncSession, now: datetime, actor: StaffActor, row: CheckoutQuote,
                     result: PurchaseResult) -> None:
    """The quote answers with this purchase from now on; the audit names both."""
    await session.execute(update(CheckoutQuote).where(CheckoutQuote.id == row.id)
                          .values(operation_id=result.operation_id))
    _audit(session, now, actor, "checkout.purchase", f"operation:{result.operation_id}",
           quote=row.id, amount=result.amount_kopecks, points=result.points_paid,
           replayed=result.replayed or None)


async def _after_purchase(dom: Domain, actor: StaffActor, row: CheckoutQuote, result: PurchaseResult,
                          alert_chat_id: int | None) -> None:
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await _tie_quote(session, now, actor, row, result)
    if not result.replayed:
        await check_fraud(dom, customer_id=row.customer_id, staff_id=actor.staff_id, alert_chat_id=alert_chat_id)


# --- Phone confirmations (DOMAIN.md, "A purchase": redemption after a phone lookup) ---------

async def _ask_customer(dom: Domain, actor: StaffActor, row: CheckoutQuote) -> AwaitingCustomer:
    now = dom.clock.now()
    view = await _view(dom, row)
    if not view.can_redeem:
        raise RedeemNotAuthorised("accrual only")
    async with dom.db.transaction() as session:
        _, program = await current_program(session)
        pending = (await session.execute(
            select(PhoneConfirmation).where(PhoneConfirmation.quote_id == row.id,
                                            PhoneConfirmation.status == "pending",
                                            PhoneConfirmation.expires_at > now)
        )).scalar()
        if pending is not None and pending.points == row.points:  # a double tap: one request
            return AwaitingCustomer(view, pending.id, pending.expires_at)
        await _cancel_pending(session, row.id, now)  # other figures now: the earlier request is void
        chat = await customer_chat(session, row.customer_id)
        if chat is None:
            raise RedeemNotAuthorised("customer has no chat")
        staff = await _require_staff(session, actor)
        confirmation = PhoneConfirmation(
            quote_id=row.id, staff_id=staff.id, customer_id=row.customer_id,
            amount_kopecks=row.amount_kopecks, points=row.points or 0, created_at=now,
            expires_at=now + timedelta(minutes=program.limits.phone_confirmation_minutes),
        )
        session.add(confirmation)
        await session.flush()
        await enqueue(session, chat, message_payload(
            "staff-phone-confirm-request",
            args={"amount": row.amount_kopecks, "points": confirmation.points,
                  "cash": row.amount_kopecks - confirmation.points * program.points.point_value_kopecks,
                  "minutes": program.limits.phone_confirmation_minutes},
            markup={"kind": "phone_confirm", "confirmation_id": confirmation.id},
        ), now, dedupe_key=f"phone-confirm:{confirmation.id}")
        _audit(session, now, actor, "checkout.phone_confirmation", f"quote:{row.id}",
               confirmation=confirmation.id, points=confirmation.points)
        return AwaitingCustomer(view, confirmation.id, confirmation.expires_at)


@dataclass(frozen=True)
class PhoneAnswer:
    status: str  # confirmed, declined, expired, stale, or the status it already had
    quote_id: int
    result: PurchaseResult | None = None


async def answer_phone_confirmation(
    dom: Domain, confirmation_id: int, telegram_id: int, accept: bool, *, alert_chat_id: int | None = None,
) -> PhoneAnswer:
    """The customer's answer; only the customer the request went to can give it."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        confirmation = await session.get(PhoneConfirmation, confirmation_id)
        linked = (await session.execute(
            select(TelegramAccount.customer_id).where(TelegramAccount.telegram_id == telegram_id)
        )).scalar()
        if confirmation is None or linked != confirmation.customer_id:
            raise NotAllowed("not this customer's confirmation")
        row = await _load_quote(session, confirmation.quote_id)
        if confirmation.status != "pending":
            return PhoneAnswer(confirmation.status, row.id)
        decided = "expired" if confirmation.expires_at <= now else ("confirmed" if accept else "declined")
        asking = await session.get(Staff, confirmation.staff_id)
        if decided == "confirmed" and (asking is None or not asking.active):
            decided = "failed"  # the cashier was revoked meanwhile: their checkout dies with them
        taken = await session.execute(
            update(PhoneConfirmation).where(PhoneConfirmation.id == confirmation.id,
                                            PhoneConfirmation.status == "pending")
            .values(status="confirming" if decided == "confirmed" else decided, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        if not taken.rowcount:  # type: ignore[attr-defined]
            return PhoneAnswer("pending", row.id)
        staff_chat = row.chat_id
        points, staff_id = confirmation.points, confirmation.staff_id
        audit.record(session, now, f"customer.phone_confirmation.{decided}", actor_telegram_id=telegram_id,
                     actor_role="customer", target=f"quote:{row.id}", details={"confirmation": confirmation.id})
        if decided != "confirmed":
            if staff_chat is not None:
                await enqueue(session, staff_chat, message_payload(f"staff-phone-{decided}", args={"quote": row.id}),
                              now, dedupe_key=f"phone-answer:{confirmation.id}")
            outcome = PhoneAnswer(decided, row.id)
    if decided != "confirmed":
        # Raised after the commit, so the status and the cashier's notice are kept.
        if decided == "expired":
            raise ConfirmationExpired()
        return outcome
    try:
        result = await _commit(dom, row, staff_id, points, code=None, phone_confirmed=True)
    except _STALE:
        await _finish_confirmation(dom, confirmation_id, "stale", None, staff_chat, row.id, None)
        await _reset_choice(dom, row.id)
        return PhoneAnswer("stale", row.id)
    except DomainError:
        await _finish_confirmation(dom, confirmation_id, "failed", None, staff_chat, row.id, None)
        raise
    await _finish_confirmation(dom, confirmation_id, "confirmed", result.operation_id, staff_chat, row.id, result)
    staff_actor = StaffActor(telegram_id=None, staff_id=staff_id)
    await _after_purchase(dom, staff_actor, row, result, alert_chat_id)
    return PhoneAnswer("confirmed", row.id, result)


async def _finish_confirmation(dom: Domain, confirmation_id: int, status: str, operation_id: int | None,
                               staff_chat: int | None, quote_id: int, result: PurchaseResult | None) -> None:
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await session.execute(update(PhoneConfirmation).where(PhoneConfirmation.id == confirmation_id)
                              .values(status=status, operation_id=operation_id, decided_at=now))
        if staff_chat is None:
            return
        if result is None:
            payload = message_payload(f"staff-phone-{status}", args={"quote": quote_id})
        else:
            payload = message_payload("staff-phone-confirmed", args=receipt_args(result),
                                      markup={"kind": "staff_receipt", "operation_id": result.operation_id})
        await enqueue(session, staff_chat, payload, now, dedupe_key=f"phone-answer:{confirmation_id}")


def receipt_args(result: PurchaseResult) -> dict[str, int]:
    """The figures of a receipt, as translation arguments (money in kopecks)."""
    return {"operation": result.operation_id, "amount": result.amount_kopecks, "paid": result.points_paid,
            "cash": result.cash_kopecks, "earned": result.cashback, "balance": result.balance_after}


# --- Refunds and sales without a card -------------------------------------------------------

async def refund(
    dom: Domain, actor: StaffActor, purchase_id: int, amount_kopecks: int | None = None, *,
    idempotency_key: str | None = None, alert_chat_id: int | None = None,
) -> RefundResult:
    """Full or partial refund; past the program's window only the owner (DOMAIN.md, "Refunds")."""
    await _may_refund(dom, actor, purchase_id)
    result = await refund_purchase(dom, purchase_id, amount_kopecks, staff_id=actor.staff_id,
                                   override_window=actor.is_owner, idempotency_key=idempotency_key)
    await audit_action(dom, actor, "checkout.refund", f"operation:{purchase_id}", refund=result.operation_id,
                       amount=result.amount_kopecks, replayed=result.replayed or None,
                       points_not_returned=result.points_lost if result.customer_erased else None)
    if result.customer_id is not None and not result.replayed:
        await check_fraud(dom, customer_id=result.customer_id, staff_id=actor.staff_id, alert_chat_id=alert_chat_id)
    return result


async def _may_refund(dom: Domain, actor: StaffActor, purchase_id: int) -> None:
    async with dom.db.reading() as session:
        await _require_staff(session, actor)
        purchase = await session.get(Operation, purchase_id)
        if purchase is None or purchase.kind is not OperationKind.PURCHASE:
            raise NotFound(str(purchase_id))
        if purchase.customer_id is not None:
            await check_not_own_account(session, purchase.customer_id, actor)


async def preview_refund(dom: Domain, actor: StaffActor, purchase_id: int, amount_kopecks: int | None) -> RefundPreview:
    """What `refund` would do now, refused for the same reasons (the role, one's own account,
    the window, the amount): the partial refund's confirmation screen."""
    await _may_refund(dom, actor, purchase_id)
    return await preview_purchase_refund(dom, purchase_id, amount_kopecks, override_window=actor.is_owner)


async def purchase_for_refund(dom: Domain, purchase_id: int) -> tuple[int, int]:
    """(check amount, amount still refundable) of a purchase."""
    async with dom.db.reading() as session:
        purchase = await session.get(Operation, purchase_id)
        if purchase is None or purchase.kind is not OperationKind.PURCHASE:
            raise NotFound(str(purchase_id))
        return purchase.amount_kopecks, purchase.amount_kopecks - purchase.refunded_kopecks


async def sale_without_card(dom: Domain, actor: StaffActor, amount_kopecks: int, *,
                            idempotency_key: str | None = None) -> int:
    async with dom.db.reading() as session:
        await _require_staff(session, actor)
    op_id = await record_sale_without_card(dom, amount_kopecks, staff_id=actor.staff_id,
                                           idempotency_key=idempotency_key)
    await audit_action(dom, actor, "checkout.sale_no_card", f"operation:{op_id}", amount=amount_kopecks)
    return op_id


# --- Fraud controls (DOMAIN.md, "Roles": unusual activity alerts the staff group) ---------

def _day_bounds(dom: Domain, now: datetime) -> tuple[datetime, datetime, str]:
    local = now.astimezone(dom.tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1), start.date().isoformat()


async def _alert_once(session: AsyncSession, chat_id: int, key: str, args: dict[str, object],
                      dedupe: str, now: datetime) -> bool:
    exists = (await session.execute(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe))).scalar()
    if exists is not None:
        return False
    try:
        async with session.begin_nested():
            await enqueue(session, chat_id, message_payload(key, args=args), now, dedupe_key=dedupe)
            await session.flush()
    except IntegrityError:
        return False  # raised concurrently by another till
    return True


async def check_fraud(dom: Domain, *, customer_id: int | None, staff_id: int | None,
                      alert_chat_id: int | None) -> list[str]:
    """Alert the staff chat when a customer has more than N operations today, or a staff
    member paid more than M points today (program limits). Returns the alerts raised."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        return await check_fraud_in(session, dom, now, customer_id=customer_id, staff_id=staff_id,
                                    alert_chat_id=alert_chat_id)


async def check_fraud_in(session: AsyncSession, dom: Domain, now: datetime, *, customer_id: int | None,
                         staff_id: int | None, alert_chat_id: int | None, program: Program | None = None) -> list[str]:
    """`check_fraud` inside the caller's transaction (after the operation it is about)."""
    start, end, day = _day_bounds(dom, now)
    raised: list[str] = []
    # Names go into outbox texts, which `models.outbox.message_payload` HTML-escapes.
    if program is None:
        _, program = await current_program(session)
    limits = program.limits
    today = and_(Operation.created_at >= start, Operation.created_at < end)
    till = Operation.kind.in_([OperationKind.PURCHASE, OperationKind.REFUND])
    # Both of today's figures in one statement (the Confirm tap's budget, issue 15).
    operations = (select(func.count(Operation.id)).where(Operation.customer_id == customer_id, till, today)
                  .scalar_subquery() if customer_id is not None else literal(0))
    points_paid = (select(func.coalesce(func.sum(Operation.points_paid), 0))
                   .where(Operation.staff_id == staff_id, Operation.kind == OperationKind.PURCHASE, today)
                   .scalar_subquery() if staff_id is not None else literal(0))
    count, paid = (int(value or 0) for value in (await session.execute(select(operations, points_paid))).one())
    if customer_id is not None:
        if count > limits.fraud_operations_per_customer_day:
            customer = await session.get(Customer, customer_id)
            args = {"customer": (customer.name if customer else None) or f"#{customer_id}",
                    "customer_id": customer_id, "count": count,
                    "limit": limits.fraud_operations_per_customer_day}
            if alert_chat_id is not None and await _alert_once(
                    session, alert_chat_id, "staff-fraud-customer", args, f"fraud:customer:{customer_id}:{day}",
                    now):
                raised.append("customer")
                audit.record(session, now, "fraud.customer", actor_telegram_id=None, actor_role="system",
                             target=f"customer:{customer_id}", details=args)
    if staff_id is not None:
        if paid > limits.fraud_points_per_staff_day:
            staff = await session.get(Staff, staff_id)
            args = {"staff": staff.display_name if staff else f"#{staff_id}", "points": paid,
                    "limit": limits.fraud_points_per_staff_day}
            if alert_chat_id is not None and await _alert_once(
                    session, alert_chat_id, "staff-fraud-staff", args, f"fraud:staff:{staff_id}:{day}", now):
                raised.append("staff")
                audit.record(session, now, "fraud.staff", actor_telegram_id=None, actor_role="system",
                             target=f"staff:{staff_id}", details=args)
    if raised:
        log.warning("fraud alerts raised: %s (customer %s, staff %s)", raised, customer_id, staff_id)
    return raised


# --- Staff statistics (/me) ------------------------------------------------------------------

@dataclass(frozen=True)
class PeriodStats:
    purchases: int  # card purchases, fully refunded ones excluded (models/figures.py, as in /report)
    revenue_kopecks: int  # their check amounts (money and points), net of refunds
    average_check: Fraction | None  # models.figures.average_check, as in /report
    points_paid: int
    points_accrued: int
    refunds: int
    sales_without_card: int
    enrolled: int  # customers enrolled through the staff member's link (or created at the till)
    ratings: int
    average_rating: Decimal | None


@dataclass(frozen=True)
class StaffStats:
    name: str
    referral_code: str
    today: PeriodStats
    month: PeriodStats


async def _period(session: AsyncSession, staff_id: int, start: datetime, end: datetime) -> PeriodStats:
    within = and_(Operation.created_at >= start, Operation.created_at < end, Operation.staff_id == staff_id)
    is_purchase = Operation.kind == OperationKind.PURCHASE
    live = live_purchase()
    row = (await session.execute(select(
        func.count(Operation.id).filter(live),
        func.coalesce(func.sum(case((live, net_revenue()), else_=0)), 0),
        func.coalesce(func.sum(case((is_purchase, Operation.points_paid), else_=0)), 0),
        func.coalesce(func.sum(case((is_purchase, Operation.cashback), else_=0)), 0),
        func.count(Operation.id).filter(Operation.kind == OperationKind.REFUND),
        func.count(Operation.id).filter(Operation.kind == OperationKind.SALE_NO_CARD),
    ).where(within))).one()
    purchases, revenue, paid, accrued, refunds, sales = (int(v or 0) for v in row)
    enrolled = int((await session.execute(select(func.count(Customer.id)).where(
        Customer.enrolled_by_staff_id == staff_id, Customer.created_at >= start, Customer.created_at < end
    ))).scalar() or 0)
    rating = (await session.execute(select(func.count(Rating.id), func.avg(Rating.score)).where(
        Rating.staff_id == staff_id, Rating.created_at >= start, Rating.created_at < end
    ))).one()
    ratings = int(rating[0] or 0)
    average = Decimal(str(rating[1])).quantize(Decimal("0.1")) if ratings else None
    return PeriodStats(purchases, revenue, average_check(revenue, purchases), paid, accrued, refunds, sales,
                       enrolled, ratings, average)


async def staff_stats(dom: Domain, actor: StaffActor) -> StaffStats:
    now = dom.clock.now()
    async with dom.db.reading() as session:
        staff = await _require_staff(session, actor)
        staff_id, name = staff.id, staff.display_name
    code = await ensure_staff_referral_code(dom, staff_id)
    day_start, day_end, _ = _day_bounds(dom, now)
    month_start = day_start.replace(day=1)
    async with dom.db.reading() as session:
        today = await _period(session, staff_id, day_start, day_end)
        month = await _period(session, staff_id, month_start, day_end)
    return StaffStats(name, code, today, month)
