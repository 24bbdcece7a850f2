"""The UDS-compatible partner API v2 (paths, fields and error codes as in
`uds-partner-api-v2.yaml`). Thin: parse, call `models.partner.uds`, answer."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator, Field

from bot import metrics
from bot.http.auth import basic_scheme, require_key
from bot.http.inputs import Input
from models import partner
from models.partner import BadRequest, Identity, KeyInfo, PurchaseOrder, Receipt, to_kopecks, to_points
from models.program import program_in_force

Key = Annotated[KeyInfo, Depends(require_key)]
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no control characters (NUL cannot even be stored in PostgreSQL)
# A number sent as a JSON string must be written with the digits 0-9: Decimal() (and so pydantic)
# reads "１０００" and "١٠٠٠" as 1000, and "1_000" too.
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _ascii_number(value: Any) -> Any:
    if isinstance(value, str) and not _NUMBER_TEXT.fullmatch(value.strip()):
        raise ValueError("a number written with the digits 0-9 is expected")
    return value


AsciiDecimal = Annotated[Decimal, BeforeValidator(_ascii_number)]
Money = Annotated[AsciiDecimal, Field(ge=0, le=Decimal(10) ** 12, description="Currency units, two decimals")]
QueryMoney = Annotated[AsciiDecimal | None, Query(ge=0, le=Decimal(10) ** 12)]
# Object ids are int64 (spec `components/parameters/id`): a larger number is a form error, not a
# number the database driver cannot bind.
ObjectId = Annotated[int, Path(ge=-partner.INT64_MAX, le=partner.INT64_MAX, description="Object ID")]


class Cashier(Input):
    externalId: str = Field(min_length=1, max_length=64, pattern=r"^\+?[A-Za-z0-9_\-]+$")  # id or phone
    name: str | None = Field(default=None, max_length=100)


class Participant(Input):
    uid: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)


class OperationReceipt(Input):
    total: Money
    cash: Money
    points: Money
    number: str | None = Field(default=None, max_length=64)
    skipLoyaltyTotal: Money | None = None
    unredeemableTotal: Money | None = None


class CreateOperation(Input):
    code: str | None = Field(default=None, max_length=32)
    participant: Participant | None = None
    nonce: str | None = Field(default=None, max_length=128)
    cashier: Cashier | None = None
    receipt: OperationReceipt
    tags: list[Any] | None = None  # tags are out of scope; accepted and ignored


class CalcReceipt(Input):
    total: Money
    skipLoyaltyTotal: Money | None = None
    unredeemableTotal: Money | None = None
    points: Money | None = None


class PurchaseCalcRequest(Input):
    code: str | None = Field(default=None, max_length=32)
    participant: Participant | None = None
    receipt: CalcReceipt


class RefundRequest(Input):
    partialAmount: Money | None = None


class RewardRequest(Input):
    points: Money
    comment: str | None = Field(default=None, max_length=300)
    participants: list[str] = Field(max_length=1000)
    silent: bool | None = None


def build_partner_router(base_path: str = "/partner/v2") -> APIRouter:
    router = APIRouter(prefix=base_path, tags=["Partner API (UDS v2)"], dependencies=[Depends(basic_scheme)])
    @router.get("/settings", summary="Get company settings")
    async def get_settings(request: Request, key: Key) -> dict[str, Any]:
        services = request.app.state.services
        _, program = await program_in_force(services.dom)
        return partner.settings_view(program, key.company_id, services.bot_username)

    @router.get("/customers", summary="List of customers")
    async def get_customers(
        request: Request, _key: Key,
        max: Annotated[int, Query(ge=1, le=50)] = 10,
        offset: Annotated[int, Query(ge=0, le=10000)] = 0,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        return {"rows": await partner.list_customers(request.app.state.services.dom, max, offset)}

    @router.get("/customers/find", summary="Find customer by payment code, phone or uid")
    async def find_customer(
        request: Request, _key: Key,
        code: Annotated[str | None, Query(max_length=32, pattern=PRINTABLE)] = None,
        phone: Annotated[str | None, Query(max_length=32, pattern=PRINTABLE)] = None,
        uid: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
        exchangeCode: bool = False,
        total: QueryMoney = None,
        skipLoyaltyTotal: QueryMoney = None,
        unredeemableTotal: QueryMoney = None,
    ) -> dict[str, Any]:
        dom = request.app.state.services.dom
        identity = await partner.identify(dom, code=code, phone=phone, uid=uid)
        user = await partner.customer_detail(dom, identity.customer_id)
        new_code = None
        if exchangeCode and identity.found_by == "code":
            new_code = await partner.exchange_code(dom, identity.customer_id)
        purchase = None
        if total is not None and total > 0:
            purchase = await partner.calculate(dom, identity, _receipt(total, None, skipLoyaltyTotal,
                                                                       unredeemableTotal))
        return {"user": user, "code": new_code, "type": "PURCHASE", "purchase": purchase}

    @router.get("/customers/{id}", summary="Get customer information")
    async def get_customer(request: Request, _key: Key, id: ObjectId) -> dict[str, Any]:
        return await partner.customer_detail(request.app.state.services.dom, id)

    @router.post("/operations/calc", summary="Calculate transaction information")
    async def calc(request: Request, _key: Key, body: PurchaseCalcRequest) -> dict[str, Any]:
        dom = request.app.state.services.dom
        identity = await _identify(dom, body.code, body.participant)
        receipt = _receipt(body.receipt.total, body.receipt.points, body.receipt.skipLoyaltyTotal,
                           body.receipt.unredeemableTotal)
        purchase = await partner.calculate(dom, identity, receipt)
        return {"user": await partner.customer_detail(dom, identity.customer_id), "purchase": purchase}

    @router.get("/operations", summary="List of transactions")
    async def get_operations(
        request: Request, _key: Key,
        max: Annotated[int, Query(ge=1, le=50)] = 10,
        offset: Annotated[int, Query(ge=0, le=10000, deprecated=True)] = 0,
        cursor: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        rows, next_cursor = await partner.list_operations(request.app.state.services.dom, max,
                                                          cursor=cursor, offset=offset)
        return {"rows": rows, "total": 0, "cursor": next_cursor}

    @router.post("/operations", summary="Create transaction (a purchase)", response_class=JSONResponse)
    async def create_operation(request: Request, key: Key, body: CreateOperation) -> JSONResponse:
        receipt = body.receipt
        order = PurchaseOrder(
            company=key.company_id,
            receipt=_receipt(receipt.total, receipt.points, receipt.skipLoyaltyTotal, receipt.unredeemableTotal),
            cash_kopecks=to_kopecks(receipt.cash, "receipt.cash"),
            code=body.code, phone=body.participant.phone if body.participant else None,
            uid=body.participant.uid if body.participant else None,
            nonce=body.nonce, cashier_external_id=body.cashier.externalId if body.cashier else None,
            cashier_name=body.cashier.name if body.cashier else None, receipt_number=receipt.number,
        )
        view = await partner.create_purchase(request.app.state.services.dom, order)
        metrics.observe_operation("purchase", "api")
        return JSONResponse(view)  # already JSON-safe: skip FastAPI's encoder on the hot path

    @router.get("/operations/{id}", summary="Get transaction information")
    async def get_operation(request: Request, _key: Key, id: ObjectId) -> dict[str, Any]:
        return await partner.get_operation(request.app.state.services.dom, id)

    @router.post("/operations/{id}/refund", summary="Refund transaction (fully, or partly with partialAmount)")
    async def refund_operation(request: Request, _key: Key, id: ObjectId,
                               body: RefundRequest | None = None) -> dict[str, Any]:
        partial = None
        if body is not None and body.partialAmount is not None:
            partial = to_kopecks(body.partialAmount, "partialAmount")
            if partial <= 0:
                raise BadRequest("partialAmount: must be above zero", field="partialAmount")
        view = await partner.refund(request.app.state.services.dom, id, partial)
        metrics.observe_operation("refund", "api")
        return view

    @router.post("/operations/reward", summary="Reward customers with points (gift)", status_code=202)
    async def reward(request: Request, key: Key, body: RewardRequest) -> JSONResponse:
        points = to_points(body.points)
        if points <= 0:
            raise BadRequest("points: must be at least one whole point", field="points")
        accepted = await partner.reward(
            request.app.state.services.dom, key.company_id, points, body.comment, body.participants,
            silent=bool(body.silent), request_id=request.headers.get("x-origin-request-id"),
        )
        for _ in range(accepted):
            metrics.observe_operation("reward", "api")
        return JSONResponse({"accepted": str(accepted)}, status_code=202)

    return router


def _receipt(total: Decimal, points: Decimal | None, skip: Decimal | None, unredeemable: Decimal | None) -> Receipt:
    return Receipt(
        total_kopecks=to_kopecks(total, "receipt.total"),
        points=None if points is None else to_points(points, "receipt.points"),
        skip_loyalty_kopecks=to_kopecks(skip or 0, "receipt.skipLoyaltyTotal"),
        unredeemable_kopecks=to_kopecks(unredeemable or 0, "receipt.unredeemableTotal"),
    )


async def _identify(dom: Any, code: str | None, participant: Participant | None) -> Identity:
    return await partner.identify(dom, code=code, phone=participant.phone if participant else None,
                                  uid=participant.uid if participant else None)
