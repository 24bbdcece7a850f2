"""The sandbox's web page and its small JSON + WebSocket API (aiohttp).

GET  /                   the page (server-rendered; static/sandbox.js adds clicks and live updates)
GET  /ws                 WebSocket: JSON events {"type": "message"|"keyboard"|"toast"|"typing"|
                         "clock"|"person"|"reload", ...}; message/keyboard events carry ready HTML
GET  /api/state          everything the page shows, as JSON (rendered chat HTML included)
GET  /files/{file_id}    a photo or document from the fake Telegram
POST /api/send           {"chat_id", "text"}                         a simulated user types
POST /api/photo          multipart: chat_id, photo[, caption]         ... uploads a photo
POST /api/document       multipart: chat_id, document[, caption]      ... attaches a file (CSV, XLSX, TOML...)
POST /api/press          {"chat_id", "message_id", "row", "col"}     ... taps an inline button
POST /api/key            {"chat_id", "row", "col"}                   ... a reply-keyboard key
POST /api/start          {"chat_id", "payload"}                      ... opens a t.me deep link
POST /api/forward        {"chat_id", "from_chat_id", "message_id"}   ... sends another chat's photo
POST /api/clock          {"days": n} or {"date": "YYYY-MM-DD"}       moves business time, runs jobs
POST /api/reset          {"program": "case-a.toml"}                  a fresh database
POST /api/customers      {"name": optional, "role": "customer"|"cashier"} one more simulated person
The WebSocket's first event is {"type": "hello", "generation", "instance", "clock"}: `instance` is new
each time the server starts, so a page still open from before a restart reloads itself.
Errors answer 400 {"error": "..."}.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

from sandbox.render import esc
from sandbox.world import FIRST_CUSTOMER_ID, Person, Sandbox, SandboxError

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
LOOPBACK_KEY = web.AppKey("loopback", bool)
MAX_UPLOAD = 10 * 1024 * 1024
MULTIPART_PATHS = frozenset({"/api/photo", "/api/document"})
# What the attach button offers: the files the bot reads (an import, a program), anything else allowed.
ATTACH_ACCEPT = ".csv,.xlsx,.xlsm,.txt,.toml"

EMPTY_HINTS = {
    "customer": "Напишите /start — так начинает каждый новый гость.",
    "cashier": "Кассир находит гостя по QR: нажмите ссылку «QR: start=c_…» под картой гостя и выберите кассира. "
               "Или отправьте код с карты, номер телефона, фото QR (📷).",
    "group": "Группа сотрудников: сюда приходят заявки на баллы за отзыв и тревоги; кассир может "
             "проводить покупки и здесь (код гостя → сумма). Кнопки нажимает тот, кто выбран слева внизу.",
    "owner": "Владелец: /owner — инструменты, /program — программа. Отчёт за месяц приходит сам "
             "(двигайте время кнопками сверху).",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def _host_name(host: str) -> str | None:
    """`127.0.0.1:8081` -> `127.0.0.1`; `[::1]:8081` -> `::1`."""
    try:
        return urlsplit(f"//{host}").hostname
    except ValueError:
        return None


@web.middleware
async def same_origin_only(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Another web site open in the same browser must not drive the sandbox.

    The page has no login (it is a local toy), so: bound to loopback, the Host header must
    be a loopback name (defeats DNS rebinding); an Origin header, when sent, must be this
    server; and JSON calls must say `application/json`, which a cross-site form cannot.
    """
    if request.app[LOOPBACK_KEY] and _host_name(request.host) not in _LOOPBACK_NAMES:
        return _error("the sandbox answers only on 127.0.0.1 / localhost", 403)
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return _error("cross-origin requests are refused", 403)
    if request.method == "POST" and request.path not in MULTIPART_PATHS and request.content_type != "application/json":
        return _error("send JSON (Content-Type: application/json)", 415)
    return await handler(request)


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except SandboxError as exc:
        return _error(str(exc))
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        if request.path.startswith("/api/"):
            return _error(f"bad request: {exc}")
        raise


async def _body(request: web.Request) -> dict[str, Any]:
    data = await request.json()
    if not isinstance(data, dict):
        raise SandboxError("expected a JSON object")
    return data


def _as(body: dict[str, Any]) -> int | None:
    """Who acts in the staff group ("as": a simulated user's id); private chats ignore it."""
    return int(body["as"]) if body.get("as") not in (None, "") else None


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"ok": True, **extra})


# --- the page ---------------------------------------------------------------------------------


ATTACH = (f'<label class="upload attach" title="прикрепить файл (CSV/XLSX для /import, TOML для /program)">📎'
          f'<input type="file" name="document" accept="{ATTACH_ACCEPT}" hidden></label>')


