"""Issue 16, "Roles": a bot that knows who it talks to. End to end through fakegram, in Russian
and English: each role's own command list (per chat scope and language; set on joining, deleted
on revocation, set at start-up in the background), the till's keyboard whose keys do what their
commands do, staff and owners never getting the customer's texts, a bare /sale followed by a
phone number, the owner told when a cashier joins."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram.types import BotCommand, BotCommandScopeChat
from sqlalchemy import select

from bot import role_commands
from bot.i18n import LOCALES
from bot.runner import MENU_COMMANDS, run_bot, set_commands
from fakegram import ChatMessage, FakeTelegram, FakeUser
from models.kernel.db import Database
from models.kernel.tables import OutboxMessage, Role, Staff
from tests.helpers import fresh_code

from .conftest import OWNER_ID, TOKEN, BotEnv, make_settings

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
CASE_A = Path(__file__).resolve().parents[2] / "programs" / "case-a.toml"
LANGS = pytest.mark.parametrize("lang", ["ru", "en"])


def plain(env: BotEnv, user: FakeUser, key: str, **args: object) -> str:
    """A text as the user reads it (HTML tags gone)."""
    return re.sub(r"<[^>]+>", "", env.text(user, key, **args))


def first_line(env: BotEnv, user: FakeUser, key: str) -> str:
    return plain(env, user, key).splitlines()[0]


def names(commands: list[dict[str, object]]) -> list[str]:
    return [str(c["command"]) for c in commands]


def keyboard_labels(user: FakeUser) -> list[str]:
    markup = user.chat.reply_keyboard or {}
    return [str(b["text"]) for row in markup.get("keyboard", []) for b in row]


def customer_texts(env: BotEnv, user: FakeUser) -> list[str]:
    """What only a customer or a guest should ever read."""
    return [first_line(env, user, key) for key in (
        "common-start-hint", "fallback-text-guest", "common-help-guest", "reg-consent-no-policy",
        "fallback-text", "menu-prompt")] + [plain(env, user, "reg-consent", url="x").split("x")[0][:40]]


def assert_no_customer_texts(env: BotEnv, user: FakeUser) -> None:
    said = [m.content for m in user.chat.bot_messages()]
    for text in customer_texts(env, user):
        assert not any(text in message for message in said), f"{text!r} was said to staff:\n{user.transcript()}"


async def join_by_invite(env: BotEnv, user: FakeUser) -> ChatMessage:
    """The owner makes an invite in /staff; `user` opens it. Returns the user's first message."""
    owner = env.owner
    await owner.command("staff")
    await env.press(owner, env.text(owner, "staff-btn-invite"))
    invite = await owner.expect_text(pattern=r"start=staff_")
    payload = re.search(r"start=(staff_[A-Za-z0-9_-]+)", invite.content)
    assert payload is not None
    await user.start(payload.group(1))
    return await user.expect_text(plain(env, user, "staff-welcome", name=user.first_name))


async def customer_defaults(env: BotEnv) -> None:
    """The customer's default list, as `loyalty-bot run` sets it at start-up."""
    await set_commands(env.bot, env.i18n)


# --- The command lists ------------------------------------------------------------------------

