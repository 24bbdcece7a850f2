"""The HTTP side: the UDS-compatible partner API, our own `/api/v1`, `/healthz`, `/metrics`
and, in webhook mode, Telegram's webhook — one FastAPI app, one server in the bot's loop."""

from bot.http.app import build_app
from bot.http.server import serve_http

__all__ = ["build_app", "serve_http"]
