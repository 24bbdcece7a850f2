"""The owner's tools end to end: the real bot against fakegram on a real database."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, update

from bot.broadcast_progress import ensure_progress
from bot.sender import OutboxSender
from fakegram import FakeUser
from models.kernel.tables import (
    ApiKey,
    AuditEntry,
    Broadcast,
    Campaign,
    Customer,
    Lot,
    LotKind,
    OutboxMessage,
    OutboxStatus,
    TelegramAccount,
)
from models.owner.tools import CampaignSpec, OwnerActor, create_campaign
from models.program.store import current_program
from models.purchase.purchases import adjust_points
from tests.helpers import balance, fresh_code

from .conftest import BotEnv

# End-to-end scenarios run on SQLite (CI time); the domain tests cover both backends.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
PROGRAM = open("programs/case-a.toml", encoding="utf-8").read()


async def program_version(env: BotEnv) -> tuple[int, object]:
    async with env.db.reading() as session:
        return await current_program(session)


# --- program ----------------------------------------------------------------------------------

async def test_program_change_by_file_by_buttons_and_a_bad_file(botenv: BotEnv) -> None:
    owner = botenv.owner
    await owner.send("/program")
    shown = await owner.expect_text("версия 1")
    assert "кешбэк 3%" in shown.text and "За регистрацию: 300 баллов" in shown.text
    await owner.send_document(PROGRAM.replace("points = 300", "points = -5").encode(), "bad.toml")
    bad = await owner.expect_text("не принята")
    assert "welcome.points" in bad.text
    await owner.send_document(b"\xff\xfe not toml", "broken.toml")
    await owner.expect_text("не принята")
    assert (await program_version(botenv))[0] == 1
    await owner.send_document(PROGRAM.replace("points = 300", "points = 500").encode(), "new.toml")
    diff = await owner.expect_text("Изменения относительно версии 1")
    assert "Баллы за регистрацию: 300 → 500" in diff.text, diff.text  # plain words, not welcome.points
    assert "300 → <b>500</b>" not in diff.text  # rendered, not raw HTML
    await botenv.press(owner, "Применить")
    await owner.expect_text("действует версия 2")
    version, program = await program_version(botenv)
    assert version == 2 and program.welcome.points == 500  # type: ignore[attr-defined]
    await owner.send("/program")
    await owner.expect_text("версия 2")
    await botenv.press(owner, "Кешбэк «Статус 2»")
    await owner.expect_text("сейчас 5%")
    await owner.send("сто")
    await owner.expect_text("нужны проценты")
    await owner.send("6,5 %")
    diff = await owner.expect_text("Кешбэк «Статус 2»: 5% → 6,5%")
    assert "cashback_percent" not in diff.text and "tiers" not in diff.text
    await botenv.press(owner, "Применить")
    await owner.expect_text("действует версия 3")
    version, program = await program_version(botenv)
    assert program.tier(1).cashback_percent == Decimal("6.5")  # type: ignore[attr-defined]
    async with botenv.db.reading() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert actions.count("owner.program") == 2


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_program_settings_take_what_a_person_types_and_answer_in_plain_words(
        botenv: BotEnv, language: str) -> None:
    """Issue 16: "5", "5%", "5,5 %" are percentages; each prompt fits its field (a yes/no hint
    only on a switch); refusals and the confirmation name the setting by the tier's name, in
    the owner's language, never a field path or English in Russian."""
    owner = botenv.owner
    if language == "en":
        await botenv.choose_language(owner, "en")
    t = botenv.t(language)
    label = t("program-set-cap", tier="Статус 1" if language == "ru" else "Tier 1")  # the preset's names
    await owner.send("/program")
    await botenv.press(owner, label)
    ask = await owner.expect_text(t("program-ask-percent"))
    assert t("program-ask-switch") not in ask.text and "10%" in ask.text
    for bad, error in (("много", "program-error-percent"), ("150", "program-error-percent"),
                       ("١٢", "program-error-digits")):
        await owner.send(bad)
        refused = await owner.expect_text(t(error, setting=label))
        assert "max_redeem_percent" not in refused.text and "tiers" not in refused.text
    await owner.send("12 %")
    shown = "12%"
    diff = await owner.expect_text(f"{label}: 10% → {shown}")
    await botenv.press(owner, t("program-button-apply"))
    await owner.expect_text(t("program-applied", version=2))
    assert (await program_version(botenv))[1].tier(0).max_redeem_percent == Decimal(12)  # type: ignore[attr-defined]

    switch = t("program-set-birthday-enabled")
    await owner.send("/program")
    await botenv.press(owner, switch)
    await owner.expect_text(t("program-ask-switch"))
    await owner.send("может быть" if language == "ru" else "maybe")
    await owner.expect_text(t("program-error-yes-no", setting=switch))
    await owner.send("нет" if language == "ru" else "no")
    diff = await owner.expect_text(f"{switch}: {t('word-yes')} → {t('word-no')}")
    assert "enabled" not in diff.text.replace(switch, "")


