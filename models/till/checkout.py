"""The checkout at the till: server-side quotes, the cashier's Confirm (one transaction), and the
customer's confirmation in their chat when points are paid after a phone lookup (DOMAIN.md,
"A purchase").

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
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, false, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import get_customer
from models.kernel import audit
from models.kernel.context import Domain
from models.kernel.errors import (
    CertificateNotApplicable,
    CodeExpired,
    CodeNotFound,
    CodeUsed,
    DomainError,
    InsufficientFunds,
    NotFound,
    OwnAccount,
    RedeemLimitExceeded,
    RedeemNotAuthorised,
)
from models.kernel.outbox import customer_chat, enqueue, message_payload
from models.kernel.tables import CheckoutQuote, Operation, PhoneConfirmation, Staff, TelegramAccount
from models.program.store import current_program, program_at
from models.purchase.purchases import (
    PurchaseRequest,
    PurchaseResult,
    Quote,
    StaleQuote,
    commit_purchase,
    commit_purchase_in,
    purchase_result_in,
    quote_purchase,
)
from models.till.access import NotAllowed, StaffActor, audit_in, check_not_own_account, check_staff, require_staff
from models.till.fraud import check_fraud, check_fraud_in
from models.till.lookup import CustomerCard, customer_card

QUOTE_VALIDITY = timedelta(minutes=30)


class QuoteNotFound(NotFound):
    code = "quote_not_found"


class QuoteExpired(DomainError):
    code = "quote_expired"


class ConfirmationExpired(DomainError):
    code = "confirmation_expired"


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


async def max_check(dom: Domain) -> int:
    """The largest check the program accepts, in kopecks: what a typed amount is parsed against."""
    async with dom.db.reading() as session:
        _, program = await current_program(session)
    return program.limits.max_check_kopecks


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
        card = await customer_card(session, dom, customer)
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
        await require_staff(session, actor)
        await check_not_own_account(session, customer_id, actor)
        row = CheckoutQuote(staff_id=actor.staff_id, chat_id=chat_id, customer_id=customer_id,
                            amount_kopecks=amount_kopecks, found_by=found_by, code=code,
                            created_at=now, expires_at=now + QUOTE_VALIDITY)
        session.add(row)
        await session.flush()
        audit_in(session, now, actor, "checkout.quote", f"quote:{row.id}", customer=customer_id,
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
    await require_staff(session, actor)
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
        await require_staff(session, actor)
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
        audit_in(session, now, actor, "checkout.cancel", f"quote:{row.id}")
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
        check_staff(staff, actor)
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
    audit_in(session, now, actor, "checkout.purchase", f"operation:{result.operation_id}",
           quote=row.id, amount=result.amount_kopecks, points=result.points_paid,
           replayed=result.replayed or None)


async def _after_purchase(dom: Domain, actor: StaffActor, row: CheckoutQuote, result: PurchaseResult,
                          alert_chat_id: int | None) -> None:
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        await _tie_quote(session, now, actor, row, result)
    if not result.replayed:
        await check_fraud(dom, customer_id=row.customer_id, staff_id=actor.staff_id, alert_chat_id=alert_chat_id)


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
        staff = await require_staff(session, actor)
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
        audit_in(session, now, actor, "checkout.phone_confirmation", f"quote:{row.id}",
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
