"""Issue 14 §1: no id is ever used twice.

The nightly housekeeping deletes finished checkouts. On SQLite an INTEGER PRIMARY KEY without
AUTOINCREMENT hands the highest deleted ids out again, so the next checkout's `quote:<id>`
key was an old purchase's key and Confirm answered with the old receipt while the new check
was never recorded. These tests live through a quiet day and the housekeeping, on both
databases.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models.automation.jobs import housekeeping
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.replays import ReplayMismatch
from models.kernel.tables import AuditEntry, CheckoutQuote, Operation, OperationKind, OutboxMessage
from models.purchase.purchases import PurchaseRequest, commit_purchase
from models.till.access import StaffActor
from models.till.checkout import (
    Committed,
    answer_phone_confirmation,
    choose_points,
    confirm_checkout,
    start_checkout,
)
from tests.helpers import assert_invariants, balance, fresh_code, register


async def _purchases(dom: Domain) -> list[tuple[int, int, int]]:
    async with dom.db.reading() as s:
        rows = (await s.execute(select(Operation.id, Operation.customer_id, Operation.amount_kopecks)
                                .where(Operation.kind == OperationKind.PURCHASE).order_by(Operation.id))).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def _checkout(dom: Domain, cashier: StaffActor, customer: int, kopecks: int) -> Committed:
    view = await start_checkout(dom, cashier, customer, kopecks, found_by="code",
                                code=await fresh_code(dom, customer))
    view = await choose_points(dom, cashier, view.quote_id, 0)
    done = await confirm_checkout(dom, cashier, view.quote_id)
    assert isinstance(done, Committed)
    return done


async def test_a_checkout_after_a_quiet_day_is_recorded(dom: Domain, clock: ManualClock,
                                                          cashier: StaffActor) -> None:
    """The reported sequence: two sales, a day without sales, housekeeping, then new sales."""
    anna, boris = await register(dom, name="Анна"), await register(dom, name="Борис")
    first = await _checkout(dom, cashier, anna, 100_000)
    second = await _checkout(dom, cashier, boris, 1_225_000)
    clock.advance(timedelta(days=2))  # a quiet day: the finished checkouts are forgotten
    done = await housekeeping(dom)
    assert done["checkouts"] >= 2
    async with dom.db.reading() as s:
        assert (await s.execute(select(func.count(CheckoutQuote.id)))).scalar() == 0

    before = await balance(dom, anna)
    third = await _checkout(dom, cashier, anna, 50_000)
    fourth = await _checkout(dom, cashier, boris, 70_000)
    # A new purchase each time, not the old receipt.
    assert not third.result.replayed and not fourth.result.replayed
    ids = {first.result.operation_id, second.result.operation_id, third.result.operation_id,
           fourth.result.operation_id}
    assert len(ids) == 4
    assert third.result.amount_kopecks == 50_000 and fourth.result.amount_kopecks == 70_000
    assert [p[1:] for p in await _purchases(dom)] == [(anna, 100_000), (boris, 1_225_000),
                                                       (anna, 50_000), (boris, 70_000)]
    assert await balance(dom, anna) == before + 15  # 3% of 500 ₽
    # Every quote in the audit log names a quote id used once.
    async with dom.db.reading() as s:
        targets = list((await s.execute(select(AuditEntry.target).where(AuditEntry.action == "checkout.quote")))
                       .scalars())
    assert len(targets) == len(set(targets)) == 4
    await assert_invariants(dom)


async def test_phone_confirmation_ids_and_their_keys_never_return(dom: Domain, clock: ManualClock,
                                                                  cashier: StaffActor) -> None:
    """`phone-confirm:<id>` dedupes the customer's question in the outbox: a reused id would
    swallow the next customer's question."""
    anna = await register(dom, phone="+79001112233", telegram_id=7001)

    async def ask() -> int:
        view = await start_checkout(dom, cashier, anna, 100_000, found_by="phone")
        view = await choose_points(dom, cashier, view.quote_id, 50)
        outcome = await confirm_checkout(dom, cashier, view.quote_id)
        confirmation: int = outcome.confirmation_id  # type: ignore[union-attr]
        await answer_phone_confirmation(dom, confirmation, 7001, True)
        return confirmation

    first = await ask()
    clock.advance(timedelta(days=3))
    await housekeeping(dom)
    clock.advance(timedelta(days=3))
    await housekeeping(dom)
    second = await ask()
    assert second > first
    async with dom.db.reading() as s:
        keys = list((await s.execute(select(OutboxMessage.dedupe_key)
                                     .where(OutboxMessage.dedupe_key.like("phone-confirm:%")))).scalars())
    assert sorted(keys) == [f"phone-confirm:{first}", f"phone-confirm:{second}"]
    assert len(await _purchases(dom)) == 2