# --- campaigns --------------------------------------------------------------------------------

async def new_campaign(env: BotEnv, answers: list[str]) -> str:
    owner = env.owner
    await owner.send("/campaigns")
    await owner.expect_text("Кампании и источники")
    await env.press(owner, "Новая кампания")
    for answer in answers:
        await owner.expect_text("?")
        await owner.send(answer)
    await owner.expect_text("Проверьте кампанию")  # a recap, then Create (issue 16)
    await env.press(owner, "✅ Создать")
    shown = await owner.expect_text("Ссылка: https")
    assert shown.photo is not None and shown.photo.startswith(b"\x89PNG")
    match = re.search(r"start=g_([a-z0-9]+)", shown.content)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_campaign_wizard_ends_with_a_recap_and_creates_only_on_confirm(
        botenv: BotEnv, language: str) -> None:
    owner = botenv.owner
    if language == "en":
        await botenv.choose_language(owner, "en")
    t = botenv.t(language)
    async def autumn() -> int:
        async with botenv.db.reading() as session:
            return int((await session.execute(select(func.count()).select_from(Campaign)
                                              .where(Campaign.name == "Осень"))).scalar() or 0)

    for create in (False, True):
        await owner.send("/campaigns")
        await botenv.press(owner, t("campaigns-button-new"))
        for answer in ("Осень", "300", "50,5", "14", "-", "-", "-"):
            await owner.expect_text("?")
            await owner.send(answer)
        recap = await owner.expect_text(t("campaign-recap", name="Осень", points=300, cap="", validity=14,
                                          limit="", ends="", partner="").split("\n")[0])
        assert "Осень" in recap.text and ("50,5%" in recap.text if language == "ru" else "50.5%" in recap.text)
        assert t("campaign-recap-no-limit") in recap.text and t("campaign-recap-no-end") in recap.text
        assert await autumn() == 0  # nothing created before Confirm
        await botenv.press(owner, t("campaign-button-create") if create else t("button-cancel"))
        if not create:
            await owner.expect_text(t("campaign-dropped"))
    shown = await owner.expect_text(t("campaign-link", name="Осень", link="")[:10])
    assert shown.photo is not None and "Осень" in (shown.caption or "")  # the QR has its caption
    assert await autumn() == 1
    # A second tap on Create (the recap's button is gone; a forged tap) creates nothing more.
    record = await owner.press_callback("ow|cnewok|")
    assert record.show_alert and await autumn() == 1


async def test_campaign_link_for_new_and_existing_customers_its_limit_and_end(botenv: BotEnv) -> None:
    code = await new_campaign(botenv, ["Партнёр: кофейня", "400", "50", "20", "2", "-", "Кофейня"])
    newcomer = botenv.customer("Ольга")
    newcomer_id = await botenv.register(newcomer, payload=f"g_{code}")
    async with botenv.db.reading() as session:
        lots = list((await session.execute(select(Lot).where(Lot.customer_id == newcomer_id,
                                                             Lot.kind == LotKind.CERTIFICATE))).scalars())
    assert [lot.amount for lot in lots] == [400]
    member = botenv.customer("Пётр")
    await botenv.register(member)
    await member.start(f"g_{code}")
    await member.expect_text(botenv.text(member, "start-campaign-granted")[:20])
    late = botenv.customer("Ирина")
    await botenv.register(late)
    await late.start(f"g_{code}")  # the limit of 2 is reached
    await late.expect_text(botenv.text(late, "start-campaign-unavailable")[:20])
    ending = await create_campaign(botenv.dom, OwnerActor(1), CampaignSpec(
        name="Открытие", points=100, ends_on=botenv.clock.now().astimezone(botenv.dom.tz).date()))
    botenv.clock.advance(timedelta(days=1))
    await late.start(f"g_{ending.code}")
    await late.expect_text(botenv.text(late, "start-campaign-unavailable")[:20])
    await botenv.owner.send("/campaigns")
    funnel = await botenv.owner.expect_text("Кампании и источники")
    assert f"(g_{code}): 3 → 1 → 2 → 0" in funnel.text  # opened, registered, certificates, bought


