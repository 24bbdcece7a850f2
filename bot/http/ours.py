"""Our own additions, outside the UDS base path (`/api/v1`), same authentication."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from bot import metrics
from bot.http.auth import basic_scheme, require_key
from bot.http.inputs import Input
from bot.http.partner import Cashier, Money
from models import partner
from models.partner import KeyInfo, cashier_staff, to_kopecks


class SaleWithoutCard(Input):
    """A check paid without a loyalty card, so reports can compare average checks with and
    without one (DOMAIN.md, "Result figures")."""

    total: Money
    number: str | None = Field(default=None, max_length=64, description="Receipt number")
    nonce: str | None = Field(default=None, max_length=128, description="Idempotency key, as in /operations")
    cashier: Cashier | None = None


def build_ours_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["Our additions"], dependencies=[Depends(basic_scheme)])

    @router.post("/sales", summary="Record a sale without a loyalty card")
    async def record_sale(request: Request, key: Annotated[KeyInfo, Depends(require_key)],
                          body: SaleWithoutCard) -> dict[str, Any]:
        dom = request.app.state.services.dom
        staff_id = None
        if body.cashier is not None:
            staff_id, _ = await cashier_staff(dom, body.cashier.externalId, body.cashier.name)
        view = await partner.sale_without_card(
            dom, key.company_id, to_kopecks(body.total, "total"), nonce=body.nonce, staff_id=staff_id,
            receipt_number=body.number,
        )
        metrics.observe_operation("sale_no_card", "api")
        return view

    return router
