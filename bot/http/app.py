"""The FastAPI app: partner API, `/api/v1`, `/healthz`, `/metrics`, Telegram's webhook."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import __version__, metrics
from bot.http.errors import error_response, failure_response, install_error_handlers
from bot.http.inputs import text_problem
from bot.http.ours import build_ours_router
from bot.http.partner import build_partner_router
from bot.services import Services
from models.partner import timestamp

if TYPE_CHECKING:  # aiogram is slow to import; `loyalty-bot api` never needs it
    from aiogram import Bot, Dispatcher

log = logging.getLogger(__name__)

DEFAULT_PARTNER_BASE = "/partner/v2"
HEALTH_REDIS_TIMEOUT = 2.0  # seconds: a health check answers before a load balancer gives up on it


# Headers the API reads as text; the others (Authorization: 401 when malformed) are not its input.
_TEXT_HEADERS = (b"x-origin-request-id",)


def request_text_problem(scope: Scope) -> tuple[str, str] | None:
    """(where, why) if the path, the query string or a header the API reads is not valid UTF-8
    text: the framework would decode it with replacement characters and answer as if the client
    had sent those, instead of saying the request is malformed."""
    raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    for where, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
        try:
            unquote_to_bytes(raw).decode("utf-8")
        except UnicodeError:
            return where, f"{where}: not valid UTF-8 text"
    for name, value in scope.get("headers", ()):
        if name in _TEXT_HEADERS:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                return name.decode(), f"{name.decode()}: not valid UTF-8 text"
            if text_problem(text) is not None:
                return name.decode(), f"{name.decode()}: must not contain control characters"
    return None


class RequestHeaders:
    """Sets `X-Request-Id` and `X-Timestamp` on every response and echoes `X-Origin-Request-Id`
    (UDS "Making Requests"); counts requests per route for `/metrics`. Pure ASGI, so it adds
    no task switch per request."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = None
        for name, value in scope.get("headers", ()):
            if name == b"x-origin-request-id":
                origin = value[:100]
                break
        started = time.perf_counter()
        status = 500
        request_id = str(uuid.uuid4())
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"x-timestamp", (timestamp(self.services.dom.clock.now()) or "").encode()))
                if origin is not None:
                    headers.append((b"x-origin-request-id", origin))
                message["headers"] = headers
            await send(message)

        try:
            problem = request_text_problem(scope)
            if problem is not None:
                field, message = problem
                refusal = error_response(400, "badRequest", message, [
                    {"errorCode": "invalid_text", "message": message, "field": field}])
                await refusal(scope, receive, send_with_headers)
                return
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            # Answered here rather than by Starlette's outermost error handler, which would
            # send the 500 around this middleware: without X-Request-Id, and unlogged by id.
            # A database that is not there is a 503 the till retries, not a 500.
            if response_started:
                raise
            failure = failure_response(exc, scope.get("method", ""), scope.get("path", ""), request_id)
            await failure(scope, receive, send_with_headers)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            metrics.HTTP_REQUESTS.labels(route=template, method=scope.get("method", ""), status=str(status)).inc()
            metrics.HTTP_SECONDS.labels(route=template).observe(time.perf_counter() - started)


def build_app(
    services: Services, *, dispatcher: Dispatcher | None = None, bot: Bot | None = None,
    partner_base_path: str | None = None,
) -> FastAPI:
    """The HTTP app. Telegram's webhook route exists only when `dispatcher` and `bot` are given
    and WEBHOOK_URL is set. The partner API's base path comes from the argument, else
    PARTNER_API_BASE, else `/partner/v2`."""
    base = (partner_base_path or services.settings.partner_api_base or DEFAULT_PARTNER_BASE).rstrip("/")
    app = FastAPI(
        title="Loyalty bot HTTP API",
        version=__version__,  # the package version (bot/__init__.py)
        description=(
            f"`{base}`: the UDS partner API v2 subset cash registers use (see docs/API.md); "
            "`/api/v1`: our additions. Authenticate with HTTP Basic `companyId:apiKey` "
            "(create a key with `/api` in the bot or `loyalty-bot apikey create NAME`)."
        ),
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        redirect_slashes=False,  # a JSON 404 rather than an empty redirect a till would not follow
    )
    app.state.services = services
    app.state.partner_base = base
    install_error_handlers(app)
    app.include_router(build_partner_router(base))
    app.include_router(build_ours_router())

    @app.get("/healthz", tags=["Operations"], summary="Liveness, database and Redis check")
    async def healthz() -> JSONResponse:
        """`{"status": "ok", "version": "0.1.0", "database": "ok"}`, plus `"redis"` when REDIS_URL is set (the bot's
        shared state: without it no update can be handled); 503 when either does not answer."""
        report: dict[str, str] = {"status": "ok", "version": __version__, "database": "ok"}
        try:
            async with services.db.reading() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:  # the database is down: say so, do not crash
            log.warning("health check: database unavailable: %s", " ".join(str(exc).split())[:200])
            report["database"] = "unavailable"
        if services.settings.redis_url:
            from bot.app import redis_problem

            problem = await redis_problem(services.settings.redis_url, seconds=HEALTH_REDIS_TIMEOUT)
            report["redis"] = "ok" if problem is None else "unavailable"
            if problem is not None:
                log.warning("health check: Redis unavailable: %s", problem)
        healthy = report["database"] == "ok" and report.get("redis", "ok") == "ok"
        if not healthy:
            report["status"] = "error"
        return JSONResponse(report, status_code=200 if healthy else 503)

    @app.get("/metrics", tags=["Operations"], summary="Prometheus metrics")
    async def prometheus_metrics() -> Response:
        try:
            await metrics.refresh_from_database(services.db)
        except Exception as exc:
            log.warning("metrics: could not read the database: %s", exc)
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    settings = services.settings
    if dispatcher is not None and bot is not None and settings.webhook_url:
        from bot.http.webhook import build_webhook_router, webhook_path

        app.include_router(build_webhook_router(dispatcher, bot, settings, webhook_path(settings.webhook_url)))

    app.add_middleware(RequestHeaders, services=services)
    return app


def openapi_document(services: Services) -> dict[str, Any]:
    return build_app(services).openapi()