async def test_campaign_list_longer_than_one_message(botenv: BotEnv) -> None:
    for i in range(40):  # names up to 80 characters: far past Telegram's 4096 in one message
        await create_campaign(botenv.dom, OwnerActor(1), CampaignSpec(name=f"Партнёрская акция {i:02d} " + "х" * 58,
                                                                      points=100))
    await botenv.owner.send("/campaigns")
    await botenv.owner.expect_text("Кампании и источники")
    await botenv.settle()
    shown = "\n".join(m.content for m in botenv.owner.chat.bot_messages())
    assert "Партнёрская акция 00" in shown and "Партнёрская акция 39" in shown
    assert botenv.errors == []


async def test_source_tag_link(botenv: BotEnv) -> None:
    owner = botenv.owner
    await owner.send("/campaigns")
    await botenv.press(owner, "Новый источник")
    await owner.expect_text("Метка")
    await owner.send("bad tag!")
    await owner.expect_text("только латиница")
    await owner.send("instagram")
    shown = await owner.expect_text("start=s_instagram")
    assert shown.photo is not None
    guest = botenv.customer("Гость")
    guest_id = await botenv.register(guest, payload="s_instagram")
    async with botenv.db.reading() as session:
        customer = await session.get(Customer, guest_id)
    assert customer is not None and customer.source_kind.value == "source"


# --- broadcasts -------------------------------------------------------------------------------

async def test_a_command_in_the_middle_of_a_flow_runs_and_is_not_taken_for_an_answer(botenv: BotEnv) -> None:
    owner = botenv.owner
    await owner.send("/broadcast")
    await owner.expect_text("текст рассылки")
    await owner.send("/broadcasts")  # not the text of a broadcast to every customer
    await owner.expect_text(botenv.text(owner, "broadcasts-empty"))
    await owner.send("/campaigns")
    await owner.expect_text("Кампании и источники")
    await botenv.press(owner, "Новая кампания")
    await owner.expect_text(botenv.text(owner, "campaign-ask-name"))
    await owner.send("/find")  # not a campaign called "/find"
    await owner.expect_text(botenv.text(owner, "find-ask"))
    await owner.send("/audit")  # not a search for "/audit"
    await owner.expect_text("Журнал")


async def compose(env: BotEnv, *, segment: list[str]) -> None:
    owner = env.owner
    await owner.send("/broadcast")
    await owner.expect_text("текст рассылки")
    await owner.send_raw({"text": "Акция недели", "entities": [{"type": "bold", "offset": 0, "length": 5}]})
    await owner.expect_text("кнопку-ссылку")
    await owner.send("Сайт | https://example.com/sale")
    await owner.expect_text("Кому отправить")
    for label in segment:
        await env.press(owner, label)


async def delivered(env: BotEnv, user: FakeUser) -> list[str]:
    return [m.raw.get("text", "") for m in env.tg.chat(user.id).bot_messages() if "Акция" in m.content]


async def send_to_everyone(env: BotEnv, customers: int) -> list[FakeUser]:
    """`customers` registered customers and the owner's broadcast to all of them, sent."""
    users = [env.customer(f"Клиент {i}") for i in range(customers)]
    for user in users:
        await env.register(user)
    await compose(env, segment=["Все"])
    await env.owner.expect_text(f"Получателей: {customers}")
    await env.press(env.owner, f"Отправить ({customers})")
    await env.owner.expect_text("Рассылка #")
    return users


