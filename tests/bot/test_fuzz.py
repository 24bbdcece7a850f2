"""Random updates through the real bot: nothing crashes, everyone gets an answer.

A seeded generator (reproducible: the seed is in the test) sends a few hundred updates
from guests, members, a staff member and the owner: random and huge texts, HTML-looking
text, known and unknown commands, menu buttons, deep-link payloads (valid, malformed,
overlong), stickers, voice, locations, contacts (own, someone else's, without an id,
malformed numbers), photos and documents, and callback data (random, truncated, forged
staff decisions, out-of-range pages) — at any point of any conversation.

The harness fails the test if anything was logged at ERROR (the dispatcher-wide error
handler in handlers/fallback.py logs every unhandled exception there), so "no unhandled
exception" is checked for every update. On top: every private message got at least one
bot message after it, and every callback query was answered.
"""

from __future__ import annotations

import random
import string
from collections.abc import Awaitable, Callable

import pytest

from fakegram import FakeUser

from .conftest import BotEnv
from .test_customer_reviews import SCREENSHOT

SEED = 20261123
UPDATES = 300

MENU = ["💳 Моя карта", "💰 Баланс и история", "🎁 Сертификаты", "👥 Пригласить друзей", "⭐ Оценить визит",
        "⚙️ Настройки", "💳 My card", "⚙️ Settings", "Согласен", "Оставить", "Пропустить", "Отмена",
        "✅ Согласен", "📱 Поделиться номером"]
COMMANDS = ["/start", "/help", "/cancel", "/menu", "/language", "/card", "/balance", "/history", "/certificates",
            "/invite", "/review", "/rate", "/settings", "/nonsense", "/start@test_loyalty_bot", "/START", "/"]
PAYLOADS = ["r_abcd1234", "r_", "g_partner1", "g_nope", "s_insta", "c_123456", "c_12345", "e_kassa1",
            "staff_abcdefgh12", "x" * 64, "y" * 65, "r_" + "z" * 40, "%%%", "привет", "g_partner1 extra"]
CALLBACKS = ["card:refresh", "hist:0", "hist:1", "hist:-1", "hist:abc", "hist:" + "9" * 30, "rate:1:5", "rate:x:y",
             "rate:999999:3", "rate:1:9", "rv:approve:1", "rv:reject:1", "rv:approve:999999", "rv:maybe:1", "rv:",
             "review:rate", "review:site:0", "review:site:9", "review:site:x", "set:lang", "set:birthday",
             "set:erase", "set:erase:no", "lang:ru", "lang:en", "lang:xx", "reg:agree", "co:x", "", "💥",
             "a" * 64]


def random_text(rng: random.Random) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 60))).strip() or "?"
    if kind == 1:
        return "Я" * rng.choice([100, 1000, 4096])
    if kind == 2:
        return rng.choice(["<b>bold</b>", "<script>alert(1)</script>", "a & b < c", "&amp;", "<i>"])
    if kind == 3:
        return rng.choice(["31.12.1990", "29.02.2001", "00.00.0000", "01.01.3000", "1990-01-01", "12.12.12"])
    if kind == 4:
        return rng.choice(["123456", "123 456", "+79161234567", "89161234567", "12250,50", "-5", "0"])
    if kind == 5:
        return "".join(chr(rng.randrange(0x400, 0x4FF)) for _ in range(rng.randrange(1, 30)))
    if kind == 6:
        return rng.choice(["🙂", "👍🏻", "\u200b", "Анна-Мария", "O'Brien", "  spaced   name  "])
    return rng.choice(MENU)


Action = Callable[[], Awaitable[object]]