@pytest.mark.botenv(postgres=True)
async def test_a_cashier_gets_the_staff_commands_on_joining_and_loses_them_on_revocation(botenv: BotEnv) -> None:
    env = botenv
    await customer_defaults(env)
    ru, en = env.customer("Мария", language_code="ru"), env.customer("Mary", language_code="en")
    for cashier in (ru, en):
        await join_by_invite(env, cashier)
    await env.settle()

    # Each joined cashier's chat has the staff list in both languages, and sees it in theirs.
    for cashier in (ru, en):
        calls = [c for c in env.tg.calls("setMyCommands", chat_id=cashier.id) if c.status == 200]
        assert {(c.params["scope"]["type"], c.params.get("language_code")) for c in calls} == {
            ("chat", None), ("chat", "en")}
        seen = cashier.commands()
        assert names(seen) == list(role_commands.STAFF_COMMANDS)
        locale = env.locale_of(cashier)
        assert [c["description"] for c in seen] == [env.i18n.get(locale, f"cmd-{n}")
                                                    for n in role_commands.STAFF_COMMANDS]
    assert env.tg.commands_for(ru.id)[1]["description"] == "Продажа без карты"
    assert env.tg.commands_for(en.id)[1]["description"] == "Sale without a card"
    # A customer still sees the customer's list.
    anna = env.customer("Анна")
    await env.register(anna)
    assert names(anna.commands()) == list(MENU_COMMANDS)

    # Revoked: the chat's own lists are deleted (both languages), the customer's list is back.
    owner = env.owner
    await owner.command("staff")
    await env.press(owner, env.text(owner, "staff-btn-revoke", name="Mary"))
    await env.settle()
    deleted = env.tg.calls("deleteMyCommands", chat_id=en.id)
    assert {(c.params["scope"]["type"], c.params.get("language_code")) for c in deleted} == {
        ("chat", None), ("chat", "en")}
    assert names(en.commands()) == list(MENU_COMMANDS)
    assert en.commands()[0]["description"] == env.i18n.get("en", "cmd-start")
    assert names(ru.commands()) == list(role_commands.STAFF_COMMANDS)  # the other one keeps hers
    # Her old till keyboard is not hers any more: refused, not a sale.
    await env.press(en, env.text(en, "staff-key-sale"))
    await en.expect_text(env.text(en, "not-allowed"))
    assert env.errors == []


