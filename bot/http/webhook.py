"""Telegram's webhook (WEBHOOK_URL set): verify the secret token, feed the dispatcher.

Telegram sends `X-Telegram-Bot-Api-Secret-Token` with the value given to `setWebhook`;
anything without it is refused, so nobody can forge updates. The update is processed
before we answer 200: if this process dies mid-way, Telegram delivers the update again
(to another process behind the balancer); one that was handled in full and only answered
late is skipped when it comes again (bot/middlewares.py SkipRepeatedUpdates). A handler
that fails is answered 200 (a bug must not make Telegram redeliver the update forever),
except when Redis is unreachable: then 503, so the update is delivered again once Redis is
back rather than dropped.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot import metrics
from bot.config import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "x-telegram-bot-api-secret-token"


def webhook_path(webhook_url: str) -> str:
    """The path part of WEBHOOK_URL (the balancer forwards it unchanged); `/telegram/webhook`
    when the URL has none."""
    path = urlsplit(webhook_url).path
    return path if path and path != "/" else "/telegram/webhook"


def webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, or one derived from the bot token, so webhook mode is never unprotected.
    The runner passes the same value to `setWebhook(secret_token=...)`."""
    if settings.webhook_secret is not None and settings.webhook_secret.get_secret_value():
        return settings.webhook_secret.get_secret_value()
    token = settings.bot_token.get_secret_value() if settings.bot_token else ""
    # Telegram allows 1-256 characters A-Z a-z 0-9 _ -
    return hashlib.sha256(("webhook-secret:" + token).encode()).hexdigest()


def build_webhook_router(dispatcher: Dispatcher, bot: Bot, settings: Settings, path: str) -> APIRouter:
    router = APIRouter(tags=["Telegram"], include_in_schema=False)
    expected = webhook_secret(settings)

    @router.post(path)
    async def telegram_webhook(request: Request) -> JSONResponse:
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), expected.encode()):
            metrics.WEBHOOK_UPDATES.labels(result="forbidden").inc()
            return JSONResponse({"ok": False, "description": "forbidden"}, status_code=403)
        try:
            update: dict[str, Any] = await request.json()
        except ValueError:
            metrics.WEBHOOK_UPDATES.labels(result="bad_json").inc()
            return JSONResponse({"ok": False, "description": "bad json"}, status_code=400)
        try:
            result: Any = await dispatcher.feed_webhook_update(bot, update)
            if isinstance(result, TelegramMethod):
                await dispatcher.silent_call_request(bot, result)
        except (RedisConnectionError, RedisTimeoutError):
            # Redis (FSM state, per-user lock) is down: the update was not handled; Telegram
            # delivers it again after a non-2xx answer instead of dropping it.
            log.exception("webhook update %s: Redis unavailable", update.get("update_id"))
            metrics.WEBHOOK_UPDATES.labels(result="unavailable").inc()
            return JSONResponse({"ok": False, "description": "storage unavailable"}, status_code=503)
        except Exception:
            # A handler bug must not make Telegram redeliver the same update forever.
            log.exception("webhook update %s failed", update.get("update_id"))
            metrics.WEBHOOK_UPDATES.labels(result="error").inc()
            return JSONResponse({"ok": True})
        metrics.WEBHOOK_UPDATES.labels(result="ok").inc()
        return JSONResponse({"ok": True})

    return router