@pytest.mark.botenv(rate=30.0)
async def test_broadcast_with_429_403_5xx_preview_progress_and_history(botenv: BotEnv) -> None:
    users = [botenv.customer(f"Клиент {i}") for i in range(5)]
    for user in users:
        await botenv.register(user)
    blocker, flaky, limited = users[0], users[1], users[2]
    botenv.tg.block(blocker.id)
    botenv.tg.fail_next("sendMessage", status=502, chat_id=flaky.id, description="Bad Gateway")
    botenv.tg.fail_next("sendMessage", status=429, retry_after=1, chat_id=limited.id)
    await compose(botenv, segment=["Все"])
    preview = await botenv.owner.expect_text("Акция недели")
    assert preview.entities[0]["type"] == "bold" and preview.button_texts == ["Сайт"]
    summary = await botenv.owner.expect_text("Получателей")
    assert "<b>5</b>" not in summary.text and "5" in summary.text
    await botenv.press(botenv.owner, "Отправить (5)")
    await botenv.owner.expect_text("поставлена в очередь: 5")
    for _ in range(20):  # the 5xx retry waits 2 s of business time
        botenv.clock.advance(timedelta(seconds=3))
        await botenv.settle()
        async with botenv.db.reading() as session:
            left = (await session.execute(select(OutboxMessage.id).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])))).first()
        if left is None:
            break
    done = await botenv.owner.expect_text("завершена", timeout=10)
    assert "отправлено 4 из 5" in done.text and "заблокировали бота: 1" in done.text
    for user in users[1:]:
        assert await delivered(botenv, user) == ["Акция недели"], user.transcript()
    assert await delivered(botenv, blocker) == []
    async with botenv.db.reading() as session:
        account = await session.get(TelegramAccount, blocker.id)
    assert account is not None and account.unreachable
    await botenv.owner.send("/broadcasts")
    history = await botenv.owner.expect_text("Рассылки")
    assert "всего 5, отправлено 4" in history.text


async def test_broadcast_segment_by_tier_and_days_and_cancel(botenv: BotEnv) -> None:
    users = [botenv.customer(f"Клиент {i}") for i in range(3)]
    ids = [await botenv.register(user) for user in users]
    async with botenv.db.transaction() as session:
        await session.execute(update(Customer).where(Customer.id == ids[0]).values(tier_index=2))
    await compose(botenv, segment=["Статус", "Статус 3"])
    await botenv.owner.expect_text("Акция")
    await botenv.owner.expect_text("Получателей: <b>1</b>".replace("<b>", "").replace("</b>", ""))
    await botenv.press(botenv.owner, "Отмена")
    await botenv.owner.expect_text("Отменено")
    async with botenv.db.reading() as session:
        dropped = (await session.execute(select(Broadcast.id))).scalar_one()
    stale = await botenv.owner.press_callback(f"ow|bsend|{dropped}")  # Send on a dropped draft
    assert stale.show_alert and "устарела" in (stale.text or "")
    botenv.clock.advance(timedelta(days=10))
    await compose(botenv, segment=["Давно не покупали"])
    await botenv.owner.expect_text("Сколько дней")
    await botenv.owner.send("много")
    await botenv.owner.expect_text("целое число")
    await botenv.owner.send("7")
    await botenv.owner.expect_text("Получателей: 3")
    async with botenv.db.reading() as session:
        assert (await session.execute(select(OutboxMessage.id).where(OutboxMessage.broadcast_id.is_not(None)))
                ).first() is None