async def test_start_up_sets_every_role_s_list_in_the_background(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """`loyalty-bot run`: the owner's and every cashier's lists, the revoked member's deleted, in a
    background task: a slow Telegram for one chat does not hold polling, and a chat the bot has
    never seen is one warning line, never a traceback."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'roles.db'}"
    db = Database(url)
    await db.create_all()
    async with FakeTelegram(token=TOKEN, bot_username="cafe_bonus_bot") as tg:
        owner = tg.user(id=OWNER_ID, first_name="Owner", language_code="en")
        cashier = tg.user(first_name="Мария")
        gone = tg.user(first_name="Пётр")
        stranger_id = 777_000_111  # staff whose account the bot has never seen
        async with db.transaction() as session:
            session.add_all([
                Staff(telegram_id=cashier.id, display_name="Мария", role=Role.STAFF, active=True,
                      created_at=NOW),
                Staff(telegram_id=stranger_id, display_name="Никто", role=Role.STAFF, active=True,
                      created_at=NOW),
                Staff(telegram_id=gone.id, display_name="Пётр", role=Role.STAFF, active=False,
                      created_at=NOW)])
        await db.dispose()
        bot = tg.make_bot()
        await bot.set_my_commands([BotCommand(command="sale", description="old")],
                                  scope=BotCommandScopeChat(chat_id=gone.id))  # left from before
        await bot.session.close()
        tg.slow("setMyCommands", 2.5, chat_id=cashier.id)  # this chat answers slowly
        settings = make_settings(tg, db, database_url=url, program_file=CASE_A)
        stop = asyncio.Event()
        caplog.set_level(logging.INFO, logger="bot.role_commands")
        task = asyncio.create_task(run_bot(settings, stop_event=stop, install_signals=False))
        try:
            await tg.wait_for(lambda: tg.stats.calls["getUpdates"] > 0, timeout=15)
            guest = tg.user(first_name="Анна")
            await guest.start()
            await guest.expect_text("Добро пожаловать")  # answered while the slow chat still waits
            assert names(cashier.commands()) == list(MENU_COMMANDS)  # not yet: still the customer's list
            await tg.wait_for(lambda: names(cashier.commands()) == list(role_commands.STAFF_COMMANDS)
                              and names(gone.commands()) == list(MENU_COMMANDS), timeout=15)
            await tg.wait_for(lambda: any("role commands:" in r.getMessage() and "staff and owners" in r.getMessage()
                                          for r in caplog.records), timeout=15)
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 15) == 0
    assert names(owner.commands()) == list(role_commands.OWNER_COMMANDS)
    assert owner.commands()[2]["description"] == "Report"  # "en" list for the English owner
    assert names(cashier.commands()) == list(role_commands.STAFF_COMMANDS)
    assert names(gone.commands()) == list(MENU_COMMANDS)  # the revoked member's own list is gone
    ours = [r for r in caplog.records if r.name == "bot.role_commands"]
    failures = [r for r in ours if r.levelno == logging.WARNING]
    assert failures and all(str(stranger_id) in r.getMessage() and "chat not found" in r.getMessage()
                            and r.exc_info is None and "\n" not in r.getMessage() for r in failures)


async def test_stopping_while_the_lists_are_being_set_is_quick_and_quiet(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stop.db'}"
    db = Database(url)
    await db.create_all()
    await db.dispose()
    async with FakeTelegram(token=TOKEN, bot_username="cafe_bonus_bot") as tg:
        owner = tg.user(id=OWNER_ID, first_name="Owner")
        tg.slow("setMyCommands", 30, chat_id=owner.id)  # Telegram hangs on this chat
        stop = asyncio.Event()
        caplog.set_level(logging.INFO, logger="bot.role_commands")
        task = asyncio.create_task(run_bot(make_settings(tg, db, database_url=url, program_file=CASE_A),
                                           stop_event=stop, install_signals=False))
        await tg.wait_for(lambda: tg.stats.calls["getUpdates"] > 0, timeout=15)
        await tg.wait_for(lambda: bool(tg.calls("setMyCommands", chat_id=owner.id)), timeout=5)
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
    ours = [r for r in caplog.records if r.name == "bot.role_commands"]
    assert [r.levelno for r in ours] == [logging.INFO] and "stopping" in ours[0].getMessage()


# --- The cashier's screens ------------------------------------------------------------------

@LANGS
async def test_a_new_cashier_learns_the_three_ways_and_every_key_works(botenv: BotEnv, lang: str) -> None:
    env = botenv
    cashier = env.customer("Ольга" if lang == "ru" else "Olga", language_code=lang)
    welcome = await join_by_invite(env, cashier)
    for line in plain(env, cashier, "staff-find-ways").splitlines():
        assert line in welcome.content  # the first message: scan the QR, type the code, type the phone
    assert welcome.keyboard_type == "reply"
    keys = [env.text(cashier, k) for k in ("staff-key-find", "staff-key-sale", "staff-key-refund", "staff-key-me",
                                           "menu-card")]
    assert keyboard_labels(cashier) == keys
    await cashier.expect_text(plain(env, cashier, "staff-name-is", name=cashier.first_name))
    assert cashier.chat.bot_messages()[-1].button_texts == [env.text(cashier, "staff-btn-rename")]

    await env.press(cashier, keys[0])  # find a customer: the three ways again
    await cashier.expect_text(first_line(env, cashier, "staff-find-ways"))
    await env.press(cashier, keys[3])  # my figures = /me
    await cashier.expect_text(plain(env, cashier, "staff-me-head", name=cashier.first_name))
    await env.press(cashier, keys[4])  # my card: not a member yet
    await cashier.expect_text(env.text(cashier, "staff-no-own-card"))

    # A purchase, then the Refund key (= bare /refund): the number, then the receipt's question.
    anna = env.customer("Анна")
    customer = await env.register(anna)
    await cashier.send(await fresh_code(env.dom, customer))
    await cashier.expect_text(env.text(cashier, "staff-ask-amount"))  # the bot waits for the amount
    await env.press(cashier, keys[1])  # a key at the amount prompt is the key, not an amount
    await cashier.expect_text(env.text(cashier, "staff-ask-sale-amount"))
    await cashier.send("500")
    sale = await cashier.expect_text(pattern=r"№|#")
    sale_number = re.search(r"(?:№|#)(\d+)", sale.content)
    await cashier.send(await fresh_code(env.dom, customer))
    await cashier.send("1000")
    await env.press(cashier, env.text(cashier, "staff-btn-no-points"))
    await env.press(cashier, env.text(cashier, "staff-btn-confirm"))
    receipt = await cashier.expect_text(pattern=r"✅")
    number = re.search(r"(?:№|#)(\d+)", receipt.content)
    assert number is not None and sale_number is not None
    await env.press(cashier, keys[2])
    await cashier.expect_text(env.text(cashier, "staff-ask-refund-number"))
    await cashier.send("abc")
    await cashier.expect_text(env.text(cashier, "staff-refund-number-bad"))
    await cashier.send(sale_number.group(1))  # a sale without a card is not a purchase to refund
    await cashier.expect_text(env.text(cashier, "staff-error-not-found"))
    await cashier.send(number.group(1))  # still asked: the number of the purchase
    await cashier.expect_text(pattern=r"1[ ,\u00a0]?000")
    await env.press(cashier, plain(env, cashier, "staff-btn-refund-full", amount=100_000))
    await cashier.expect_text("↩️")
    assert_no_customer_texts(env, cashier)


@LANGS
async def test_a_cashier_s_start_cancel_help_and_stray_messages_are_the_till_s(botenv: BotEnv, lang: str) -> None:
    env = botenv
    cashier = env.customer("Мария" if lang == "ru" else "Mary", language_code=lang)
    await env.add_staff(cashier, cashier.first_name)
    await cashier.start()
    home = await cashier.expect_text(plain(env, cashier, "staff-home", name=cashier.first_name))
    assert first_line(env, cashier, "staff-find-ways") in home.content
    assert env.text(cashier, "staff-home-join") in home.content
    assert keyboard_labels(cashier)[0] == env.text(cashier, "staff-key-find")
    await cashier.command("cancel")
    await cashier.expect_text(env.text(cashier, "common-nothing-to-cancel"))
    await cashier.send("привет" if lang == "ru" else "hello")
    await cashier.expect_text(env.text(cashier, "staff-not-understood"))
    await cashier.send_sticker()
    await cashier.expect_text(env.text(cashier, "staff-not-understood"))
    await cashier.command("help")
    await cashier.expect_text(first_line(env, cashier, "common-help-staff")[:40])
    await cashier.command("sale")
    await cashier.expect_text(env.text(cashier, "staff-ask-sale-amount"))
    await cashier.command("cancel")
    await cashier.expect_text(env.text(cashier, "cancelled"))
    await env.settle()
    assert await env.customer_id(cashier) is None  # no registration was started
    assert_no_customer_texts(env, cashier)
    assert keyboard_labels(cashier)[0] == env.text(cashier, "staff-key-find")  # the till's keyboard stays


@LANGS
async def test_a_cashier_who_is_also_a_member(botenv: BotEnv, lang: str) -> None:
    """Decision: /start is the till; their own card is the "My card" key (a colleague serves it);
    a cashier who is not a member joins with /join and keeps the till's keyboard."""
    env = botenv
    member = env.customer("Вера" if lang == "ru" else "Vera", language_code=lang)
    await env.register(member)
    await env.add_staff(member, member.first_name)
    await member.start()
    home = await member.expect_text(plain(env, member, "staff-home", name=member.first_name))
    assert env.text(member, "staff-home-own-card") in home.content
    await env.press(member, env.text(member, "menu-card"))
    card = await member.expect()
    assert card.photo is not None

    newcomer = env.customer("Нина" if lang == "ru" else "Nina", language_code=lang)
    await env.add_staff(newcomer, newcomer.first_name)
    await newcomer.command("join")
    await env.press(newcomer, env.text(newcomer, "reg-button-agree"))
    await env.press(newcomer, env.text(newcomer, "reg-button-share-phone"))
    await env.press(newcomer, env.text(newcomer, "reg-button-keep-name"))
    await env.press(newcomer, env.text(newcomer, "reg-button-skip-birthday"))
    await newcomer.expect_text(plain(env, newcomer, "reg-done", name=newcomer.first_name))
    await env.settle()
    assert await env.customer_id(newcomer) is not None
    assert env.text(newcomer, "staff-key-sale") in keyboard_labels(newcomer)


@LANGS
async def test_a_bare_sale_then_a_phone_number_finds_the_customer(botenv: BotEnv, lang: str) -> None:
    env = botenv
    anna = env.customer("Анна", phone="+79161112233")
    await env.register(anna)
    cashier = env.customer("Мария", language_code=lang)
    await env.add_staff(cashier, "Мария")
    await cashier.command("sale")
    await cashier.expect_text(env.text(cashier, "staff-ask-sale-amount"))
    await cashier.send("8 916 111-22-33")
    await cashier.expect_text(env.text(cashier, "staff-sale-phone"))
    await cashier.expect_text("Анна")
    await cashier.send("1000")  # the check amount of Anna's purchase, not a sale without a card
    await cashier.expect_text(pattern=r"Чек|Check")
    assert not any(env.text(cashier, "staff-amount-format") in m.content for m in cashier.chat.bot_messages())
    # An unknown number offers to create the customer, as a phone typed at any time does.
    await cashier.command("sale")
    await cashier.send("+7 926 000-11-22")
    await cashier.expect_text(env.text(cashier, "staff-sale-phone"))
    await cashier.expect_text("+79260001122")
    # And an amount is still a sale without a card.
    await cashier.command("sale")
    await cashier.send("700")
    await cashier.expect_text(pattern=r"№|#")


# --- The owner -------------------------------------------------------------------------------

@LANGS
async def test_the_owner_s_start_and_menu_reach_everything(botenv: BotEnv, lang: str) -> None:
    env = botenv
    owner = env.owner
    owner.language_code = lang
    await owner.start()
    await owner.expect_text(plain(env, owner, "owner-home", name="Owner"))
    menu = await owner.expect_text(first_line(env, owner, "owner-menu"))
    for key in ("report", "staff", "api", "program", "promocodes", "find"):
        assert env.text(owner, f"owner-menu-{key}") in menu.button_texts
    assert plain(env, owner, "reg-consent-no-policy")[:30] not in "\n".join(m.content for m in owner.chat.messages)
    labels = keyboard_labels(owner)
    assert env.text(owner, "owner-key-menu") in labels and env.text(owner, "staff-key-sale") in labels
    assert await env.customer_id(owner) is None

    await env.press(owner, env.text(owner, "owner-menu-report"))
    await owner.expect_text(env.text(owner, "report-choose-period"))
    await env.press(owner, env.text(owner, "owner-menu-staff"))
    await owner.expect_text(plain(env, owner, "staff-list-head"))
    await env.press(owner, env.text(owner, "owner-menu-api"))
    await owner.expect_text(plain(env, owner, "api-keys-title"))
    await owner.send(env.text(owner, "owner-key-report"))  # the keyboard's Report = /report
    await owner.expect_text(env.text(owner, "report-choose-period"))
    await owner.send(env.text(owner, "owner-key-menu"))  # = /owner
    await owner.expect_text(first_line(env, owner, "owner-menu"))
    await owner.command("report")
    await owner.expect_text(env.text(owner, "report-choose-period"))
    await owner.command("staff")
    await owner.expect_text(plain(env, owner, "staff-list-head"))
    # Anyone else: /report and /staff are refused like the other owner commands.
    stranger = env.customer("Чужой", language_code=lang)
    await stranger.command("report")
    await stranger.expect_text(env.text(stranger, "owner-refused"))
    await stranger.command("staff")
    await stranger.expect_text(env.text(stranger, "owner-refused"))


@pytest.mark.botenv(postgres=True)
async def test_the_owner_is_told_when_a_cashier_joins(botenv: BotEnv) -> None:
    env = botenv
    owner = env.owner
    cashier = env.customer("Ольга")
    await join_by_invite(env, cashier)
    told = await owner.expect_text(plain(env, owner, "staff-joined", name="Ольга"))
    assert "/staff" in told.content
    async with env.db.reading() as session:
        rows = list((await session.execute(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.like("staff-joined:%")))).scalars())
    assert len(rows) == 1 and rows[0].chat_id == owner.id
    # The same link again: refused, and no second notice.
    other = env.customer("Чужой")
    invite = next(m for m in reversed(owner.chat.bot_messages()) if "start=staff_" in m.content)
    payload = re.search(r"start=(staff_[A-Za-z0-9_-]+)", invite.content)
    assert payload is not None
    await other.start(payload.group(1))
    await other.expect_text(env.text(other, "staff-error-invite-used"))
    await env.settle()
    async with env.db.reading() as session:
        assert len(list((await session.execute(select(OutboxMessage.id).where(
            OutboxMessage.dedupe_key.like("staff-joined:%")))).scalars())) == 1

    # In English for an owner who reads English (the language they chose, like every notice).
    owner.language_code = "en"
    await env.choose_language(owner, "en")
    mary = env.customer("Mary", language_code="en")
    await join_by_invite(env, mary)
    await owner.expect_text(plain(env, owner, "staff-joined", name="Mary"))
    assert set(LOCALES) == {"ru", "en"}
