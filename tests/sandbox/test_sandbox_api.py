"""The sandbox's server without a browser: the JSON API and the WebSocket events, the HTML
rendering of formatted messages, and the command line's safety checks."""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import qrcode

from bot.cli import main as cli_main
from bot.i18n import I18n
from fakegram import ChatMessage
from sandbox.render import RenderContext, deep_link_payload, render_message, render_text
from sandbox.server import SandboxServer
from sandbox.world import BOT_USERNAME
from tests.sandbox.conftest import CASE_A

Event = dict[str, Any]


class Client:
    """A page's view of the sandbox: POSTs, and the WebSocket's events."""

    def __init__(self, server: SandboxServer, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.server, self.http, self.ws = server, http, ws

    async def post(self, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        async with self.http.post(self.server.url + path, json=body) as response:
            data = await response.json()
            assert response.status == status, data
            return data

    async def state(self) -> dict[str, Any]:
        async with self.http.get(self.server.url + "/api/state") as response:
            return await response.json()

    async def person(self, role: str) -> int:
        return next(p["id"] for p in (await self.state())["people"] if p["role"] == role)

    async def event(self, match: Callable[[Event], bool], timeout: float = 10.0) -> Event:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive()
                assert message.type == aiohttp.WSMsgType.TEXT, message
                event = json.loads(message.data)
                if match(event):
                    return event

    async def bot_message(self, chat_id: int, contains: str, timeout: float = 10.0) -> Event:  # noqa: ASYNC109
        return await self.event(lambda e: e["type"] == "message" and e["chat_id"] == chat_id
                                and 'class="msg bot' in e["html"] and contains in e["html"], timeout)


@pytest.fixture
async def client(sandbox_server: SandboxServer) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as http, http.ws_connect(sandbox_server.url + "/ws") as ws:
        hello = json.loads((await ws.receive()).data)
        assert hello["type"] == "hello" and hello["generation"] == 1
        assert hello["instance"] == sandbox_server.sandbox.instance
        assert hello["clock"]["date"] == sandbox_server.sandbox.w.clock_info()["date"]
        yield Client(sandbox_server, http, ws)


def ru(key: str, **args: Any) -> str:
    return I18n().get("ru", key, **args)


async def test_a_user_writes_and_the_bot_reply_arrives_as_an_event(client: Client) -> None:
    anna = await client.person("customer")
    await client.post("/api/send", {"chat_id": anna, "text": "/start"})
    own = await client.event(lambda e: e["type"] == "message" and e["chat_id"] == anna)
    assert 'class="msg user"' in own["html"] and 'data-command="/start"' in own["html"]
    consent = await client.bot_message(anna, ru("reg-button-agree"))
    assert 'data-action="press"' in consent["html"]

    # The inline button, by its position on that message -> the reply keyboard with the contact key.
    await client.post("/api/press", {"chat_id": anna, "message_id": consent["message_id"], "row": 0, "col": 0})
    keyboard = await client.event(lambda e: e["type"] == "keyboard" and "contact" in e["html"])
    assert ru("reg-button-share-phone") in keyboard["html"]
    await client.post("/api/key", {"chat_id": anna, "row": 0, "col": 0})
    contact = await client.event(lambda e: e["type"] == "message" and 'class="contact"' in e["html"])
    phone = next(p["phone"] for p in (await client.state())["people"] if p["id"] == anna)
    assert phone in contact["html"]
    await client.bot_message(anna, ru("reg-button-keep-name"))

    state = await client.state()
    assert any("contact" in html for html in state["chats"][str(anna)]["messages"])


async def test_a_photo_upload_reaches_the_bot(client: Client) -> None:
    cashier = await client.person("cashier")
    image = qrcode.make(f"https://t.me/{BOT_USERNAME}?start=c_123456").get_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    form = aiohttp.FormData()
    form.add_field("chat_id", str(cashier))
    form.add_field("photo", buffer.getvalue(), filename="qr.png", content_type="image/png")
    async with client.http.post(client.server.url + "/api/photo", data=form) as response:
        assert response.status == 200, await response.text()
    sent = await client.event(lambda e: e["type"] == "message" and e["chat_id"] == cashier)
    file_id = re.search(r'src="/files/([^"]+)"', sent["html"]).group(1)  # type: ignore[union-attr]
    async with client.http.get(f"{client.server.url}/files/{file_id}") as response:
        assert response.status == 200 and (await response.read()) == buffer.getvalue()
    # The staff handler read the QR: an unknown code gets its own answer, not the fallback.
    await client.bot_message(cashier, "кода нет")


async def test_the_staff_group_acts_as_the_chosen_member(client: Client) -> None:
    state = await client.state()
    group, cashier = state["staff_chat_id"], await client.person("cashier")
    assert str(group) in state["chats"]
    await client.post("/api/send", {"chat_id": group, "text": "123 456", "as": cashier})
    own = await client.event(lambda e: e["type"] == "message" and e["chat_id"] == group)
    assert '<div class="sender">Мария</div>' in own["html"]
    await client.bot_message(group, "кода нет")  # the staff handlers work in the group too


async def test_clock_moves_runs_jobs_and_reset_starts_over(client: Client) -> None:
    before = (await client.state())["clock"]["date"]
    moved = await client.post("/api/clock", {"days": 1})
    assert moved["summary"]["from"] == before and moved["summary"]["failed"] == []
    assert moved["summary"]["jobs"], "the scheduler's catch-up ran for the day passed"
    event = await client.event(lambda e: e["type"] == "clock")
    assert event["clock"]["date"] == moved["summary"]["to"] == (await client.state())["clock"]["date"]
    await client.post("/api/clock", {"date": before}, status=400)  # never backwards

    added = await client.post("/api/customers", {"name": "Борис"})
    assert (await client.event(lambda e: e["type"] == "person"))["person"]["name"] == "Борис"
    assert added["person"]["role"] == "customer"

    await client.post("/api/reset", {"program": "cosmocode.toml"})
    await client.event(lambda e: e["type"] == "reload")
    state = await client.state()
    assert state["generation"] == 2 and state["program"] == "cosmocode.toml"
    assert [p["role"] for p in state["people"]].count("customer") == 1
    assert state["clock"]["date"] == before
    assert all(chat["messages"] == [] for chat in state["chats"].values())


async def test_bad_and_foreign_requests_are_refused(client: Client) -> None:
    url = client.server.url
    assert "error" in await client.post("/api/send", {"chat_id": 1, "text": "hi"}, status=400)
    assert "error" in await client.post("/api/press", {"chat_id": await client.person("owner"), "message_id": 99,
                                                       "row": 0, "col": 0}, status=400)
    await client.post("/api/reset", {"program": "../../etc/passwd"}, status=400)
    async with client.http.post(url + "/api/send", data="chat_id=1", headers={"Origin": "https://evil.example"}) as r:
        assert r.status == 403
    async with client.http.post(url + "/api/send", data='{"chat_id": 1, "text": "x"}',
                                headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415  # what a cross-site form could send
    async with client.http.get(url + "/api/state", headers={"Host": "rebound.example:8081"}) as r:
        assert r.status == 403  # DNS rebinding
    async with client.http.get(url + "/static/../world.py") as r:
        assert r.status == 404


# --- rendering -----------------------------------------------------------------------------------


def test_text_is_escaped_then_formatted_from_entities() -> None:
    text = "👋 <script>alert(1)</script> bold link /help"
    # Offsets are UTF-16 code units: the emoji counts 2.
    entities = [
        {"type": "bold", "offset": 29, "length": 4},
        {"type": "italic", "offset": 29, "length": 9},  # covers bold and the link: still well nested
        {"type": "text_link", "offset": 34, "length": 4, "url": "https://example.com/?a=1&b=\"2\""},
        {"type": "bot_command", "offset": 39, "length": 5},
    ]
    html = render_text(text, entities, BOT_USERNAME)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<i><b>bold</b></i><i> </i>" in html
    assert '<i><a href="https://example.com/?a=1&amp;b=&quot;2&quot;" target="_blank"' in html
    assert 'data-command="/help">/help</a>' in html
    assert html.startswith("👋 ")


def test_commands_in_plain_text_are_tappable_but_not_paths_or_dates() -> None:
    html = render_text("Нажмите /start. См. https://example.com/help, 12/03, a/b", [], BOT_USERNAME)
    assert html.count('class="command"') == 1 and 'data-command="/start"' in html


def test_unsafe_links_are_not_links_and_deep_links_are_recognised() -> None:
    html = render_text("click", [{"type": "text_link", "offset": 0, "length": 5, "url": "javascript:alert(1)"}],
                       BOT_USERNAME)
    assert "href" not in html and "javascript" not in html
    link = f"https://t.me/{BOT_USERNAME}?start=c_123456"
    assert deep_link_payload(link, BOT_USERNAME) == "c_123456"
    assert deep_link_payload("https://t.me/other_bot?start=c_1", BOT_USERNAME) is None
    html = render_text(link, [{"type": "url", "offset": 0, "length": len(link)}], BOT_USERNAME)
    assert 'class="deeplink"' in html and 'data-start="c_123456"' in html


def test_a_message_with_keyboards_and_a_document() -> None:
    msg = ChatMessage(message_id=7, chat_id=5, from_bot=True, sender_id=1, method="sendDocument",
                      raw={"message_id": 7, "date": 0, "document": {"file_name": "<x>.csv"}, "caption": "r"},
                      reply_markup={"inline_keyboard": [[{"text": "<b>", "callback_data": "x"},
                                                         {"text": "site", "url": "https://example.com"}]]})
    html = render_message(msg, RenderContext(BOT_USERNAME, ZoneInfo("Europe/Moscow"), {}))
    assert 'data-action="press" data-mid="7" data-row="0" data-col="0">&lt;b&gt;</button>' in html
    assert '<a class="btn" href="https://example.com"' in html


def test_an_invoice_shows_the_product_and_the_total() -> None:
    invoice = {"title": "Сертификат <1>", "description": "На 1 000 ₽", "start_parameter": "",
               "currency": "RUB", "total_amount": 100_000}
    msg = ChatMessage(message_id=8, chat_id=5, from_bot=True, sender_id=1, method="sendInvoice",
                      raw={"message_id": 8, "date": 0, "invoice": invoice},
                      reply_markup={"inline_keyboard": [[{"text": "Pay 1000.00 RUB", "pay": True}]]})
    html = render_message(msg, RenderContext(BOT_USERNAME, ZoneInfo("Europe/Moscow"), {}))
    assert "<b>Сертификат &lt;1&gt;</b><br>На 1 000 ₽<br>1000.00 RUB" in html
    assert "Pay 1000.00 RUB</button>" in html and "[invoice]" not in html


# --- the command line ------------------------------------------------------------------------------


def test_refuses_a_real_token_pointed_at_telegram(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    monkeypatch.delenv("TELEGRAM_API_URL", raising=False)
    assert cli_main(["sandbox", "--port", "0"]) == 2
    assert "refusing to start the sandbox" in capsys.readouterr().err


def test_missing_program_file_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert cli_main(["sandbox", "--program", "no-such.toml"]) == 2
    assert "no such program file" in capsys.readouterr().err


async def test_each_person_sees_the_command_menu_telegram_would_show(sandbox_server: SandboxServer) -> None:
    """The "/" menu comes from fakegram's scope resolution: the cashier's and the owner's own
    chat-scoped lists (issue 16, bot/role_commands.py) beat the all-private-chats one the
    customers see; a list set for one chat changes only that chat."""
    from aiogram.types import BotCommand, BotCommandScopeChat

    from bot.role_commands import OWNER_COMMANDS, STAFF_COMMANDS

    world = sandbox_server.sandbox.w
    customer, cashier, owner = (next(p for p in world.people.values() if p.role == role)
                                for role in ("customer", "cashier", "owner"))
    start_menu = world.commands_for(customer)
    assert "/start" in [c["command"] for c in start_menu] and "/sale" not in [c["command"] for c in start_menu]
    assert [c["command"] for c in world.commands_for(cashier)] == [f"/{name}" for name in STAFF_COMMANDS]
    assert [c["command"] for c in world.commands_for(owner)] == [f"/{name}" for name in OWNER_COMMANDS]
    bot = world.tg.make_bot()
    try:
        await bot.set_my_commands([BotCommand(command="sale", description="Продажа")],
                                  scope=BotCommandScopeChat(chat_id=cashier.user.id))
    finally:
        await bot.session.close()
    assert world.commands_for(cashier) == [{"command": "/sale", "description": "Продажа"}]
    assert world.commands_for(customer) == start_menu


# --- files, deep links, the clock, restarts, the database (issue 16) ------------------------------

CSV_BASE = ("phone;name;balance\r\n"
            "89160000101;Ольга;500\r\n"
            "89160000102;Пётр;\r\n")


async def attach(client: Client, chat_id: int, data: bytes, filename: str, content_type: str) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(chat_id))
    form.add_field("document", data, filename=filename, content_type=content_type)
    async with client.http.post(client.server.url + "/api/document", data=form) as response:
        assert response.status == 200, await response.text()


def button_at(html: str, label: str) -> dict[str, int]:
    """The position of the inline button with this label in a rendered message."""
    found = re.search(r'data-action="press" data-mid="(\d+)" data-row="(\d+)" data-col="(\d+)">'
                      + re.escape(label) + "</button>", html)
    assert found, f"no button {label!r} in {html}"
    return {"message_id": int(found.group(1)), "row": int(found.group(2)), "col": int(found.group(3))}


async def test_a_file_attached_in_the_owner_chat_is_imported(client: Client) -> None:
    """📎 sends a real Telegram document: the bot downloads it by file_id (getFile + the file route)."""
    owner = await client.person("owner")
    await client.post("/api/send", {"chat_id": owner, "text": "/import"})
    await client.bot_message(owner, "phone,name")
    data = CSV_BASE.encode("cp1251")
    await attach(client, owner, data, "base.csv", "text/csv")
    own = await client.event(lambda e: e["type"] == "message" and e["chat_id"] == owner
                             and 'class="msg user' in e["html"])
    assert 'class="doc"' in own["html"] and "📄 base.csv" in own["html"]
    file_id = re.search(r'href="/files/([^"]+)"', own["html"]).group(1)  # type: ignore[union-attr]
    stored = client.server.sandbox.w.tg.files[file_id]
    assert stored.data == data and stored.file_name == "base.csv" and stored.kind == "document"
    plan = await client.bot_message(owner, "Проверка файла")
    assert "будет создано клиентов: 2" in plan["html"]
    await client.post("/api/press", {"chat_id": owner, **button_at(plan["html"], ru("import-button-confirm", n=2))})
    await client.bot_message(owner, ru("import-done", created=2, points=500, imported=0, errors=0).split(",")[0])


async def test_a_program_file_attached_after_program_shows_the_diff(client: Client) -> None:
    owner = await client.person("owner")
    await client.post("/api/send", {"chat_id": owner, "text": "/program"})
    await client.bot_message(owner, "версия 1")
    toml = CASE_A.read_text(encoding="utf-8").replace("points = 300", "points = 500", 1).encode()
    await attach(client, owner, toml, "program.toml", "application/octet-stream")
    diff = await client.bot_message(owner, ru("program-diff-head", version=1))
    assert f"{ru('program-set-welcome-points')}: 300 → <b>500</b>" in diff["html"]
    await client.post("/api/press", {"chat_id": owner, **button_at(diff["html"], ru("program-button-apply"))})
    await client.bot_message(owner, ru("program-applied", version=2).split(".")[0])
    assert "no file" in (await client.post("/api/document", {"chat_id": owner}, status=400))["error"]


def test_bare_links_in_a_bot_text_are_links_and_deep_links_open_in_the_sandbox() -> None:
    """The bot sends invite links as plain text (no entity): Telegram still shows them as links."""
    invite = f"https://t.me/{BOT_USERNAME}?start=staff_AbCdEf123456"
    text = (f"Ссылка: {invite}.\nДругу: t.me/{BOT_USERNAME}?start=r_abcd, сайт https://example.com/a?b=1&c=<x> "
            "и /help; не ссылка: a.t.me/x, mail@t.me/x")
    html = render_text(text, [], BOT_USERNAME)
    assert (f'<a class="deeplink" href="{invite}" data-start="staff_AbCdEf123456" '
            f'title="open this link as one of the simulated users">{invite}</a>.') in html
    assert 'data-start="r_abcd"' in html and f">t.me/{BOT_USERNAME}?start=r_abcd</a>," in html
    assert '<a href="https://example.com/a?b=1&amp;c=" target="_blank"' in html  # stops at "<", escaped
    assert "&lt;x&gt;" in html and "<x>" not in html
    assert 'data-command="/help"' in html
    assert html.count("<a ") == 4  # a.t.me and mail@t.me are not links
    # A link a bot sends as an entity (HTML <a href>) or a URL button: the same deep link.
    entity = render_text("вступить", [{"type": "text_link", "offset": 0, "length": 8, "url": invite}], BOT_USERNAME)
    assert 'class="deeplink"' in entity and 'data-start="staff_AbCdEf123456"' in entity


async def test_a_staff_invite_link_is_followed_by_a_new_person(client: Client) -> None:
    owner = await client.person("owner")
    await client.post("/api/send", {"chat_id": owner, "text": "/staff"})
    staff = await client.bot_message(owner, ru("staff-btn-invite"))
    await client.post("/api/press", {"chat_id": owner, **button_at(staff["html"], ru("staff-btn-invite"))})
    invite = await client.bot_message(owner, "start=staff_")
    payload = re.search(r'class="deeplink" href="[^"]+" data-start="(staff_[^"]+)"', invite["html"]).group(1)  # type: ignore[union-attr]
    added = await client.post("/api/customers", {"role": "cashier"})
    newcomer = added["person"]
    assert newcomer["role"] == "cashier" and newcomer["name"] == "Пётр"
    await client.post("/api/customers", {"role": "admin"}, status=400)
    async with client.http.get(f"{client.server.url}/chat/{newcomer['id']}") as response:
        assert "новый сотрудник" in await response.text()
    await client.post("/api/start", {"chat_id": newcomer["id"], "payload": payload})
    await client.bot_message(owner, "Пётр")  # the owner is told a cashier joined
    welcome = ru("staff-welcome", name="Пётр").split("!")[0]
    assert any(welcome in html for html in (await client.state())["chats"][str(newcomer["id"])]["messages"])


async def test_the_page_carries_the_clock_the_instance_and_the_notes(client: Client) -> None:
    sandbox = client.server.sandbox
    async with client.http.get(client.server.url + "/") as response:
        page = await response.text()
    clock = sandbox.w.clock_info()
    assert f'data-instance="{sandbox.instance}"' in page
    assert f'data-tz="{clock["tz"]}"' in page and 'data-iso="' in page
    # The consent message links case A's placeholder policy: the page says so.
    assert 'id="policy-note"' in page and "https://example.com/privacy" in page and "PRIVACY_POLICY_URL" in page
    assert "Возвращение клиента: через 30 дн. без покупок" in page  # case A's win-back
    database = (await client.state())["database"]
    assert database["path"] == str(sandbox.w.database_path) and database["path"] in page
    moved = await client.post("/api/clock", {"days": 31})
    assert moved["clock"]["date"] > clock["date"]


async def test_a_restarted_server_is_another_instance(tmp_path: Any, unused_tcp_port: int) -> None:
    from sandbox.world import Sandbox

    instances = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        async with SandboxServer(Sandbox(CASE_A, data_dir=tmp_path / run), port=unused_tcp_port) as server, \
                aiohttp.ClientSession() as http, http.ws_connect(server.url + "/ws") as ws:
            hello = json.loads((await ws.receive()).data)
            instances.append(hello["instance"])
            assert hello["generation"] == 1
    assert instances[0] != instances[1]


async def test_the_cli_reads_the_sandbox_database(client: Client, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """What the page's "База и командная строка" says works, while the sandbox runs."""
    anna = await client.person("customer")
    await client.post("/api/send", {"chat_id": anna, "text": "/start"})
    consent = await client.bot_message(anna, ru("reg-button-agree"))
    await client.post("/api/press", {"chat_id": anna, **button_at(consent["html"], ru("reg-button-agree"))})
    await client.event(lambda e: e["type"] == "keyboard" and "contact" in e["html"])
    await client.post("/api/key", {"chat_id": anna, "row": 0, "col": 0})
    for label in ("reg-button-keep-name", "reg-button-skip-birthday"):  # reply-keyboard keys
        await client.event(lambda e, text=ru(label): e["type"] == "keyboard" and text in e["html"])
        await client.post("/api/send", {"chat_id": anna, "text": ru(label)})
    await client.event(lambda e: e["type"] == "message" and e["chat_id"] == anna and 'class="photo"' in e["html"])
    database = (await client.state())["database"]
    today = client.server.sandbox.w.clock_info()["date"]
    assert database["report"] == f"loyalty-bot report --database {database['url']}"
    capsys.readouterr()
    code = await asyncio.to_thread(cli_main, [*database["report"].split()[1:], "--to", today, "--format", "json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["figures"]["customers"] == 1 and report["period"]["to"] == today  # Анна, registered just now
    monkeypatch.setenv("DATABASE_URL", database["url"])
    monkeypatch.delenv("PHONE_HASH_KEY", raising=False)
    monkeypatch.delenv("PHONE_HASH_KEY_FILE", raising=False)
    assert await asyncio.to_thread(cli_main, ["check"]) == 0  # the phone key is found next to the database


def test_the_sandbox_starts_on_case_a_unless_a_program_is_configured(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Any) -> None:
    """+31 дней must show a win-back: the starter template waits 45 days, case A 30."""
    from bot.commands.sandbox import _configured_program
    from models.program.rules import load_program_file

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("PROGRAM_FILE", raising=False)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    chosen = _configured_program()
    assert chosen.resolve() == CASE_A.resolve()
    winback = load_program_file(chosen).winback
    assert winback is not None and winback.after_days <= 31
    monkeypatch.setenv("PROGRAM_FILE", "default")
    assert _configured_program().name == "default.toml"
    (tmp_path / ".env").write_text("PROGRAM_FILE=cosmocode\n")
    monkeypatch.delenv("PROGRAM_FILE")
    assert _configured_program().name == "cosmocode.toml"
