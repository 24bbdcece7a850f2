"""Registration through the real bot: deep links, wrong contacts, bad birthdays."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from models.kernel.tables import (
    Campaign,
    Customer,
    LinkVisit,
    Lot,
    LotKind,
    SourceKind,
    Staff,
    TelegramAccount,
)

from .conftest import BotEnv


@pytest.mark.botenv(postgres=True)
async def test_plain_registration_gives_welcome_points_and_the_card(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    await anna.start()
    welcome = await anna.expect_text("Добро пожаловать")
    assert "300 баллов" in welcome.text
    consent = await anna.expect()
    assert "https://example.com/privacy" in str(consent.raw)
    await anna.press("Согласен")
    ask = await anna.expect_text("номером телефона")
    assert ask.reply_markup and ask.reply_markup["keyboard"][0][0]["request_contact"] is True
    await anna.press("Поделиться номером")
    name = await anna.expect_text("Как к вам обращаться")
    assert "Анна" in name.text
    await anna.send("Анна Петровна")
    await anna.expect_text("день рождения")
    await anna.send("31.12.1990")
    done = await anna.expect_text("Готово")
    assert "300 баллов" in done.text
    card = await anna.expect()
    assert card.photo is not None and card.photo.startswith(b"\x89PNG")
    assert "Обновить код" in card.button_texts
    async with botenv.db.reading() as s:
        customer = (await s.execute(select(Customer))).scalar_one()
        account = await s.get(TelegramAccount, anna.id)
    assert customer.name == "Анна Петровна"
    assert customer.birthday == date(1990, 12, 31)
    assert customer.phone == anna.phone
    assert account is not None and account.customer_id == customer.id and account.language == "ru"


async def test_register_helper(botenv: BotEnv) -> None:
    bob = botenv.customer("Bob", language_code="en")
    customer_id = await botenv.register(bob)
    async with botenv.db.reading() as s:
        lots = list((await s.execute(select(Lot).where(Lot.customer_id == customer_id))).scalars())
    assert [lot.kind for lot in lots] == [LotKind.WELCOME]


async def _customer(botenv: BotEnv, customer_id: int) -> Customer:
    async with botenv.db.reading() as s:
        customer = await s.get(Customer, customer_id)
        assert customer is not None
        return customer


async def test_referral_link_fixes_the_referrer(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    anna_id = await botenv.register(anna)
    code = (await _customer(botenv, anna_id)).referral_code
    boris = botenv.customer("Борис")
    boris_id = await botenv.register(boris, payload=f"r_{code}")
    boris_row = await _customer(botenv, boris_id)
    assert boris_row.referrer_id == anna_id
    assert boris_row.source_kind == SourceKind.REFERRAL
    # Opening the link again as a member changes nothing and says so.
    await boris.start(f"r_{code}")
    await boris.expect_text("приглашение действует только для новых")
    await boris.expect_text("С возвращением")


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_referrer_hears_when_a_friend_joins_and_when_they_first_buy(botenv: BotEnv, language: str) -> None:
    """Issue 16: the invitation names the business; the referrer is told when a friend joins
    by their link and when the friend's first purchase pays them."""
    from urllib.parse import parse_qs, urlsplit

    from models.purchase.purchases import PurchaseRequest, commit_purchase

    anna = botenv.customer("Анна", language_code=language)
    anna_id = await botenv.register(anna)
    await anna.send("/invite")
    invite = await anna.expect_text(botenv.text(anna, "invite-link", link="")[:10])
    share = next(b["url"] for b in invite.inline_buttons if b.get("url"))
    [text] = parse_qs(urlsplit(share).query)["text"]
    assert "Case A" in text and "300" in text, text
    code = (await _customer(botenv, anna_id)).referral_code
    boris = botenv.customer("Борис")
    boris_id = await botenv.register(boris, payload=f"r_{code}")
    await botenv.settle()
    await anna.expect_text(botenv.text(anna, "notify-friend-joined", name="Борис"))
    await commit_purchase(botenv.dom, PurchaseRequest(customer_id=boris_id, amount_kopecks=100_000))
    await botenv.settle()
    reward = await anna.expect_text("👥")
    assert reward.text.startswith(botenv.text(anna, "notify-referral-reward", level=1, points=0)[:10]), reward.text
    # One message about the friend joining, not one per update.
    assert len([m for m in botenv.tg.chat(anna.id).bot_messages() if "Борис" in m.content]) == 1


