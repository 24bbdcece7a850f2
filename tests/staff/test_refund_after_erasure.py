"""A refund after the customer erased their data (issue 14 §3, docs/RULES.md "Refunds"): the
money refund goes through, the anonymised account gets no points back (its lots stay
written off), and the points not returned are on the receipt, the refund and the audit log."""

from __future__ import annotations

from sqlalchemy import select

from models.customers.accounts import erase_customer
from models.kernel.tables import AuditEntry, EntryKind, LedgerEntry, Lot, Operation, OperationKind, Staff
from models.purchase.purchases import PurchaseRequest, commit_purchase, refund_purchase
from tests.helpers import assert_invariants, balance, fresh_code

from .conftest import BotEnv
from .test_staff_bot import cashier


async def test_refund_of_an_erased_customers_purchase_gives_no_points_back(botenv: BotEnv) -> None:
    env = botenv
    anna = env.customer("Анна")
    anna_id = await env.register(anna)  # 300 welcome points
    staff = await cashier(env)
    async with env.db.reading() as s:
        staff_id = (await s.execute(select(Staff.id).where(Staff.telegram_id == staff.id))).scalar_one()
    purchase = await commit_purchase(env.dom, PurchaseRequest(
        customer_id=anna_id, amount_kopecks=100_000, points=100, staff_id=staff_id,
        code=await fresh_code(env.dom, anna_id)))
    assert purchase.points_paid == 100 and purchase.cashback > 0
    assert await erase_customer(env.dom, anna_id) == 300 - 100 + purchase.cashback

    await staff.command("refund", str(purchase.operation_id))
    done = await staff.expect_text("Возврат по покупке")
    assert "Клиент удалил свои данные: баллы не возвращены (100 баллов)." in done.content
    assert "уже потратил" not in done.content and "уведомлён" not in done.content  # nobody to tell

    async with env.db.reading() as s:
        refund = (await s.execute(select(Operation).where(Operation.kind == OperationKind.REFUND))).scalar_one()
        returns = list((await s.execute(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.RETURN))).scalars())
        remaining = list((await s.execute(select(Lot.remaining).where(Lot.customer_id == anna_id))).scalars())
        audit = (await s.execute(select(AuditEntry).where(AuditEntry.action == "checkout.refund"))).scalar_one()
    assert refund.amount_kopecks == 100_000 and refund.cash_kopecks == purchase.cash_kopecks  # the money
    assert refund.points_paid == 0 and not returns  # no points credited to the anonymised account
    assert refund.shortfall == purchase.cashback  # written off by the erasure, not there to take back
    assert set(remaining) == {0}
    assert refund.comment == "customer erased their data: 100 points not returned"
    assert audit.details["points_not_returned"] == 100
    assert await balance(env.dom, anna_id) == 0
    await assert_invariants(env.dom)


async def test_a_replayed_refund_after_erasure_reports_the_same(botenv: BotEnv) -> None:
    env = botenv
    anna = env.customer("Анна")
    anna_id = await env.register(anna)
    purchase = await commit_purchase(env.dom, PurchaseRequest(
        customer_id=anna_id, amount_kopecks=100_000, points=100, code=await fresh_code(env.dom, anna_id)))
    await erase_customer(env.dom, anna_id)
    first = await refund_purchase(env.dom, purchase.operation_id, 50_000, idempotency_key="r-1")
    again = await refund_purchase(env.dom, purchase.operation_id, 50_000, idempotency_key="r-1")
    assert (first.customer_erased, first.points_lost, first.points_returned) == (True, 50, 0)
    assert again.replayed and (again.customer_erased, again.points_lost, again.points_returned) == (True, 50, 0)
    await assert_invariants(env.dom)
