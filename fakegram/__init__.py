"""fakegram — a local fake of the Telegram Bot API for end-to-end bot tests.

The *real* aiogram ``Bot`` and ``Dispatcher`` (long polling) talk to it over HTTP, so
tests exercise the bot exactly as production does: form encoding, multipart uploads,
error codes and aiogram's exception mapping included. Nothing in aiogram is mocked.
The same state/event API will back the browser sandbox.

Quick start
-----------
::

    async with FakeTelegram() as tg:
        dp = Dispatcher()
        dp.include_router(router)
        async with tg.polling(dp) as bot:        # real polling; returns the Bot
            alice = tg.user(id=111, first_name="Alice", phone="+79990000001")
            await alice.start("ref_42")            # "/start ref_42" (+ bot_command entity)
            reply = await alice.expect()           # next bot message/edit in the chat
            assert "Welcome" in reply.text
            answer = await alice.press("Balance")  # inline button -> callback_query
            assert answer.text == "..."            # the bot's answerCallbackQuery
            await alice.press("Share phone")       # request_contact -> own contact
            await tg.wait_idle()

``FakeTelegram(*, token=None, bot_username="test_loyalty_bot", bot_name="Loyalty Bot",
host="127.0.0.1", port=0, clock=time.monotonic, wall_clock=time.time,
strict_chats=True, idle_quiet=0.1)``. Without ``polling()``: ``bot = tg.make_bot()``
(its session is aiogram's ``AiohttpSession`` minus the 250 ms TLS grace sleep on
close) or ``Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(
tg.base_url)))``. The first token seen is adopted (others get 401); ``tg.token``
gives it. With ``strict_chats`` (default) the bot can only write to chats created via
``tg.user()`` / ``tg.group()``; other ids get ``400 Bad Request: chat not found``.

Simulated users and groups
--------------------------
- ``tg.user(id=None, first_name="Test", last_name=None, username=None,
  language_code="ru", phone=None, *, started=True)`` -> :class:`FakeUser` whose
  private chat id equals the user id (same id -> same object).
- ``user.send(text, reply_to=None)``, ``user.start(payload=None)``,
  ``user.command(name, args=None)``, ``user.send_contact(phone=None, *, user_id=SELF,
  first_name=None, last_name=None)`` (``user_id=None``: card without id; another id:
  someone else's card), ``user.send_photo(bytes, caption=None)``,
  ``user.send_document(bytes, filename, mime_type=None, caption=None)``,
  ``send_sticker()``, ``send_voice()``, ``send_video()``, ``send_location()``,
  ``send_raw({...})``, ``user.edit(msg, text)`` (edited_message). Each returns the
  user's :class:`ChatMessage` once the update is queued.
- ``user.press(text, *, wait=True, timeout=5)``: newest bot message with a button
  labelled *text* (exact, then substring). Inline callback button -> callback_query,
  returns the :class:`CallbackQueryRecord` after the bot answered it
  (``.text``, ``.show_alert``); reply button -> sends its text (``request_contact`` ->
  own contact) and returns the sent message.
  ``user.press_callback(data, message_id=None, *, wait=True)`` forges callback data.
- ``user.block_bot()`` / ``unblock_bot()`` (403 + my_chat_member update).
- ``tg.group(chat_id=None, title="Test group", *, type="supergroup",
  bot_is_admin=True, privacy_mode=True)`` -> :class:`FakeGroup` with
  ``send(user, text)``, ``command(user, name)``, ``send_photo(user, bytes)``,
  ``send_document(user, ...)``, ``press(user, text)``, ``press_callback(user, data)``,
  ``add_member(user)``, ``kick_bot(by)``. A non-admin bot with privacy mode only gets
  commands, replies to it and service messages.

Waiting (users and groups)
--------------------------
- ``await x.expect(timeout=5)`` / ``wait_reply``: next unconsumed bot message or edit
  (a snapshot; ``.edited`` marks edits). ``AssertionError`` with the transcript and
  recent failed API calls on timeout.
- ``await x.expect_text(contains=None, *, equals=None, pattern=None, timeout=5)``:
  consumes until a match. ``await x.expect_no_reply(timeout=0.3)``.
- ``await user.send_and_wait(text)``; ``x.skip_pending()``; ``x.unread``.
- ``await tg.wait_idle(timeout=5, quiet=None)``: all updates fetched, no request in
  flight, *quiet* seconds without activity. ``await tg.wait_for(predicate)``.

Transcripts and inspection
--------------------------
- ``tg.chats[chat_id]`` / ``tg.chat(id)`` -> :class:`ChatState` with ``messages``
  (both directions, in order), ``bot_messages()``, ``last_bot_message()``,
  ``reply_keyboard``, ``transcript()``. :class:`ChatMessage` has ``text``,
  ``caption``, ``content``, ``entities``, ``kind``, ``photo``/``document`` (bytes),
  ``document_name``, ``mime_type``, ``file`` (:class:`StoredFile`), ``contact``,
  ``reply_markup`` (full dict, reply keyboards too), ``buttons``, ``button_texts``,
  ``button(text)``, ``callback_data(text)``, ``history`` (previous versions),
  ``edited``, ``deleted``, ``raw`` (Telegram JSON), ``to_dict()``.
- ``tg.requests`` / ``tg.calls(method=None, chat_id=None)`` -> :class:`ApiRequest`
  (``method``, ``params``, ``chat_id``, ``status``, ``error``, ``result``, ``files``).
- ``tg.stats``: ``calls`` (Counter per method), ``statuses``, ``rate_limited``,
  ``injected_failures``, ``sends`` (accepted send times per chat),
  ``max_in_window(window=1.0, chat_id=None)``.
- ``tg.callbacks``, ``tg.files``, ``tg.commands``, ``tg.webhook``, ``tg.menu_buttons``,
  ``tg.pending_update_count``, ``tg.transcript(chat_id)``, ``tg.to_dict()`` (JSON-safe
  snapshot of bot, users and chats).

Faults and limits
-----------------
- ``tg.fail_next(method, status=429, retry_after=3, count=1, description=None,
  chat_id=None, migrate_to_chat_id=None)`` (``method="*"``: any but getUpdates; ``count=None``: forever).
- ``tg.slow(method, seconds, *, count=None, chat_id=None)``; ``tg.clear_faults()``.
- ``tg.block(chat_id)`` / ``tg.unblock(chat_id)``: 403 "bot was blocked by the user".
- ``tg.upgrade_group(chat_id, new_chat_id=None)`` -> the new supergroup; writes to the
  old id answer 400 "group chat was upgraded to a supergroup chat" with
  ``parameters.migrate_to_chat_id`` (aiogram: ``TelegramMigrateToChat``). One-off:
  ``tg.fail_next("sendMessage", status=400, migrate_to_chat_id=...)``.
- ``tg.enforce_limits(per_chat_per_second=1, global_per_second=30,
  group_per_minute=20)`` -> 429 with ``retry_after`` (int >= 1) on excess sends.
- Realistic 400s: "message to edit not found", "message is not modified: ...",
  "can't parse entities: ..." (HTML/MarkdownV2 checked), "chat not found",
  "BUTTON_DATA_INVALID", "message text is empty", "query is too old ...".
- ``tg.set_member_status(chat_id, user_id, status)`` for ``getChatMember``.

Events (for the sandbox)
------------------------
``q = tg.subscribe()`` (an ``asyncio.Queue`` of :class:`FakeEvent`) /
``tg.unsubscribe(q)``; ``tg.add_listener(callback)`` (sync or async). Kinds:
``message`` (bot or user, see ``event.from_bot``), ``edit``, ``delete``,
``callback_query``, ``callback_answer``, ``chat_action``, ``chat``. Files are also
served without the token at ``{base_url}/fakegram/files/{file_id}``.
"""

from .actors import SELF, FakeGroup, FakeUser
from .errors import ApiError
from .limits import FaultRule, RateLimiter, SlowRule
from .models import (
    ApiRequest,
    CallbackAnswer,
    CallbackQueryRecord,
    ChatMessage,
    ChatState,
    FakeEvent,
    MessageRevision,
    Stats,
    StoredFile,
)
from .payments import CURRENCIES, Currency, InvoiceRecord, PaymentAttempt, PaymentRecord
from .server import DEFAULT_TOKEN, FakeTelegram
from .webapps import WebAppLaunch, WebAppQuery, sign_init_data

__all__ = [
    "CURRENCIES",
    "DEFAULT_TOKEN",
    "SELF",
    "ApiError",
    "ApiRequest",
    "CallbackAnswer",
    "CallbackQueryRecord",
    "ChatMessage",
    "ChatState",
    "Currency",
    "FakeEvent",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "FaultRule",
    "InvoiceRecord",
    "MessageRevision",
    "PaymentAttempt",
    "PaymentRecord",
    "RateLimiter",
    "SlowRule",
    "Stats",
    "StoredFile",
    "WebAppLaunch",
    "WebAppQuery",
    "sign_init_data",
]
