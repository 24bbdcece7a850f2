"""The sandbox's world: a fake Telegram, the real bot polling it, the sender, the scheduler.

Everything runs in one process and one event loop. The bot is assembled by the same
function as in production (`bot.runner.assemble`: username, command menu, dispatcher, outbox
sender) and the scheduler is the production one (`scheduler.service.start_scheduler`), except that:

* the Bot API is fakegram on 127.0.0.1 (it never talks to Telegram);
* the database is a fresh SQLite file per reset, in a temporary directory;
* business time is a `SandboxClock` (a ManualClock that also ticks with real time), so
  the clock panel can jump forward and run the scheduler's catch-up for the days passed.

A `World` is one generation (reset = close it, build a new one); `Sandbox` owns the
current world and is what the web server talks to.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage

import programs
from bot.app import create_bot
from bot.config import Settings, configure_phones
from bot.i18n import I18n
from bot.qr import decode_qr_async
from bot.sender import OutboxSender
from bot.services import Services
from fakegram import FakeEvent, FakeGroup, FakeTelegram, FakeUser
from models.kernel import Database, Domain, ManualClock, Role, Staff
from models.program import ensure_program, load_program_file
from sandbox.render import RenderContext, render_message, render_reply_keyboard
from scheduler.runner import JobRunner

log = logging.getLogger(__name__)

# A token of the right shape; fakegram adopts it. It is not a token Telegram knows.
SANDBOX_TOKEN = "7000000001:SANDBOX-local-only-not-a-telegram-token"
BOT_USERNAME = "sandbox_loyalty_bot"
OWNER_ID = 700_000_100
CASHIER_ID = 700_000_200
STAFF_CHAT_ID = -1_007_000_000_300  # the staff group (STAFF_CHAT_ID): review claims, alerts, group checkout
FIRST_CUSTOMER_ID = 700_001_001
CUSTOMER_NAMES = ("Анна", "Борис", "Вера", "Григорий", "Дарья", "Егор", "Жанна", "Зиновий")
STAFF_NAMES = ("Пётр", "Светлана", "Тимур", "Ульяна")  # people added to follow a staff invite
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")


class SandboxClock(ManualClock):
    """Business time: flows with real time, and jumps when the clock panel says so."""

    def __init__(self, start: datetime, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(start)
        self._monotonic = monotonic
        self._anchor = monotonic()

    def now(self) -> datetime:
        return self._now + timedelta(seconds=self._monotonic() - self._anchor)

    def set(self, moment: datetime) -> None:
        super().set(moment)
        self._anchor = self._monotonic()

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.set(self.now() + (delta if delta is not None else timedelta(**kwargs)))
        return self.now()


@dataclass
class Person:
    user: FakeUser
    role: str  # "customer", "cashier" or "owner"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def label(self) -> str:
        return {"customer": self.user.first_name, "cashier": f"{self.user.first_name} (кассир)",
                "owner": f"{self.user.first_name} (владелец)"}[self.role]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.user.first_name, "role": self.role, "label": self.label,
                "phone": self.user.phone}


class SandboxError(ValueError):
    """A request from the page that cannot be done (unknown chat, no such button...)."""


@functools.cache
def shared_i18n() -> I18n:
    """Parsing every .ftl file takes a while; one I18n serves every reset (it is read-only)."""
    return I18n()


def program_choices(extra: Path | None = None) -> list[Path]:
    found = programs.shipped_paths()
    if extra is not None and extra.resolve() not in {p.resolve() for p in found}:
        found.insert(0, extra)
    return found


def _file_name(name: str) -> str:
    """The name as Telegram keeps it: no folders (a browser may send them), at most 255 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255] or "document"


def default_start(tz: ZoneInfo) -> datetime:
    """Today, 10:00 business time: a daytime start, so the day's messages are not at night."""
    today = datetime.now(tz).date()
    return datetime.combine(today, dtime(10, 0), tz)