async def test_a_used_key_answers_only_the_same_request(dom: Domain) -> None:
    """Defence in depth: a repeated key with another customer, amount or points is refused,
    never answered with the other operation's receipt, and changes nothing."""
    anna, boris = await register(dom, name="Анна"), await register(dom, name="Борис")
    done = await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=100_000,
                                                      idempotency_key="quote:1"))
    same = await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=100_000,
                                                      idempotency_key="quote:1"))
    assert same.replayed and same.operation_id == done.operation_id
    for other in (PurchaseRequest(customer_id=boris, amount_kopecks=100_000, idempotency_key="quote:1"),
                  PurchaseRequest(customer_id=anna, amount_kopecks=120_000, idempotency_key="quote:1"),
                  PurchaseRequest(customer_id=anna, amount_kopecks=100_000, points=50, phone_confirmed=True,
                                  idempotency_key="quote:1")):
        with pytest.raises(ReplayMismatch):
            await commit_purchase(dom, other)
    assert len(await _purchases(dom)) == 1
    assert await balance(dom, boris) == 300


async def test_a_key_written_before_the_digest_is_compared_by_its_figures(dom: Domain) -> None:
    """Databases that already reused ids hold purchases without a request digest."""
    anna, boris = await register(dom, name="Анна"), await register(dom, name="Борис")
    done = await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=100_000,
                                                      idempotency_key="quote:7"))
    async with dom.db.transaction() as s:
        op = await s.get(Operation, done.operation_id)
        assert op is not None
        op.request_hash = None
    again = await commit_purchase(dom, PurchaseRequest(customer_id=anna, amount_kopecks=100_000,
                                                       idempotency_key="quote:7"))
    assert again.replayed
    with pytest.raises(ReplayMismatch):
        await commit_purchase(dom, PurchaseRequest(customer_id=boris, amount_kopecks=1_225_000,
                                                   idempotency_key="quote:7"))


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_the_cashier_is_told_to_start_again_when_a_key_was_taken(botenv) -> None:  # type: ignore[no-untyped-def]
    """A database that reused ids before the fix: the checkout's key already names another
    customer's purchase. The cashier is told to start again; nothing is recorded as theirs."""
    from sqlalchemy import func as sa_func

    env = botenv
    boris = await env.register(env.customer("Борис"))
    async with env.db.reading() as s:
        next_quote = int((await s.execute(select(sa_func.coalesce(sa_func.max(CheckoutQuote.id), 0)))).scalar()) + 1
    await commit_purchase(env.dom, PurchaseRequest(customer_id=boris, amount_kopecks=1_225_000,
                                                   idempotency_key=f"quote:{next_quote}"))
    anna = env.customer("Анна")
    anna_id = await env.register(anna)
    staff = env.customer("Мария")
    await env.add_staff(staff, "Мария")
    await staff.start(f"c_{await fresh_code(env.dom, anna_id)}")
    await staff.expect_text("Анна")
    await staff.send("500")
    await staff.expect_text("Чек")
    await env.press(staff, "Без баллов")
    await staff.expect_text("К оплате")
    record = await env.press(staff, "✅ Подтвердить")
    await env.tg.wait_until(lambda: record.answered, 5.0)  # type: ignore[union-attr]
    assert record.show_alert and "уже закрыт" in (record.text or "")  # type: ignore[union-attr]
    assert not any("Покупка №" in m.content for m in staff.chat.bot_messages())
    assert await balance(env.dom, anna_id) == 300
