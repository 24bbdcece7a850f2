"""State kept by the fake server: chats, messages (with edit history), files,
callback queries, the request log, statistics and the events sent to listeners.

Everything here is plain data so a test (or the browser sandbox) can inspect it
directly. Messages keep ``raw`` — the exact Telegram ``Message`` JSON the bot sees —
plus test-friendly extras (the full keyboard, file bytes, edit history, deleted flag).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ApiRequest",
    "CallbackAnswer",
    "CallbackQueryRecord",
    "ChatMessage",
    "ChatState",
    "EventKind",
    "FakeEvent",
    "MessageRevision",
    "Stats",
    "StoredFile",
    "Upload",
]


@dataclass
class Upload:
    """One multipart file part as received from the bot."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class StoredFile:
    """A file known to the server; ``getFile`` + the ``/file/`` route serve it."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    source_url: str | None = None  # set when the bot "sent" a URL instead of bytes

    @property
    def size(self) -> int:
        return len(self.data)

    def to_json(self) -> dict[str, Any]:
        """The ``File`` object returned by ``getFile``."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


@dataclass
class MessageRevision:
    """A message's content before an edit."""

    text: str | None
    caption: str | None
    entities: list[dict[str, Any]] | None
    reply_markup: dict[str, Any] | None
    edit_date: int | None


def _keyboard_buttons(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [[b if isinstance(b, dict) else {"text": str(b)} for b in row] for row in rows]


@dataclass
class ChatMessage:
    """One message of a chat transcript, either direction.

    ``raw`` is the Telegram ``Message`` JSON (kept current through edits);
    ``reply_markup`` is the keyboard as the bot sent it, including reply keyboards
    (which real Telegram does not echo back in ``raw``).
    """

    message_id: int
    chat_id: int
    raw: dict[str, Any]
    from_bot: bool
    sender_id: int
    method: str  # "sendMessage", "sendPhoto", ... for the bot; "user" for injected ones
    reply_markup: dict[str, Any] | None = None
    files: list[StoredFile] = field(default_factory=list)  # main file last (largest photo)
    history: list[MessageRevision] = field(default_factory=list)
    deleted: bool = False

    # -- content -------------------------------------------------------------
    @property
    def date(self) -> int:
        return int(self.raw["date"])

    @property
    def text(self) -> str | None:
        return self.raw.get("text")

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def content(self) -> str:
        """``text`` or ``caption`` (whichever exists), ``""`` if neither."""
        return self.raw.get("text") or self.raw.get("caption") or ""

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def kind(self) -> str:
        """``text``, ``photo``, ``document``, ``contact``, ``sticker``, ... ."""
        for key in (
            "text",
            "photo",
            "document",
            "contact",
            "sticker",
            "voice",
            "video",
            "animation",
            "audio",
            "video_note",
            "location",
            "dice",
            "poll",
            "new_chat_members",
            "left_chat_member",
            "invoice",
            "successful_payment",
            "web_app_data",
        ):
            if key in self.raw:
                return key
        return "other"

    @property
    def file(self) -> StoredFile | None:
        """The main file (the largest photo size, the document, ...)."""
        return self.files[-1] if self.files else None

    @property
    def photo(self) -> bytes | None:
        """Bytes of the photo, if this is a photo message."""
        return self.file.data if self.file is not None and "photo" in self.raw else None

    @property
    def document(self) -> bytes | None:
        """Bytes of the document, if this is a document message."""
        return self.file.data if self.file is not None and "document" in self.raw else None

    @property
    def document_name(self) -> str | None:
        doc = self.raw.get("document")
        return doc.get("file_name") if doc else None

    @property
    def mime_type(self) -> str | None:
        return self.file.mime_type if self.file is not None else None

    @property
    def contact(self) -> dict[str, Any] | None:
        return self.raw.get("contact")

    @property
    def invoice(self) -> dict[str, Any] | None:
        """The ``Invoice`` of an invoice message (``title``, ``total_amount``, ...)."""
        return self.raw.get("invoice")

    @property
    def successful_payment(self) -> dict[str, Any] | None:
        return self.raw.get("successful_payment")

    @property
    def web_app_data(self) -> dict[str, Any] | None:
        """``{"data": ..., "button_text": ...}`` sent from a reply-keyboard Mini App."""
        return self.raw.get("web_app_data")

    @property
    def link_preview_options(self) -> dict[str, Any] | None:
        """What Telegram echoes in ``Message.link_preview_options`` (only non-default options)."""
        return self.raw.get("link_preview_options")

    @property
    def link_preview_disabled(self) -> bool:
        """True when the bot turned the link preview off (``is_disabled``)."""
        return bool((self.link_preview_options or {}).get("is_disabled"))

    @property
    def via_bot(self) -> dict[str, Any] | None:
        """The bot a message was sent through (``answerWebAppQuery`` messages)."""
        return self.raw.get("via_bot")

    @property
    def edited(self) -> bool:
        """True once the message was edited (in a snapshot: this event is an edit)."""
        return bool(self.history)

    @property
    def is_edit(self) -> bool:
        return self.edited

    # -- keyboards -----------------------------------------------------------
    @property
    def keyboard_type(self) -> Literal["inline", "reply", "remove", "force_reply"] | None:
        markup = self.reply_markup or {}
        if "inline_keyboard" in markup:
            return "inline"
        if "keyboard" in markup:
            return "reply"
        if markup.get("remove_keyboard"):
            return "remove"
        if markup.get("force_reply"):
            return "force_reply"
        return None

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        """Rows of button dicts of the inline or reply keyboard (empty if none)."""
        return _keyboard_buttons(self.reply_markup)

    @property
    def button_texts(self) -> list[str]:
        """All button labels, flattened row by row."""
        return [b.get("text", "") for row in self.buttons for b in row]

    @property
    def inline_buttons(self) -> list[dict[str, Any]]:
        if self.keyboard_type != "inline":
            return []
        return [b for row in self.buttons for b in row]

    def button(self, text: str) -> dict[str, Any] | None:
        """The button labelled exactly *text*, else the first containing it."""
        flat = [b for row in self.buttons for b in row]
        for b in flat:
            if b.get("text") == text:
                return b
        for b in flat:
            if text in b.get("text", ""):
                return b
        return None

    def callback_data(self, text: str) -> str | None:
        button = self.button(text)
        return button.get("callback_data") if button else None

    # -- misc ----------------------------------------------------------------
    def snapshot(self) -> ChatMessage:
        """A deep copy frozen in time (file bytes are shared, not copied)."""
        return ChatMessage(
            message_id=self.message_id,
            chat_id=self.chat_id,
            raw=copy.deepcopy(self.raw),
            from_bot=self.from_bot,
            sender_id=self.sender_id,
            method=self.method,
            reply_markup=copy.deepcopy(self.reply_markup),
            files=list(self.files),
            history=list(self.history),
            deleted=self.deleted,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (file bytes replaced by ids/paths) for UIs and logs."""
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "sender_id": self.sender_id,
            "method": self.method,
            "kind": self.kind,
            "date": self.date,
            "text": self.text,
            "caption": self.caption,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "file": None
            if self.file is None
            else {
                "file_id": self.file.file_id,
                "file_name": self.file.file_name,
                "mime_type": self.file.mime_type,
                "size": self.file.size,
                "width": self.file.width,
                "height": self.file.height,
            },
            "contact": self.contact,
            "edited": self.edited,
            "history": [
                {"text": r.text, "caption": r.caption, "reply_markup": r.reply_markup}
                for r in self.history
            ],
            "deleted": self.deleted,
            "raw": self.raw,
        }

    def describe(self) -> str:
        """One line for transcripts: ``bot: Hello [Btn1|Btn2]``."""
        who = "bot" if self.from_bot else f"user {self.sender_id}"
        body = self.content or f"<{self.kind}>"
        if self.kind == "document":
            body = f"<document {self.document_name}> {self.caption or ''}".strip()
        elif self.kind == "photo":
            body = f"<photo> {self.caption or ''}".strip()
        elif self.kind == "contact" and self.contact:
            body = f"<contact {self.contact.get('phone_number')} id={self.contact.get('user_id')}>"
        elif self.kind == "invoice" and self.invoice:
            inv = self.invoice
            body = f"<invoice {inv['title']!r} {inv['total_amount']} {inv['currency']}>"
        elif self.kind == "successful_payment" and self.successful_payment:
            paid = self.successful_payment
            body = (f"<paid {paid['total_amount']} {paid['currency']} "
                    f"charge={paid['telegram_payment_charge_id']}>")
        elif self.kind == "web_app_data" and self.web_app_data:
            body = f"<web_app_data {self.web_app_data['data']!r}>"
        flags = "".join(
            [" (edited)" if self.edited else "", " (deleted)" if self.deleted else ""]
        )
        keys = f" [{' | '.join(self.button_texts)}]" if self.button_texts else ""
        return f"#{self.message_id} {who}: {body}{keys}{flags}"


@dataclass
class ChatState:
    """A chat as the fake server knows it, with its full transcript."""

    id: int
    type: str  # "private", "group", "supergroup" or "channel"
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    blocked: bool = False  # sends answer 403 while set
    migrated_to: int | None = None  # a group upgraded to this supergroup: writes answer 400
    started: bool = True  # private chats: False means "bot can't initiate conversation"
    bot_is_admin: bool = True  # groups: an admin bot sees every message
    privacy_mode: bool = True  # groups: a non-admin bot with privacy on sees commands only
    next_message_id: int = 1
    # Snapshots of bot messages and edits, consumed in order by ``expect()``.
    inbox: list[ChatMessage] = field(default_factory=list)
    inbox_cursor: int = 0

    def to_json(self) -> dict[str, Any]:
        """The ``Chat`` object embedded in messages."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            data["first_name"] = self.first_name or "User"
            if self.last_name:
                data["last_name"] = self.last_name
        else:
            data["title"] = self.title or f"Chat {self.id}"
        if self.username:
            data["username"] = self.username
        return data

    def allocate_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def get(self, message_id: int) -> ChatMessage | None:
        for msg in reversed(self.messages):
            if msg.message_id == message_id:
                return msg
        return None

    def bot_messages(self, include_deleted: bool = False) -> list[ChatMessage]:
        return [m for m in self.messages if m.from_bot and (include_deleted or not m.deleted)]

    def user_messages(self) -> list[ChatMessage]:
        return [m for m in self.messages if not m.from_bot]

    def last_bot_message(self) -> ChatMessage | None:
        found = self.bot_messages()
        return found[-1] if found else None

    @property
    def reply_keyboard(self) -> dict[str, Any] | None:
        """The reply keyboard currently shown (the latest one not removed since)."""
        for msg in reversed(self.bot_messages()):
            kind = msg.keyboard_type
            if kind == "reply":
                return msg.reply_markup
            if kind == "remove":
                return None
        return None

    @property
    def unread(self) -> list[ChatMessage]:
        """Bot messages/edits not yet consumed by ``expect()``."""
        return self.inbox[self.inbox_cursor :]

    def to_dict(self, with_messages: bool = True) -> dict[str, Any]:
        """JSON-safe view for UIs: the Chat object, flags and (optionally) messages."""
        data: dict[str, Any] = {
            **self.to_json(),
            "blocked": self.blocked,
            "migrated_to": self.migrated_to,
            "started": self.started,
            "bot_is_admin": self.bot_is_admin,
            "privacy_mode": self.privacy_mode,
            "reply_keyboard": self.reply_keyboard,
        }
        if with_messages:
            data["messages"] = [m.to_dict() for m in self.messages]
        return data

    def transcript(self) -> str:
        """Human-readable transcript, one message per line."""
        return "\n".join(m.describe() for m in self.messages) or "(empty chat)"


@dataclass
class CallbackAnswer:
    """What the bot passed to ``answerCallbackQuery``."""

    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass
class CallbackQueryRecord:
    """A callback query a simulated user sent, and the bot's answer once given."""

    id: str
    chat_id: int | None
    message_id: int | None
    data: str | None
    user_id: int
    answer: CallbackAnswer | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None

    @property
    def text(self) -> str | None:
        """Text of the answer (toast/alert), ``None`` if unanswered or empty."""
        return self.answer.text if self.answer else None

    @property
    def show_alert(self) -> bool:
        return bool(self.answer and self.answer.show_alert)


@dataclass
class ApiRequest:
    """One Bot API call as the server saw it (``tg.requests``)."""

    method: str  # canonical spelling, e.g. "sendMessage" (as sent if unknown)
    params: dict[str, Any]
    chat_id: int | str | None
    time: float  # on the server clock (``FakeTelegram.clock``)
    files: dict[str, Upload] = field(default_factory=dict)
    status: int | None = None  # None while in flight
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


EventKind = Literal[
    "message",  # a new message in a chat (bot's or user's; see ``from_bot``)
    "edit",  # a message was edited
    "delete",  # a message was deleted
    "callback_query",  # a user pressed an inline button
    "callback_answer",  # the bot answered a callback query
    "chat_action",  # the bot sent "typing…" etc.
    "chat",  # a chat was created or changed (blocked, title, ...)
    "pre_checkout_query",  # a user pressed Pay; the bot must answer within 10 s
    "payment",  # a payment was completed, declined or expired (``data["state"]``)
    "menu_button",  # the bot set a menu button (``chat_id`` None: the default one)
    "web_app",  # a user opened a Mini App (``data["url"]``, ``data["source"]``)
]


@dataclass(frozen=True)
class FakeEvent:
    """What listeners receive. ``message`` is a snapshot taken at event time."""

    kind: EventKind
    chat_id: int | None
    message: ChatMessage | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def from_bot(self) -> bool:
        return bool(self.message and self.message.from_bot) or self.kind in (
            "callback_answer",
            "chat_action",
            "menu_button",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "message": self.message.to_dict() if self.message else None,
            "data": self.data,
        }


@dataclass
class Stats:
    """Counters for assertions about how the bot used the API."""

    calls: Counter[str] = field(default_factory=Counter)  # per canonical method name
    statuses: Counter[int] = field(default_factory=Counter)  # answers per HTTP status
    rate_limited: int = 0  # 429s issued by ``enforce_limits`` (not injected ones)
    injected_failures: int = 0  # answers produced by ``fail_next``
    sends: dict[int, list[float]] = field(default_factory=dict)  # accepted sends per chat

    @property
    def total_sends(self) -> int:
        return sum(len(times) for times in self.sends.values())

    def send_times(self, chat_id: int | None = None) -> list[float]:
        """Accepted send times (server clock) for one chat, or all chats, sorted."""
        if chat_id is not None:
            return sorted(self.sends.get(chat_id, []))
        return sorted(t for times in self.sends.values() for t in times)

    def max_in_window(self, window: float = 1.0, chat_id: int | None = None) -> int:
        """Most accepted sends in any half-open window ``[t, t + window)``."""
        times = self.send_times(chat_id)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best