def _chat_panel(sandbox: Sandbox, person: Person, hidden: bool = False) -> str:
    world = sandbox.w
    role_line = {"customer": "клиент", "cashier": "кассир (сотрудник)", "owner": "владелец (OWNER_IDS)"}[person.role]
    if person.role == "cashier" and person.id >= FIRST_CUSTOMER_ID:
        role_line = "новый сотрудник (входит по ссылке-приглашению владельца)"
    commands = esc(json.dumps(world.commands_for(person), ensure_ascii=False))
    return (
        f'<section class="chat" id="chat-{person.id}" data-chat="{person.id}" data-role="{person.role}"'
        f'{" hidden" if hidden else ""}>'
        f'<header><b>{esc(person.user.first_name)}</b> · {role_line}'
        f'<span class="muted"> · {esc(person.user.phone or "")} · id {person.id}</span>'
        f'<span class="typing" hidden>печатает…</span></header>'
        f'<div class="messages" data-hint="{esc(EMPTY_HINTS[person.role])}">'
        f'{"".join(world.chat_messages_html(person.id))}</div>'
        f'<div class="toast" hidden></div>'
        f'<div class="keyboard">{world.keyboard_html(person.id)}</div>'
        f'<form class="composer" autocomplete="off">'
        f'<button type="button" class="commands" data-commands="{commands}" title="команды бота">/</button>'
        f'<input type="text" name="text" placeholder="Сообщение…" aria-label="message to the bot">'
        f'<button type="submit" class="send">➤</button>'
        f'<label class="upload" title="send a photo (e.g. a QR code)">📷'
        f'<input type="file" name="photo" accept="image/*" hidden></label>'
        f"{ATTACH}</form></section>"
    )


def _group_panel(sandbox: Sandbox, hidden: bool) -> str:
    world = sandbox.w
    group = world.group
    assert group is not None
    members = [p for role in ("cashier", "owner") for p in world.people.values() if p.role == role]
    options = "".join(f'<option value="{p.id}">{esc(p.user.first_name)}</option>' for p in members)
    return (
        f'<section class="chat group" id="chat-{group.chat_id}" data-chat="{group.chat_id}" data-role="group"'
        f'{" hidden" if hidden else ""}>'
        f'<header><b>{esc(group.title or "")}</b> · группа сотрудников (STAFF_CHAT_ID)'
        f'<span class="muted"> · заявки на отзывы, тревоги, покупки в группе</span>'
        f'<span class="typing" hidden>печатает…</span></header>'
        f'<div class="messages" data-hint="{esc(EMPTY_HINTS["group"])}">'
        f'{"".join(world.chat_messages_html(group.chat_id))}</div>'
        f'<div class="toast" hidden></div><div class="keyboard"></div>'
        f'<form class="composer" autocomplete="off">'
        f'<select name="as" aria-label="who writes">{options}</select>'
        f'<input type="text" name="text" placeholder="Сообщение в группу…" aria-label="message to the group">'
        f'<button type="submit" class="send">➤</button>'
        f'<label class="upload" title="send a photo">📷<input type="file" name="photo" accept="image/*" hidden></label>'
        f"{ATTACH}</form></section>"
    )


def _notes_html(notes: dict[str, Any], database: dict[str, str], today: str) -> str:
    """The header's notes: the placeholder privacy policy, when the win-back comes, the database."""
    parts = []
    if notes["policy_placeholder"]:
        url = notes["policy_url"]
        link = (f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(url)}</a>' if url
                else "без ссылки")
        parts.append(f'<span id="policy-note" class="note">⚠ Политика конфиденциальности — заглушка ({link}): '
                     "её ссылку клиент видит при согласии на обработку данных. Перед запуском задайте "
                     "PRIVACY_POLICY_URL.</span>")
    days = notes["winback_days"]
    parts.append(f'<span id="winback-note" class="muted">Возвращение клиента: через {days} дн. без покупок</span>'
                 if days else '<span id="winback-note" class="muted">Возвращения клиента в программе нет</span>')
    parts.append(
        f'<details id="database"><summary>База и командная строка</summary>'
        f'<div>База песочницы (SQLite, новая при каждом сбросе; удаляется, когда песочница остановлена): '
        f'<code id="db-path">{esc(database["path"])}</code></div>'
        f'<div>Отчёт в терминале: <code id="db-report">{esc(database["report"])} --to '
        f'<span class="db-today">{esc(today)}</span></code></div>'
        f'<div>Другие команды: <code id="db-env">{esc(database["env"])} loyalty-bot check</code></div>'
        f"</details>")
    return f'<div class="notes">{"".join(parts)}</div>'