@pytest.mark.botenv(start_sender=False)
async def test_broadcast_resumes_after_a_crash_nobody_twice_nobody_skipped(botenv: BotEnv) -> None:
    users = await send_to_everyone(botenv, 8)
    first = OutboxSender(botenv.bot, botenv.services, botenv.i18n, rate=100, per_chat_interval=0.0, batch_size=3,
                         holder="first")
    botenv.services.sender = first
    assert await first.drain_once() == 3  # then the process dies: the lease is not released
    async with botenv.db.transaction() as session:  # ... in the middle of the next HTTP call
        caught = (await session.execute(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)
                                        .order_by(OutboxMessage.id).limit(1))).scalar_one()
        caught.status = OutboxStatus.SENDING
    botenv.clock.advance(timedelta(minutes=2))  # the dead sender's lease expires
    second = OutboxSender(botenv.bot, botenv.services, botenv.i18n, rate=100, per_chat_interval=0.0,
                          holder="second")
    botenv.services.sender = second
    botenv.services.broadcast_progress = None
    ensure_progress(botenv.services, botenv.bot)  # the restarted bot reattaches the progress message
    while await second.drain_once():
        pass
    await asyncio.sleep(0.2)
    per_chat = {user.id: len(await delivered(botenv, user)) for user in users}
    assert sorted(per_chat.values()) == [0] + [1] * 7  # the one caught mid-call is not resent
    assert per_chat[caught.chat_id] == 0
    async with botenv.db.reading() as session:
        statuses = sorted(s.value for s in (await session.execute(
            select(OutboxMessage.status).where(OutboxMessage.broadcast_id.is_not(None)))).scalars())
    assert statuses == ["failed"] + ["sent"] * 7
    done = await botenv.owner.expect_text("завершена", timeout=10)
    assert "отправлено 7 из 8" in done.text and "не доставлено: 1" in done.text
    await second.lease.release()


@pytest.mark.botenv(start_sender=False)
async def test_a_broadcast_survives_a_ten_minute_outage(botenv: BotEnv) -> None:
    """Telegram answers 502 for ten minutes of business time in the middle of a broadcast:
    the broadcast waits (no recipient is given up on), then everyone gets it exactly once
    and the owner's progress message ends with every message sent."""
    users = await send_to_everyone(botenv, 5)
    recovered_at = botenv.clock.now() + timedelta(minutes=10)
    botenv.tg.fail_next("sendMessage", status=502, count=None, when=lambda: botenv.clock.now() < recovered_at)
    sender = OutboxSender(botenv.bot, botenv.services, botenv.i18n, rate=100, per_chat_interval=0.0,
                          holder="only", rng=random.Random(7))
    botenv.services.sender = sender
    botenv.services.broadcast_progress = None
    ensure_progress(botenv.services, botenv.bot)
    for _ in range(360):  # ten-second steps: up to an hour of business time
        while await sender.drain_once():
            pass
        async with botenv.db.reading() as session:
            statuses = [s.value for s in (await session.execute(
                select(OutboxMessage.status).where(OutboxMessage.broadcast_id.is_not(None)))).scalars()]
        assert "failed" not in statuses
        if statuses == ["sent"] * 5:
            break
        botenv.clock.advance(timedelta(seconds=10))
    assert statuses == ["sent"] * 5
    assert botenv.tg.stats.statuses[502] >= 1  # the outage was real
    assert [len(await delivered(botenv, user)) for user in users] == [1] * 5
    done = await botenv.owner.expect_text("завершена", timeout=10)
    assert "отправлено 5 из 5" in done.text
    botenv.tg.clear_faults()
    await sender.lease.release()


async def test_cancel_stops_the_pending_rows(botenv: BotEnv) -> None:
    assert botenv.sender is not None
    botenv.sender.rate = 0.5  # slow enough to press Cancel in the middle
    users = [botenv.customer(f"Клиент {i}") for i in range(3)]
    for user in users:
        await botenv.register(user)
    await compose(botenv, segment=["Все"])
    await botenv.press(botenv.owner, "Отправить (3)")
    await botenv.owner.expect_text("Рассылка #")
    await botenv.press(botenv.owner, "Остановить рассылку")
    stopped = await botenv.owner.expect_text("остановлена", timeout=10)
    assert "отменено" in stopped.text
    await botenv.settle()
    async with botenv.db.reading() as session:
        statuses = [s.value for s in (await session.execute(
            select(OutboxMessage.status).where(OutboxMessage.broadcast_id.is_not(None)))).scalars()]
    assert "cancelled" in statuses and "pending" not in statuses
    assert sum([len(await delivered(botenv, user)) for user in users]) == statuses.count("sent")


# --- import and export -----------------------------------------------------------------------

CSV_BASE = ("phone;name;birthday;balance;total_spent;purchases;source\r\n"
            "89160000101;Ольга;15.03.1985;500;60000;7;\r\n"
            "12345;Плохой;;;;;\r\n"
            "89160000102;Пётр;31.02.1990;;;;\r\n"
            "89160000103;Анна;;100;;;\r\n")


