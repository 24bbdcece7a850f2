"""Telegram Mini Apps (Web Apps) in the fake: ``initData`` signed as Telegram signs it, and
the user's side of opening a Mini App (from an inline button, a reply-keyboard button or the
menu button).

``initData`` (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app)
is a query string; ``hash`` is ``hex(HMAC_SHA256(data_check_string, secret_key))`` with
``secret_key = HMAC_SHA256("WebAppData", bot_token)`` (the constant string is the key) and the
data-check-string all other fields as ``key=value`` sorted by key, joined by ``\\n``.
``signature`` (optional, Bot API 8.0) is an Ed25519 signature, base64url without padding, over
``"<bot_id>:WebAppData\\n"`` + the same lines without ``hash`` and ``signature``; it is one of
the fields the ``hash`` covers. Telegram signs with its own private key; the fake signs with a
key pair of its own whose public half is :attr:`FakeTelegram.web_app_public_key` (pass it to
``aiogram.utils.web_app_signature.check_webapp_signature``).

What a Mini App gets depends on how it was opened (as in Telegram):

- inline keyboard ``web_app`` button or the menu button: full ``initData`` with ``query_id``
  (the bot may answer it once with ``answerWebAppQuery``, which posts a message on behalf of
  the user); an inline button also gives ``chat_type`` and ``chat_instance``;
- reply keyboard ``web_app`` button: **empty** ``initData``; the app can only
  ``sendData`` (1-4096 bytes) once, which becomes a ``web_app_data`` service message from the
  user, and the app closes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, quote, urlencode

if TYPE_CHECKING:
    from .actors import FakeUser
    from .models import ChatMessage
    from .server import FakeTelegram

__all__ = ["WebAppLaunch", "WebAppQuery", "data_check_string", "sign_init_data"]

LaunchSource = Literal["inline_button", "keyboard_button", "menu_button"]

#: Telegram.WebApp.sendData accepts at most 4096 bytes.
MAX_SEND_DATA = 4096


def data_check_string(fields: dict[str, str], *, exclude: tuple[str, ...] = ("hash",)) -> str:
    """``key=value`` lines sorted by key, without the *exclude* keys."""
    return "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in exclude)


def init_data_hash(token: str, fields: dict[str, str]) -> str:
    """The ``hash`` Telegram puts into initData for *fields* (everything but ``hash``)."""
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, data_check_string(fields).encode(), hashlib.sha256).hexdigest()


def sign_init_data(
    token: str,
    fields: dict[str, Any],
    *,
    ed25519_private_key: Any | None = None,
    bot_id: int | None = None,
) -> str:
    """Serialize *fields* (dicts and lists become compact JSON) as Telegram's initData,
    with ``hash`` and, given an Ed25519 private key, ``signature``."""
    values = {
        key: value if isinstance(value, str)
        else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if isinstance(value, dict | list) else str(value)
        for key, value in fields.items()
        if value is not None
    }
    if ed25519_private_key is not None:
        if bot_id is None:
            raise ValueError("bot_id is needed for the Ed25519 signature")
        message = f"{bot_id}:WebAppData\n" + data_check_string(values, exclude=("hash", "signature"))
        raw = ed25519_private_key.sign(message.encode())
        values["signature"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    values["hash"] = init_data_hash(token, values)
    return urlencode(values, quote_via=quote)


def parse_init_data(init_data: str) -> dict[str, Any]:
    """The unsafe view (``Telegram.WebApp.initDataUnsafe``): JSON fields decoded, unchecked."""
    parsed: dict[str, Any] = {}
    for key, value in parse_qsl(init_data, keep_blank_values=True):
        parsed[key] = json.loads(value) if value[:1] in ("{", "[") else value
    return parsed


@dataclass
class WebAppQuery:
    """A ``query_id`` handed to a Mini App; ``answerWebAppQuery`` may use it once."""

    id: str
    user_id: int
    chat_id: int
    answered: bool = False
    message: ChatMessage | None = None  # the message posted on behalf of the user


@dataclass
class WebAppLaunch:
    """A Mini App the simulated user opened: what the page would receive.

    ``init_data`` is the raw string (``Telegram.WebApp.initData``; empty for a reply-keyboard
    button), ``init_data_unsafe`` its decoded fields, ``launch_url`` the URL Telegram opens
    (``#tgWebAppData=...`` in the fragment). ``send_data()`` is ``Telegram.WebApp.sendData``.
    """

    tg: FakeTelegram
    user: FakeUser
    url: str
    source: LaunchSource
    chat_id: int
    button_text: str
    init_data: str
    query: WebAppQuery | None = None
    closed: bool = False
    sent: list[ChatMessage] = field(default_factory=list)

    @property
    def query_id(self) -> str | None:
        return self.query.id if self.query else None

    @property
    def init_data_unsafe(self) -> dict[str, Any]:
        return parse_init_data(self.init_data) if self.init_data else {}

    @property
    def launch_url(self) -> str:
        fragment = urlencode(
            {"tgWebAppData": self.init_data, "tgWebAppVersion": "9.1", "tgWebAppPlatform": "tdesktop"},
            quote_via=quote,
        )
        return f"{self.url.split('#', 1)[0]}#{fragment}"

    async def send_data(self, data: str) -> ChatMessage:
        """``Telegram.WebApp.sendData(data)``: only for a Mini App opened from a reply
        keyboard button; 1-4096 bytes; the bot gets a ``web_app_data`` service message from
        the user and the Mini App closes."""
        if self.source != "keyboard_button":
            raise AssertionError(
                "Telegram.WebApp.sendData works only in a Mini App opened from a reply keyboard "
                f"button (this one was opened from the {self.source.replace('_', ' ')})"
            )
        if self.closed:
            raise AssertionError("the Mini App is closed: sendData closes it after the first call")
        size = len(data.encode())
        if not 1 <= size <= MAX_SEND_DATA:
            raise ValueError(f"sendData takes 1-{MAX_SEND_DATA} bytes, got {size}")
        self.closed = True
        content = {"web_app_data": {"data": data, "button_text": self.button_text}}
        msg = self.tg.inject_message(self.chat_id, self.user, content, _service=True)
        self.sent.append(msg)
        return msg

    def close(self) -> None:
        """``Telegram.WebApp.close()``."""
        self.closed = True