def render_page(sandbox: Sandbox, notes: dict[str, Any]) -> str:
    world = sandbox.w
    people = list(world.people.values())
    customers = [p for p in people if p.role == "customer"]
    cashiers = [p for p in people if p.role == "cashier"]
    owner = next(p for p in people if p.role == "owner")
    tabs = "".join(
        f'<button type="button" class="tab{" active" if i == 0 else ""}" data-tab="{p.id}">{esc(p.user.first_name)}'
        f"</button>" for i, p in enumerate(customers))
    staff_tabs = "".join(
        f'<button type="button" class="tab{" active" if i == 0 else ""}" data-tab="{p.id}">{esc(p.user.first_name)}'
        f"</button>" for i, p in enumerate(cashiers))
    options = "".join(
        f'<option value="{esc(name)}"{" selected" if name == world.program_file.name else ""}>{esc(name)}</option>'
        for name in sandbox.state()["programs"])
    clock = world.clock_info()
    people_json = esc(json.dumps([p.to_dict() for p in people], ensure_ascii=False))
    return f"""<!doctype html>
<html lang="ru"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loyalty sandbox</title>
<link rel="stylesheet" href="/static/sandbox.css">
</head>
<body data-generation="{sandbox.generation}" data-instance="{esc(sandbox.instance)}" data-people="{people_json}">
<header class="top">
  <div class="title"><b>Loyalty sandbox</b> <span class="muted">· @{esc(world.services.bot_username)} ·
    настоящий бот на локальном фейковом Telegram: ничего не уходит с этого компьютера</span></div>
  <form id="clock" class="panel">
    <span>Бизнес-время: <b id="clock-label" data-date="{esc(clock["date"])}" data-iso="{esc(clock["iso"])}"
      data-tz="{esc(clock["tz"])}">{esc(clock["label"])}</b></span>
    <button type="button" data-days="1">+1 день</button>
    <button type="button" data-days="7">+1 неделя</button>
    <button type="button" data-days="31">+31 день</button>
    <input type="date" name="date" aria-label="move to date"><button type="submit">Перейти</button>
  </form>
  <form id="reset" class="panel">
    <select name="program" aria-label="program">{options}</select>
    <button type="submit">Сбросить базу</button>
  </form>
  <div id="status" class="status" role="status"></div>
  {_notes_html(notes, world.database_info(), clock["date"])}
</header>
<main>
  <div class="column customers">
    <nav class="tabs">{tabs}<button type="button" id="add-customer" title="add a customer">+ клиент</button></nav>
    {"".join(_chat_panel(sandbox, p, hidden=i > 0) for i, p in enumerate(customers))}
  </div>
  <div class="column staff">
    <nav class="tabs">{staff_tabs}<button type="button" class="tab" id="group-tab"
    data-tab="{world.group.chat_id if world.group else ""}">Группа сотрудников</button></nav>
    {"".join(_chat_panel(sandbox, p, hidden=i > 0) for i, p in enumerate(cashiers))}
    {_group_panel(sandbox, hidden=True) if world.group else ""}
  </div>
  <div class="column">{_chat_panel(sandbox, owner)}</div>
</main>
<div id="menu" class="menu" hidden></div>
<script src="/static/sandbox.js"></script>
</body></html>"""


async def page(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX_KEY]
    notes = await sandbox.w.program_notes()
    return web.Response(text=render_page(sandbox, notes), content_type="text/html")


async def chat_panel(request: web.Request) -> web.Response:
    """One chat's panel (the page fetches it for a customer added after it loaded)."""
    sandbox = request.app[SANDBOX_KEY]
    person = sandbox.w.person(int(request.match_info["chat_id"]))
    return web.Response(text=_chat_panel(sandbox, person, hidden=True), content_type="text/html")


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ("sandbox.js", "sandbox.css"):
        raise web.HTTPNotFound()
    kind = "application/javascript" if name.endswith(".js") else "text/css"
    return web.Response(body=(STATIC / name).read_bytes(), content_type=kind, charset="utf-8",
                        headers={"Cache-Control": "no-cache"})


async def files(request: web.Request) -> web.StreamResponse:
    stored = request.app[SANDBOX_KEY].w.tg.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    headers = {"Content-Disposition": f'inline; filename="{stored.file_name}"'} if stored.file_name else {}
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream",
                        headers={**headers, "X-Content-Type-Options": "nosniff"})


# --- the API ------------------------------------------------------------------------------------


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[SANDBOX_KEY].state())


async def send(request: web.Request) -> web.Response:
    body = await _body(request)
    await request.app[SANDBOX_KEY].w.send_text(int(body["chat_id"]), str(body["text"]), _as(body))
    return _ok()


async def photo(request: web.Request) -> web.Response:
    form = await request.post()
    upload = form.get("photo")
    if not isinstance(upload, web.FileField):
        raise SandboxError("no photo in the form")
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise SandboxError("the photo is larger than 10 MB")
    caption = form.get("caption")
    as_id = form.get("as")
    await request.app[SANDBOX_KEY].w.send_photo(int(str(form["chat_id"])), data,
                                                caption if isinstance(caption, str) else None,
                                                int(as_id) if isinstance(as_id, str) and as_id else None)
    return _ok()


