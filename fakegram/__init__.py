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
  language_code="ru", phone=None, *, is_premium=False, started=True, email=None)``
  -> :class:`FakeUser` whose private chat id equals the user id (same id -> same object).
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
  own contact) and returns the sent message; a ``web_app`` button opens the Mini App and
  an invoice's Pay button pays (see below).
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
  ``edited``, ``deleted``, ``invoice``, ``successful_payment``, ``web_app_data``,
  ``via_bot``, ``link_preview_options``, ``raw`` (Telegram JSON), ``to_dict()``.
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
  chat_id=None, migrate_to_chat_id=None, when=None)`` (``method="*"``: any but getUpdates; ``count=None``:
  forever; ``when``: only while ``when()`` is true, e.g. a 502 outage for a period of the test's clock).
- ``tg.slow(method, seconds, *, count=None, chat_id=None)``; ``tg.clear_faults()``.
- ``tg.block(chat_id)`` / ``tg.unblock(chat_id)``: 403 "bot was blocked by the user".
- ``tg.revoke_token()`` / ``tg.restore_token()``: the token revoked in @BotFather: every
  method, getMe and getUpdates included, answers 401 ``Unauthorized`` until restored.
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

Payments (:mod:`fakegram.payments`)
-----------------------------------
- ``sendInvoice`` (private chats and groups) and ``createInvoiceLink``
  (``https://t.me/$...``), checked like the Bot API server and TDLib: title 1-32 and
  description 1-255 characters, payload 1-128 bytes (``INVOICE_PAYLOAD_INVALID``), a known
  currency (``CURRENCY_INVALID``), ``prices`` a non-empty list of ``{label, amount}`` with
  integer amounts in the smallest units (negative items allowed, total positive), the total
  within the currency's ``currencies.json`` limits (``CURRENCY_TOTAL_AMOUNT_INVALID``; RUB
  86,53-865 304,75 ₽ in ``tg.currencies``), a provider token shaped ``<id>:TEST|LIVE:<...>``
  (``PAYMENT_PROVIDER_INVALID``; ``tg.payment_provider_tokens`` restricts to a set), Stars
  (``XTR``): no token, one price, no tips (``STARS_INVOICE_INVALID``); ``max_tip_amount`` >= 0,
  at most 4 positive, strictly increasing ``suggested_tip_amounts`` not above it;
  ``start_parameter`` a deep-link payload (``START_PARAM_INVALID``); an unusable ``photo_url``
  is dropped silently; ``need_*`` flags (``send_*_to_provider`` and ``is_flexible`` imply
  them). ``reply_markup``: the first button must be the Pay button
  (``REPLY_MARKUP_BUY_EMPTY``); a Pay button anywhere else, in any message, is
  ``BUTTON_TYPE_INVALID``. Without one the user sees Telegram's ``Pay 150.00 RUB`` button.
- ``attempt = await user.pay(invoice=None, *, tip=0, order_info=None, wait=True)`` (also
  ``group.pay(user, ...)``, or pressing the Pay button) -> :class:`PaymentAttempt`: the bot
  gets ``pre_checkout_query`` (``id, from, currency, total_amount, invoice_payload``,
  ``order_info`` with what the invoice asks for: name, phone, ``tg.user(email=...)``, an
  address). ``answerPreCheckoutQuery`` works once, within 10 s of ``tg.clock``
  (later: ``query is too old ...``, ``attempt.state == "expired"``); ``ok=False`` needs
  ``error_message`` (``state == "declined"``, the user saw ``attempt.error_message``).
  Only ``ok=True`` in time delivers a message with ``successful_payment`` (``currency,
  total_amount, invoice_payload, telegram_payment_charge_id, provider_payment_charge_id``,
  ``order_info``) in the payer's private chat; ``attempt.payment`` is the
  :class:`PaymentRecord`. A paid invoice message of a private chat cannot be paid again
  (groups and links can). ``tg.redeliver_payment(payment)`` delivers the same message again
  (same message id and charge ids). Nobody can forge one: ``inject_message``/``send_raw``
  refuse ``successful_payment``, ``invoice``, ``web_app_data``, ``via_bot``.
  ``tg.invoices``, ``tg.payment_attempts``, ``tg.payments``, ``tg.invoice_of(msg_or_link)``.
  Not simulated: shipping queries (flexible invoices), refunds, subscriptions.

Menu button and commands
------------------------
- ``setChatMenuButton`` / ``getChatMenuButton``: ``default``, ``commands`` or ``web_app``
  (``text`` non-empty, ``web_app.url`` HTTPS), for one user's private chat (``chat_id``;
  a group is ``invalid chat_id specified``, an unknown user ``user not found``) or the
  bot's default. ``tg.menu_buttons`` (key ``None``: the default); a chat without a button of
  its own answers ``default``. ``user.menu_button`` / ``tg.menu_button_for(user_id)``: what
  the user sees (the chat's, else the default, else ``commands``).
- ``setMyCommands`` (at most 100, names ``[a-z0-9_]{1,32}``, trimmed, description 1-256;
  an empty list resets the scope), ``getMyCommands``, ``deleteMyCommands`` for every
  ``BotCommandScope`` (a private chat only with ``chat``, and only for a user the bot has
  seen — they opened the bot, or wrote or pressed a button where the bot reads — else
  ``chat not found`` like any unknown chat; ``chat_member`` needs a known user;
  ``language_code`` two letters). A scope's ``chat_id`` is the call's chat for
  ``tg.calls(chat_id=...)``, ``fail_next`` and ``slow``. ``user.commands(group=None)`` /
  ``tg.commands_for(user_id, chat_id=None)``: the list the user sees, resolved in
  Telegram's order (chat_member, chat_administrators, chat, all_chat_administrators,
  all_group_chats, default in groups; chat, all_private_chats, default in private chats;
  each first in the user's language), admins from ``tg.set_member_status``.

Mini Apps (:mod:`fakegram.webapps`)
-----------------------------------
- ``web_app`` buttons: HTTPS only (``... Web App URL '...' is invalid: Only HTTPS links are
  allowed``), private chats only (inline: ``BUTTON_TYPE_INVALID``; reply keyboard: ``web App
  buttons can be used in private chats only``).
- ``launch = await user.press("Open card")`` / ``user.open_web_app(text)`` /
  ``user.open_menu_app()`` -> :class:`WebAppLaunch` (``url``, ``source``, ``init_data``,
  ``init_data_unsafe``, ``query_id``, ``launch_url``). Inline and menu buttons give signed
  ``initData`` with ``query_id`` (inline also ``chat_type``, ``chat_instance``); the bot may
  answer the query once with ``answerWebAppQuery`` (article results), which posts the
  message on behalf of the user (``via_bot``) and delivers it. A reply-keyboard Mini App gets
  empty ``initData`` and ``await launch.send_data(data)`` (1-4096 bytes, once) sends the
  ``web_app_data`` service message.
- ``tg.web_app_init_data(user, *, query_id=None, chat_type=None, chat_instance=None,
  start_param=None, auth_date=None, signature=True, extra=None)`` / ``user.init_data(...)``:
  initData signed exactly as Telegram does (``hash`` = HMAC-SHA256 over the sorted
  data-check-string with the key HMAC-SHA256("WebAppData", token)); ``signature`` is an
  Ed25519 signature by the fake's own key, ``tg.web_app_public_key``. Check with
  ``aiogram.utils.web_app.safe_parse_webapp_init_data(tg.token, init_data)`` and
  ``aiogram.utils.web_app_signature.check_webapp_signature(tg.bot_id, init_data,
  tg.web_app_public_key)``.

Link previews
-------------
``link_preview_options`` on ``sendMessage``/``editMessageText`` (and in ``answerWebAppQuery``
results) is checked (an object, booleans, a string ``url``) and echoed in the Message with the
non-default options only; ``disable_web_page_preview`` (deprecated) becomes
``{"is_disabled": true}``. ``msg.link_preview_options``, ``msg.link_preview_disabled``.

Events (for the sandbox)
------------------------
``q = tg.subscribe()`` (an ``asyncio.Queue`` of :class:`FakeEvent`) /
``tg.unsubscribe(q)``; ``tg.add_listener(callback)`` (sync or async). Kinds:
``message`` (bot or user, see ``event.from_bot``), ``edit``, ``delete``,
``callback_query``, ``callback_answer``, ``chat_action``, ``chat``, ``pre_checkout_query``,
``payment`` (``data["state"]``: paid, declined, expired), ``menu_button``, ``web_app``.
Files are also served without the token at ``{base_url}/fakegram/files/{file_id}``.
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
