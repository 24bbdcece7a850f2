"""Refunds and sales without a card at the till (DOMAIN.md, "Refunds").
"""

from __future__ import annotations

from models.kernel.context import Domain
from models.kernel.errors import NotFound
from models.kernel.tables import Operation, OperationKind
from models.purchase.purchases import RefundPreview, RefundResult, record_sale_without_card, refund_purchase
from models.purchase.purchases import preview_refund as preview_purchase_refund
from models.till.access import StaffActor, audit_action, check_not_own_account, require_staff
from models.till.fraud import check_fraud


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
        await require_staff(session, actor)
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
        await require_staff(session, actor)
    op_id = await record_sale_without_card(dom, amount_kopecks, staff_id=actor.staff_id,
                                           idempotency_key=idempotency_key)
    await audit_action(dom, actor, "checkout.sale_no_card", f"operation:{op_id}", amount=amount_kopecks)
    return op_id
