"""The Bot API methods the fake server implements, and wire-format decoding.

Each method is a function ``(api, params) -> result`` registered with :func:`api_method`.
The registry also says whether a method *sends* (counted by the flood limiter) and
whether it *writes* to a chat (refused with 403 when the user blocked the bot). All
send/edit handlers are synchronous on purpose: between the flood-limit check and the
recorded message there is no ``await``, so concurrent requests cannot interleave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import MIGRATED, ApiError, bad_request
from .formatting import parse_text, utf16_len
from .media import guess_mime, image_size
from .models import (
    CallbackAnswer,
    ChatMessage,
    ChatState,
    StoredFile,
    Upload,
)
from .payments import check_invoice_markup, new_invoice_slug, parse_invoice

if TYPE_CHECKING:
    from .server import FakeTelegram

__all__ = ["METHODS", "BotApi", "MethodSpec", "Params", "parse_request", "scope_key"]

# ----------------------------------------------------------------- wire decoding

# Fields aiogram sends as JSON strings (nested objects and arrays).
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "menu_button",
        "media",
        "reply_parameters",
        "link_preview_options",
        "options",
        "explanation_entities",
        "question_entities",
        "permissions",
        "results",
        "prices",
        "rights",
        "message_ids",
        "reaction",
        "button",
        "input_message_content",
        "suggested_tip_amounts",
        "result",
    }
)
INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "duration",
        "width",
        "height",
        "length",
        "until_date",
        "max_connections",
        "live_period",
        "heading",
        "proximity_alert_radius",
        "expire_date",
        "member_limit",
        "max_tip_amount",
        "photo_size",
        "photo_width",
        "photo_height",
    }
)
FLOAT_FIELDS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "is_personal",
        "show_caption_above_media",
        "disable_content_type_detection",
        "supports_streaming",
        "only_if_banned",
        "revoke_messages",
        "is_anonymous",
        "allow_paid_broadcast",
        "creates_join_request",
        "ok",
        "need_name",
        "need_phone_number",
        "need_email",
        "need_shipping_address",
        "send_phone_number_to_provider",
        "send_email_to_provider",
        "is_flexible",
    }
)


def _decode_field(name: str, value: str) -> Any:
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            if name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object") from None
            if name == "link_preview_options":
                raise bad_request("can't parse link preview options JSON object") from None
            if name == "menu_button":
                raise bad_request("can't parse menu button JSON object") from None
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value  # e.g. chat_id="@channelusername"
    if name in FLOAT_FIELDS:
        try:
            return float(value)
        except ValueError:
            return value
    if name in BOOL_FIELDS and value in ("true", "false"):
        return value == "true"
    return value


@dataclass
class Params:
    """Decoded parameters of one call plus its uploaded file parts."""

    values: dict[str, Any]
    uploads: dict[str, Upload]
    chat: ChatState | None = None  # the target chat, resolved before the handler runs

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def require_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def get_str(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        return default if value is None else str(value)

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or value == "true"

    def require_chat(self) -> ChatState:
        if self.chat is None:
            raise bad_request("chat_id is empty")
        return self.chat


async def parse_request(request: web.Request) -> Params:
    """Decode a Bot API request: urlencoded, multipart, JSON body or query string."""
    values: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    for key, value in request.query.items():
        values[key] = _decode_field(key, value)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                values.update(body)
        else:
            form = await request.post()
            for key, part in form.items():
                if isinstance(part, web.FileField):
                    uploads[key] = Upload(
                        name=key,
                        filename=part.filename,
                        content_type=part.content_type,
                        data=part.file.read(),
                    )
                elif isinstance(part, str):
                    values[key] = _decode_field(key, part)
                else:  # bytes from exotic clients
                    values[key] = _decode_field(key, bytes(part).decode("utf-8", "replace"))
    return Params(values=values, uploads=uploads)


def scope_key(scope: dict[str, Any]) -> str:
    """How ``FakeTelegram.commands`` keys a ``BotCommandScope`` (canonical JSON)."""
    return json.dumps(scope, sort_keys=True)


# ---------------------------------------------------------------------- registry

Handler = Callable[["BotApi", Params], Any]


@dataclass(frozen=True)
class MethodSpec:
    """Registry entry for one Bot API method."""

    name: str  # canonical spelling
    handler: Handler
    sends: bool = False  # a new message: flood-limited and counted in ``stats.sends``
    writes: bool = False  # targets ``chat_id`` and is refused when the chat is blocked
    chat_param: str | None = None  # which parameter names the chat, if any

    async def call(self, api: BotApi, params: Params) -> Any:
        result = self.handler(api, params)
        if isinstance(result, Awaitable):
            result = await result
        return result


METHODS: dict[str, MethodSpec] = {}


def api_method(
    name: str, *, sends: bool = False, writes: bool = False, chat_param: str | None = None
) -> Callable[[Handler], Handler]:
    """Register a handler under *name* (looked up case-insensitively)."""

    def register(func: Handler) -> Handler:
        param = chat_param or ("chat_id" if sends or writes else None)
        METHODS[name.lower()] = MethodSpec(name, func, sends, writes, param)
        return func

    return register


_MEDIA_KEYS = (
    "photo",
    "document",
    "sticker",
    "voice",
    "video",
    "animation",
    "audio",
    "video_note",
)
_COPYABLE_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    *_MEDIA_KEYS,
    "location",
    "contact",
    "dice",
    "venue",
)
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


#: What Telegram opens as a Mini App: an HTTPS URL (check_link with https_only in TDLib).
_HTTPS_URL = re.compile(r"https://[^\s/$.?#][^\s]*")


def _web_app_url(button: dict[str, Any], what: str) -> str:
    """The ``web_app.url`` of a button: Telegram opens only HTTPS Mini Apps."""
    web_app = button.get("web_app")
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str):
        raise bad_request(f"can't parse {what}: Field \"url\" must be of type String")
    if not _HTTPS_URL.fullmatch(url):
        raise bad_request(f"{what} Web App URL '{url}' is invalid: Only HTTPS links are allowed")
    return url


def _check_markup(
    markup: Any, chat_type: str | None = None, *, invoice: bool = False
) -> dict[str, Any] | None:
    """Validate ``reply_markup`` the way Telegram does for the common mistakes.

    *chat_type* (when known) enables the per-chat rules: Web App, contact and location
    buttons only in private chats. *invoice*: the markup of an invoice, whose first button
    must be the Pay button; a Pay button anywhere else is refused.
    """
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    private = chat_type in (None, "private")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                    raise bad_request("can't parse inline keyboard button: Text is empty")
                actions = [a for a in _INLINE_ACTIONS if a in button]
                if len(actions) != 1:
                    raise bad_request(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
                url = button.get("url")
                if url is not None and not re.match(r"^(https?|tg)://", str(url)):
                    raise bad_request(
                        f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
                    )
                if "web_app" in button:
                    _web_app_url(button, "inline keyboard button")
                    if not private:  # "Available only in private chats between a user and the bot"
                        raise bad_request("BUTTON_TYPE_INVALID")
                if button.get("pay") and not invoice:
                    raise bad_request("BUTTON_TYPE_INVALID")
        if invoice:
            check_invoice_markup(markup)
        return markup
    if invoice:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if isinstance(button, dict) and "web_app" in button:
                    _web_app_url(button, "keyboard button")
                    if not private:
                        raise bad_request("web App buttons can be used in private chats only")
        if not private:
            _check_private_only_buttons(markup)
        return markup
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def _check_private_only_buttons(markup: dict[str, Any]) -> None:
    """Contact and location request buttons work only in private chats: Telegram
    refuses a reply keyboard carrying one anywhere else."""
    for row in markup.get("keyboard") or []:
        for button in row:
            if isinstance(button, dict) and (
                button.get("request_contact") or button.get("request_location")
            ):
                raise bad_request(
                    "keyboard buttons requesting contact or location are allowed only "
                    "in private chats"
                )


def _link_preview_options(p: Params) -> dict[str, Any] | None:
    """``link_preview_options`` (or the deprecated ``disable_web_page_preview``) as Telegram
    echoes them in the Message: only the options that differ from the defaults."""
    options = p.get("link_preview_options")
    if options is None or options == "":
        return {"is_disabled": True} if p.get_bool("disable_web_page_preview") else None
    if not isinstance(options, dict):  # the form field was decoded already (JSON_FIELDS)
        raise bad_request("object expected as link preview options")
    echoed: dict[str, Any] = {}
    for name in ("is_disabled", "prefer_small_media", "prefer_large_media", "show_above_text"):
        value = options.get(name)
        if value is not None and not isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Boolean')
        if value:
            echoed[name] = True
    url = options.get("url")
    if url is not None and not isinstance(url, str):
        raise bad_request('field "url" must be of type String')
    if url:
        echoed["url"] = url
    return echoed or None


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    # Telegram only echoes inline keyboards inside Message objects (and aiogram's
    # Message.reply_markup only accepts InlineKeyboardMarkup).
    return markup if markup and "inline_keyboard" in markup else None


class BotApi:
    """Implementation of the Bot API methods on top of a :class:`FakeTelegram`'s state."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg

    # ------------------------------------------------------------ helpers
    def _text(self, p: Params, field: str = "text") -> tuple[str, list[dict[str, Any]]]:
        raw = p.get_str(field) or ""
        entities_field = "entities" if field == "text" else "caption_entities"
        text, entities = parse_text(raw, p.get_str("parse_mode"), p.get(entities_field))
        if field == "text":
            if not text:
                raise bad_request("message text is empty")
            if utf16_len(text) > 4096:
                raise bad_request("message is too long")
        elif utf16_len(text) > 1024:
            raise bad_request("message caption is too long")
        return text, entities

    def _caption_content(self, p: Params) -> dict[str, Any]:
        if p.get("caption") is None:
            return {}
        caption, entities = self._text(p, "caption")
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return content

    def _reply_to(self, chat: ChatState, p: Params) -> dict[str, Any] | None:
        params = p.get("reply_parameters") or {}
        target_id = params.get("message_id") if isinstance(params, dict) else None
        if target_id is None:
            target_id = p.get_int("reply_to_message_id")
        if target_id is None:
            return None
        allow = bool(params.get("allow_sending_without_reply")) or p.get_bool(
            "allow_sending_without_reply"
        )
        target = chat.get(int(target_id))
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        quoted = dict(target.raw)
        quoted.pop("reply_to_message", None)  # Telegram nests only one level
        return quoted

    def _send(
        self,
        p: Params,
        method: str,
        content: dict[str, Any],
        files: list[StoredFile] | None = None,
        *,
        markup: dict[str, Any] | bool | None = True,
        echo_markup: bool = True,
    ) -> ChatMessage:
        """Record a message from the bot in ``p.chat`` and return it.

        ``echo_markup=False``: the keyboard is what the user sees but not part of the
        Message JSON (the default Pay button of an invoice)."""
        chat = p.require_chat()
        reply_markup = (
            _check_markup(p.get("reply_markup"), chat.type) if markup is True else markup or None
        )
        reply_to = self._reply_to(chat, p)
        extra: dict[str, Any] = {}
        if reply_to is not None:
            extra["reply_to_message"] = reply_to
        if echo_markup and (inline := _inline_only(reply_markup)) is not None:
            extra["reply_markup"] = inline
        if p.get_bool("has_spoiler"):
            extra["has_media_spoiler"] = True
        return self.tg.record_bot_message(
            chat,
            {**content, **extra},
            method=method,
            reply_markup=reply_markup,
            files=files or [],
        )

    def _resolve_file(self, p: Params, field: str, kind: str) -> StoredFile:
        value = p.get(field)
        if value is None and field in p.uploads:  # raw multipart part named like the field
            value = f"attach://{field}"
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {field} in the request")
        return self.tg.resolve_input_file(value, p.uploads, kind)

    def _editable(self, p: Params) -> ChatMessage:
        if p.get("inline_message_id") is not None:
            raise bad_request("inline messages are not supported by fakegram")
        chat = p.require_chat()
        message_id = p.get_int("message_id")
        msg = chat.get(message_id) if message_id is not None else None
        if msg is None or msg.deleted:
            raise bad_request("message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return msg

    @staticmethod
    def photo_content(sizes: list[StoredFile]) -> dict[str, Any]:
        """``{"photo": [PhotoSize, ...]}`` for a stored size set."""
        return {
            "photo": [
                {
                    "file_id": f.file_id,
                    "file_unique_id": f.file_unique_id,
                    "file_size": f.size,
                    "width": f.width or 0,
                    "height": f.height or 0,
                }
                for f in sizes
            ]
        }

    @staticmethod
    def media_object(kind: str, f: StoredFile, p: Params | None = None) -> dict[str, Any]:
        """The JSON object Telegram would put under *kind* for stored file *f*."""
        base: dict[str, Any] = {
            "file_id": f.file_id,
            "file_unique_id": f.file_unique_id,
            "file_size": f.size,
        }
        duration = (p.get_int("duration") if p else None) or 1
        dims = image_size(f.data) or (f.width or 512, f.height or 512)
        if kind == "document":
            base["file_name"] = f.file_name or "document"
            base["mime_type"] = f.mime_type or guess_mime(f.data, f.file_name)
        elif kind == "sticker":
            base.update(
                type="regular", width=dims[0], height=dims[1], is_animated=False, is_video=False
            )
        elif kind in ("voice", "audio"):
            base.update(duration=duration, mime_type=f.mime_type or "audio/ogg")
        elif kind in ("video", "animation"):
            base.update(width=dims[0], height=dims[1], duration=duration)
            if f.file_name:
                base["file_name"] = f.file_name
        elif kind == "video_note":
            base.update(length=(p.get_int("length") if p else None) or 240, duration=duration)
        return base

    def _media_message(self, p: Params, method: str, kind: str) -> dict[str, Any]:
        stored = self._resolve_file(p, kind, kind)
        if kind == "photo":
            sizes = self.tg.photo_sizes_for(stored)
            content = self.photo_content(sizes)
            files = sizes
        else:
            content = {kind: self.media_object(kind, stored, p)}
            files = [stored]
        content.update(self._caption_content(p))
        return self._send(p, method, content, files).raw

    # --------------------------------------------------------- bot / meta
    @api_method("getMe")
    def get_me(self, p: Params) -> dict[str, Any]:
        return {
            **self.tg.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api_method("logOut")
    def log_out(self, p: Params) -> bool:
        return True

    @api_method("close")
    def close(self, p: Params) -> bool:
        return True

    @api_method("setWebhook")
    def set_webhook(self, p: Params) -> bool:
        url = p.get_str("url") or ""
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get_str("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        self.tg.webhook = dict(p.values) if url else None
        if url and p.get_bool("drop_pending_updates"):
            self.tg.drop_pending_updates()
        return True

    @api_method("deleteWebhook")
    def delete_webhook(self, p: Params) -> bool:
        self.tg.webhook = None
        if p.get_bool("drop_pending_updates"):
            self.tg.drop_pending_updates()
        return True

    @api_method("getWebhookInfo")
    def get_webhook_info(self, p: Params) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": (self.tg.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": self.tg.pending_update_count,
        }
        if self.tg.webhook and self.tg.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.tg.webhook["allowed_updates"]
        return info

    def _commands_key(self, p: Params) -> tuple[str, str]:
        """The (scope, language) a commands call is about, checked like Telegram
        (TDLib ``BotCommandScope::get_bot_command_scope``, ``validate_bot_language_code``)."""
        scope = p.get("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in _SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        assert isinstance(scope, dict)
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = scope.get("chat_id")
            chat = self.tg.chats.get(chat_id) if isinstance(chat_id, int) else None
            if chat is None or (chat.type == "private" and not self.tg.has_seen_user(chat.id)):
                # A private chat scope needs a user the bot knows: one who opened the bot or
                # wrote where the bot reads. Anyone else is "chat not found", as in Telegram.
                raise bad_request("chat not found")
            if chat.migrated_to is not None:
                raise ApiError(400, MIGRATED, {"migrate_to_chat_id": chat.migrated_to})
            if chat.type == "private" and kind != "chat":
                raise bad_request("can't use specified scope in private chats")
            if chat.type == "channel":
                raise bad_request("can't change commands in channel chats")
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int) or user_id not in self.tg.users:
                    raise bad_request("user not found")
                scope = {"type": kind, "chat_id": chat_id, "user_id": user_id}
            else:
                scope = {"type": kind, "chat_id": chat_id}
        else:
            scope = {"type": kind}
        language = p.get_str("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return scope_key(scope), language

    @api_method("setMyCommands")
    def set_my_commands(self, p: Params) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise bad_request("expected an Array of BotCommand")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: BotCommand must be an Object")
            name = str(command.get("command", "")).strip().removeprefix("/")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(command.get("description", "")).strip()
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("command description length must not exceed 256")
            cleaned.append({"command": name, "description": description})
        if len(cleaned) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        key = self._commands_key(p)
        if cleaned:
            self.tg.commands[key] = cleaned
        else:  # an empty list resets the scope: users see the next scope's commands
            self.tg.commands.pop(key, None)
        return True

    @api_method("getMyCommands")
    def get_my_commands(self, p: Params) -> list[dict[str, Any]]:
        return self.tg.commands.get(self._commands_key(p), [])

    @api_method("deleteMyCommands")
    def delete_my_commands(self, p: Params) -> bool:
        self.tg.commands.pop(self._commands_key(p), None)
        return True

    def _menu_chat(self, p: Params) -> int | None:
        """setChatMenuButton/getChatMenuButton: no chat_id is the bot's default button;
        otherwise a private chat, i.e. a user the fake knows."""
        raw = p.get("chat_id")
        if raw is None or raw == "":
            return None
        try:
            user_id = int(raw)
        except (TypeError, ValueError):
            user_id = 0
        if user_id <= 0:
            raise bad_request("invalid chat_id specified")
        if user_id not in self.tg.users:
            raise bad_request("user not found")
        return user_id

    @api_method("setChatMenuButton")
    def set_chat_menu_button(self, p: Params) -> bool:
        button = p.get("menu_button")
        if button is None or button == "":
            button = {"type": "default"}
        if not isinstance(button, dict):
            raise bad_request("can't parse menu button: MenuButton must be an Object")
        kind = button.get("type")
        if not isinstance(kind, str):
            raise bad_request('can\'t parse menu button: Field "type" must be of type String')
        stored: dict[str, Any]
        if kind == "default":
            stored = {"type": "default"}
        elif kind == "commands":
            stored = {"type": "commands"}
        elif kind == "web_app":
            text = button.get("text")
            if not isinstance(text, str):
                raise bad_request('can\'t parse menu button: Field "text" must be of type String')
            if not text:
                raise bad_request("menu button text can't be empty")
            web_app = button.get("web_app")
            if not isinstance(web_app, dict) or not isinstance(web_app.get("url"), str):
                raise bad_request('can\'t parse menu button: Field "url" must be of type String')
            url = web_app["url"]
            if not _HTTPS_URL.fullmatch(url):
                # TDLib's wording for a menu button (BotMenuButton.cpp)
                raise bad_request(
                    f"inline keyboard button web app URL '{url}' is invalid: "
                    "Only HTTPS links are allowed"
                )
            stored = {"type": "web_app", "text": text, "web_app": {"url": url}}
        else:
            raise bad_request("can't parse menu button: MenuButton has unsupported type")
        chat_id = self._menu_chat(p)
        if stored["type"] == "default":
            self.tg.menu_buttons.pop(chat_id, None)  # the chat (or the bot) falls back
        else:
            self.tg.menu_buttons[chat_id] = stored
        self.tg.emit("menu_button", chat_id, button=stored)
        return True

    @api_method("getChatMenuButton")
    def get_chat_menu_button(self, p: Params) -> dict[str, Any]:
        # Like the Bot API server: a chat without a button of its own answers "default"
        # (the bot's default applies); the bot's default is "commands" until set.
        chat_id = self._menu_chat(p)
        fallback = {"type": "default"} if chat_id is not None else {"type": "commands"}
        return dict(self.tg.menu_buttons.get(chat_id, fallback))

    def _set_setting(self, p: Params, key: str) -> bool:
        self.tg.bot_settings[(key, p.get_str("language_code") or "")] = p.get_str(key) or ""
        return True

    def _get_setting(self, p: Params, key: str) -> dict[str, str]:
        value = self.tg.bot_settings.get((key, p.get_str("language_code") or ""), "")
        if key == "name" and not value:
            value = self.tg.bot_user["first_name"]
        return {key: value}

    @api_method("setMyDescription")
    def set_my_description(self, p: Params) -> bool:
        return self._set_setting(p, "description")

    @api_method("getMyDescription")
    def get_my_description(self, p: Params) -> dict[str, str]:
        return self._get_setting(p, "description")

    @api_method("setMyShortDescription")
    def set_my_short_description(self, p: Params) -> bool:
        return self._set_setting(p, "short_description")

    @api_method("getMyShortDescription")
    def get_my_short_description(self, p: Params) -> dict[str, str]:
        return self._get_setting(p, "short_description")

    @api_method("setMyName")
    def set_my_name(self, p: Params) -> bool:
        return self._set_setting(p, "name")

    @api_method("getMyName")
    def get_my_name(self, p: Params) -> dict[str, str]:
        return self._get_setting(p, "name")

    @api_method("setMyDefaultAdministratorRights")
    def set_default_admin_rights(self, p: Params) -> bool:
        return True

    # -------------------------------------------------------------- updates
    @api_method("getUpdates")
    async def get_updates(self, p: Params) -> list[dict[str, Any]]:
        return await self.tg.long_poll(
            offset=p.get_int("offset"),
            limit=p.get_int("limit", 100) or 100,
            timeout=float(p.get_int("timeout", 0) or 0),
            allowed_updates=p.get("allowed_updates"),
        )

    # -------------------------------------------------------------- sending
    @api_method("sendMessage", sends=True)
    def send_message(self, p: Params) -> dict[str, Any]:
        text, entities = self._text(p)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if (preview := _link_preview_options(p)) is not None:
            content["link_preview_options"] = preview
        return self._send(p, "sendMessage", content).raw

    @api_method("sendPhoto", sends=True)
    def send_photo(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendPhoto", "photo")

    @api_method("sendDocument", sends=True)
    def send_document(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendDocument", "document")

    @api_method("sendSticker", sends=True)
    def send_sticker(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendSticker", "sticker")

    @api_method("sendVoice", sends=True)
    def send_voice(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendVoice", "voice")

    @api_method("sendAudio", sends=True)
    def send_audio(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendAudio", "audio")

    @api_method("sendVideo", sends=True)
    def send_video(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendVideo", "video")

    @api_method("sendAnimation", sends=True)
    def send_animation(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendAnimation", "animation")

    @api_method("sendVideoNote", sends=True)
    def send_video_note(self, p: Params) -> dict[str, Any]:
        return self._media_message(p, "sendVideoNote", "video_note")

    @api_method("sendLocation", sends=True)
    def send_location(self, p: Params) -> dict[str, Any]:
        lat, lon = p.get("latitude"), p.get("longitude")
        if not isinstance(lat, float | int) or not isinstance(lon, float | int):
            raise bad_request("wrong latitude or longitude specified")
        content = {"location": {"latitude": float(lat), "longitude": float(lon)}}
        return self._send(p, "sendLocation", content).raw

    @api_method("sendContact", sends=True)
    def send_contact(self, p: Params) -> dict[str, Any]:
        phone, first = p.get_str("phone_number"), p.get_str("first_name")
        if not phone or not first:
            raise bad_request("phone_number and first_name are required")
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first}
        if last := p.get_str("last_name"):
            contact["last_name"] = last
        return self._send(p, "sendContact", {"contact": contact}).raw

    @api_method("sendDice", sends=True)
    def send_dice(self, p: Params) -> dict[str, Any]:
        emoji = p.get_str("emoji") or "🎲"
        return self._send(p, "sendDice", {"dice": {"emoji": emoji, "value": 4}}).raw

    @api_method("sendMediaGroup", sends=True)
    def send_media_group(self, p: Params) -> list[dict[str, Any]]:
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of media items: must include 2-10 items")
        kinds = {item.get("type") for item in media if isinstance(item, dict)}
        for only in ("document", "audio"):
            if only in kinds and kinds != {only}:
                raise bad_request(
                    "documents and audio files can be only grouped in an album with "
                    "messages of the same type"
                )
        group_id = str(self.tg.next_media_group_id())
        results: list[dict[str, Any]] = []
        prepared: list[tuple[dict[str, Any], list[StoredFile]]] = []
        # Resolve everything first so a bad item fails the whole album, like Telegram.
        for item in media:
            if not isinstance(item, dict) or item.get("type") not in (
                "photo",
                "document",
                "video",
                "audio",
            ):
                raise bad_request("unsupported media type in the album")
            kind = item["type"]
            stored = self.tg.resolve_input_file(str(item.get("media", "")), p.uploads, kind)
            item_params = Params(values=item, uploads=p.uploads, chat=p.chat)
            if kind == "photo":
                sizes = self.tg.photo_sizes_for(stored)
                content, files = self.photo_content(sizes), sizes
            else:
                content, files = {kind: self.media_object(kind, stored)}, [stored]
            content.update(self._caption_content(item_params))
            content["media_group_id"] = group_id
            prepared.append((content, files))
        for content, files in prepared:
            results.append(self._send(p, "sendMediaGroup", content, files, markup=None).raw)
        return results

    @api_method("copyMessage", sends=True)
    def copy_message(self, p: Params) -> dict[str, int]:
        source = self._source_message(p, "copy")
        content = {k: v for k, v in source.raw.items() if k in _COPYABLE_KEYS}
        if p.get("caption") is not None:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption_content(p))
        msg = self._send(p, "copyMessage", content, list(source.files))
        return {"message_id": msg.message_id}

    @api_method("forwardMessage", sends=True)
    def forward_message(self, p: Params) -> dict[str, Any]:
        source = self._source_message(p, "forward")
        content = {k: v for k, v in source.raw.items() if k in _COPYABLE_KEYS}
        content["forward_origin"] = {
            "type": "user",
            "sender_user": source.raw.get("from", self.tg.bot_user),
            "date": source.date,
        }
        return self._send(p, "forwardMessage", content, list(source.files), markup=None).raw

    def _source_message(self, p: Params, verb: str) -> ChatMessage:
        from_chat = self.tg.chats.get(p.require_int("from_chat_id"))
        source = from_chat.get(p.require_int("message_id")) if from_chat else None
        if source is None or source.deleted:
            raise bad_request(f"message to {verb} not found")
        return source

    @api_method("sendChatAction", writes=True)
    def send_chat_action(self, p: Params) -> bool:
        action = p.get_str("action")
        if not action:
            raise bad_request("action is empty")
        self.tg.emit("chat_action", p.require_chat().id, action=action)
        return True

    # -------------------------------------------------------------- editing
    def _apply_edit(
        self, msg: ChatMessage, changes: dict[str, Any], markup: dict[str, Any] | None
    ) -> dict[str, Any]:
        current = {k: msg.raw.get(k) for k in changes}
        if current == changes and msg.raw.get("reply_markup") == _inline_only(markup):
            raise bad_request(_NOT_MODIFIED)
        self.tg.record_edit(msg, changes, markup)
        return msg.raw

    @api_method("editMessageText", writes=True)
    def edit_message_text(self, p: Params) -> dict[str, Any]:
        msg = self._editable(p)
        if "text" not in msg.raw:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._text(p)
        markup = self._edit_markup(p, msg)
        changes = {
            "text": text,
            "entities": entities or None,
            "link_preview_options": _link_preview_options(p),
        }
        return self._apply_edit(msg, changes, markup)

    def _edit_markup(self, p: Params, msg: ChatMessage) -> dict[str, Any] | None:
        return _check_markup(
            p.get("reply_markup"), p.require_chat().type, invoice="invoice" in msg.raw
        )

    @api_method("editMessageCaption", writes=True)
    def edit_message_caption(self, p: Params) -> dict[str, Any]:
        msg = self._editable(p)
        if not any(k in msg.raw for k in _MEDIA_KEYS):
            raise bad_request("there is no caption in the message to edit")
        caption = self._caption_content(p)
        changes = {
            "caption": caption.get("caption"),
            "caption_entities": caption.get("caption_entities"),
        }
        return self._apply_edit(msg, changes, self._edit_markup(p, msg))

    @api_method("editMessageReplyMarkup", writes=True)
    def edit_message_reply_markup(self, p: Params) -> dict[str, Any]:
        msg = self._editable(p)
        return self._apply_edit(msg, {}, self._edit_markup(p, msg))

    @api_method("deleteMessage", chat_param="chat_id")
    def delete_message(self, p: Params) -> bool:
        chat = p.require_chat()
        msg = chat.get(p.require_int("message_id"))
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        if not self._deletable(chat, msg):
            raise bad_request("message can't be deleted")
        self.tg.record_delete(msg)
        return True

    def _deletable(self, chat: ChatState, msg: ChatMessage) -> bool:
        # Bot API deleteMessage: only messages younger than 48 hours; in groups, other
        # people's messages only when the bot is an admin (supergroup admins also
        # delete older messages).
        admin = chat.type != "private" and chat.bot_is_admin
        if not (msg.from_bot or chat.type == "private" or admin):
            return False
        age = self.tg.wall_clock() - int(msg.raw.get("date", 0))
        return age < 48 * 3600 or (admin and chat.type in ("supergroup", "channel"))

    @api_method("deleteMessages", chat_param="chat_id")
    def delete_messages(self, p: Params) -> bool:
        chat = p.require_chat()
        for message_id in p.get("message_ids") or []:
            msg = chat.get(int(message_id))
            if msg is not None and not msg.deleted and self._deletable(chat, msg):
                self.tg.record_delete(msg)
        return True

    @api_method("pinChatMessage", writes=True)
    def pin_chat_message(self, p: Params) -> bool:
        chat = p.require_chat()
        if chat.get(p.require_int("message_id")) is None:
            raise bad_request("message to pin not found")
        return True

    @api_method("unpinChatMessage", writes=True)
    def unpin_chat_message(self, p: Params) -> bool:
        return True

    @api_method("unpinAllChatMessages", writes=True)
    def unpin_all_chat_messages(self, p: Params) -> bool:
        return True

    @api_method("setMessageReaction", chat_param="chat_id")
    def set_message_reaction(self, p: Params) -> bool:
        return True

    # ------------------------------------------------------------ callbacks
    @api_method("answerCallbackQuery")
    def answer_callback_query(self, p: Params) -> bool:
        record = self.tg.callbacks.get(p.get_str("callback_query_id") or "")
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get_str("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answer = CallbackAnswer(
            text=text,
            show_alert=p.get_bool("show_alert"),
            url=p.get_str("url"),
            cache_time=p.get_int("cache_time"),
        )
        self.tg.emit(
            "callback_answer",
            record.chat_id,
            callback_query_id=record.id,
            text=text,
            show_alert=record.answer.show_alert,
            data=record.data,
        )
        return True

    # ------------------------------------------------------------ payments
    @api_method("sendInvoice", sends=True)
    def send_invoice(self, p: Params) -> dict[str, Any]:
        chat = p.require_chat()
        invoice = parse_invoice(
            p,
            self.tg.currencies,
            invoice_id=f"{chat.id}:{chat.next_message_id}",
            accepted_tokens=self.tg.payment_provider_tokens,
        )
        given = _check_markup(p.get("reply_markup"), chat.type, invoice=True)
        # Without a keyboard Telegram shows one "Pay <total>" button (not echoed back).
        shown = given or {"inline_keyboard": [[{"text": invoice.pay_button_text, "pay": True}]]}
        msg = self._send(p, "sendInvoice", {"invoice": invoice.to_json()}, markup=shown,
                         echo_markup=given is not None)
        invoice.chat_id, invoice.message_id = chat.id, msg.message_id
        invoice.id = f"{chat.id}:{msg.message_id}"
        self.tg.invoices[invoice.id] = invoice
        return msg.raw

    @api_method("createInvoiceLink")
    def create_invoice_link(self, p: Params) -> str:
        slug = new_invoice_slug()
        invoice = parse_invoice(
            p, self.tg.currencies, invoice_id=slug, accepted_tokens=self.tg.payment_provider_tokens
        )
        invoice.link = f"https://t.me/${slug}"
        self.tg.invoices[slug] = invoice
        return invoice.link

    @api_method("answerPreCheckoutQuery")
    def answer_pre_checkout_query(self, p: Params) -> bool:
        ok = p.get_bool("ok")
        error_message = p.get_str("error_message")
        if not ok and not error_message:
            raise bad_request('parameter "error_message" is required')
        attempt = self.tg.payment_attempts.get(p.get_str("pre_checkout_query_id") or "")
        if attempt is not None:
            self.tg.expire_pre_checkout_queries()
        if attempt is None or attempt.done:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        attempt.answered_at = self.tg.clock()
        if ok:
            self.tg.complete_payment(attempt)
        else:
            attempt.state, attempt.error_message = "declined", error_message
            self.tg.emit("payment", attempt.invoice.chat_id, state="declined",
                         query_id=attempt.query_id, error_message=error_message)
        return True

    @api_method("answerShippingQuery")
    def answer_shipping_query(self, p: Params) -> bool:
        # fakegram never sends shipping queries (FakeUser.pay refuses flexible invoices).
        raise bad_request("query is too old and response timeout expired or query ID is invalid")

    # ------------------------------------------------------------ web apps
    @api_method("answerWebAppQuery")
    def answer_web_app_query(self, p: Params) -> dict[str, Any]:
        result = p.get("result")
        if not isinstance(result, dict):
            raise bad_request("can't parse inline query result JSON object")
        kind, result_id = result.get("type"), result.get("id")
        if not isinstance(kind, str):
            raise bad_request('can\'t parse InlineQueryResult: Field "type" must be of type String')
        if not isinstance(result_id, str) or not 1 <= len(result_id.encode()) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if kind != "article":
            raise bad_request(
                f"fakegram: answerWebAppQuery supports article results only, not {kind!r}"
            )
        title = result.get("title")
        if not isinstance(title, str) or not title:
            raise bad_request("can't parse InlineQueryResult: Field \"title\" must be of type String")
        content_spec = result.get("input_message_content")
        if not isinstance(content_spec, dict) or "message_text" not in content_spec:
            raise bad_request("can't parse InputMessageContent: Field \"message_text\" must be of "
                              "type String")
        markup = _check_markup(result.get("reply_markup"), "private")
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        inner = Params(values=dict(content_spec), uploads={})
        inner.values["text"] = content_spec.get("message_text")
        text, entities = self._text(inner)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if (preview := _link_preview_options(inner)) is not None:
            content["link_preview_options"] = preview
        query = self.tg.web_app_queries.get(p.get_str("web_app_query_id") or "")
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query.answered = True
        query.message = self.tg.post_web_app_answer(query, content, markup)
        if markup is not None:
            return {"inline_message_id": f"fakegram-{query.id}"}
        return {}

    # --------------------------------------------------------- files, chats
    @api_method("getFile")
    def get_file(self, p: Params) -> dict[str, Any]:
        stored = self.tg.files.get(p.get_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > 20 * 1024 * 1024:
            raise bad_request("file is too big")
        return stored.to_json()

    @api_method("getChat", chat_param="chat_id")
    def get_chat(self, p: Params) -> dict[str, Any]:
        chat = p.require_chat()
        info = chat.to_json()
        if chat.type == "private":
            user = self.tg.users.get(chat.id)
            if user is not None and user.username:
                info["username"] = user.username
        return {
            **info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    @api_method("getChatMember", chat_param="chat_id")
    def get_chat_member(self, p: Params) -> dict[str, Any]:
        chat = p.require_chat()
        return self.tg.chat_member_json(chat, p.require_int("user_id"))

    @api_method("getChatAdministrators", chat_param="chat_id")
    def get_chat_administrators(self, p: Params) -> list[dict[str, Any]]:
        chat = p.require_chat()
        user_ids = [uid for (cid, uid), _ in self.tg.member_status.items() if cid == chat.id]
        if chat.bot_is_admin:
            user_ids.append(self.tg.bot_id)
        members = [self.tg.chat_member_json(chat, uid) for uid in dict.fromkeys(user_ids)]
        return [m for m in members if m["status"] in ("administrator", "creator")]

    @api_method("getChatMemberCount", chat_param="chat_id")
    def get_chat_member_count(self, p: Params) -> int:
        chat = p.require_chat()
        senders = {m.sender_id for m in chat.messages}
        return max(2, len(senders | {self.tg.bot_id}))

    @api_method("getUserProfilePhotos")
    def get_user_profile_photos(self, p: Params) -> dict[str, Any]:
        return {"total_count": 0, "photos": []}

    @api_method("leaveChat", chat_param="chat_id")
    def leave_chat(self, p: Params) -> bool:
        return True

    @api_method("banChatMember", chat_param="chat_id")
    def ban_chat_member(self, p: Params) -> bool:
        self.tg.member_status[(p.require_chat().id, p.require_int("user_id"))] = "kicked"
        return True

    @api_method("unbanChatMember", chat_param="chat_id")
    def unban_chat_member(self, p: Params) -> bool:
        self.tg.member_status[(p.require_chat().id, p.require_int("user_id"))] = "left"
        return True

    @api_method("createChatInviteLink", chat_param="chat_id")
    def create_chat_invite_link(self, p: Params) -> dict[str, Any]:
        chat = p.require_chat()
        return {
            "invite_link": f"https://t.me/+fake{abs(chat.id)}",
            "creator": self.tg.bot_user,
            "creates_join_request": p.get_bool("creates_join_request"),
            "is_primary": False,
            "is_revoked": False,
        }


def method_names() -> list[str]:
    """Canonical names of every implemented method (for docs and the sandbox)."""
    return sorted(spec.name for spec in METHODS.values())


def describe_params(values: Mapping[str, Any]) -> str:
    """Compact rendering of parameters for logs."""
    return ", ".join(f"{k}={v!r}"[:80] for k, v in values.items())
