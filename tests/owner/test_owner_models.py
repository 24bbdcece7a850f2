"""The owner's domain functions on both backends: segments, the broadcast queue, import,
export, program edits, campaigns, customer care."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from bot.i18n import default_i18n
from models.campaigns.certificates import claim_campaign
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.errors import CampaignUnavailable, CustomerBlocked, InvalidProgram, SettingRejected
from models.kernel.tables import (
    AuditEntry,
    Campaign,
    Customer,
    Lot,
    LotKind,
    Operation,
    OperationKind,
    OutboxMessage,
    OutboxStatus,
    TelegramAccount,
)
from models.owner import broadcasts as bc
from models.owner import tools as owner
from models.owner.exports import ExportFormat, ExportWhat, export
from models.owner.imports import ImportFileError, apply_import, plan_import
from models.program.store import current_program
from models.purchase.purchases import PurchaseRequest, commit_purchase
from tests.helpers import assert_invariants, balance, register

ACTOR = owner.OwnerActor(telegram_id=777)


async def buy(dom: Domain, customer_id: int, rub: int) -> None:
    await commit_purchase(dom, PurchaseRequest(customer_id=customer_id, amount_kopecks=rub * 100, points=0,
                                               found_by="phone"))


async def count(dom: Domain, text: str) -> int:
    async with dom.db.reading() as session:
        return await bc.count_recipients(session, bc.Segment.parse(text), dom.clock.now())


# --- segments and the queue ------------------------------------------------------------------

async def test_each_segment_counts_the_right_customers(dom: Domain, clock: ManualClock) -> None:
    old = await register(dom, birthday=date(1990, 3, 15))
    clock.advance(timedelta(days=40))
    recent = await register(dom, birthday=date(1991, 7, 1))
    big = await register(dom)
    blocked = await register(dom)
    await buy(dom, recent, 1000)
    await buy(dom, big, 60_000)  # crosses tier 2's threshold
    async with dom.db.transaction() as session:
        await session.execute(update(Customer).where(Customer.id == blocked).values(blocked=True))
    campaign = await owner.create_campaign(dom, ACTOR, owner.CampaignSpec(name="Партнёр", points=200,
                                                                          validity_days=5))
    via_campaign = await register(dom, campaign_code=campaign.code)
    assert await count(dom, "all") == 4  # the blocked one is left out
    assert await count(dom, "tier:1") == 1
    assert await count(dom, "inactive:30") == 1  # registered 40 days ago, never bought
    assert await count(dom, "birthday_month:3") == 1
    assert await count(dom, "birthday_month:7") == 1
    assert await count(dom, f"campaign:{campaign.id}") == 1
    assert await count(dom, "expiring:7") == 1  # the campaign certificate (5 days)
    assert await count(dom, "expiring:3") == 0
    assert await count(dom, "source_kind:campaign") == 1
    clock.advance(timedelta(minutes=1))  # RFM counts purchases strictly before its instant
    rfm_total = sum([await count(dom, f"rfm:{name}") for name in ("champions", "loyal", "new", "potential",
                                                                  "cant_lose", "at_risk", "hibernating", "lost")])
    assert rfm_total == 2  # the two buyers, each in exactly one segment
    async with dom.db.transaction() as session:  # a customer who blocked the bot is unreachable
        await session.execute(update(TelegramAccount).where(TelegramAccount.customer_id == via_campaign)
                              .values(unreachable=True))
    assert await count(dom, "all") == 3
    assert old and via_campaign


async def test_queue_is_one_insert_idempotent_and_cancellable(dom: Domain) -> None:
    ids = [await register(dom) for _ in range(5)]
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        draft = await bc.create_draft(session, now=now, owner_id=1, owner_chat_id=1, text="<b>Привет</b>",
                                      photo=None, buttons=[[{"text": "Сайт", "url": "https://example.com"}]],
                                      segment=bc.Segment.parse("all"))
        queued = await bc.queue_broadcast(session, draft.id, now)
    assert queued == 5
    async with dom.db.transaction() as session:  # confirming twice queues nothing more
        assert await bc.queue_broadcast(session, draft.id, now) == 5
    async with dom.db.reading() as session:
        rows = list((await session.execute(select(OutboxMessage).where(OutboxMessage.broadcast_id == draft.id)))
                    .scalars())
        assert len(rows) == 5 and len({r.chat_id for r in rows}) == 5
        assert rows[0].payload == {"text": "<b>Привет</b>", "photo": None,
                                   "buttons": [[{"text": "Сайт", "url": "https://example.com"}]]}
        assert all(r.dedupe_key == f"bc:{draft.id}:{r.chat_id}" for r in rows)
        progress = await bc.progress(session, draft.id)
    assert (progress.total, progress.remaining, progress.sent) == (5, 5, 0)
    async with dom.db.transaction() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == rows[0].id).values(status="sent"))
        assert await bc.cancel_broadcast(session, draft.id, now) == 4
    async with dom.db.reading() as session:
        progress = await bc.progress(session, draft.id)
        assert (progress.sent, progress.cancelled, progress.remaining) == (1, 4, 0)
        assert progress.status is bc.BroadcastStatus.CANCELLED
        assert [b.id for b, _ in await bc.history(session)] == [draft.id]
    assert len(ids) == 5


# --- import ----------------------------------------------------------------------------------

CSV_TEXT = (
    "phone,name,birthday,balance,total_spent,purchases,source\n"
    "+7 916 000-00-01,Ольга,15.03.1985,500,\"60 000,50\",7,partner1\n"
    "89160000002,Пётр,1990-12-01,0,100,1,\n"
    "12345,Плохой телефон,,,,,\n"
    "89160000003,Плохая дата,31.02.1990,,,,\n"
    "+79160000001,Дубль,,,,,\n"
    "89160000004,,,,,,unknown-tag\n"
    "89160000005,,,,,,Инстаграм\n"
)


async def test_import_dry_run_confirm_and_reimport(dom: Domain) -> None:
    data = CSV_TEXT.encode()
    plan = await plan_import(dom, data, "base.csv")
    assert [r.phone for r in plan.rows] == ["+79160000001", "+79160000002", "+79160000004", "+79160000005"]
    assert sorted((e.line, e.reason) for e in plan.errors) == [(4, "bad_phone"), (5, "bad_date"), (6, "duplicate")]
    # An unknown source is created by the import (issue 16), one that cannot be a tag is named.
    assert plan.unknown_sources == ["unknown-tag"] and plan.bad_sources == ["Инстаграм"] and plan.points == 500
    async with dom.db.reading() as session:  # the dry run wrote nothing
        assert (await session.execute(select(Customer.id))).first() is None
    result = await apply_import(dom, data, "base.csv", actor_telegram_id=1)
    assert (result.created, result.points) == (4, 500)
    async with dom.db.reading() as session:
        olga = (await session.execute(select(Customer).where(Customer.phone == "+79160000001"))).scalar_one()
        assert (olga.base_paid_kopecks, olga.paid_total_kopecks, olga.purchase_count) == (6_000_050, 6_000_050, 7)
        assert olga.tier_index == 1 and olga.birthday == date(1985, 3, 15)
        assert olga.source_kind.value == "import" and olga.campaign_id is not None
        lot = (await session.execute(select(Lot).where(Lot.customer_id == olga.id))).scalar_one()
        assert (lot.kind, lot.amount) == (LotKind.IMPORT, 500)
        op = await session.get(Operation, lot.operation_id)
        assert op is not None and op.kind is OperationKind.IMPORT
    assert await balance(dom, olga.id) == 500
    async with dom.db.reading() as session:
        tag = (await session.execute(select(Campaign).where(Campaign.code == "unknown-tag"))).scalar_one()
        tagged = (await session.execute(select(Customer).where(Customer.phone == "+79160000004"))).scalar_one()
        untagged = (await session.execute(select(Customer).where(Customer.phone == "+79160000005"))).scalar_one()
    assert tag.is_source and tagged.campaign_id == tag.id and untagged.campaign_id is None
    await assert_invariants(dom)
    again = await apply_import(dom, data, "base.csv")
    assert (again.created, again.already_imported) == (0, 4)
    async with dom.db.reading() as session:
        assert len(list((await session.execute(select(Customer.id))).scalars())) == 4
        # The re-run finds the tag the first run created: no second one.
        assert len((await session.execute(select(Campaign).where(Campaign.code == "unknown-tag"))).all()) == 1
        assert len(list((await session.execute(select(Lot.id))).scalars())) == 1
    replan = await plan_import(dom, data, "base.csv")
    assert replan.rows == [] and replan.already_imported == 4


async def test_import_existing_customer_is_an_error_row(dom: Domain) -> None:
    await register(dom, phone="+79160000009")
    plan = await plan_import(dom, b"phone\n+79160000009\n", "x.csv")
    assert plan.rows == [] and [e.reason for e in plan.errors] == ["exists"]


async def test_import_cp1251_semicolons_and_xlsx(dom: Domain) -> None:
    text = "phone;name;total_spent\r\n89160000011;Иван Иванов;1 500,00\r\n"
    plan = await plan_import(dom, text.encode("cp1251"), "base.csv")
    assert [(r.name, r.total_spent_kopecks) for r in plan.rows] == [("Иван Иванов", 150_000)]
    bom = ("\ufeff" + text).encode("utf-8")
    assert (await plan_import(dom, bom, "base.csv")).rows[0].name == "Иван Иванов"
    book = Workbook()
    sheet = book.active
    sheet.append(["phone", "name", "birthday", "balance"])
    sheet.append([79160000012, "Мария", date(1988, 5, 4), 120])
    buffer = io.BytesIO()
    book.save(buffer)
    result = await apply_import(dom, buffer.getvalue(), "base.xlsx")
    assert result.created == 1 and result.points == 120
    async with dom.db.reading() as session:
        maria = (await session.execute(select(Customer).where(Customer.phone == "+79160000012"))).scalar_one()
        assert maria.birthday == date(1988, 5, 4) and maria.birth_month == 5


async def test_import_rejects_files_that_are_not_what_they_claim(dom: Domain) -> None:
    with pytest.raises(ImportFileError) as fake:
        await plan_import(dom, b"phone,name\n+79160000001,x\n", "base.xlsx")
    assert fake.value.code == "not_xlsx"
    with pytest.raises(ImportFileError) as broken:
        await plan_import(dom, b"PK\x03\x04not really a zip", "base.xlsx")
    assert broken.value.code == "bad_xlsx"
    with pytest.raises(ImportFileError) as no_phone:
        await plan_import(dom, b"name,balance\nx,1\n", "base.csv")
    assert no_phone.value.code == "no_phone_column"
    with pytest.raises(ImportFileError) as binary:
        await plan_import(dom, b"\x89PNG\r\n\x1a\n\x00\x00\x00", "base.csv")
    assert binary.value.code == "not_text"
    # A NUL far into an otherwise fine CSV: refused whole (PostgreSQL text cannot hold it).
    late_nul = b"phone,name\n" + b"".join(b"+7916%07d,Name\n" % i for i in range(400)) + b"+79161234567,A\x00B\n"
    assert len(late_nul) > 4096
    with pytest.raises(ImportFileError) as hidden:
        await plan_import(dom, late_nul, "base.csv")
    assert hidden.value.code == "not_text"


# --- export ----------------------------------------------------------------------------------

async def test_export_customers_and_operations(dom: Domain) -> None:
    ru = default_i18n().translator("ru")
    anna = await register(dom, name="Анна", phone="+79160000021")
    await buy(dom, anna, 1000)
    data, name = await export(dom, ExportWhat.CUSTOMERS, ExportFormat.CSV, ru)
    assert name.startswith("customers-") and name.endswith(".csv") and data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1
    assert rows[0]["Телефон"] == "+79160000021" and rows[0]["Имя"] == "Анна"
    assert rows[0]["Баллы"] == str(300 + 30) and rows[0]["Сумма покупок, ₽"] == "1000"
    assert rows[0]["Покупок"] == "1" and rows[0]["Карта в Telegram"] == "да"
    data, name = await export(dom, ExportWhat.OPERATIONS, ExportFormat.XLSX, ru)
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("Операция №", "Дата и время", "Операция")
    assert sorted(v[2] for v in values[1:]) == ["Начисление баллов", "Покупка"]
    # An export can be imported elsewhere: the first columns are the import's.
    plan = await plan_import(dom, (await export(dom, ExportWhat.CUSTOMERS, ExportFormat.CSV, ru))[0], "c.csv")
    assert [e.reason for e in plan.errors] == ["exists"]


# --- program ---------------------------------------------------------------------------------

async def test_program_settings_by_buttons_and_apply(dom: Domain) -> None:
    async with dom.db.reading() as session:
        version, program = await current_program(session)
    changed = owner.edit_setting(program, "tier_cashback:1", "6")
    assert owner.diff(program, changed) == [("tiers.levels[1].cashback_percent", "5", "6")]
    welcome = owner.edit_setting(program, "welcome_points", "500")
    assert owner.diff(program, welcome) == [("welcome.points", 300, 500)]
    with pytest.raises(SettingRejected) as bad:  # an InvalidProgram the bot words by its kind
        owner.edit_setting(program, "tier_cap:0", "120")
    assert bad.value.kind == "percent"
    with pytest.raises(InvalidProgram):
        owner.edit_setting(program, "welcome_points", "много")
    new_version = await owner.apply_program(dom, ACTOR, changed, "cashback", expected_version=version)
    assert new_version == version + 1
    with pytest.raises(InvalidProgram):  # a diff shown against an old version is refused
        await owner.apply_program(dom, ACTOR, welcome, "welcome", expected_version=version)
    async with dom.db.reading() as session:
        assert (await current_program(session))[1].tier(1).cashback_percent == Decimal(6)
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
    assert "owner.program" in actions


# --- campaigns -------------------------------------------------------------------------------

async def test_campaign_limit_end_date_and_funnel(dom: Domain, clock: ManualClock) -> None:
    today = clock.now().astimezone(dom.tz).date()
    campaign = await owner.create_campaign(dom, ACTOR, owner.CampaignSpec(
        name="Открытие", points=300, max_redeem_percent=Decimal(50), validity_days=10, issue_limit=2,
        ends_on=today + timedelta(days=3), partner="Кофейня"))
    first = await register(dom, campaign_code=campaign.code)
    second = await register(dom)
    assert await claim_campaign(dom, first, campaign.code) is None  # at most once per customer
    assert await claim_campaign(dom, second, campaign.code) is not None
    third = await register(dom)
    with pytest.raises(CampaignUnavailable):  # the limit of 2 is reached
        await claim_campaign(dom, third, campaign.code)
    later = await owner.create_campaign(dom, ACTOR, owner.CampaignSpec(name="Поздняя", points=100,
                                                                       ends_on=today))
    clock.advance(timedelta(days=1))
    with pytest.raises(CampaignUnavailable):  # the end date has passed
        await claim_campaign(dom, third, later.code)
    source = await owner.create_source(dom, ACTOR, "instagram")
    with pytest.raises(CampaignUnavailable):
        await owner.create_source(dom, ACTOR, "Instagram")
    await register(dom, campaign_code=source.code)
    await buy(dom, first, 2000)
    rows = {f.code: f for f in await owner.funnels(dom)}
    assert rows[campaign.code].registered == 1 and rows[campaign.code].certificates == 2
    assert rows[campaign.code].buyers == 1 and rows[campaign.code].revenue == 200_000
    assert rows["instagram"].registered == 1 and rows["instagram"].is_source


# --- customers -------------------------------------------------------------------------------

async def test_find_adjust_pin_and_block(dom: Domain) -> None:
    anna = await register(dom, name="Анна Петрова", phone="+79160000031")
    [found] = await owner.find_customers(dom, "8 916 000-00-31")
    assert found.customer_id == anna
    assert [f.customer_id for f in await owner.find_customers(dom, "петров")] == [anna]
    await owner.adjust(dom, ACTOR, anna, 200, "компенсация")
    await owner.adjust(dom, ACTOR, anna, -100, "ошибка")
    assert await balance(dom, anna) == 300 + 200 - 100
    assert await owner.pin_tier(dom, ACTOR, anna, 3) == 3
    assert await owner.pin_tier(dom, ACTOR, anna, None) == 0
    await owner.set_blocked(dom, ACTOR, anna, True)
    with pytest.raises(CustomerBlocked):
        await buy(dom, anna, 100)
    with pytest.raises(CustomerBlocked):
        await owner.adjust(dom, ACTOR, anna, 10, "x")
    await owner.set_blocked(dom, ACTOR, anna, False)
    await buy(dom, anna, 100)
    card = await owner.customer_card(dom, anna)
    assert card.purchase_count == 1 and not card.blocked and card.history.total >= 4
    page = await owner.audit_page(dom)
    assert [e.action for e in page.entries][:3] == ["owner.unblock", "owner.block", "owner.unpin_tier"]
    await assert_invariants(dom)
    async with dom.db.reading() as session:
        statuses = set((await session.execute(select(OutboxMessage.status))).scalars())
    assert statuses <= {OutboxStatus.PENDING}
