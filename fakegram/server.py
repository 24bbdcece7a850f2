# ruff: noqa: ASYNC109 - explicit ``timeout`` parameters are the point of this test API
"""``FakeTelegram``: the fake Bot API HTTP server plus the test-side control surface.

The real aiogram ``Bot`` talks to it over HTTP exactly as it would to
``api.telegram.org``; tests drive simulated users (see :mod:`fakegram.actors`), inject
faults and flood limits, and inspect transcripts, the request log and statistics.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .actors import FakeGroup, FakeUser
from .errors import MIGRATED, ApiError, bad_request
from .limits import FaultRule, RateLimiter, SlowRule
from .media import guess_extension, guess_mime, image_size, new_file_ids, photo_sizes
from .methods import (
    METHODS,
    BotApi,
    MethodSpec,
    Params,
    describe_params,
    parse_request,
    scope_key,
)
from .models import (
    ApiRequest,
    CallbackQueryRecord,
    ChatMessage,
    ChatState,
    EventKind,
    FakeEvent,
    MessageRevision,
    Stats,
    StoredFile,
    Upload,
)
from .payments import (
    CURRENCIES,
    Currency,
    InvoiceRecord,
    PaymentAttempt,
    PaymentRecord,
    new_charge_ids,
)
from .webapps import LaunchSource, WebAppLaunch, WebAppQuery, sign_init_data

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession

__all__ = ["DEFAULT_TOKEN", "FakeTelegram", "Listener"]

log = logging.getLogger("fakegram")

#: Token used when neither the test nor the first request chose one.
DEFAULT_TOKEN = "123456789:AAFakegramTestTokenForLocalUse_0123"

#: Message fields only Telegram itself produces: a test cannot forge them through
#: ``inject_message``/``send_raw`` (the fake adds them through its payment and Mini App flows).
_SERVICE_ONLY_FIELDS = frozenset(
    {"successful_payment", "refunded_payment", "web_app_data", "invoice", "via_bot"}
)

#: Telegram's default when ``allowed_updates`` was never given.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

Listener = Callable[[FakeEvent], Awaitable[None] | None]


@functools.cache
def _local_session_class() -> type[AiohttpSession]:
    from aiogram.client.session.aiohttp import AiohttpSession

    class LocalAiohttpSession(AiohttpSession):
        """``AiohttpSession`` without the TLS shutdown grace sleep in ``close()``."""

        async def close(self) -> None:
            if self._session is not None and not self._session.closed:
                await self._session.close()

    return LocalAiohttpSession


class _Signal:
    """Wakes every waiter whenever server state changes (cheap, level-triggered)."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def fire(self) -> None:
        for fut in self._waiters:
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait({fut}, timeout=remaining)
            finally:
                self._waiters.discard(fut)
        return True