@pytest.mark.botenv(postgres=True)
async def test_campaign_link_gives_the_certificate_at_the_end_and_once(botenv: BotEnv) -> None:
    vera = botenv.customer("Вера")
    vera_id = await botenv.register(vera, payload="g_partner1")
    assert (await _customer(botenv, vera_id)).source_kind == SourceKind.CAMPAIGN
    async with botenv.db.reading() as s:
        lots = list((await s.execute(select(Lot).where(Lot.customer_id == vera_id).order_by(Lot.id))).scalars())
        visits = list((await s.execute(select(LinkVisit))).scalars())
    assert [(lot.kind, lot.amount) for lot in lots] == [(LotKind.WELCOME, 300), (LotKind.CERTIFICATE, 500)]
    assert len(visits) == 1 and visits[0].telegram_id == vera.id
    # The certificate notification arrives through the outbox, in Russian.
    assert any("сертификат на 500 баллов" in (m.text or "") for m in vera.bot_messages())
    # A member opening the link again gets nothing twice.
    await vera.start("g_partner1")
    await vera.expect_text("уже получали сертификат")


async def test_member_opening_a_campaign_link_claims_it(botenv: BotEnv) -> None:
    gleb = botenv.customer("Глеб")
    gleb_id = await botenv.register(gleb)
    await gleb.start("g_partner1")
    await gleb.expect_text("Сертификат по акции начислен")
    await botenv.settle()
    async with botenv.db.reading() as s:
        kinds = list((await s.execute(select(Lot.kind).where(Lot.customer_id == gleb_id))).scalars())
    assert LotKind.CERTIFICATE in kinds


async def test_source_link_records_the_visit_and_the_source(botenv: BotEnv) -> None:
    async with botenv.db.transaction() as s:
        s.add(Campaign(code="insta", name="Instagram", is_source=True, created_at=botenv.clock.now()))
    dina = botenv.customer("Дина")
    dina_id = await botenv.register(dina, payload="s_insta")
    row = await _customer(botenv, dina_id)
    assert row.source_kind == SourceKind.SOURCE and row.campaign_id is not None
    async with botenv.db.reading() as s:
        assert len(list((await s.execute(select(LinkVisit))).scalars())) == 1


async def test_staff_enrolment_link_records_the_staff_member(botenv: BotEnv) -> None:
    cashier = botenv.customer("Кассир")
    staff_id = await botenv.add_staff(cashier)
    async with botenv.db.transaction() as s:
        (await s.get(Staff, staff_id)).referral_code = "kassa1"  # type: ignore[union-attr]
    egor = botenv.customer("Егор")
    egor_id = await botenv.register(egor, payload="e_kassa1")
    row = await _customer(botenv, egor_id)
    assert row.source_kind == SourceKind.STAFF and row.enrolled_by_staff_id == staff_id


@pytest.mark.parametrize("payload", ["zzz", "r_", "r_NOPE!", "g_unknown", "x" * 64, "c_12", "staff_short"])
async def test_unknown_or_malformed_payloads_start_normally(botenv: BotEnv, payload: str) -> None:
    user = botenv.customer("Фома")
    await user.send(f"/start {payload}")  # typed: "r_NOPE!" could not come from a deep link
    await user.expect_text("Добро пожаловать")
    await user.expect_text("согласие")


async def test_card_link_opened_by_a_guest_reveals_nothing(botenv: BotEnv) -> None:
    owner_of_card = botenv.customer("Тайна Секретова")
    await botenv.register(owner_of_card)
    stranger = botenv.customer("Прохожий")
    await stranger.start("c_123456")
    note = await stranger.expect_text("карта лояльности другого человека")
    assert "Тайна" not in note.text
    await stranger.expect_text("Добро пожаловать")
    await botenv.settle()
    assert all("Тайна" not in (m.text or "") for m in stranger.bot_messages())