def random_action(rng: random.Random, user: FakeUser) -> tuple[Action, bool]:
    """An update from `user` and whether it is a private message that needs an answer."""
    roll = rng.randrange(100)
    if roll < 30:
        text = random_text(rng)
        return (lambda: user.send(text)), True
    if roll < 45:
        command = rng.choice(COMMANDS)
        return (lambda: user.send(command)), True
    if roll < 53:
        payload = rng.choice(PAYLOADS)
        # Typed by hand: some payloads are ones a deep link could not carry.
        return (lambda: user.send(f"/start {payload}")), True
    if roll < 58:
        return (lambda: user.send_sticker()), True
    if roll < 61:
        return (lambda: user.send_voice()), True
    if roll < 63:
        return (lambda: user.send_location()), True
    if roll < 70:
        choice = rng.randrange(4)
        if choice == 0:
            return (lambda: user.send_contact()), True
        if choice == 1:
            return (lambda: user.send_contact("+79160000000", user_id=user.id + 7)), True
        if choice == 2:
            return (lambda: user.send_contact("+79160000001", user_id=None)), True
        return (lambda: user.send_contact("not a phone")), True
    if roll < 76:
        data = SCREENSHOT if rng.random() < 0.7 else bytes(rng.randrange(256) for _ in range(64))
        return (lambda: user.send_photo(data, caption=rng.choice([None, "отзыв", "/card"]))), True
    if roll < 78:
        return (lambda: user.send_document(b"hello", "note.txt", "text/plain")), True
    data_choice = rng.choice(CALLBACKS)
    return (lambda: user.press_callback(data_choice, wait=False)), False


@pytest.mark.botenv(per_chat_interval=0.0)
async def test_random_updates_never_crash_the_bot_and_always_get_an_answer(botenv: BotEnv) -> None:
    rng = random.Random(SEED)
    members = [botenv.customer("Участник", phone=f"+7916000000{i}") for i in range(2)]
    for member in members:
        await botenv.register(member)
    cashier = botenv.customer("Кассир")
    await botenv.add_staff(cashier, "Кассир")
    guests = [botenv.customer(rng.choice(["Гость", "Guest", "<b>", "Ян"]), language_code=rng.choice(["ru", "en", None]),
                              phone=f"+7916111111{i}") for i in range(4)]
    people = [*members, *guests, cashier, botenv.owner]
    expecting: list[tuple[FakeUser, int]] = []  # (user, message id of the update needing an answer)
    for n in range(UPDATES):
        user = rng.choice(people)
        action, needs_answer = random_action(rng, user)
        sent = await action()
        if needs_answer:
            expecting.append((user, sent.message_id))  # type: ignore[attr-defined]
        if n % 10 == 9:
            await botenv.settle(timeout=30)
    await botenv.settle(timeout=30)

    unanswered = []
    for user, message_id in expecting:
        ids = [m.message_id for m in user.messages]
        after = user.messages[ids.index(message_id) + 1:]
        if not any(m.from_bot for m in after):
            unanswered.append((user.first_name, user.messages[ids.index(message_id)].describe()))
    assert not unanswered, unanswered[:10]
    assert all(record.answered for record in botenv.tg.callbacks.values())
    assert not botenv.errors  # also enforced by the harness at teardown


async def test_a_failing_handler_is_answered_politely_and_logged(botenv: BotEnv,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The safety net itself: a bug in a screen becomes "something went wrong" plus a log
    record with the user id, for messages and for button presses alike."""
    import handlers.customer_menu

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug in the history screen")

    anna = botenv.customer("Анна")
    await botenv.register(anna)
    monkeypatch.setattr(handlers.customer_menu, "history_page", broken)
    botenv.allow_errors = True
    await anna.send("/balance")
    assert (await anna.expect()).text == "Что-то пошло не так. Попробуйте ещё раз чуть позже."
    answer = await anna.press_callback("hist:1")
    assert answer.text == "Что-то пошло не так. Попробуйте ещё раз чуть позже."
    await botenv.settle()
    logged = [r for r in botenv.errors if r.name == "handlers.fallback"]
    assert len(logged) == 2 and all(str(anna.id) in r.getMessage() for r in logged)
    assert logged[0].exc_info is not None and "a bug in the history screen" in str(logged[0].exc_info[1])