async def test_import_dry_run_confirm_reimport_and_bad_files(botenv: BotEnv) -> None:
    owner = botenv.owner
    await owner.send("/import")
    await owner.expect_text("phone,name")
    data = CSV_BASE.encode("cp1251")
    await owner.send_document(data, "base.csv")
    plan = await owner.expect_text("Проверка файла")
    assert "будет создано клиентов: 2" in plan.text and "баллов: 600" in plan.text
    assert "строка 3, phone: неверный телефон" in plan.text and "строка 4, birthday: неверная дата" in plan.text
    async with botenv.db.reading() as session:
        assert (await session.execute(select(Customer.id))).first() is None  # a dry run writes nothing
    await botenv.press(owner, "Загрузить (2)")
    await owner.expect_text("Загружено клиентов: 2")
    async with botenv.db.reading() as session:
        olga = (await session.execute(select(Customer).where(Customer.phone == "+79160000101"))).scalar_one()
    assert olga.tier_index == 1 and await balance(botenv.dom, olga.id) == 500
    await owner.send_document(data, "base.csv")
    again = await owner.expect_text("Проверка файла")
    assert "уже загружены раньше: 2" in again.text and "Загружать нечего" in again.text
    await owner.send_document(b"phone,name\n+79160000104,x\n", "fake.xlsx")
    await owner.expect_text("не книга Excel")
    book = Workbook()
    book.active.append(["phone", "name", "balance"])
    book.active.append(["+79160000105", "Мария", 50])
    buffer = io.BytesIO()
    book.save(buffer)
    await owner.send_document(buffer.getvalue(), "base.xlsx")
    await owner.expect_text("будет создано клиентов: 1")
    await botenv.press(owner, "Загрузить (1)")
    await owner.expect_text("Загружено клиентов: 1")
    # The imported customer registers in the bot later: the records join, balance carries over.
    olga_user = botenv.customer("Ольга", phone="+79160000101")
    assert await botenv.register(olga_user) == olga.id
    assert await balance(botenv.dom, olga.id) == 500 + 300


async def test_export_contents(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна", phone="+79160000201")
    await botenv.register(anna)
    await botenv.owner.send("/export")
    await botenv.press(botenv.owner, "Клиенты, CSV")
    sent = await botenv.owner.expect()
    while sent.document is None:
        sent = await botenv.owner.expect()
    assert sent.document_name is not None and sent.document_name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(sent.document.decode("utf-8-sig")), delimiter=";"))
    assert [(r["Телефон"], r["Имя"], r["Баллы"]) for r in rows] == [("+79160000201", "Анна", "300")]
    await botenv.press(botenv.owner, "Операции, XLSX")
    sent = await botenv.owner.expect()
    while sent.document is None:
        sent = await botenv.owner.expect()
    assert sent.document is not None and sent.document.startswith(b"PK")


# --- customers --------------------------------------------------------------------------------