@dataclass
class World:
    """One generation of the sandbox: built by `World.build`, closed by `close`."""

    program_file: Path
    tg: FakeTelegram
    clock: SandboxClock
    services: Services
    bot: Bot
    dp: Dispatcher
    sender: OutboxSender
    people: dict[int, Person] = field(default_factory=dict)
    group: FakeGroup | None = None
    qr_links: dict[str, str] = field(default_factory=dict)
    database_path: Path | None = None  # the SQLite file of this generation (the CLI can read it)
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    customer_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(FIRST_CUSTOMER_ID))

    @property
    def tz(self) -> ZoneInfo:
        return self.services.dom.tz

    @property
    def runner(self) -> JobRunner:
        runner = self.services.job_runner
        assert runner is not None
        return runner

    @classmethod
    async def build(cls, program_file: Path, data_dir: Path, *, timezone: str, start: datetime | None,
                    per_chat_interval: float, generation: int, i18n: I18n) -> World:
        program = load_program_file(program_file)
        tz = ZoneInfo(timezone)
        clock = SandboxClock(start or default_start(tz))
        stack = contextlib.AsyncExitStack()
        try:
            tg = FakeTelegram(token=SANDBOX_TOKEN, bot_username=BOT_USERNAME, bot_name="Loyalty sandbox",
                              wall_clock=lambda: clock.now().timestamp())
            await stack.enter_async_context(tg)
            database_path = (data_dir / f"sandbox-{generation}.db").resolve()
            url = f"sqlite+aiosqlite:///{database_path}"
            db = Database(url)
            stack.push_async_callback(db.dispose)
            await db.create_all()
            dom = Domain(db=db, clock=clock, tz=tz)
            await ensure_program(dom, program)
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, bot_token=SANDBOX_TOKEN, database_url=url, telegram_api_url=tg.base_url,
                owner_ids=frozenset({OWNER_ID}), staff_chat_id=STAFF_CHAT_ID, program_file=program_file,
                timezone=timezone, redis_url=None, webhook_url=None)
            # PHONE_HASH_KEY if set, else a key file next to the database (`sandbox-N.db.phone-hash.key`),
            # where `loyalty-bot` commands given only DATABASE_URL look for it.
            configure_phones(settings, create=True)
            services = Services(settings=settings, dom=dom, bot_username=BOT_USERNAME)
            bot = create_bot(SANDBOX_TOKEN, tg.base_url)
            stack.push_async_callback(bot.session.close)
            from bot.runner import start_up
            from scheduler.service import build_runner, start_scheduler

            dp, sender = await start_up(bot, services, i18n, storage=MemoryStorage(),
                                        per_chat_interval=per_chat_interval, poll_interval=0.25)
            stop = asyncio.Event()
            sender_task = asyncio.create_task(sender.run(stop), name="sandbox-outbox-sender")

            async def stop_sender() -> None:
                stop.set()
                try:
                    await asyncio.wait_for(sender_task, 10)
                except TimeoutError:
                    sender_task.cancel()

            stack.push_async_callback(stop_sender)
            # The scheduler as in production (scheduler/service.py), its first catch-up awaited here
            # rather than fired in the background, so a reset never cuts a job run in half.
            runner = build_runner(services)
            scheduler = start_scheduler(services, catch_up_on_start=False, runner=runner)
            stack.callback(scheduler.shutdown, wait=False)
            await runner.catch_up()
            await stack.enter_async_context(tg.polling(dp, bot, allowed_updates=dp.resolve_used_update_types()))
        except BaseException:
            await stack.aclose()
            raise
        world = cls(program_file=program_file, tg=tg, clock=clock, services=services, bot=bot, dp=dp,
                    sender=sender, stack=stack, database_path=database_path)
        await world.add_people()
        # The owner's and the cashier's own command lists, as `loyalty-bot run` sets them at
        # start-up (bot/role_commands.py); here after the people exist in the fake Telegram.
        from bot.role_commands import sync_all

        await sync_all(bot, services, i18n)
        return world

    async def close(self) -> None:
        await self.stack.aclose()

    # --- what the page says about this world --------------------------------------------------

    def database_info(self) -> dict[str, str]:
        """Where this generation's database is, and the command lines that read it."""
        path = str(self.database_path)
        url = f"sqlite+aiosqlite:///{path}"
        return {"path": path, "url": url, "phone_key": str(self.services.settings.phone_key_path),
                "report": f"loyalty-bot report --database {url}", "env": f"DATABASE_URL={url}"}

    async def program_notes(self) -> dict[str, Any]:
        """What a person trying the sandbox should know about the current program: whether the
        consent message links a placeholder privacy policy, and when the win-back comes."""
        from bot.runner import policy_warning
        from models.program import current_program

        async with self.services.db.reading() as session:
            version, program = await current_program(session)
        policy = self.services.settings.policy_url(program.business.policy_url)
        return {"version": version, "name": program.business.name,
                "policy_url": policy, "policy_placeholder": policy_warning(self.services.settings,
                                                                           program.business.policy_url) is not None,
                "winback_days": program.winback.after_days if program.winback is not None else None}

    # --- people -----------------------------------------------------------------------------

    async def add_people(self) -> None:
        owner = self.tg.user(id=OWNER_ID, first_name="Ольга", last_name="Владелец", phone="+79990000100")
        self.people[owner.id] = Person(owner, "owner")
        cashier = self.tg.user(id=CASHIER_ID, first_name="Мария", phone="+79990000200")
        async with self.services.db.transaction() as session:
            session.add(Staff(telegram_id=cashier.id, display_name="Мария", role=Role.STAFF, active=True,
                              created_at=self.clock.now()))
        self.people[cashier.id] = Person(cashier, "cashier")
        self.group = self.tg.group(chat_id=STAFF_CHAT_ID, title="Сотрудники", bot_is_admin=True)
        self.add_customer()

    def add_customer(self, name: str | None = None, role: str = "customer") -> Person:
        """One more simulated person: a customer, or a "cashier" who joins by the owner's invite."""
        user_id = next(self.customer_ids)
        index = user_id - FIRST_CUSTOMER_ID
        names = STAFF_NAMES if role == "cashier" else CUSTOMER_NAMES
        taken = sum(1 for p in self.people.values() if p.role == role and p.id >= FIRST_CUSTOMER_ID)
        name = (name or "").strip()[:32] or names[taken % len(names)]
        user = self.tg.user(id=user_id, first_name=name, phone=f"+7999{1_000_000 + index:07d}")
        person = Person(user, role)
        self.people[user_id] = person
        return person

    @property
    def chat_ids(self) -> list[int]:
        """Every chat the page shows: the private chats, then the staff group."""
        return [*self.people, *([self.group.chat_id] if self.group is not None else [])]

    def is_group(self, chat_id: int) -> bool:
        return self.group is not None and int(chat_id) == self.group.chat_id

    def _group_member(self, as_id: int | None) -> FakeUser:
        """Who acts in the staff group (the cashier unless the page says otherwise)."""
        return self.person(as_id if as_id is not None else CASHIER_ID).user

    def person(self, chat_id: int) -> Person:
        try:
            return self.people[int(chat_id)]
        except (KeyError, ValueError):
            raise SandboxError(f"no simulated user {chat_id}") from None

    def commands_for(self, person: Person) -> list[dict[str, str]]:
        """The command menu this user sees in the private chat, as Telegram resolves setMyCommands
        scopes and languages (fakegram's `commands_for`)."""
        commands = self.tg.commands_for(person.user.id)
        return [{"command": f"/{c['command']}", "description": str(c.get("description", ""))} for c in commands]

    # --- rendering --------------------------------------------------------------------------

    def render_context(self) -> RenderContext:
        return RenderContext(bot_username=self.services.bot_username, tz=self.tz, qr_links=self.qr_links)

    def chat_messages_html(self, chat_id: int) -> list[str]:  # a private chat or the group
        ctx = self.render_context()
        return [render_message(m, ctx) for m in self.tg.chats[chat_id].messages]

    def keyboard_html(self, chat_id: int) -> str:
        return render_reply_keyboard(self.tg.chats[chat_id].reply_keyboard)

    def clock_info(self) -> dict[str, Any]:
        now = self.clock.now().astimezone(self.tz)
        return {"iso": now.isoformat(), "date": now.date().isoformat(),
                "label": f"{WEEKDAYS[now.weekday()]} {now:%d.%m.%Y %H:%M}", "tz": str(self.tz)}

    # --- what the simulated users do --------------------------------------------------------

    async def send_text(self, chat_id: int, text: str, as_id: int | None = None) -> None:
        text = text.strip()[:4096]
        if not text:
            raise SandboxError("empty message")
        if self.is_group(chat_id):
            assert self.group is not None
            await self.group.send(self._group_member(as_id), text)
        else:
            await self.person(chat_id).user.send(text)

    async def send_photo(self, chat_id: int, data: bytes, caption: str | None = None,
                         as_id: int | None = None) -> None:
        if not data:
            raise SandboxError("empty file")
        if self.is_group(chat_id):
            assert self.group is not None
            await self.group.send_photo(self._group_member(as_id), data, caption or None)
        else:
            await self.person(chat_id).user.send_photo(data, caption or None)

    async def press(self, chat_id: int, message_id: int, row: int, col: int, as_id: int | None = None) -> None:
        """An inline button on a given bot message (by position: labels can repeat)."""
        if self.is_group(chat_id):
            chat_id, user = int(chat_id), self._group_member(as_id)
        else:
            chat_id, user = self.person(chat_id).id, self.person(chat_id).user
        msg = self.tg.chats[chat_id].get(int(message_id))
        if msg is None or not msg.from_bot or msg.keyboard_type != "inline":
            raise SandboxError("that message has no inline keyboard")
        try:
            button = msg.buttons[int(row)][int(col)]
        except (IndexError, ValueError):
            raise SandboxError("no such button") from None
        if "callback_data" not in button:
            raise SandboxError("not a callback button")
        self.tg.inject_callback(chat_id, user, str(button["callback_data"]), msg.message_id)

    async def press_key(self, chat_id: int, row: int, col: int, as_id: int | None = None) -> None:
        """A reply-keyboard button: sends its text, or the user's own contact."""
        if self.is_group(chat_id):
            raise SandboxError("reply keyboards are simulated in private chats only")
        person = self.person(chat_id)
        markup = self.tg.chats[person.id].reply_keyboard
        try:
            button = (markup or {})["keyboard"][int(row)][int(col)]
        except (KeyError, IndexError, ValueError):
            raise SandboxError("no such key on the current keyboard") from None
        button = button if isinstance(button, dict) else {"text": str(button)}
        if button.get("request_contact"):
            await person.user.send_contact()
        else:
            await person.user.send(str(button.get("text", "")))

    async def send_document(self, chat_id: int, data: bytes, filename: str, mime_type: str | None = None,
                            caption: str | None = None, as_id: int | None = None) -> None:
        """A file attached in the chat: a Telegram document (file_id, file_name, mime_type,
        file_size) the bot downloads with getFile, as from a real client."""
        if not data:
            raise SandboxError("empty file")
        name = _file_name(filename)
        if self.is_group(chat_id):
            assert self.group is not None
            await self.group.send_document(self._group_member(as_id), data, name, mime_type, caption or None)
        else:
            await self.person(chat_id).user.send_document(data, name, mime_type, caption or None)

    async def open_link(self, chat_id: int, payload: str) -> None:
        """Opening `t.me/<bot>?start=payload` is `/start payload` in Telegram."""
        await self.person(chat_id).user.start(payload.strip()[:64] or None)

    async def forward_photo(self, chat_id: int, from_chat_id: int, message_id: int) -> None:
        """The photo of a message in another chat, sent as a new photo (staff photographing a card)."""
        source = self.tg.chats.get(int(from_chat_id))
        msg = source.get(int(message_id)) if source is not None else None
        if msg is None or msg.photo is None:
            raise SandboxError("no such photo")
        await self.person(chat_id).user.send_photo(msg.photo)

    async def decode_photo(self, file_id: str) -> bool:
        """Read the QR of a photo the bot sent (the card), so the page can offer its link."""
        stored = self.tg.files.get(file_id)
        if stored is None or file_id in self.qr_links:
            return False
        try:
            texts = await decode_qr_async(stored.data)
        except Exception:  # not an image we can read: no QR line, nothing else changes
            return False
        if texts:
            self.qr_links[file_id] = texts[0]
            return True
        return False

    # --- time -------------------------------------------------------------------------------

    async def advance(self, *, days: int | None = None, to: date | None = None) -> dict[str, Any]:
        """Move business time forward day by day, running the scheduler's catch-up for
        each day passed (as if the bot had been running), then wake the sender."""
        today = self.clock.now().astimezone(self.tz).date()
        target = to if to is not None else today + timedelta(days=days or 0)
        if target <= today:
            raise SandboxError(f"pick a date after {today.isoformat()}")
        if (target - today).days > 3 * 366:
            raise SandboxError("at most three years at a time")
        time_of_day = self.clock.now().astimezone(self.tz).time()
        runner = self.runner
        totals: dict[str, int] = {}
        failed: list[str] = []
        day = today
        while day < target:
            day += timedelta(days=1)
            self.clock.set(datetime.combine(day, time_of_day, self.tz))
            for outcome in await runner.catch_up(until=day):
                if outcome.status == "failed":
                    failed.append(f"{outcome.job} {outcome.business_date}: {outcome.result.get('error')}")
                elif outcome.status == "done":
                    totals[outcome.job] = totals.get(outcome.job, 0) + 1
        self.sender.wake()
        return {"from": today.isoformat(), "to": target.isoformat(), "jobs": totals, "failed": failed}


