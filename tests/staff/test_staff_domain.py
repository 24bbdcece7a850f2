"""models/till/: invites, checkout quotes, phone confirmations, refunds, fraud, stats."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from models.campaigns.certificates import issue_certificate
from models.customers.accounts import Registration, register_customer
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.errors import CodeUsed, OwnAccount, RedeemNotAuthorised, RefundWindowClosed
from models.kernel.tables import AuditEntry, CertificateKind, Operation, OperationKind, OutboxMessage
from models.program.rules import text_in
from models.program.store import current_program
from models.purchase.purchases import PurchaseRequest, commit_purchase
from models.till.access import NotAllowed, StaffActor
from models.till.checkout import (
    AwaitingCustomer,
    Committed,
    ConfirmationExpired,
    Requoted,
    answer_phone_confirmation,
    choose_certificate,
    choose_points,
    confirm_checkout,
    start_checkout,
)
from models.till.fraud import check_fraud
from models.till.lookup import create_customer_by_phone, find_by_code, find_by_phone
from models.till.refunds import refund, sale_without_card
from models.till.stats import staff_stats
from models.till.team import (
    AlreadyStaff,
    CannotRevokeOwner,
    InviteExpired,
    InviteUsed,
    accept_invite,
    create_invite,
    list_staff,
    revoke_staff,
)
from tests.helpers import assert_invariants, balance, fresh_code, register

from .conftest import CASHIER_TG, make_cashier

STAFF_CHAT = -100500
# PostgreSQL (when TEST_POSTGRES_URL is set) runs the money paths and concurrency; the rest
# is plain SQL that SQLite covers, which keeps this area's CI time low.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])


async def _operations(dom: Domain, kind: OperationKind = OperationKind.PURCHASE) -> int:
    async with dom.db.reading() as s:
        return int((await s.execute(select(func.count(Operation.id)).where(Operation.kind == kind))).scalar() or 0)


async def _outbox(dom: Domain, key: str) -> list[OutboxMessage]:
    async with dom.db.reading() as s:
        rows = (await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        return [r for r in rows if r.payload.get("key") == key]


# --- invites and roles ------------------------------------------------------------------------

@sqlite_only
async def test_invite_is_one_time_and_expires(dom: Domain, clock: ManualClock, owner: StaffActor) -> None:
    invite = await create_invite(dom, owner)
    assert invite.expires_at == clock.now() + timedelta(hours=24)
    member = await accept_invite(dom, invite.token, 777, "Пётр")
    assert member.display_name == "Пётр" and member.referral_code
    with pytest.raises(InviteUsed):
        await accept_invite(dom, invite.token, 778, "Другой")
    late = await create_invite(dom, owner)
    clock.advance(timedelta(hours=24, seconds=1))
    with pytest.raises(InviteExpired):
        await accept_invite(dom, late.token, 779, "Опоздал")
    fresh = await create_invite(dom, owner)
    with pytest.raises(AlreadyStaff):
        await accept_invite(dom, fresh.token, 777, "Пётр")


@sqlite_only
async def test_only_owner_invites_lists_and_revokes(dom: Domain, owner: StaffActor, cashier: StaffActor) -> None:
    with pytest.raises(NotAllowed):
        await create_invite(dom, cashier)
    with pytest.raises(NotAllowed):
        await revoke_staff(dom, cashier, owner.staff_id or 0)
    names = [m.display_name for m in await list_staff(dom, owner)]
    assert "Мария" in names
    with pytest.raises(CannotRevokeOwner):
        await revoke_staff(dom, owner, owner.staff_id or 0)


@sqlite_only
async def test_revoked_staff_loses_every_action(dom: Domain, owner: StaffActor, cashier: StaffActor) -> None:
    customer = await register(dom)
    code = await fresh_code(dom, customer)
    await revoke_staff(dom, owner, cashier.staff_id or 0)
    with pytest.raises(NotAllowed):
        await find_by_code(dom, cashier, code)
    with pytest.raises(NotAllowed):
        await start_checkout(dom, cashier, customer, 100_000, found_by="code", code=code)
    with pytest.raises(NotAllowed):
        await sale_without_card(dom, cashier, 50_000)
    async with dom.db.reading() as s:
        actions = list((await s.execute(select(AuditEntry.action))).scalars())
    assert "staff.revoke" in actions and "staff.join" in actions


# --- checkout ---------------------------------------------------------------------------------

async def test_checkout_max_points_is_committed_once(dom: Domain, cashier: StaffActor) -> None:
    customer = await register(dom)  # 300 welcome points, tier 1: 3% cashback, 10% cap
    code = await fresh_code(dom, customer)
    card = await find_by_code(dom, cashier, code)
    assert card.balance == 300 and text_in(card.tier_name, "ru") == "Статус 1"
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="code", code=code)
    assert view.quote.max_points == 100 and view.points is None
    view = await choose_points(dom, cashier, view.quote_id, None)
    assert view.points == 100
    first, second = await asyncio.gather(confirm_checkout(dom, cashier, view.quote_id),
                                         confirm_checkout(dom, cashier, view.quote_id))
    assert isinstance(first, Committed) and isinstance(second, Committed)
    assert first.result.operation_id == second.result.operation_id
    again = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(again, Committed) and again.result.replayed
    assert await _operations(dom) == 1
    assert first.result.points_paid == 100 and first.result.cashback == 27  # 3% of 900 ₽
    assert await balance(dom, customer) == 300 - 100 + 27
    with pytest.raises(CodeUsed):
        await find_by_code(dom, cashier, code)
    await assert_invariants(dom)


@sqlite_only
async def test_no_points_and_custom_points(dom: Domain, cashier: StaffActor) -> None:
    customer = await register(dom)
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="code",
                                code=await fresh_code(dom, customer))
    with pytest.raises(Exception) as info:
        await choose_points(dom, cashier, view.quote_id, 101)
    assert getattr(info.value, "code", "") == "redeem_limit_exceeded"
    view = await choose_points(dom, cashier, view.quote_id, 40)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed) and done.result.points_paid == 40
    view = await start_checkout(dom, cashier, customer, 50_000, found_by="code",
                                code=await fresh_code(dom, customer))
    view = await choose_points(dom, cashier, view.quote_id, 0)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed) and done.result.points_paid == 0 and done.result.cashback == 15


async def test_stale_quote_is_requoted(dom: Domain, cashier: StaffActor) -> None:
    customer = await register(dom)
    view = await start_checkout(dom, cashier, customer, 500_000, found_by="code",
                                code=await fresh_code(dom, customer))
    view = await choose_points(dom, cashier, view.quote_id, None)
    assert view.points == 300  # cap 500, balance 300
    # Another till spends 250 points meanwhile.
    await commit_purchase(dom, PurchaseRequest(customer_id=customer, amount_kopecks=300_000, points=250,
                                               phone_confirmed=True))
    outcome = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(outcome, Requoted)
    assert outcome.view.points is None and outcome.view.quote.max_points == 50 + 82  # 50 left + 3% of 2 750
    view = await choose_points(dom, cashier, view.quote_id, None)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed) and done.result.points_paid == 132
    await assert_invariants(dom)


@sqlite_only
async def test_certificate_choice(dom: Domain, cashier: StaffActor) -> None:
    customer = await register(dom)
    async with dom.db.transaction() as s:
        version, _ = await current_program(s)
        now = dom.clock.now()
        soon = await issue_certificate(s, customer_id=customer, kind=CertificateKind.OWNER, points=500,
                                       max_redeem_percent=__import__("decimal").Decimal(20), validity_days=5,
                                       program_version=version, now=now)
        later = await issue_certificate(s, customer_id=customer, kind=CertificateKind.OWNER, points=1000,
                                        max_redeem_percent=__import__("decimal").Decimal(50), validity_days=30,
                                        program_version=version, now=now)
        assert soon is not None and later is not None
        later_id = later.id
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="code",
                                code=await fresh_code(dom, customer))
    assert view.several_certificates
    assert view.quote.certificate is not None and view.quote.certificate.lot_id == soon.id
    assert view.quote.max_points == 100 + 200
    view = await choose_certificate(dom, cashier, view.quote_id, later_id)
    assert view.quote.certificate is not None and view.quote.certificate.lot_id == later_id
    assert view.quote.max_points == 100 + 500
    view = await choose_points(dom, cashier, view.quote_id, None)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed) and done.result.certificate_points == 500
    await assert_invariants(dom)


@sqlite_only
async def test_own_account_is_refused(dom: Domain, owner: StaffActor) -> None:
    cashier = await make_cashier(dom, owner, telegram_id=CASHIER_TG)
    own = (await register_customer(dom, Registration(telegram_id=CASHIER_TG, phone="+79160000001",
                                                     name="Мария"))).customer_id
    with pytest.raises(OwnAccount):
        await find_by_code(dom, cashier, await fresh_code(dom, own))
    with pytest.raises(OwnAccount):
        await find_by_phone(dom, cashier, "8 916 000-00-01")
    with pytest.raises(OwnAccount):
        await start_checkout(dom, cashier, own, 10_000, found_by="phone")


# --- by phone ---------------------------------------------------------------------------------

async def test_phone_lookup_formats_and_confirmation(dom: Domain, clock: ManualClock, cashier: StaffActor) -> None:
    customer = await register(dom, phone="+79161234567", telegram_id=9001)
    for typed in ("+7 916 123-45-67", "8 (916) 123 45 67", "89161234567", "9161234567"):
        card = await find_by_phone(dom, cashier, typed)
        assert card is not None and card.customer_id == customer
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="phone")
    assert view.can_redeem and view.needs_customer_confirmation
    view = await choose_points(dom, cashier, view.quote_id, None)
    asked = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(asked, AwaitingCustomer)
    again = await confirm_checkout(dom, cashier, view.quote_id)  # a double tap: one request
    assert isinstance(again, AwaitingCustomer) and again.confirmation_id == asked.confirmation_id
    [request] = await _outbox(dom, "staff-phone-confirm-request")
    assert request.chat_id == 9001
    assert request.payload["markup"] == {"kind": "phone_confirm", "confirmation_id": asked.confirmation_id}
    assert await _operations(dom) == 0
    with pytest.raises(NotAllowed):  # someone else pressing the customer's button
        await answer_phone_confirmation(dom, asked.confirmation_id, 4242, True)
    answer = await answer_phone_confirmation(dom, asked.confirmation_id, 9001, True)
    assert answer.status == "confirmed" and answer.result is not None and answer.result.points_paid == 100
    repeat = await answer_phone_confirmation(dom, asked.confirmation_id, 9001, True)
    assert repeat.status == "confirmed" and await _operations(dom) == 1
    # Declined and expired requests pay nothing.
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="phone")
    await choose_points(dom, cashier, view.quote_id, 50)
    asked = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(asked, AwaitingCustomer)
    assert (await answer_phone_confirmation(dom, asked.confirmation_id, 9001, False)).status == "declined"
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="phone")
    await choose_points(dom, cashier, view.quote_id, 50)
    asked = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(asked, AwaitingCustomer)
    clock.advance(timedelta(minutes=5, seconds=1))
    with pytest.raises(ConfirmationExpired):
        await answer_phone_confirmation(dom, asked.confirmation_id, 9001, True)
    assert await _operations(dom) == 1


@sqlite_only
async def test_accrual_by_phone_needs_no_confirmation(dom: Domain, cashier: StaffActor) -> None:
    customer = await register(dom, phone="+79161234568")
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="phone")
    view = await choose_points(dom, cashier, view.quote_id, 0)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed) and done.result.cashback == 30


@sqlite_only
async def test_phone_only_customer_then_registration_joins(dom: Domain, cashier: StaffActor) -> None:
    assert await find_by_phone(dom, cashier, "+7 (926) 555-44-33") is None
    card = await create_customer_by_phone(dom, cashier, "+7 (926) 555-44-33")
    assert not card.has_telegram
    view = await start_checkout(dom, cashier, card.customer_id, 200_000, found_by="phone")
    assert not view.can_redeem
    with pytest.raises(RedeemNotAuthorised):
        await choose_points(dom, cashier, view.quote_id, 10)
    view = await choose_points(dom, cashier, view.quote_id, 0)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed) and done.result.cashback == 60
    joined = await register_customer(dom, Registration(telegram_id=9100, phone="89265554433", name="Олег"))
    assert joined.joined_existing and joined.customer_id == card.customer_id
    assert await balance(dom, card.customer_id) == 60 + 300
    stats = await staff_stats(dom, cashier)
    assert stats.today.enrolled == 1


# --- refunds ----------------------------------------------------------------------------------

async def _purchase(dom: Domain, cashier: StaffActor, customer: int, amount: int = 100_000) -> int:
    view = await start_checkout(dom, cashier, customer, amount, found_by="code", code=await fresh_code(dom, customer))
    view = await choose_points(dom, cashier, view.quote_id, 0)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed)
    return done.result.operation_id


async def test_refunds_partial_full_and_window(dom: Domain, clock: ManualClock, owner: StaffActor,
                                               cashier: StaffActor) -> None:
    customer = await register(dom)
    op = await _purchase(dom, cashier, customer)
    part = await refund(dom, cashier, op, 40_000)
    assert part.amount_kopecks == 40_000 and not part.fully_refunded
    rest = await refund(dom, cashier, op)
    assert rest.fully_refunded and rest.amount_kopecks == 60_000
    late = await _purchase(dom, cashier, customer)
    clock.advance(timedelta(days=15))
    with pytest.raises(RefundWindowClosed):
        await refund(dom, cashier, late)
    done = await refund(dom, owner, late)
    assert done.fully_refunded
    assert len(await _outbox(dom, "notify-refund")) == 3
    await assert_invariants(dom)


# --- fraud and stats --------------------------------------------------------------------------

@sqlite_only
async def test_fraud_alerts_once_a_day(dom: Domain, cashier: StaffActor) -> None:
    customer = await register(dom)
    for _ in range(6):  # the limit is 5 operations per customer per day
        view = await start_checkout(dom, cashier, customer, 10_000, found_by="code",
                                    code=await fresh_code(dom, customer))
        await choose_points(dom, cashier, view.quote_id, 0)
        await confirm_checkout(dom, cashier, view.quote_id, alert_chat_id=STAFF_CHAT)
    alerts = await _outbox(dom, "staff-fraud-customer")
    assert len(alerts) == 1 and alerts[0].chat_id == STAFF_CHAT and alerts[0].payload["args"]["count"] == 6
    assert await check_fraud(dom, customer_id=customer, staff_id=None, alert_chat_id=STAFF_CHAT) == []


async def _paying_30_000_points(dom: Domain, cashier: StaffActor) -> Any:
    """A customer with a 30,000-point owner certificate at a 25,000 ₽ checkout paying all it may."""
    rich = await register(dom)
    async with dom.db.transaction() as s:
        version, _ = await current_program(s)
        await issue_certificate(s, customer_id=rich, kind=CertificateKind.OWNER, points=30_000,
                                max_redeem_percent=__import__("decimal").Decimal(100), validity_days=30,
                                program_version=version, now=dom.clock.now())
    view = await start_checkout(dom, cashier, rich, 2_500_000, found_by="code", code=await fresh_code(dom, rich))
    view = await choose_points(dom, cashier, view.quote_id, None)
    assert view.points is not None and view.points > 20_000
    return view


@sqlite_only
async def test_fraud_alert_on_points_paid_by_staff(dom: Domain, cashier: StaffActor) -> None:
    view = await _paying_30_000_points(dom, cashier)
    await confirm_checkout(dom, cashier, view.quote_id, alert_chat_id=STAFF_CHAT)
    [alert] = await _outbox(dom, "staff-fraud-staff")
    assert alert.payload["args"]["staff"] == "Мария"


async def test_staff_stats(dom: Domain, clock: ManualClock, cashier: StaffActor) -> None:
    customer = await register(dom)
    await _purchase(dom, cashier, customer, 100_000)
    op = await _purchase(dom, cashier, customer, 300_000)
    await refund(dom, cashier, op, 100_000)
    await sale_without_card(dom, cashier, 70_000)
    stats = await staff_stats(dom, cashier)
    assert stats.referral_code
    assert stats.today.purchases == 2
    assert stats.today.revenue_kopecks == 300_000
    assert stats.today.average_check == 150_000  # card revenue / card purchases, as in /report
    assert stats.today.points_accrued == 30 + 90
    assert stats.today.refunds == 1 and stats.today.sales_without_card == 1
    clock.advance(timedelta(days=1))
    later = await staff_stats(dom, cashier)
    assert later.today.purchases == 0 and later.month.purchases == 2


@sqlite_only
async def test_phone_confirmation_after_the_cashier_was_revoked(dom: Domain, clock: ManualClock, owner: StaffActor,
                                                                 cashier: StaffActor) -> None:
    customer = await register(dom, phone="+79161234569", telegram_id=9002)
    view = await start_checkout(dom, cashier, customer, 100_000, found_by="phone", chat_id=CASHIER_TG)
    await choose_points(dom, cashier, view.quote_id, 50)
    asked = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(asked, AwaitingCustomer)
    await revoke_staff(dom, owner, cashier.staff_id or 0)
    answer = await answer_phone_confirmation(dom, asked.confirmation_id, 9002, True)
    assert answer.status == "failed" and await _operations(dom) == 0
    # An expired request keeps its status and tells the cashier.
    other = await make_cashier(dom, owner, telegram_id=CASHIER_TG + 1, name="Пётр")
    view = await start_checkout(dom, other, customer, 100_000, found_by="phone", chat_id=CASHIER_TG + 1)
    await choose_points(dom, other, view.quote_id, 50)
    asked = await confirm_checkout(dom, other, view.quote_id)
    assert isinstance(asked, AwaitingCustomer)
    clock.advance(timedelta(minutes=6))
    with pytest.raises(ConfirmationExpired):
        await answer_phone_confirmation(dom, asked.confirmation_id, 9002, True)
    assert (await answer_phone_confirmation(dom, asked.confirmation_id, 9002, True)).status == "expired"
    assert [m.chat_id for m in await _outbox(dom, "staff-phone-expired")] == [CASHIER_TG + 1]
    assert [m.chat_id for m in await _outbox(dom, "staff-phone-failed")] == [CASHIER_TG]


@sqlite_only
async def test_fraud_alert_names_the_staff_member_who_confirmed(dom: Domain, owner: StaffActor,
                                                                 cashier: StaffActor) -> None:
    """Maria opens the checkout, Pyotr confirms it (the staff group): the purchase is Pyotr's,
    so his points paid today are what the alert must look at."""
    petr = await make_cashier(dom, owner, telegram_id=CASHIER_TG + 1, name="Пётр")
    view = await _paying_30_000_points(dom, cashier)
    outcome = await confirm_checkout(dom, petr, view.quote_id, alert_chat_id=STAFF_CHAT)
    assert isinstance(outcome, Committed)
    async with dom.db.reading() as s:
        op = await s.get(Operation, outcome.result.operation_id)
        assert op is not None and op.staff_id == petr.staff_id
    [alert] = await _outbox(dom, "staff-fraud-staff")
    assert alert.payload["args"]["staff"] == "Пётр"