async def test_find_adjust_pin_and_block(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна", phone="+79160000301")
    anna_id = await botenv.register(anna)
    owner = botenv.owner
    await owner.send("/find 8 916 000-03-01")
    card = await owner.expect_text("Клиент #")
    assert "Анна" in card.text and "Баллы: 300" in card.text
    await botenv.press(owner, "Начислить / списать")
    await owner.expect_text("причину")
    await owner.send("200")
    await owner.expect_text("Нужно так")
    await owner.send("+200 компенсация за ожидание")
    await owner.expect_text("Готово: 200")
    assert await balance(botenv.dom, anna_id) == 500
    await anna.expect_text("компенсация за ожидание")
    await botenv.press(owner, "Закрепить статус")
    await botenv.press(owner, "Статус 4")
    await owner.expect_text("Статус закреплён: Статус 4")
    await owner.send("/find Анна")
    await owner.expect_text("Клиент #")
    await botenv.press(owner, "Заблокировать")
    blocked_card = await owner.expect_text("заблокирован: да")  # Russian words, not yes/no (issue 16)
    assert "закреплён: да" in blocked_card.text and "yes" not in blocked_card.text
    async with botenv.db.reading() as session:
        customer = await session.get(Customer, anna_id)
    assert customer is not None and customer.blocked and customer.tier_index == 3
    await owner.send("/audit")
    log = await owner.expect_text("Журнал")
    # The log speaks plainly: who (name and role) and what, with ids as ids.
    assert f"Owner (владелец): клиент №{anna_id} заблокирован" in log.text, log.text
    assert f"баллы клиента №{anna_id} изменены вручную" in log.text
    assert f"клиенту №{anna_id} закреплён статус" in log.text
    assert "owner.block" not in log.text and "customer:" not in log.text


async def test_the_audit_log_names_the_cashier_and_the_purchase(botenv: BotEnv) -> None:
    """Issue 16: "Мария (кассир): покупка №12 на 1 000 ₽", in the owner's language."""
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)
    cashier = botenv.customer("Мария")
    await botenv.add_staff(cashier, "Мария")
    await cashier.start(f"c_{await fresh_code(botenv.dom, customer_id)}")
    await cashier.expect_text("Анна")
    await cashier.send("1000")
    await cashier.expect_text("Чек")
    await botenv.press(cashier, "Без баллов")
    await botenv.press(cashier, "✅ Подтвердить")
    receipt = await cashier.expect_text("Покупка №")
    number = re.search(r"Покупка №(\d+)", receipt.content).group(1)  # type: ignore[union-attr]
    owner = botenv.owner
    await owner.send("/audit")
    log = await owner.expect_text("Журнал")
    assert f"Мария (кассир): покупка №{number} на 1\u00a0000\u00a0₽" in log.text, log.text
    assert f"Мария (кассир): открыта карта клиента №{customer_id}" in log.text
    await botenv.choose_language(owner, "en")
    await owner.send("/audit")
    log = await owner.expect_text("page 1 of")
    assert f"Мария (cashier): purchase #{number} of 1,000" in log.text, log.text


async def test_staff_and_customers_are_refused_and_logged(botenv: BotEnv) -> None:
    customer = botenv.customer("Анна")
    customer_id = await botenv.register(customer)
    cashier = botenv.customer("Мария")
    await botenv.add_staff(cashier)
    for user in (customer, cashier):
        for command in ("/program", "/broadcast", "/import", "/audit"):
            await user.send(command)
            await user.expect_text("только владельцу")
    record = await customer.press_callback(f"ow|cblock|{customer_id}")
    assert record.show_alert and "только владельцу" in (record.text or "")
    await cashier.send_document(CSV_BASE.encode(), "base.csv")  # a file from staff is not an import
    await botenv.settle()
    async with botenv.db.reading() as session:
        refused = list((await session.execute(select(AuditEntry).where(AuditEntry.action == "owner.refused")))
                       .scalars())
        blocked = (await session.execute(select(Customer.blocked).where(Customer.id == customer_id))).scalar()
        imported = (await session.execute(select(Customer.id).where(Customer.phone == "+79160000101"))).first()
    assert len(refused) == 9 and {e.actor_role for e in refused} == {"customer", "staff"}
    assert blocked is False and imported is None


async def test_api_keys_command_is_part_of_the_owner_area(botenv: BotEnv) -> None:
    stranger = botenv.customer("Анна")
    await stranger.send("/api create mine")
    refused = await stranger.expect()
    assert refused.text == botenv.text(stranger, "not-allowed")
    await botenv.owner.send("/api")
    answer = await botenv.owner.expect()
    assert answer.text != botenv.text(botenv.owner, "not-allowed")
    async with botenv.db.reading() as session:
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert actions == ["api_key.denied"]


async def test_api_key_is_never_shown_in_the_staff_group(botenv: BotEnv) -> None:
    # A new key is shown once, in full: typed in the staff group it would be every member's.
    await botenv.staff_chat.command(botenv.owner, "api", "create kassa-1")
    answer = await botenv.staff_chat.expect()
    assert "apiKey" not in answer.content
    async with botenv.db.reading() as session:
        assert (await session.execute(select(ApiKey.id))).first() is None
    await botenv.owner.send("/api create kassa-1")
    await botenv.owner.expect_text("apiKey")


async def test_broadcast_length_is_what_telegram_counts_not_the_html(botenv: BotEnv) -> None:
    # 4,000 visible characters with ampersands: the HTML (&amp;) is longer than 4,096, yet
    # Telegram counts the text after parsing, so the broadcast is fine.
    text = ("Скидки & подарки! " * 250)[:4000].strip()
    owner = botenv.owner
    await owner.send("/broadcast")
    await owner.expect_text("текст рассылки")
    await owner.send(text)
    await owner.expect_text("кнопку-ссылку")
    await botenv.press(owner, "Без кнопки")
    await owner.expect_text("Кому отправить")
    await botenv.press(owner, "Все")
    preview = await owner.expect_text("Скидки & подарки!")
    assert preview.raw.get("text") == text