async def test_only_the_users_own_contact_is_accepted(botenv: BotEnv) -> None:
    ivan = botenv.customer("Иван")
    await ivan.start()
    await botenv.press(ivan, "Согласен")
    await ivan.expect_text("номером телефона")
    # Someone else's card (another Telegram id), then a card without any id.
    await ivan.send_contact("+79161112233", user_id=ivan.id + 1, first_name="Чужой")
    await ivan.expect_text("Это не ваш контакт")
    await ivan.send_contact("+79161112233", user_id=None, first_name="Безымянный")
    await ivan.expect_text("Это не ваш контакт")
    # Typing a number instead of pressing the button is explained, too.
    await ivan.send("+79161112233")
    await ivan.expect_text("Нажмите кнопку")
    assert await botenv.customer_id(ivan) is None
    await ivan.send_contact()
    await ivan.expect_text("Как к вам обращаться")


@pytest.mark.parametrize(("typed", "answer"), [
    ("01.01.2030", "ещё не наступила"),  # in the future (the clock says March 2026)
    ("01.01.1900", "больше 120 лет"),
    ("31.02.1990", "Не понял дату"),
    ("1990-13-01", "Не понял дату"),
    ("вчера", "Не понял дату"),
])
async def test_bad_birthdays_are_explained_and_the_step_repeats(botenv: BotEnv, typed: str, answer: str) -> None:
    kira = botenv.customer("Кира")
    await kira.start()
    await botenv.press(kira, "Согласен")
    await botenv.press(kira, "Поделиться номером")
    await botenv.press(kira, "Оставить")
    await kira.expect_text("Когда у вас день рождения")
    await kira.send(typed)
    await kira.expect_text(answer)
    assert await botenv.customer_id(kira) is None
    await kira.send("15.05.1995")
    await kira.expect_text("Готово")
    customer_id = await botenv.customer_id(kira)
    assert customer_id is not None
    assert (await _customer(botenv, customer_id)).birthday == date(1995, 5, 15)


async def test_english_speaker_registers_in_english(botenv: BotEnv) -> None:
    john = botenv.customer("John", language_code="en-US")
    await john.start()
    await john.expect_text("Welcome to the Case A loyalty program")
    customer_id = await botenv.register(john)
    assert (await _customer(botenv, customer_id)).name == "John"
    async with botenv.db.reading() as s:
        assert (await s.get(TelegramAccount, john.id)).language == "en"  # type: ignore[union-attr]


async def test_cancel_mid_registration_and_start_again(botenv: BotEnv) -> None:
    lev = botenv.customer("Лев")
    await lev.start()
    await botenv.press(lev, "Согласен")
    await lev.expect_text("номером телефона")
    await lev.send("/cancel")
    await lev.expect_text("Отменено")
    await lev.send_contact()  # out of the conversation now: a contact means nothing
    await lev.expect_text("нажмите /start")
    assert await botenv.customer_id(lev) is None
    await botenv.register(lev)


async def test_two_messages_at_once_are_handled_one_after_the_other(botenv: BotEnv) -> None:
    """Two updates of one user in the same getUpdates batch: aiogram handles a batch
    concurrently, so without per-user isolation both answers would run in the name step and the
    birthday question would come twice. With it the second one meets the birthday step."""
    anna = botenv.customer("Анна")
    await anna.start()
    await anna.expect_text("Добро пожаловать")
    await anna.expect()  # the consent question
    await anna.press("Согласен")
    await anna.expect_text("номером телефона")
    await anna.press("Поделиться номером")
    await anna.expect_text("Как к вам обращаться")
    await botenv.settle()
    anna.skip_pending()
    await anna.send("Анна Петровна")  # both queued before the bot's next getUpdates
    await anna.send("Аня")
    await botenv.settle()
    texts = [m.text or "" for m in anna.unread]
    assert sum(botenv.text(anna, "reg-ask-birthday") in t for t in texts) == 1, anna.transcript()
    assert any(botenv.text(anna, "reg-birthday-format") in t for t in texts), anna.transcript()


async def test_the_welcome_names_the_welcome_points_once(botenv: BotEnv) -> None:
    """Issue 16: case A's description already says "300 баллов за регистрацию"; the welcome
    does not add "За регистрацию — 300 баллов" under it."""
    anna = botenv.customer("Анна")
    await anna.start()
    welcome = await anna.expect_text("Добро пожаловать")
    assert welcome.text.count("300") == 1, welcome.text