class FakeTelegram:
    """A local fake of the Telegram Bot API for one bot.

    Use as ``async with FakeTelegram() as tg:`` (or ``await tg.start()`` /
    ``await tg.close()``), then point a real aiogram ``Bot`` at ``tg.base_url`` (or use
    :meth:`make_bot`). See the package docstring for the full test API.

    :param token: the bot token to accept. ``None`` adopts the token of the first
        request (or :data:`DEFAULT_TOKEN` if a test asks for ``tg.token`` first); any
        other token then gets ``401 Unauthorized``.
    :param bot_username: ``username`` returned by ``getMe``.
    :param bot_name: ``first_name`` returned by ``getMe``.
    :param clock: monotonic seconds used for the request log, flood limits and
        ``stats.sends`` (inject a fake clock to test pacing without sleeping).
    :param wall_clock: Unix time used for message ``date`` fields.
    :param strict_chats: refuse sends to chats the test never created with
        ``400 chat not found`` (real behaviour). ``False`` auto-creates private chats
        for unknown positive ids.
    :param idle_quiet: default quiet period of :meth:`wait_idle`, in seconds.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        bot_username: str = "test_loyalty_bot",
        bot_name: str = "Loyalty Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        strict_chats: bool = True,
        idle_quiet: float = 0.1,
    ) -> None:
        self._token = token
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.host = host
        self.port = port
        self.clock = clock
        self.wall_clock = wall_clock
        self.strict_chats = strict_chats
        self.idle_quiet = idle_quiet

        # Chats, users and content
        self.chats: dict[int, ChatState] = {}
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, FakeGroup] = {}
        self.files: dict[str, StoredFile] = {}
        self.callbacks: dict[str, CallbackQueryRecord] = {}
        self.member_status: dict[tuple[int, int], str] = {}
        # Bot configuration the bot sets through the API
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_settings: dict[tuple[str, str], str] = {}
        # Payments: invoices (by "<chat>:<message>" or link slug), pre-checkout queries
        # (by query id) and completed payments, in order.
        self.currencies: dict[str, Currency] = dict(CURRENCIES)
        self.payment_provider_tokens: set[str] | None = None  # None: any well-formed token
        self.invoices: dict[str, InvoiceRecord] = {}
        self.payment_attempts: dict[str, PaymentAttempt] = {}
        self.payments: list[PaymentRecord] = []
        # Mini Apps: query ids handed out (for answerWebAppQuery) and launches, in order.
        self.web_app_queries: dict[str, WebAppQuery] = {}
        self.web_app_launches: list[WebAppLaunch] = []
        self._web_app_key: Any = None
        # Inspection
        self.requests: list[ApiRequest] = []
        self.events: list[FakeEvent] = []
        self.stats = Stats()
        # Faults and limits
        self.faults: list[FaultRule] = []
        self.slow_rules: list[SlowRule] = []
        self.limiter: RateLimiter | None = None
        self.token_revoked = False  # revoke_token(): every method answers 401

        self._api = BotApi(self)
        self._files_by_path: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[StoredFile]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._max_delivered = 0
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(1)
        self._media_group_ids = itertools.count(13_000_000_000_000_001)
        self._callback_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._inflight = 0
        self._last_activity = 0.0
        self._signal = _Signal()
        self._queues: list[asyncio.Queue[FakeEvent]] = []
        self._listeners: list[Listener] = []
        self._listener_tasks: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._closing = False

    # ================================================================ lifecycle
    async def start(self) -> FakeTelegram:
        """Bind to ``host`` on a free port (unless ``port`` was given) and serve."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Token-less file access for the browser sandbox.
        app.router.add_get("/fakegram/files/{file_id}", self._handle_sandbox_file)
        # handler_cancellation: a client that gives up (e.g. aiogram's polling being
        # stopped mid long-poll) cancels the server handler instead of leaving it waiting.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])  # the free port the OS picked
        self._closing = False
        self._last_activity = asyncio.get_running_loop().time()
        return self

    async def close(self) -> None:
        """Stop serving; pending long polls are released first."""
        self._closing = True
        self._signal.fire()
        for task in list(self._listener_tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; pass to ``TelegramAPIServer.from_base``."""
        return f"http://{self.host}:{self.port}"

    # ================================================================ the bot
    @property
    def token(self) -> str:
        if self._token is None:
            self._token = DEFAULT_TOKEN
        return self._token

    @property
    def bot_id(self) -> int:
        prefix = self.token.split(":", 1)[0]
        return int(prefix) if prefix.isdigit() else 1

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's ``User`` object (``from`` of every bot message)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def session(self, **kwargs: Any) -> AiohttpSession:
        """An aiogram ``AiohttpSession`` pointed at this server.

        It is the stock session except that ``close()`` skips aiogram's 250 ms grace
        sleep, which exists for TLS connections (this server is plain local HTTP);
        that keeps test teardown fast. Requests are untouched.
        """
        from aiogram.client.telegram import TelegramAPIServer

        return _local_session_class()(api=TelegramAPIServer.from_base(self.base_url), **kwargs)

    def make_bot(self, token: str | None = None, **bot_kwargs: Any) -> Bot:
        """A real aiogram ``Bot`` talking to this server (``bot_kwargs`` go to ``Bot``)."""
        from aiogram import Bot

        return Bot(token or self.token, session=self.session(), **bot_kwargs)

    @asynccontextmanager
    async def polling(
        self,
        dp: Dispatcher,
        bot: Bot | None = None,
        *,
        startup_timeout: float = 5.0,
        **polling_kwargs: Any,
    ) -> AsyncIterator[Bot]:
        """Run ``dp.start_polling(bot)`` in a task for the duration of the block.

        Returns once the dispatcher's first ``getUpdates`` arrived (so updates sent
        afterwards are certainly seen); on exit stops polling and waits for it.
        ``polling_kwargs`` go to ``start_polling`` (``handle_signals`` is always off).
        """
        bot = bot or self.make_bot()
        generation = self._poll_generation
        polling_kwargs["handle_signals"] = False
        task = asyncio.create_task(dp.start_polling(bot, **polling_kwargs))
        started = await self._signal.wait_for(
            lambda: self._poll_generation > generation or task.done(), startup_timeout
        )
        if task.done():
            await task  # surfaces the startup error
            raise AssertionError("dispatcher polling ended during startup")
        if not started:
            task.cancel()
            raise AssertionError(f"dispatcher did not poll within {startup_timeout}s")
        try:
            yield bot
        finally:
            if not task.done():
                with suppress(RuntimeError):
                    await dp.stop_polling()
            try:
                await asyncio.wait_for(task, 10)
            except (asyncio.CancelledError, TimeoutError):
                task.cancel()

    # ================================================================ actors
    def user(
        self,
        id: int | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
        *,
        is_premium: bool = False,
        started: bool = True,
        email: str | None = None,
    ) -> FakeUser:
        """A simulated user with a private chat (chat id == user id).

        Calling again with the same id returns the same :class:`FakeUser`.
        ``started=False`` models a user who never opened the bot: sends to them get
        ``403 bot can't initiate conversation with a user`` until they write first.
        """
        if id is None:
            id = next(self._user_ids)
            while id in self.users:
                id = next(self._user_ids)
        if id in self.users:
            return self.users[id]
        if id <= 0:
            raise ValueError("user ids are positive")
        user = FakeUser(
            self,
            id=id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            phone=phone,
            is_premium=is_premium,
            email=email,
        )
        self.users[id] = user
        self.chats[id] = ChatState(
            id=id,
            type="private",
            first_name=first_name,
            last_name=last_name,
            username=username,
            started=started,
        )
        self.emit("chat", id, created=True)
        return user

    def group(
        self,
        chat_id: int | None = None,
        title: str = "Test group",
        *,
        type: str = "supergroup",
        username: str | None = None,
        bot_is_admin: bool = True,
        privacy_mode: bool = True,
    ) -> FakeGroup:
        """A simulated group chat. Same id again returns the same :class:`FakeGroup`.

        With ``bot_is_admin=False`` and ``privacy_mode=True`` the bot only receives
        commands, replies to its messages and service messages (real Telegram rules).
        """
        if chat_id is None:
            chat_id = -1_001_000_000_000 - next(self._group_ids)
        if chat_id in self.groups:
            return self.groups[chat_id]
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        self.chats[chat_id] = ChatState(
            id=chat_id,
            type=type,
            title=title,
            username=username,
            bot_is_admin=bot_is_admin,
            privacy_mode=privacy_mode,
        )
        group = FakeGroup(self, self.chats[chat_id])
        self.groups[chat_id] = group
        self.emit("chat", chat_id, created=True)
        return group

    def chat(self, chat_id: int) -> ChatState:
        """The :class:`ChatState` (transcript etc.) of *chat_id*; ``KeyError`` if unknown."""
        return self.chats[chat_id]

    def transcript(self, chat_id: int) -> str:
        """Human-readable transcript of a chat (handy in assertion messages)."""
        chat = self.chats.get(chat_id)
        return chat.transcript() if chat else f"(no chat {chat_id})"

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What ``getChatMember`` reports: ``creator``, ``administrator``, ``member``,
        ``restricted``, ``left`` or ``kicked`` (default ``member``)."""
        self.member_status[(chat_id, user_id)] = status

    def chat_member_json(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        """The ``ChatMember`` object for *user_id* in *chat*."""
        if user_id == self.bot_id:
            user = self.bot_user
            default = "administrator" if chat.bot_is_admin and chat.type != "private" else "member"
        else:
            known = self.users.get(user_id)
            user = (
                known.to_json()
                if known
                else {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}
            )
            default = "member"
        return self.member_object(user, self.member_status.get((chat.id, user_id), default))

    @staticmethod
    def member_object(user: dict[str, Any], status: str) -> dict[str, Any]:
        """A ``ChatMember`` of the given *status* with every field aiogram requires."""
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    flag: True
                    for flag in (
                        "can_be_edited",
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_manage_video_chats",
                        "can_restrict_members",
                        "can_promote_members",
                        "can_change_info",
                        "can_invite_users",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                        "can_send_welcome_messages",
                    )
                },
                is_anonymous=False,
            )
        elif status == "restricted":
            member.update(
                {
                    flag: False
                    for flag in (
                        "can_send_messages",
                        "can_send_audios",
                        "can_send_documents",
                        "can_send_photos",
                        "can_send_videos",
                        "can_send_video_notes",
                        "can_send_voice_notes",
                        "can_send_polls",
                        "can_send_other_messages",
                        "can_add_web_page_previews",
                        "can_react_to_messages",
                        "can_edit_tag",
                        "can_change_info",
                        "can_invite_users",
                        "can_pin_messages",
                        "can_manage_topics",
                    )
                },
                is_member=True,
                until_date=0,
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ================================================================ faults
    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 3,
        count: int | None = 1,
        description: str | None = None,
        chat_id: int | None = None,
        migrate_to_chat_id: int | None = None,
        when: Callable[[], bool] | None = None,
    ) -> FaultRule:
        """Answer the next *count* calls of *method* (``"*"`` = any but getUpdates)
        with an error. ``count=None`` fails forever (until :meth:`clear_faults`).

        Default descriptions match Telegram: 429 ``Too Many Requests: retry after N``
        (with ``parameters.retry_after``), 403 ``Forbidden: bot was blocked by the
        user``, 500 ``Internal Server Error``, 502 ``Bad Gateway`` ...
        Optionally only for calls whose ``chat_id`` equals *chat_id*.
        ``migrate_to_chat_id`` (with ``status=400``) answers like a group upgraded to a
        supergroup: ``group chat was upgraded to a supergroup chat`` with
        ``parameters.migrate_to_chat_id`` (see :meth:`upgrade_group` for the lasting state).
        ``when``: the rule applies only while ``when()`` is true, e.g. an outage for a period
        of a test's clock: ``when=lambda: clock.now() < end`` (calls outside it are answered
        normally and do not count).
        """
        rule = FaultRule(
            method=method,
            status=status,
            description=description,
            retry_after=retry_after if status == 429 else None,
            chat_id=chat_id,
            remaining=count,
            migrate_to_chat_id=migrate_to_chat_id,
            when=when,
        )
        self.faults.append(rule)
        return rule

    def slow(
        self,
        method: str,
        seconds: float,
        *,
        count: int | None = None,
        chat_id: int | None = None,
    ) -> SlowRule:
        """Delay calls of *method* (``"*"`` = any but getUpdates) by *seconds* before
        processing them (a client timing out during the delay leaves no effect)."""
        rule = SlowRule(method=method, seconds=seconds, chat_id=chat_id, remaining=count)
        self.slow_rules.append(rule)
        return rule

    def clear_faults(self) -> None:
        """Remove every ``fail_next`` and ``slow`` rule."""
        self.faults.clear()
        self.slow_rules.clear()

    def revoke_token(self) -> None:
        """The token was revoked in @BotFather: every method (getMe and getUpdates too)
        answers ``401 Unauthorized``, as Telegram does, until :meth:`restore_token`."""
        self.token_revoked = True

    def restore_token(self) -> None:
        """The token works again (after :meth:`revoke_token`)."""
        self.token_revoked = False

    def block(self, chat_id: int) -> None:
        """The user blocked the bot (or the bot was kicked from the group): every
        write to the chat answers 403 until :meth:`unblock`."""
        self.chats[chat_id].blocked = True
        self.emit("chat", chat_id, blocked=True)

    def unblock(self, chat_id: int) -> None:
        self.chats[chat_id].blocked = False
        self.emit("chat", chat_id, blocked=False)

    def upgrade_group(self, chat_id: int, new_chat_id: int | None = None) -> FakeGroup:
        """The basic group *chat_id* became a supergroup (a new id, like Telegram's
        ``-100...``): from now on every write to the old id answers 400 ``group chat was
        upgraded to a supergroup chat`` with ``parameters.migrate_to_chat_id``. Returns the
        new supergroup, which has the old group's title and settings."""
        old = self.chats[chat_id]
        if old.type == "private":
            raise ValueError("only groups can be upgraded")
        if new_chat_id is None:
            new_chat_id = -1_001_000_000_000 - next(self._group_ids)
        group = self.group(new_chat_id, title=old.title or "Test group", type="supergroup",
                           username=old.username, bot_is_admin=old.bot_is_admin,
                           privacy_mode=old.privacy_mode)
        old.migrated_to = new_chat_id
        self.emit("chat", chat_id, migrated_to=new_chat_id)
        return group

    def enforce_limits(
        self,
        per_chat_per_second: float | None = 1,
        global_per_second: float | None = 30,
        group_per_minute: float | None = 20,
    ) -> RateLimiter:
        """Turn on flood control for sends (``None`` disables one limit); see
        :class:`~fakegram.limits.RateLimiter`. Refusals count in ``stats.rate_limited``."""
        self.limiter = RateLimiter(per_chat_per_second, global_per_second, group_per_minute)
        return self.limiter

    def disable_limits(self) -> None:
        self.limiter = None

    # ================================================================ inspection
    def calls(self, method: str | None = None, *, chat_id: int | None = None) -> list[ApiRequest]:
        """Logged requests, optionally only of *method* (case-insensitive) / *chat_id*."""
        return [
            r
            for r in self.requests
            if (method is None or r.method.lower() == method.lower())
            and (chat_id is None or str(r.chat_id) == str(chat_id))
        ]

    def failed_requests(self) -> list[ApiRequest]:
        """Requests answered with an error (useful in assertion messages)."""
        return [r for r in self.requests if r.status is not None and r.status != 200]

    def to_dict(self, with_messages: bool = True) -> dict[str, Any]:
        """JSON-safe snapshot of the whole fake (bot, users, chats) for the sandbox."""
        return {
            "bot": self.bot_user,
            "users": [u.to_json() | {"phone": u.phone} for u in self.users.values()],
            "chats": [c.to_dict(with_messages) for c in self.chats.values()],
            "pending_updates": self.pending_update_count,
        }

    @property
    def pending_update_count(self) -> int:
        return len(self._undelivered())

    # ================================================================ events
    def subscribe(self, maxsize: int = 0) -> asyncio.Queue[FakeEvent]:
        """A queue receiving every :class:`FakeEvent` from now on."""
        queue: asyncio.Queue[FakeEvent] = asyncio.Queue(maxsize)
        self._queues.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[FakeEvent]) -> None:
        with suppress(ValueError):
            self._queues.remove(queue)

    def add_listener(self, callback: Listener) -> None:
        """Call *callback(event)* for every event; coroutines are run as tasks."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        with suppress(ValueError):
            self._listeners.remove(callback)

    def emit(
        self,
        kind: EventKind,
        chat_id: int | None,
        message: ChatMessage | None = None,
        **data: Any,
    ) -> FakeEvent:
        """Publish an event to the log, the chat inbox, queues and listeners."""
        snapshot = message.snapshot() if message is not None else None
        event = FakeEvent(kind=kind, chat_id=chat_id, message=snapshot, data=data)
        self.events.append(event)
        if snapshot is not None and snapshot.from_bot and kind in ("message", "edit"):
            self.chats[snapshot.chat_id].inbox.append(snapshot)
        for queue in list(self._queues):
            with suppress(asyncio.QueueFull):
                queue.put_nowait(event)
        for listener in list(self._listeners):
            try:
                result = listener(event)
            except Exception:
                log.exception("fakegram listener %r failed", listener)
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._listener_tasks.add(task)
                task.add_done_callback(self._listener_tasks.discard)
        self._touch()
        return event

    # ================================================================ waiting
    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until *predicate()* is true (re-checked on every state change);
        returns ``False`` on timeout instead of raising."""
        return await self._signal.wait_for(predicate, timeout)

    async def wait_for(
        self, predicate: Callable[[], bool], timeout: float = 5.0, message: str = ""
    ) -> None:
        """Wait until *predicate()* is true (re-checked on every state change);
        ``AssertionError`` after *timeout* seconds."""
        if not await self._signal.wait_for(predicate, timeout):
            raise AssertionError(message or f"condition not met within {timeout}s")

    def is_idle(self, quiet: float | None = None) -> bool:
        quiet = self.idle_quiet if quiet is None else quiet
        now = asyncio.get_running_loop().time()
        return (
            not self._undelivered()
            and self._inflight == 0
            and now - self._last_activity >= quiet
        )

    async def wait_idle(self, timeout: float = 5.0, quiet: float | None = None) -> None:
        """Wait until the bot fetched every pending update, no request is in flight
        and nothing happened for *quiet* seconds (default ``idle_quiet``).

        A heuristic: a handler doing slow non-API work longer than *quiet* may still
        be running. Prefer ``user.expect()`` when a reply is expected.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.is_idle(quiet):
            if loop.time() >= deadline:
                raise AssertionError(
                    f"fake Telegram not idle after {timeout}s: "
                    f"{len(self._undelivered())} undelivered updates, "
                    f"{self._inflight} requests in flight"
                )
            await asyncio.sleep(0.01)

    def _touch(self) -> None:
        with suppress(RuntimeError):
            self._last_activity = asyncio.get_running_loop().time()
        self._signal.fire()

    # ================================================================ updates
    def enqueue_update(self, payload: dict[str, Any]) -> int:
        """Queue an update (e.g. ``{"message": {...}}``) for getUpdates; returns its id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._touch()
        return update_id

    def drop_pending_updates(self) -> None:
        self._updates.clear()
        self._touch()

    def take_pending_updates(self) -> list[dict[str, Any]]:
        """Remove and return every queued update, as Telegram would POST them to a webhook
        (tests of webhook mode deliver them to the bot themselves; nobody polls then)."""
        updates, self._updates = self._updates, []
        self._touch()
        return updates

    @staticmethod
    def _update_type(update: dict[str, Any]) -> str:
        return next((k for k in update if k != "update_id"), "")

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = self._update_type(update)
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _undelivered(self) -> list[dict[str, Any]]:
        return [
            u for u in self._updates if u["update_id"] > self._max_delivered and self._allowed(u)
        ]

    async def long_poll(
        self,
        offset: int | None,
        limit: int,
        timeout: float,
        allowed_updates: Iterable[str] | None,
    ) -> list[dict[str, Any]]:
        """getUpdates: confirm below *offset*, then wait up to *timeout* for updates."""
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if allowed_updates is not None:
            # Like Telegram: the setting persists; [] means "the default set".
            allowed = frozenset(allowed_updates)
            self._allowed_updates = allowed or None
        if offset is not None:
            if offset < 0:  # "the last -offset updates"
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
        # Updates the bot does not subscribe to are never delivered: drop them.
        self._updates = [u for u in self._updates if self._allowed(u)]
        # A newer getUpdates terminates an older one still waiting (409, like Telegram).
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal.fire()
        limit = max(1, min(100, limit))

        def ready() -> bool:
            return (
                any(self._allowed(u) for u in self._updates)
                or generation != self._poll_generation
                or self._closing
            )

        await self._signal.wait_for(ready, max(0.0, timeout))
        if generation != self._poll_generation:
            raise ApiError(409)
        self._updates = [u for u in self._updates if self._allowed(u)]
        batch = self._updates[:limit]
        if batch:
            self._max_delivered = max(self._max_delivered, batch[-1]["update_id"])
        return batch

    # ================================================================ files
    def store_file(
        self,
        data: bytes,
        kind: str,
        file_name: str | None = None,
        mime_type: str | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
        source_url: str | None = None,
    ) -> StoredFile:
        """Keep *data* so ``getFile`` and the download route serve it."""
        file_id, unique_id = new_file_ids(kind)
        folder = {"photo": "photos", "document": "documents"}.get(kind, kind + "s")
        extension = guess_extension(file_name, mime_type, "jpg" if kind == "photo" else "bin")
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=unique_id,
            data=data,
            kind=kind,
            file_path=f"{folder}/file_{len(self.files)}.{extension}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            source_url=source_url,
        )
        self.files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def store_photo(self, data: bytes, mime_type: str | None = None) -> list[StoredFile]:
        """Store a photo as Telegram does: several sizes (smallest first), each with
        its own file_id; all serve the original bytes."""
        width, height = image_size(data) or (800, 600)
        sizes = [
            self.store_file(data, "photo", None, mime_type or guess_mime(data), width=w, height=h)
            for (w, h) in photo_sizes(width, height)
        ]
        for f in sizes:
            self._photo_sets[f.file_id] = sizes
        return sizes

    def photo_sizes_for(self, stored: StoredFile) -> list[StoredFile]:
        """The size set a stored file belongs to (a new set for non-photo files)."""
        if stored.file_id in self._photo_sets:
            return self._photo_sets[stored.file_id]
        if stored.kind == "photo" and stored.source_url is not None:
            self._photo_sets[stored.file_id] = [stored]
            return [stored]
        return self.store_photo(stored.data, stored.mime_type)

    def resolve_input_file(
        self, value: str, uploads: dict[str, Upload], kind: str
    ) -> StoredFile:
        """An ``InputFile`` field: ``attach://name``, a known file_id, or a URL."""
        if value.startswith("attach://"):
            upload = uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad_request(f"file attachment {value!r} not found in the request")
            if not upload.data:
                raise bad_request("file must be non-empty")
            # Bot API upload limits: photos up to 10 MB, other files up to 50 MB.
            if len(upload.data) > 50 * 1024 * 1024:
                raise ApiError(413, "Request Entity Too Large")
            if kind == "photo" and len(upload.data) > 10 * 1024 * 1024:
                raise bad_request("PHOTO_INVALID_DIMENSIONS: photo must be at most 10 MB")
            mime = upload.content_type
            if not mime or mime == "application/octet-stream":  # aiogram never sets one
                mime = guess_mime(upload.data, upload.filename)
            if kind == "photo":
                return self.store_photo(upload.data, mime)[-1]
            return self.store_file(upload.data, kind, upload.filename, mime)
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or None
            return self.store_file(b"", kind, name, guess_mime(b"", name), source_url=value)
        raise bad_request("wrong file identifier/HTTP URL specified")

    # ================================================================ recording
    def _now_unix(self) -> int:
        return int(self.wall_clock())

    def record_bot_message(
        self,
        chat: ChatState,
        raw_content: dict[str, Any],
        *,
        method: str,
        reply_markup: dict[str, Any] | None,
        files: list[StoredFile],
    ) -> ChatMessage:
        """Append a message from the bot to *chat* and publish it."""
        message_id = chat.allocate_message_id()
        raw = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": chat.to_json(),
            "date": self._now_unix(),
            **raw_content,
        }
        msg = ChatMessage(
            message_id=message_id,
            chat_id=chat.id,
            raw=raw,
            from_bot=True,
            sender_id=self.bot_id,
            method=method,
            reply_markup=reply_markup,
            files=files,
        )
        chat.messages.append(msg)
        self.emit("message", chat.id, msg)
        return msg

    def record_edit(
        self, msg: ChatMessage, changes: dict[str, Any], markup: dict[str, Any] | None
    ) -> None:
        """Apply an edit (keeping the previous version in ``msg.history``)."""
        msg.history.append(
            MessageRevision(
                text=msg.text,
                caption=msg.caption,
                entities=msg.entities or None,
                reply_markup=msg.reply_markup,
                edit_date=msg.raw.get("edit_date"),
            )
        )
        for key, value in changes.items():
            if value is None:
                msg.raw.pop(key, None)
            else:
                msg.raw[key] = value
        # A reply keyboard belongs to the chat, not the message: editing keeps it.
        if msg.keyboard_type in (None, "inline"):
            msg.reply_markup = markup
        if markup and "inline_keyboard" in markup:
            msg.raw["reply_markup"] = markup
        else:
            msg.raw.pop("reply_markup", None)
        msg.raw["edit_date"] = self._now_unix()
        self.emit("edit", msg.chat_id, msg)

    def record_delete(self, msg: ChatMessage) -> None:
        msg.deleted = True
        self.emit("delete", msg.chat_id, msg)

    def next_media_group_id(self) -> int:
        return next(self._media_group_ids)

    # ---------------------------------------------------------- user side
    def _sees_group_message(self, chat: ChatState, raw: dict[str, Any]) -> bool:
        if chat.type == "private" or chat.bot_is_admin or not chat.privacy_mode:
            return True
        text = raw.get("text") or raw.get("caption") or ""
        replied = raw.get("reply_to_message") or {}
        return (
            text.startswith("/")
            or (replied.get("from") or {}).get("id") == self.bot_id
            or any(k in raw for k in ("new_chat_members", "left_chat_member", "pinned_message"))
        )

    def inject_message(
        self,
        chat_id: int,
        sender: FakeUser,
        content: dict[str, Any],
        *,
        files: Iterable[StoredFile] = (),
        reply_to: int | None = None,
        _service: bool = False,
    ) -> ChatMessage:
        """A user's message: recorded in the transcript and queued as an update.

        *content* holds the Message fields besides the envelope (``text``,
        ``photo``, ``contact``, ...). Returns once the update is queued. Fields only
        Telegram produces (``successful_payment``, ``web_app_data``, ``invoice``,
        ``via_bot``, ...) raise :class:`ValueError`: use the payment and Mini App flows.
        """
        forged = sorted(_SERVICE_ONLY_FIELDS & content.keys())
        if forged and not _service:
            raise ValueError(
                f"only Telegram can send {', '.join(forged)}: use user.pay(), "
                "launch.send_data() or answerWebAppQuery instead of a raw message"
            )
        chat = self.chats[chat_id]
        message_id = chat.allocate_message_id()
        raw: dict[str, Any] = {
            "message_id": message_id,
            "from": sender.to_json(),
            "chat": chat.to_json(),
            "date": self._now_unix(),
            **content,
        }
        if reply_to is not None:
            target = chat.get(reply_to)
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat_id}")
            quoted = dict(target.raw)
            quoted.pop("reply_to_message", None)
            raw["reply_to_message"] = quoted
        msg = ChatMessage(
            message_id=message_id,
            chat_id=chat_id,
            raw=raw,
            from_bot=False,
            sender_id=sender.id,
            method="user",
            files=list(files),
        )
        chat.messages.append(msg)
        if chat.type == "private":
            chat.started = True
        self.emit("message", chat_id, msg)
        if self._sees_group_message(chat, raw):
            self.enqueue_update({"message": raw})
        return msg

    def inject_edit(self, chat_id: int, message_id: int, text: str) -> ChatMessage:
        """The user edited their own message: queues an ``edited_message`` update."""
        chat = self.chats[chat_id]
        msg = chat.get(message_id)
        if msg is None or msg.from_bot:
            raise ValueError(f"no user message {message_id} in chat {chat_id}")
        msg.history.append(
            MessageRevision(msg.text, msg.caption, msg.entities or None, None, None)
        )
        msg.raw["text" if "text" in msg.raw else "caption"] = text
        msg.raw["edit_date"] = self._now_unix()
        self.emit("edit", chat_id, msg)
        self.enqueue_update({"edited_message": dict(msg.raw)})
        return msg

    def inject_callback(
        self,
        chat_id: int,
        sender: FakeUser,
        data: str | None,
        message_id: int | None = None,
    ) -> CallbackQueryRecord:
        """A press of an inline button with *data* (anything: forging is allowed).

        The callback's ``message`` is the bot message *message_id* (default: the
        latest bot message of the chat, if any).
        """
        chat = self.chats[chat_id]
        target = chat.get(message_id) if message_id is not None else chat.last_bot_message()
        if message_id is not None and target is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        query_id = f"{self.bot_id}{next(self._callback_ids):08d}{secrets.randbelow(10**6):06d}"
        record = CallbackQueryRecord(
            id=query_id,
            chat_id=chat_id,
            message_id=target.message_id if target else None,
            data=data,
            user_id=sender.id,
        )
        self.callbacks[query_id] = record
        payload: dict[str, Any] = {
            "id": query_id,
            "from": sender.to_json(),
            # Stable per chat, like Telegram's opaque chat_instance.
            "chat_instance": self.chat_instance(chat_id),
        }
        if target is not None:
            payload["message"] = dict(target.raw)
        if data is not None:
            payload["data"] = data
        self.emit(
            "callback_query",
            chat_id,
            target,
            callback_query_id=query_id,
            data=data,
            user_id=sender.id,
        )
        self.enqueue_update({"callback_query": payload})
        return record

    def inject_my_chat_member(self, chat_id: int, sender: FakeUser, old: str, new: str) -> int:
        """The bot's membership changed (e.g. the user blocked it: member -> kicked)."""
        chat = self.chats[chat_id]

        def member(status: str) -> dict[str, Any]:
            return self.member_object(self.bot_user, status)

        return self.enqueue_update(
            {
                "my_chat_member": {
                    "chat": chat.to_json(),
                    "from": sender.to_json(),
                    "date": self._now_unix(),
                    "old_chat_member": member(old),
                    "new_chat_member": member(new),
                }
            }
        )

    # ================================================================ payments
    def invoice_of(self, message: ChatMessage | InvoiceRecord | str) -> InvoiceRecord:
        """The invoice behind an invoice message, a ``t.me/$...`` link or an invoice id."""
        if isinstance(message, InvoiceRecord):
            return message
        if isinstance(message, str):
            slug = message.rsplit("$", 1)[-1]
            found = self.invoices.get(slug) or self.invoices.get(message)
        else:
            found = self.invoices.get(f"{message.chat_id}:{message.message_id}")
        if found is None:
            raise AssertionError(f"no invoice {message!r} (the bot did not create it)")
        return found

    def start_payment(
        self,
        user: FakeUser,
        invoice: InvoiceRecord,
        *,
        tip: int = 0,
        order_info: dict[str, Any] | None = None,
    ) -> PaymentAttempt:
        """The user confirmed the payment form: a ``pre_checkout_query`` goes to the bot.

        The bot must answer within 10 s of the server clock; see :meth:`complete_payment`.
        """
        if invoice.is_flexible:
            raise AssertionError("flexible invoices need shipping queries, which fakegram "
                                 "does not simulate")
        if not 0 <= tip <= invoice.max_tip_amount:
            raise ValueError(f"tip must be 0-{invoice.max_tip_amount} (max_tip_amount)")
        if invoice.chat_id is not None:
            chat = self.chats[invoice.chat_id]
            if chat.type == "private" and chat.id != user.id:
                raise AssertionError(f"{user!r} cannot see an invoice in another user's chat")
            msg = chat.get(invoice.message_id or 0)
            if msg is None or msg.deleted:
                raise AssertionError("the invoice message was deleted")
            if chat.type == "private" and invoice.payments:
                raise AssertionError("this invoice is paid already: Telegram shows the receipt")
        query_id = f"{self.bot_id}{next(self._query_ids):08d}{secrets.randbelow(10**6):06d}"
        attempt = PaymentAttempt(
            query_id=query_id,
            user_id=user.id,
            invoice=invoice,
            total_amount=invoice.total_amount + tip,
            tip_amount=tip,
            order_info=order_info or None,
            sent_at=self.clock(),
        )
        self.payment_attempts[query_id] = attempt
        self.emit("pre_checkout_query", invoice.chat_id, query_id=query_id, user_id=user.id,
                  total_amount=attempt.total_amount, currency=invoice.currency)
        self.enqueue_update({"pre_checkout_query": attempt.to_json(user.to_json())})
        return attempt

    def expire_pre_checkout_queries(self) -> list[PaymentAttempt]:
        """Mark unanswered pre-checkout queries older than 10 s (server clock) as expired:
        Telegram told the user the payment failed. Returns the newly expired ones."""
        now = self.clock()
        expired = []
        for attempt in self.payment_attempts.values():
            if attempt.state == "pending" and now > attempt.deadline:
                attempt.state = "expired"
                expired.append(attempt)
                self.emit("payment", attempt.invoice.chat_id, state="expired",
                          query_id=attempt.query_id)
        return expired

    def complete_payment(self, attempt: PaymentAttempt) -> PaymentRecord:
        """The bot said ok in time: the money moves and the bot gets ``successful_payment``
        in the payer's private chat (wherever the invoice was)."""
        user = self.users[attempt.user_id]
        telegram_id, provider_id = new_charge_ids(attempt.invoice.is_test)
        payment = PaymentRecord(
            telegram_payment_charge_id=telegram_id,
            provider_payment_charge_id=provider_id,
            user_id=user.id,
            invoice=attempt.invoice,
            total_amount=attempt.total_amount,
            tip_amount=attempt.tip_amount,
            order_info=attempt.order_info,
        )
        attempt.state, attempt.payment = "paid", payment
        attempt.invoice.payments.append(payment)
        self.payments.append(payment)
        payment.message = self.inject_message(
            user.id, user, {"successful_payment": payment.to_json()}, _service=True
        )
        payment.deliveries = 1
        self.emit("payment", attempt.invoice.chat_id, state="paid", query_id=attempt.query_id,
                  telegram_payment_charge_id=telegram_id)
        return payment

    def redeliver_payment(self, payment: PaymentRecord) -> int:
        """Deliver the same ``successful_payment`` message again, as a new update (what a
        bot sees when Telegram repeats an update, e.g. after a webhook timeout): the same
        message id and charge ids. Returns the update id."""
        if payment.message is None:
            raise ValueError("the payment has no message")
        payment.deliveries += 1
        return self.enqueue_update({"message": copy.deepcopy(payment.message.raw)})

    # ================================================================ mini apps
    @property
    def web_app_public_key(self) -> bytes:
        """The raw Ed25519 public key the fake signs initData's ``signature`` with (Telegram
        uses its own key; check with ``aiogram.utils.web_app_signature``, passing this)."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self._ed25519_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def _ed25519_key(self) -> Any:
        if self._web_app_key is None:
            try:
                from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            except ImportError as exc:  # pragma: no cover - cryptography ships with [test]
                raise RuntimeError("the initData signature needs the cryptography package") from exc
            self._web_app_key = Ed25519PrivateKey.generate()
        return self._web_app_key

    def web_app_init_data(
        self,
        user: FakeUser,
        *,
        query_id: str | None = None,
        chat_type: str | None = None,
        chat_instance: str | None = None,
        start_param: str | None = None,
        auth_date: int | None = None,
        signature: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """``Telegram.WebApp.initData`` for *user*, signed with the bot token exactly as
        Telegram signs it (``hash``; ``signature`` too unless ``signature=False``).
        ``auth_date`` defaults to now on the wall clock; ``extra`` adds or overrides fields
        (before signing)."""
        user_json = user.to_json()
        user_json.pop("is_bot", None)
        user_json["allows_write_to_pm"] = True
        fields: dict[str, Any] = {
            "query_id": query_id,
            "user": user_json,
            "chat_instance": chat_instance,
            "chat_type": chat_type,
            "start_param": start_param,
            "auth_date": self._now_unix() if auth_date is None else auth_date,
            **(extra or {}),
        }
        return sign_init_data(
            self.token,
            fields,
            ed25519_private_key=self._ed25519_key() if signature else None,
            bot_id=self.bot_id,
        )

    def chat_instance(self, chat_id: int) -> str:
        """The opaque, stable ``chat_instance`` of a chat (callback queries, initData)."""
        return str(abs(hash((self.bot_id, chat_id))) % 10**18)

    def open_web_app(
        self,
        user: FakeUser,
        url: str,
        source: LaunchSource,
        *,
        chat_id: int | None = None,
        button_text: str = "",
    ) -> WebAppLaunch:
        """*user* opens the Mini App at *url* (see :mod:`fakegram.webapps` for what each
        *source* gives the page)."""
        chat_id = user.id if chat_id is None else chat_id
        query: WebAppQuery | None = None
        init_data = ""
        if source != "keyboard_button":
            query_id = f"AAF{self.bot_id}{next(self._query_ids):08d}{secrets.token_hex(4)}"
            query = WebAppQuery(id=query_id, user_id=user.id, chat_id=chat_id)
            self.web_app_queries[query_id] = query
            inline = source == "inline_button"
            chat_type = self.chats[chat_id].type if inline else None
            init_data = self.web_app_init_data(
                user,
                query_id=query_id,
                chat_type=chat_type,
                chat_instance=self.chat_instance(chat_id) if inline else None,
            )
        launch = WebAppLaunch(self, user, url, source, chat_id, button_text, init_data, query)
        self.web_app_launches.append(launch)
        self.emit("web_app", chat_id, url=url, source=source, user_id=user.id,
                  query_id=launch.query_id)
        return launch

    def post_web_app_answer(
        self, query: WebAppQuery, content: dict[str, Any], markup: dict[str, Any] | None
    ) -> ChatMessage:
        """``answerWebAppQuery``: a message on behalf of the user, "via" the bot."""
        user = self.users[query.user_id]
        extra: dict[str, Any] = {"via_bot": self.bot_user}
        if markup is not None:
            extra["reply_markup"] = markup
        return self.inject_message(query.chat_id, user, {**content, **extra}, _service=True)

    # ================================================================ bot menu
    def menu_button_for(self, user_id: int) -> dict[str, Any]:
        """The menu button *user_id* sees in the private chat: the chat's own button if the
        bot set one, else the bot's default, else the command list."""
        return dict(self.menu_buttons.get(user_id) or self.menu_buttons.get(None)
                    or {"type": "commands"})

    def has_seen_user(self, user_id: int) -> bool:
        """Whether the bot knows this user, as Telegram decides whether a private chat exists
        for it: they opened the bot (their private chat is started), or wrote or pressed a
        button in a chat the bot is in."""
        chat = self.chats.get(user_id)
        if chat is not None and chat.type == "private" and chat.started:
            return True
        if any(record.user_id == user_id for record in self.callbacks.values()):
            return True
        return any(msg.sender_id == user_id for c in self.chats.values() if c.type != "private"
                   for msg in c.messages if not msg.from_bot)

    def commands_for(self, user_id: int, chat_id: int | None = None) -> list[dict[str, Any]]:
        """The command list *user_id* sees in their private chat (``chat_id`` None) or in
        the group *chat_id*, resolved like Telegram: the most specific scope with commands
        wins, each scope first in the user's language, then without a language
        (https://core.telegram.org/bots/api#determining-list-of-commands)."""
        user = self.users.get(user_id)
        language = (user.language_code or "")[:2] if user else ""
        scopes: list[dict[str, Any]]
        if chat_id is None or chat_id == user_id:
            scopes = [
                {"type": "chat", "chat_id": user_id},
                {"type": "all_private_chats"},
                {"type": "default"},
            ]
        else:
            chat = self.chats[chat_id]
            status = self.chat_member_json(chat, user_id)["status"]
            admin = status in ("administrator", "creator")
            scopes = [
                {"type": "chat_member", "chat_id": chat_id, "user_id": user_id},
                *([{"type": "chat_administrators", "chat_id": chat_id}] if admin else []),
                {"type": "chat", "chat_id": chat_id},
                *([{"type": "all_chat_administrators"}] if admin else []),
                {"type": "all_group_chats"},
                {"type": "default"},
            ]
        for scope in scopes:
            for lang in ([language] if language else []) + [""]:
                commands = self.commands.get((scope_key(scope), lang))
                if commands:
                    return [dict(c) for c in commands]
        return []

    # ================================================================ HTTP
    def _check_token(self, token: str) -> None:
        if self._token is None:
            self._token = token
        elif token != self._token or self.token_revoked:
            raise ApiError(401, "Unauthorized")

    def _target_chat(self, spec: MethodSpec, params: Params) -> ChatState | None:
        if spec.chat_param is None:
            return None
        raw = params.get(spec.chat_param)
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat: ChatState | None = None
        if isinstance(raw, int) or (isinstance(raw, str) and raw.lstrip("-").isdigit()):
            chat_id = int(raw)
            chat = self.chats.get(chat_id)
            if chat is None and not self.strict_chats and chat_id > 0:
                chat = self.user(chat_id, first_name=f"User {chat_id}").chat
        elif isinstance(raw, str) and raw.startswith("@"):
            chat = next(
                (c for c in self.chats.values() if c.username and c.username == raw[1:]), None
            )
        if chat is None:
            raise bad_request("chat not found")
        if spec.writes or spec.sends:
            if chat.migrated_to is not None:
                raise ApiError(400, MIGRATED, {"migrate_to_chat_id": chat.migrated_to})
            if chat.blocked:
                if chat.type == "private":
                    raise ApiError(403, "Forbidden: bot was blocked by the user")
                kind = "group chat" if chat.type == "group" else f"{chat.type} chat"
                raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
            if spec.sends and chat.type == "private" and not chat.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    async def _execute(
        self, token: str, spec: MethodSpec | None, params: Params, record: ApiRequest
    ) -> Any:
        self._check_token(token)
        if spec is None:
            raise ApiError(404, "Not Found: method not found")
        for rule in self.slow_rules:
            if rule.matches(spec.name, record.chat_id):
                if rule.remaining is not None:
                    rule.remaining -= 1
                await asyncio.sleep(rule.seconds)
        for fault in self.faults:
            if fault.matches(spec.name, record.chat_id):
                self.stats.injected_failures += 1
                raise fault.fire()
        # From here to the end there is no await for sends: the flood check, the
        # recorded message and the accepted-send timestamp are atomic.
        params.chat = self._target_chat(spec, params)
        now = self.clock()
        limited = spec.sends and self.limiter is not None and params.chat is not None
        if limited and self.limiter is not None and params.chat is not None:
            retry_after = self.limiter.check(params.chat.id, now)
            if retry_after is not None:
                self.stats.rate_limited += 1
                raise ApiError(429, None, {"retry_after": retry_after})
            self.limiter.record(params.chat.id, now)
        try:
            result = await spec.call(self._api, params)
        except ApiError:
            if limited and self.limiter is not None and params.chat is not None:
                self.limiter.forget(params.chat.id, now)
            raise
        if spec.sends and params.chat is not None:
            self.stats.sends.setdefault(params.chat.id, []).append(now)
        return result

    async def _handle_api(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        spec = METHODS.get(method.lower())
        name = spec.name if spec else method
        try:
            params = await parse_request(request)
        except ApiError as exc:
            return web.json_response(exc.to_json(), status=exc.status)
        chat_id = params.values.get("chat_id")
        scope = params.values.get("scope")
        if chat_id is None and isinstance(scope, dict):
            # setMyCommands & co. name their chat in the scope: that is the call's chat (for
            # tg.calls(chat_id=...), fail_next and slow).
            chat_id = scope.get("chat_id")
        record = ApiRequest(
            method=name,
            params=params.values,
            chat_id=chat_id,
            time=self.clock(),
            files=params.uploads,
        )
        self.requests.append(record)
        self.stats.calls[name] += 1
        tracked = name.lower() != "getupdates"
        if tracked:
            self._inflight += 1
            self._touch()
        status, body = 500, {}
        try:
            result = await self._execute(token, spec, params, record)
            status, body = 200, {"ok": True, "result": result}
            record.result = result
        except ApiError as exc:
            status, body = exc.status, exc.to_json()
            record.error = exc.description
        except asyncio.CancelledError:
            status = 499  # client closed the connection (nginx's convention)
            record.error = "cancelled: client disconnected"
            raise
        except Exception as exc:
            log.exception("fakegram failed on %s", name)
            error = ApiError(500, f"Internal Server Error: fakegram bug: {exc!r}")
            status, body = 500, error.to_json()
            record.error = error.description
        finally:
            record.status = status
            self.stats.statuses[status] += 1
            if tracked:
                self._inflight -= 1
            self._touch()
            log.debug("%s(%s) -> %s", name, describe_params(params.values), status)
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        try:
            self._check_token(request.match_info["token"])
        except ApiError as exc:
            return web.json_response(exc.to_json(), status=exc.status)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    async def _handle_sandbox_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )
