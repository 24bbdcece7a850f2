# ruff: noqa: ASYNC109 - explicit ``timeout`` parameters are the point of this test API
"""Simulated Telegram users and group chats that tests drive.

A :class:`FakeUser` acts in its private chat (chat id == user id); a
:class:`FakeGroup` is a group chat in which any ``FakeUser`` can act. Both offer the
same waiting helpers (``expect``, ``expect_text``, ...) over their chat's stream of
bot messages and edits.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any, Final

from .formatting import detect_entities
from .methods import BotApi
from .models import CallbackQueryRecord, ChatMessage, ChatState, StoredFile
from .payments import InvoiceRecord, PaymentAttempt
from .webapps import LaunchSource, WebAppLaunch

if TYPE_CHECKING:
    from .server import FakeTelegram

__all__ = ["SELF", "FakeGroup", "FakeUser"]


class _SelfType:
    """Sentinel: "the sending user's own id" (see :meth:`FakeUser.send_contact`)."""

    def __repr__(self) -> str:
        return "SELF"


SELF: Final = _SelfType()

# A few bytes that look like the right formats to anything sniffing headers.
_FAKE_WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8X\n\x00\x00\x00\x00\x00\x00\xff\x01\x00\xff\x01\x00"
_FAKE_OGG = b"OggS\x00\x02" + b"\x00" * 20 + b"OpusHead"
_FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


_DEEP_LINK_PAYLOAD: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _text_content(text: str, field: str = "text") -> dict[str, Any]:
    content: dict[str, Any] = {field: text}
    entities = detect_entities(text)
    if entities:
        content["entities" if field == "text" else "caption_entities"] = entities
    return content


def _caption(caption: str | None) -> dict[str, Any]:
    return _text_content(caption, "caption") if caption else {}


class _ChatView:
    """Waiting and inspection helpers shared by users and groups."""

    tg: FakeTelegram
    chat_id: int

    @property
    def chat(self) -> ChatState:
        return self.tg.chats[self.chat_id]

    # -- inspection ---------------------------------------------------------
    @property
    def messages(self) -> list[ChatMessage]:
        """The whole transcript (both directions, deleted ones flagged)."""
        return self.chat.messages

    def bot_messages(self, include_deleted: bool = False) -> list[ChatMessage]:
        return self.chat.bot_messages(include_deleted)

    def last_bot_message(self) -> ChatMessage | None:
        return self.chat.last_bot_message()

    def transcript(self) -> str:
        return self.chat.transcript()

    @property
    def unread(self) -> list[ChatMessage]:
        """Bot messages/edits not yet consumed by ``expect()``."""
        return self.chat.unread

    def skip_pending(self) -> list[ChatMessage]:
        """Mark every unread bot message/edit as consumed; returns them."""
        chat = self.chat
        skipped = chat.unread
        chat.inbox_cursor = len(chat.inbox)
        return skipped

    def _diagnostics(self) -> str:
        failures = [
            f"  {r.method} -> {r.status} {r.error}"
            for r in self.tg.failed_requests()
            if r.chat_id is None or str(r.chat_id) == str(self.chat_id)
        ][-5:]
        text = f"transcript of chat {self.chat_id}:\n{self.transcript()}"
        if failures:
            text += "\nfailed API calls:\n" + "\n".join(failures)
        return text

    # -- waiting ------------------------------------------------------------
    async def expect(self, timeout: float = 5.0) -> ChatMessage:
        """The next bot message *or edit* in this chat not consumed yet.

        Returns a snapshot taken when it happened (``.edited`` is true for edits).
        Raises ``AssertionError`` (with the transcript) after *timeout* seconds.
        """
        chat = self.chat
        if not await self.tg.wait_until(lambda: chat.inbox_cursor < len(chat.inbox), timeout):
            raise AssertionError(
                f"no bot message in chat {self.chat_id} within {timeout}s\n"
                + self._diagnostics()
            )
        msg = chat.inbox[chat.inbox_cursor]
        chat.inbox_cursor += 1
        return msg

    async def wait_reply(self, timeout: float = 5.0) -> ChatMessage:
        """Alias of :meth:`expect`."""
        return await self.expect(timeout)

    async def expect_text(
        self,
        contains: str | None = None,
        *,
        equals: str | None = None,
        pattern: str | None = None,
        timeout: float = 5.0,
    ) -> ChatMessage:
        """Consume bot messages/edits until one's text (or caption) matches.

        Matches when it contains *contains*, equals *equals* and/or matches the
        regular expression *pattern* (all given conditions must hold). Non-matching
        messages are skipped (and listed in the error on timeout).
        """
        loop_time = asyncio.get_running_loop().time
        deadline = loop_time() + timeout
        skipped: list[str] = []
        while True:
            remaining = max(0.0, deadline - loop_time())
            try:
                msg = await self.expect(remaining)
            except AssertionError:
                raise AssertionError(
                    f"no bot message matching contains={contains!r} equals={equals!r} "
                    f"pattern={pattern!r} in chat {self.chat_id} within {timeout}s; "
                    f"skipped: {skipped}\n{self._diagnostics()}"
                ) from None
            body = msg.content
            if (
                (contains is None or contains in body)
                and (equals is None or equals == body)
                and (pattern is None or re.search(pattern, body) is not None)
            ):
                return msg
            skipped.append(body)

    async def expect_no_reply(self, timeout: float = 0.3) -> None:
        """Assert the bot sends/edits nothing here within *timeout* seconds."""
        chat = self.chat
        if await self.tg.wait_until(lambda: chat.inbox_cursor < len(chat.inbox), timeout):
            got = [m.describe() for m in chat.unread]
            raise AssertionError(f"unexpected bot message(s) in chat {self.chat_id}: {got}")

    # -- shared actions -----------------------------------------------------
    def _find_button(self, text: str) -> tuple[ChatMessage, dict[str, Any]]:
        """Newest bot message with an inline button (or the active reply keyboard)
        labelled *text*: exact match first, then substring."""
        chat = self.chat
        newest_first = list(reversed(chat.bot_messages()))
        active_reply = next(
            (m for m in newest_first if m.keyboard_type in ("reply", "remove")), None
        )
        if active_reply is not None and active_reply.keyboard_type == "remove":
            active_reply = None
        candidates = [m for m in newest_first if m.keyboard_type == "inline" or m is active_reply]
        for exact in (True, False):
            for msg in candidates:
                for row in msg.buttons:
                    for button in row:
                        label = str(button.get("text", ""))
                        if label == text if exact else text in label:
                            return msg, button
        visible = [m.button_texts for m in candidates]
        raise AssertionError(
            f"no button {text!r} in chat {self.chat_id}; buttons: {visible}\n"
            + self._diagnostics()
        )

    async def _press(
        self, sender: FakeUser, text: str, wait: bool, timeout: float
    ) -> CallbackQueryRecord | ChatMessage | WebAppLaunch | PaymentAttempt:
        msg, button = self._find_button(text)
        if "web_app" in button:
            source: LaunchSource = (
                "inline_button" if msg.keyboard_type == "inline" else "keyboard_button"
            )
            return self.tg.open_web_app(sender, str(button["web_app"]["url"]), source,
                                        chat_id=self.chat_id, button_text=str(button["text"]))
        if msg.keyboard_type == "inline" and button.get("pay"):
            return await self._pay(sender, msg, 0, None, wait, timeout)
        if msg.keyboard_type == "inline":
            if "callback_data" not in button:
                action = next((k for k in button if k != "text"), "?")
                raise AssertionError(
                    f"button {button.get('text')!r} is a {action} button "
                    f"({button.get(action)!r}), not a callback button"
                )
            return await self._callback(
                sender, str(button["callback_data"]), msg.message_id, wait, timeout
            )
        if button.get("request_contact"):
            return await sender._contact(self.chat_id, None, SELF, None, None)
        if button.get("request_location"):
            return self.tg.inject_message(
                self.chat_id, sender, {"location": {"latitude": 55.7558, "longitude": 37.6173}}
            )
        unsupported = [k for k in ("request_users", "request_chat", "request_poll")
                       if k in button]
        if unsupported:
            raise AssertionError(f"pressing a {unsupported[0]} button is not simulated")
        return self.tg.inject_message(self.chat_id, sender, _text_content(str(button["text"])))

    def _invoice(self, invoice: ChatMessage | InvoiceRecord | str | None) -> InvoiceRecord:
        if invoice is not None:
            return self.tg.invoice_of(invoice)
        newest = next((m for m in reversed(self.chat.bot_messages()) if m.invoice), None)
        if newest is None:
            raise AssertionError(f"no invoice in chat {self.chat_id}\n" + self._diagnostics())
        return self.tg.invoice_of(newest)

    async def _pay(
        self,
        sender: FakeUser,
        invoice: ChatMessage | InvoiceRecord | str | None,
        tip: int,
        order_info: dict[str, Any] | None,
        wait: bool,
        timeout: float,
    ) -> PaymentAttempt:
        record = self._invoice(invoice)
        info = sender.order_info_for(record, order_info)
        attempt = self.tg.start_payment(sender, record, tip=tip, order_info=info)
        if not wait:
            return attempt

        def settled() -> bool:
            return attempt.done or bool(self.tg.expire_pre_checkout_queries())

        if not await self.tg.wait_until(settled, timeout):
            raise AssertionError(
                f"bot did not answer pre_checkout_query {attempt.query_id} within {timeout}s "
                "(pass wait=False if that is expected)\n" + self._diagnostics()
            )
        if attempt.ok:  # the successful_payment update was fetched by the bot
            await self.tg.wait_until(lambda: self.tg.pending_update_count == 0, timeout)
        return attempt

    async def _callback(
        self,
        sender: FakeUser,
        data: str | None,
        message_id: int | None,
        wait: bool,
        timeout: float,
    ) -> CallbackQueryRecord:
        record = self.tg.inject_callback(self.chat_id, sender, data, message_id)
        if wait and not await self.tg.wait_until(lambda: record.answered, timeout):
            raise AssertionError(
                f"bot did not answer callback query {data!r} within {timeout}s "
                f"(pass wait=False if that is expected)\n" + self._diagnostics()
            )
        return record


class FakeUser(_ChatView):
    """A simulated Telegram user, acting in its private chat with the bot.

    Create with ``tg.user(...)``. All ``send_*`` methods return the user's
    :class:`ChatMessage` as soon as the update is queued for ``getUpdates``.
    """

    def __init__(
        self,
        tg: FakeTelegram,
        *,
        id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        phone: str | None = None,
        is_premium: bool = False,
        email: str | None = None,
    ) -> None:
        self.tg = tg
        self.id = id
        self.email = email
        self.chat_id = id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone
        self.is_premium = is_premium

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_json(self) -> dict[str, Any]:
        """The Telegram ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data

    # -- messages -----------------------------------------------------------
    async def send(self, text: str, *, reply_to: int | None = None) -> ChatMessage:
        """A text message; ``/commands``, URLs and @mentions get entities."""
        return self.tg.inject_message(self.id, self, _text_content(text), reply_to=reply_to)

    async def start(self, payload: str | None = None) -> ChatMessage:
        """``/start`` or ``/start <payload>`` (opening ``t.me/<bot>?start=<payload>``).

        Telegram only carries payloads of at most 64 characters of ``A-Z a-z 0-9 _ -``
        through a deep link, so anything else raises :class:`ValueError` (a user typing
        ``/start whatever`` is :meth:`send`).
        """
        if payload and not _DEEP_LINK_PAYLOAD.fullmatch(payload):
            raise ValueError(
                f"deep-link payload {payload!r} is not 1-64 characters of A-Z a-z 0-9 _ -: "
                "Telegram would not deliver it"
            )
        return await self.send(f"/start {payload}" if payload else "/start")

    async def command(self, name: str, args: str | None = None) -> ChatMessage:
        """``/<name> [args]``."""
        return await self.send(f"/{name.lstrip('/')}" + (f" {args}" if args else ""))

    async def send_and_wait(self, text: str, timeout: float = 5.0) -> ChatMessage:
        """Drop unread bot messages, send *text* and return the next bot message."""
        self.skip_pending()
        await self.send(text)
        return await self.expect(timeout)

    async def _contact(
        self,
        chat_id: int,
        phone: str | None,
        user_id: int | _SelfType | None,
        first_name: str | None,
        last_name: str | None,
        vcard: str | None = None,
    ) -> ChatMessage:
        phone = phone or self.phone
        if not phone:
            raise ValueError(f"{self!r} has no phone; pass one or set tg.user(phone=...)")
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name or self.first_name,
        }
        last = last_name if first_name else (last_name or self.last_name)
        if last:
            contact["last_name"] = last
        resolved = self.id if isinstance(user_id, _SelfType) else user_id
        if resolved is not None:
            contact["user_id"] = resolved
        if vcard:
            contact["vcard"] = vcard
        return self.tg.inject_message(chat_id, self, {"contact": contact})

    async def send_contact(
        self,
        phone: str | None = None,
        *,
        user_id: int | _SelfType | None = SELF,
        first_name: str | None = None,
        last_name: str | None = None,
        vcard: str | None = None,
    ) -> ChatMessage:
        """Share a contact card. By default the user's own (``phone`` defaults to
        ``self.phone``, ``user_id`` to ``self.id``). Pass another ``user_id`` to share
        someone else's card, or ``user_id=None`` for a card without a Telegram id."""
        return await self._contact(self.id, phone, user_id, first_name, last_name, vcard)

    async def send_photo(self, data: bytes, caption: str | None = None) -> ChatMessage:
        """A photo (stored in several sizes that ``getFile``/download serve)."""
        sizes = self.tg.store_photo(data)
        content = {**BotApi.photo_content(sizes), **_caption(caption)}
        return self.tg.inject_message(self.id, self, content, files=sizes)

    async def send_document(
        self,
        data: bytes,
        filename: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> ChatMessage:
        return await _send_file(self.tg, self.id, self, "document", data, filename, mime_type,
                                caption)

    async def send_sticker(self, emoji: str = "👍") -> ChatMessage:
        stored = self.tg.store_file(_FAKE_WEBP, "sticker", None, "image/webp", width=512,
                                    height=512)
        sticker = {**BotApi.media_object("sticker", stored), "emoji": emoji}
        return self.tg.inject_message(self.id, self, {"sticker": sticker}, files=[stored])

    async def send_voice(self, data: bytes = _FAKE_OGG, duration: int = 2) -> ChatMessage:
        stored = self.tg.store_file(data, "voice", None, "audio/ogg")
        voice = {**BotApi.media_object("voice", stored), "duration": duration}
        return self.tg.inject_message(self.id, self, {"voice": voice}, files=[stored])

    async def send_video(
        self, data: bytes = _FAKE_MP4, caption: str | None = None, duration: int = 3
    ) -> ChatMessage:
        stored = self.tg.store_file(data, "video", "video.mp4", "video/mp4", width=640,
                                    height=360)
        video = {**BotApi.media_object("video", stored), "duration": duration}
        content = {"video": video, **_caption(caption)}
        return self.tg.inject_message(self.id, self, content, files=[stored])

    async def send_location(
        self, latitude: float = 55.7558, longitude: float = 37.6173
    ) -> ChatMessage:
        location = {"latitude": latitude, "longitude": longitude}
        return self.tg.inject_message(self.id, self, {"location": location})

    async def send_raw(
        self, content: dict[str, Any], files: list[StoredFile] | None = None
    ) -> ChatMessage:
        """Any other message content, e.g. ``{"dice": {"emoji": "🎲", "value": 3}}``."""
        return self.tg.inject_message(self.id, self, content, files=files or [])

    async def edit(self, message: ChatMessage | int, text: str) -> ChatMessage:
        """Edit one of the user's messages (queues an ``edited_message`` update)."""
        message_id = message if isinstance(message, int) else message.message_id
        return self.tg.inject_edit(self.id, message_id, text)

    # -- buttons ------------------------------------------------------------
    async def press(
        self, text: str, *, wait: bool = True, timeout: float = 5.0
    ) -> CallbackQueryRecord | ChatMessage | WebAppLaunch | PaymentAttempt:
        """Press a button labelled *text* (exact match first, then substring) on the
        newest bot message that has one.

        Inline callback button: sends a ``callback_query`` and (with ``wait``) returns
        the :class:`CallbackQueryRecord` once the bot answered it (``AssertionError``
        if it does not within *timeout*). Reply-keyboard button: sends its text as a
        message (``request_contact``: the user's own contact) and returns that message.
        A ``web_app`` button opens the Mini App (:class:`WebAppLaunch`); an invoice's Pay
        button pays like :meth:`pay` (:class:`PaymentAttempt`).
        """
        return await self._press(self, text, wait, timeout)

    async def press_callback(
        self,
        data: str | None,
        message_id: int | None = None,
        *,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> CallbackQueryRecord:
        """Send a ``callback_query`` with arbitrary (possibly forged) *data*, attached
        to bot message *message_id* (default: the newest bot message)."""
        return await self._callback(self, data, message_id, wait, timeout)

    # -- payments -----------------------------------------------------------
    def order_info_for(
        self, invoice: InvoiceRecord, given: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """What the payment form sends as ``order_info``: the fields the invoice asks for
        (``need_*``), filled from this user (name, phone, email, a shipping address)
        unless *given* says otherwise."""
        info: dict[str, Any] = {}
        if invoice.need_name:
            info["name"] = self.full_name
        if invoice.need_phone_number:
            if not self.phone:
                raise ValueError(f"{self!r} has no phone for an invoice that needs one")
            info["phone_number"] = self.phone.lstrip("+")
        if invoice.need_email:
            info["email"] = self.email or f"user{self.id}@example.com"
        if invoice.need_shipping_address:
            info["shipping_address"] = {
                "country_code": "RU", "state": "", "city": "Москва",
                "street_line1": "ул. Тверская, 1", "street_line2": "", "post_code": "125009",
            }
        info.update(given or {})
        return info or None

    async def pay(
        self,
        invoice: ChatMessage | InvoiceRecord | str | None = None,
        *,
        tip: int = 0,
        order_info: dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> PaymentAttempt:
        """Pay an invoice: the newest invoice message in this chat by default, or the given
        invoice message, :class:`InvoiceRecord` or ``t.me/$...`` link.

        The bot gets a ``pre_checkout_query``; with *wait* this returns once it answered
        (``attempt.state`` ``paid``/``declined``) or the 10 s deadline of the server clock
        passed (``expired``); ``AssertionError`` after *timeout* real seconds otherwise.
        When paid, the ``successful_payment`` message (``attempt.payment.message``) is in
        this user's chat and already fetched by the bot.
        """
        return await self._pay(self, invoice, tip, order_info, wait, timeout)

    # -- mini apps and the menu ---------------------------------------------
    async def open_web_app(self, text: str) -> WebAppLaunch:
        """Press the ``web_app`` button labelled *text* (inline or reply keyboard)."""
        launched = await self.press(text)
        if not isinstance(launched, WebAppLaunch):
            raise AssertionError(f"button {text!r} is not a web_app button")
        return launched

    @property
    def menu_button(self) -> dict[str, Any]:
        """The menu button this user sees next to the input field."""
        return self.tg.menu_button_for(self.id)

    async def open_menu_app(self) -> WebAppLaunch:
        """Tap the menu button, which must be a ``web_app`` one."""
        button = self.menu_button
        if button["type"] != "web_app":
            raise AssertionError(f"{self!r}'s menu button is {button}, not a Mini App")
        return self.tg.open_web_app(self, button["web_app"]["url"], "menu_button",
                                    button_text=button["text"])

    def commands(self, chat: FakeGroup | int | None = None) -> list[dict[str, Any]]:
        """The bot commands this user sees (``/`` menu) here or in the group *chat*."""
        chat_id = chat.chat_id if isinstance(chat, FakeGroup) else chat
        return self.tg.commands_for(self.id, chat_id)

    def init_data(self, **kwargs: Any) -> str:
        """Signed ``initData`` for this user (see :meth:`FakeTelegram.web_app_init_data`)."""
        return self.tg.web_app_init_data(self, **kwargs)

    # -- relationship with the bot ------------------------------------------
    async def block_bot(self, notify: bool = True) -> None:
        """Block the bot: sends answer 403; with *notify* the bot gets a
        ``my_chat_member`` update (member -> kicked)."""
        self.tg.block(self.id)
        if notify:
            self.tg.inject_my_chat_member(self.id, self, "member", "kicked")

    async def unblock_bot(self, notify: bool = True) -> None:
        self.tg.unblock(self.id)
        if notify:
            self.tg.inject_my_chat_member(self.id, self, "kicked", "member")


async def _send_file(
    tg: FakeTelegram,
    chat_id: int,
    sender: FakeUser,
    kind: str,
    data: bytes,
    filename: str | None,
    mime_type: str | None,
    caption: str | None,
) -> ChatMessage:
    from .media import guess_mime

    stored = tg.store_file(data, kind, filename, mime_type or guess_mime(data, filename))
    content = {kind: BotApi.media_object(kind, stored), **_caption(caption)}
    return tg.inject_message(chat_id, sender, content, files=[stored])


class FakeGroup(_ChatView):
    """A simulated group chat; every action names the acting :class:`FakeUser`."""

    def __init__(self, tg: FakeTelegram, chat: ChatState) -> None:
        self.tg = tg
        self.chat_id = chat.id

    def __repr__(self) -> str:
        return f"FakeGroup(id={self.chat_id}, title={self.chat.title!r})"

    @property
    def id(self) -> int:
        return self.chat_id

    @property
    def title(self) -> str | None:
        return self.chat.title

    async def send(
        self, user: FakeUser, text: str, *, reply_to: int | None = None
    ) -> ChatMessage:
        return self.tg.inject_message(self.chat_id, user, _text_content(text), reply_to=reply_to)

    async def command(self, user: FakeUser, name: str, args: str | None = None) -> ChatMessage:
        """``/<name>@<bot username> [args]`` as groups usually send it."""
        text = f"/{name.lstrip('/')}@{self.tg.bot_username}" + (f" {args}" if args else "")
        return await self.send(user, text)

    async def send_photo(
        self, user: FakeUser, data: bytes, caption: str | None = None
    ) -> ChatMessage:
        sizes = self.tg.store_photo(data)
        content = {**BotApi.photo_content(sizes), **_caption(caption)}
        return self.tg.inject_message(self.chat_id, user, content, files=sizes)

    async def send_document(
        self,
        user: FakeUser,
        data: bytes,
        filename: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> ChatMessage:
        return await _send_file(self.tg, self.chat_id, user, "document", data, filename,
                                mime_type, caption)

    async def send_raw(
        self, user: FakeUser, content: dict[str, Any], files: list[StoredFile] | None = None
    ) -> ChatMessage:
        return self.tg.inject_message(self.chat_id, user, content, files=files or [])

    async def add_member(self, user: FakeUser) -> ChatMessage:
        """Service message: *user* joined the group."""
        return self.tg.inject_message(
            self.chat_id, user, {"new_chat_members": [user.to_json()]}
        )

    async def remove_member(self, user: FakeUser) -> ChatMessage:
        """Service message: *user* left the group."""
        self.tg.set_member_status(self.chat_id, user.id, "left")
        return self.tg.inject_message(self.chat_id, user, {"left_chat_member": user.to_json()})

    async def pay(
        self,
        user: FakeUser,
        invoice: ChatMessage | InvoiceRecord | str | None = None,
        *,
        tip: int = 0,
        order_info: dict[str, Any] | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> PaymentAttempt:
        """*user* pays an invoice of this group (like :meth:`FakeUser.pay`); the
        ``successful_payment`` message goes to the bot in *user*'s private chat."""
        return await self._pay(user, invoice, tip, order_info, wait, timeout)

    async def press(
        self, user: FakeUser, text: str, *, wait: bool = True, timeout: float = 5.0
    ) -> CallbackQueryRecord | ChatMessage | WebAppLaunch | PaymentAttempt:
        """Like :meth:`FakeUser.press`, in this group, by *user*."""
        return await self._press(user, text, wait, timeout)

    async def press_callback(
        self,
        user: FakeUser,
        data: str | None,
        message_id: int | None = None,
        *,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> CallbackQueryRecord:
        return await self._callback(user, data, message_id, wait, timeout)

    async def kick_bot(self, by: FakeUser, notify: bool = True) -> None:
        """The bot was removed from the group: writes answer 403 from now on."""
        self.tg.block(self.chat_id)
        if notify:
            self.tg.inject_my_chat_member(self.chat_id, by, "administrator", "kicked")
