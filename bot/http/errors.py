"""UDS-style error bodies: `{"errorCode": ..., "message": ...}` (and `errors` for badRequest).

Domain errors keep their own stable codes; this table is the one place that says which
UDS `errorCode` and HTTP status each one becomes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot import metrics
from models.kernel import (
    CodeExpired,
    CodeLimitReached,
    CodeUsed,
    CustomerBlocked,
    CustomerErased,
    DomainError,
    InsufficientFunds,
    InvalidProgram,
    NoFreeCode,
    NotFound,
    RedeemLimitExceeded,
    RedeemNotAuthorised,
    ReplayMismatch,
    database_unavailable,
)
from models.partner import PartnerError

log = logging.getLogger(__name__)

# (error class, HTTP status, UDS errorCode), most specific first.
DOMAIN_ERRORS: tuple[tuple[type[DomainError], int, str], ...] = (
    (PartnerError, 400, "badRequest"),  # replaced by the error's own code below
    (ReplayMismatch, 400, "nonceReused"),  # the nonce was used by another request body
    (NotFound, 404, "notFound"),  # also CodeNotFound, CustomerNotFound
    (CustomerErased, 404, "notFound"),  # personal data deleted: as if the customer never was
    (CodeUsed, 404, "notFound"),  # UDS: "Invalid customer code or code expired"
    (CodeExpired, 404, "notFound"),
    (InsufficientFunds, 400, "insufficientFunds"),
    (RedeemLimitExceeded, 400, "discountLimitExceed"),  # also StaleQuote
    (RedeemNotAuthorised, 400, "withdrawNotPermitted"),
    (CustomerBlocked, 400, "participantIsBlocked"),
    (InvalidProgram, 503, "serviceUnavailable"),
    (CodeLimitReached, 429, "codeLimitReached"),  # exchangeCode too often for one customer
    (NoFreeCode, 503, "noFreeCode"),  # no 6-digit number free right now
)


class Unauthorized(Exception):
    """Wrong or revoked `companyId:apiKey`."""


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _encodable(value: Any) -> Any:
    """The same JSON with lone surrogates replaced by U+FFFD: an error that echoes the bad input
    must still be UTF-8 (the JSON response cannot encode them and would become a 500)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encodable(v) for v in value]
    return value


def error_body(error_code: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"errorCode": error_code, "message": _encodable(message)}
    if errors is not None:
        body["errors"] = _encodable(errors)
    return body


def error_response(status: int, error_code: str, message: str,
                   errors: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    metrics.API_ERRORS.labels(error_code=error_code).inc()
    return JSONResponse(error_body(error_code, message, errors), status_code=status, headers=headers)


def internal_error_response() -> JSONResponse:
    return error_response(500, "internalError", "Internal error; the request id is in X-Request-Id")


# Seconds a till waits before it retries a request the database could not serve.
RETRY_AFTER_SECONDS = 2


def unavailable_response() -> JSONResponse:
    """The database could not be reached or lost the connection mid-request: nothing the request
    did was committed, or it was committed whole, so the till retries it as it is (a purchase
    with the same nonce is done once)."""
    return error_response(503, "serviceUnavailable",
                          "The database is unavailable for a moment; retry the same request (the same nonce)",
                          headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def failure_response(exc: BaseException, method: str, path: str, request_id: str | None = None) -> JSONResponse:
    """503 for a database that is not there (one warning line), 500 with the traceback for a bug."""
    suffix = f", X-Request-Id {request_id}" if request_id else ""
    if database_unavailable(exc):
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        log.warning("database unavailable on %s %s%s: %s: %s", method, path, suffix, type(exc).__name__,
                    cause[0][:200] if cause else "")
        return unavailable_response()
    log.error("unhandled error on %s %s%s", method, path, suffix, exc_info=exc)
    return internal_error_response()


def domain_error_response(exc: DomainError) -> JSONResponse:
    message = exc.detail or exc.code
    if isinstance(exc, CodeLimitReached):  # the till may retry after this many seconds
        return error_response(429, "codeLimitReached", message,
                              headers={"Retry-After": str(exc.retry_minutes * 60)})
    if isinstance(exc, NoFreeCode):
        return error_response(503, "noFreeCode", message, headers={"Retry-After": "60"})
    for cls, status, code in DOMAIN_ERRORS:
        if isinstance(exc, cls):
            if isinstance(exc, PartnerError):
                status, code = exc.status, exc.error_code
                if code == "badRequest":
                    field = exc.context.get("field")
                    return error_response(status, code, message, [
                        {"errorCode": exc.code, "message": message, "field": field}])
            return error_response(status, code, f"{exc.code}: {message}" if message != exc.code else message)
    # Anything else the domain refuses (amounts, phones, refunds...) is the caller's to fix.
    return error_response(400, "badRequest", message, [{"errorCode": exc.code, "message": message}])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(Unauthorized)
    async def _unauthorized(_request: Request, _exc: Unauthorized) -> JSONResponse:
        return error_response(401, "unauthorized", "API key or company id are incorrect",
                              headers={"WWW-Authenticate": 'Basic realm="partner"'})

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "header")]
            value = err.get("input")
            errors.append({
                "errorCode": str(err.get("type", "invalid")),
                "message": str(err.get("msg", "")),
                "field": ".".join(loc) or None,
                "value": value if isinstance(value, str | int | float | bool) or value is None else str(value)[:200],
            })
        return error_response(400, "badRequest", "Form validation errors occurred", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "notFound", "No such object or method")
        if exc.status_code == 401:
            return error_response(401, "unauthorized", "API key or company id are incorrect",
                                  headers={"WWW-Authenticate": 'Basic realm="partner"'})
        if exc.status_code == 405:
            return error_response(405, "badRequest", "Method not allowed")
        return error_response(exc.status_code, "badRequest", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return failure_response(exc, request.method, request.url.path)