class Sandbox:
    """The current world plus the page's subscribers; what sandbox/server.py uses."""

    def __init__(self, program_file: Path, *, timezone: str = "Europe/Moscow", start: datetime | None = None,
                 per_chat_interval: float = 0.15, data_dir: Path | None = None) -> None:
        self.program_file = program_file
        self.timezone = timezone
        self.start_time = start
        self.per_chat_interval = per_chat_interval
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.data_dir = data_dir
        self.world: World | None = None
        self.generation = 0
        self.instance = uuid.uuid4().hex  # a new one each time the server starts: the page reloads on a change
        self.subscribers: set[Callable[[dict[str, Any]], None]] = set()
        self._lock = asyncio.Lock()  # reset and clock moves never overlap
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def w(self) -> World:
        if self.world is None:
            raise SandboxError("the sandbox is not running")
        return self.world

    async def start(self) -> None:
        if self.data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="loyalty-sandbox-")
            self.data_dir = Path(self._tmp.name)
        await self._build()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self.world is not None:
            await self.world.close()
            self.world = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def _build(self) -> None:
        self.generation += 1
        assert self.data_dir is not None
        world = await World.build(self.program_file, self.data_dir, timezone=self.timezone,
                                  start=self.start_time, per_chat_interval=self.per_chat_interval,
                                  generation=self.generation, i18n=shared_i18n())
        world.tg.add_listener(self._on_event)
        self.world = world

    async def reset(self, program_file: Path | None = None) -> None:
        async with self._lock:
            if program_file is not None:
                load_program_file(program_file)  # a broken file is refused before anything is lost
                self.program_file = program_file
            old, self.world = self.world, None
            if old is not None:
                await old.close()
            await self._build()
        self.publish({"type": "reload"})

    async def advance(self, *, days: int | None = None, to: date | None = None) -> dict[str, Any]:
        async with self._lock:
            summary = await self.w.advance(days=days, to=to)
        self.publish({"type": "clock", "clock": self.w.clock_info(), "summary": summary})
        return summary

    def add_customer(self, name: str | None = None, role: str = "customer") -> Person:
        person = self.w.add_customer(name, role)
        self.publish({"type": "person", "person": person.to_dict()})
        return person

    # --- events to the page -----------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        for subscriber in list(self.subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("sandbox subscriber failed")

    def _on_event(self, event: FakeEvent) -> None:
        world = self.world
        if world is None or event.chat_id is None or event.chat_id not in world.chat_ids:
            return
        chat_id = event.chat_id
        if event.kind in ("message", "edit", "delete") and event.message is not None:
            self._publish_message(world, chat_id, event.message.message_id)
            if event.message.from_bot and event.kind == "message":
                self.publish({"type": "keyboard", "chat_id": chat_id, "html": world.keyboard_html(chat_id)})
            stored = event.message.file
            if event.message.from_bot and "photo" in event.message.raw and stored is not None:
                self._spawn(self._decode_and_refresh(world, chat_id, event.message.message_id, stored.file_id))
        elif event.kind == "callback_answer" and event.data.get("text"):
            self.publish({"type": "toast", "chat_id": chat_id, "text": str(event.data["text"]),
                          "alert": bool(event.data.get("show_alert"))})
        elif event.kind == "chat_action":
            self.publish({"type": "typing", "chat_id": chat_id})

    def _publish_message(self, world: World, chat_id: int, message_id: int) -> None:
        msg = world.tg.chats[chat_id].get(message_id)
        if msg is not None:
            self.publish({"type": "message", "chat_id": chat_id, "message_id": message_id,
                          "html": render_message(msg, world.render_context())})

    async def _decode_and_refresh(self, world: World, chat_id: int, message_id: int, file_id: str) -> None:
        if await world.decode_photo(file_id) and world is self.world:
            self._publish_message(world, chat_id, message_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- a snapshot for the page ------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        world = self.w
        return {
            "generation": self.generation,
            "instance": self.instance,
            "database": world.database_info(),
            "program": world.program_file.name,
            "programs": [p.name for p in program_choices(self.program_file)],
            "clock": world.clock_info(),
            "bot": world.services.bot_username,
            "people": [p.to_dict() for p in world.people.values()],
            "staff_chat_id": world.group.chat_id if world.group is not None else None,
            "chats": {str(cid): {"messages": world.chat_messages_html(cid), "keyboard": world.keyboard_html(cid)}
                      for cid in world.chat_ids},
        }

    def resolve_program(self, name: str | None) -> Path | None:
        if not name:
            return None
        for path in program_choices(self.program_file):
            if path.name == name:
                return path
        raise SandboxError(f"unknown program {name!r}")