async def test_owner_sees_messages_waiting_for_telegram(botenv: BotEnv) -> None:
    """Issue 21 §1: when Telegram has not taken messages for a while, /owner says how many wait."""
    owner = botenv.owner
    await owner.send("/owner")
    menu = await owner.expect_text("Инструменты владельца")
    assert "⏳" not in menu.text
    now = botenv.clock.now()
    async with botenv.db.transaction() as session:
        for i in range(3):  # in backoff through an outage: tried twice, next try in an hour
            session.add(OutboxMessage(chat_id=990_000 + i, method="sendMessage",
                                      payload={"key": "purchase-notify", "args": {}}, status=OutboxStatus.PENDING,
                                      attempts=2, not_before=now + timedelta(hours=1),
                                      created_at=now - timedelta(minutes=10)))
        session.add(OutboxMessage(chat_id=990_100, method="sendMessage",  # just written: not waiting yet
                                  payload={"key": "purchase-notify", "args": {}}, status=OutboxStatus.PENDING,
                                  attempts=1, not_before=now + timedelta(minutes=1), created_at=now))
    await owner.send("/owner")
    menu = await owner.expect_text("Инструменты владельца")
    assert "⏳ 3 сообщения ждут Telegram" in menu.text
    assert "1 message is waiting for Telegram" in botenv.i18n.get("en", "owner-outbox-waiting", count=1)
    assert "⏳ 1 сообщение ждёт Telegram" in botenv.i18n.get("ru", "owner-outbox-waiting", count=1)


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_customer_can_turn_broadcasts_off_and_on_again(botenv: BotEnv, language: str) -> None:
    """Issue 16: promotional broadcasts need the customer's consent. Turned off in /settings,
    the customer is not counted nor sent the owner's broadcast, yet still hears about their
    own points; turned on again, the next broadcast comes. The choice is audited."""
    env = botenv
    anna = env.customer("Анна", language_code=language)
    boris = env.customer("Борис")
    anna_id = await env.register(anna)
    await env.register(boris)
    await anna.send("/settings")
    screen = await anna.expect_text(env.text(anna, "settings-broadcasts-on")[:20])
    await env.press(anna, env.text(anna, "settings-button-broadcasts-off"))
    edited = await anna.expect_text(env.text(anna, "settings-broadcasts-off")[:20])
    assert edited.message_id == screen.message_id
    assert env.text(anna, "settings-button-broadcasts-on") in edited.button_texts

    await compose(env, segment=["Все"])
    await env.owner.expect_text("Получателей: 1")
    await env.press(env.owner, "Отправить (1)")
    await env.owner.expect_text("Рассылка #")
    await env.settle()
    assert await delivered(env, boris) and not await delivered(env, anna)
    # Her own points still reach her.
    await adjust_points(env.dom, anna_id, 50, reason="test", staff_id=None)
    await env.settle()
    assert any("50" in m.content for m in env.tg.chat(anna.id).bot_messages()[-1:]), anna.transcript()

    await anna.send("/settings")
    await anna.expect_text(env.text(anna, "settings-broadcasts-off")[:20])
    await env.press(anna, env.text(anna, "settings-button-broadcasts-on"))
    await anna.expect_text(env.text(anna, "settings-broadcasts-on")[:20])
    await compose(env, segment=["Все"])
    await env.owner.expect_text("Получателей: 2")
    await env.press(env.owner, "Отправить (2)")
    await env.settle()
    assert len(await delivered(env, anna)) == 1 and len(await delivered(env, boris)) == 2
    async with env.db.reading() as session:
        actions = (await session.execute(select(AuditEntry.action).where(
            AuditEntry.target == f"customer:{anna_id}", AuditEntry.action.like("customer.broadcasts%"))
            .order_by(AuditEntry.id))).scalars().all()
    assert actions == ["customer.broadcasts_off", "customer.broadcasts_on"]