async def document(request: web.Request) -> web.Response:
    form = await request.post()
    upload = form.get("document")
    if not isinstance(upload, web.FileField):
        raise SandboxError("no file in the form")
    data = upload.file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise SandboxError("the file is larger than 10 MB")
    caption = form.get("caption")
    as_id = form.get("as")
    content_type = upload.content_type if upload.content_type not in ("", "application/octet-stream") else None
    await request.app[SANDBOX_KEY].w.send_document(
        int(str(form["chat_id"])), data, upload.filename or "document", content_type,
        caption if isinstance(caption, str) else None, int(as_id) if isinstance(as_id, str) and as_id else None)
    return _ok()


async def press(request: web.Request) -> web.Response:
    b = await _body(request)
    await request.app[SANDBOX_KEY].w.press(int(b["chat_id"]), int(b["message_id"]), int(b["row"]), int(b["col"]),
                                           _as(b))
    return _ok()


async def key(request: web.Request) -> web.Response:
    b = await _body(request)
    await request.app[SANDBOX_KEY].w.press_key(int(b["chat_id"]), int(b["row"]), int(b["col"]))
    return _ok()


async def start_link(request: web.Request) -> web.Response:
    b = await _body(request)
    await request.app[SANDBOX_KEY].w.open_link(int(b["chat_id"]), str(b.get("payload") or ""))
    return _ok()


async def forward(request: web.Request) -> web.Response:
    b = await _body(request)
    await request.app[SANDBOX_KEY].w.forward_photo(int(b["chat_id"]), int(b["from_chat_id"]),
                                                   int(b["message_id"]))
    return _ok()


async def clock(request: web.Request) -> web.Response:
    b = await _body(request)
    sandbox = request.app[SANDBOX_KEY]
    if b.get("date"):
        summary = await sandbox.advance(to=date.fromisoformat(str(b["date"])))
    else:
        days = int(b.get("days", 1))
        if not 1 <= days <= 3 * 366:
            raise SandboxError("days must be between 1 and 1098")
        summary = await sandbox.advance(days=days)
    return _ok(summary=summary, clock=sandbox.w.clock_info())


async def reset(request: web.Request) -> web.Response:
    b = await _body(request)
    sandbox = request.app[SANDBOX_KEY]
    await sandbox.reset(sandbox.resolve_program(b.get("program")))
    return _ok(program=sandbox.w.program_file.name)


async def add_customer(request: web.Request) -> web.Response:
    b = await _body(request)
    role = str(b.get("role") or "customer")
    if role not in ("customer", "cashier"):
        raise SandboxError("role is customer or cashier")
    person = request.app[SANDBOX_KEY].add_customer(b.get("name"), role=role)
    return _ok(person=person.to_dict())


async def websocket(request: web.Request) -> web.WebSocketResponse:
    sandbox = request.app[SANDBOX_KEY]
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)

    def push(event: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(event)

    async def pump() -> None:
        while True:
            event = await queue.get()
            await ws.send_str(json.dumps(event, ensure_ascii=False))

    sandbox.subscribers.add(push)
    task = asyncio.create_task(pump())
    try:
        await ws.send_str(json.dumps({"type": "hello", "generation": sandbox.generation,
                                      "instance": sandbox.instance, "clock": sandbox.w.clock_info()}))
        async for msg in ws:  # the page only listens; anything it sends is ignored
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        sandbox.subscribers.discard(push)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await task
    return ws


def build_app(sandbox: Sandbox, *, loopback: bool = True) -> web.Application:
    app = web.Application(middlewares=[same_origin_only, errors_as_json], client_max_size=MAX_UPLOAD + 1024 * 1024)
    app[SANDBOX_KEY] = sandbox
    app[LOOPBACK_KEY] = loopback
    app.router.add_get("/", page)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/files/{file_id}", files)
    app.router.add_get("/chat/{chat_id}", chat_panel)
    app.router.add_get("/api/state", state)
    for path, handler in (("/api/send", send), ("/api/photo", photo), ("/api/document", document),
                          ("/api/press", press), ("/api/key", key), ("/api/start", start_link),
                          ("/api/forward", forward), ("/api/clock", clock),
                          ("/api/reset", reset), ("/api/customers", add_customer)):
        app.router.add_post(path, handler)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SandboxServer:
    """The sandbox world plus its web server, started and stopped together."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 8081) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> SandboxServer:
        await self.sandbox.start()
        try:
            app = build_app(self.sandbox, loopback=is_loopback(self.host))
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port)
            await site.start()
            self.port = int(self._runner.addresses[0][1])
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.sandbox.stop()

    async def __aenter__(self) -> SandboxServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
