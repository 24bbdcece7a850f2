"""DOMAIN.md, "Customers", "The customer code", "Referrals", "Certificates and campaigns"."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from models.campaigns.certificates import claim_campaign
from models.customers.accounts import (
    Attribution,
    Registration,
    create_phone_customer,
    erase_customer,
    issue_code,
    parse_birthday,
    register_customer,
    resolve_code,
    set_birthday,
)
from models.kernel.context import Domain
from models.kernel.errors import (
    AlreadyRegistered,
    CampaignUnavailable,
    CodeExpired,
    CodeNotFound,
    CustomerErased,
    InvalidDate,
    InvalidPhone,
    PhoneTaken,
)
from models.kernel.tables import Campaign, Customer, SourceKind, TelegramAccount
from models.purchase.purchases import PurchaseRequest, commit_purchase
from tests.helpers import assert_invariants, balance, certificates_total, referral_code_of, register


async def test_registration_pays_welcome_once_per_phone(dom: Domain) -> None:
    r = await register_customer(dom, Registration(telegram_id=1, phone="+7 916 111-22-33", name="Иван"))
    assert r.welcome_points == 300 and not r.joined_existing
    assert await balance(dom, r.customer_id) == 300
    with pytest.raises(AlreadyRegistered):
        await register_customer(dom, Registration(telegram_id=1, phone="+79161112234", name="Иван"))
    with pytest.raises(PhoneTaken):
        await register_customer(dom, Registration(telegram_id=2, phone="89161112233", name="Пётр"))
    # erased and registered again with the same phone: no second welcome bonus
    await erase_customer(dom, r.customer_id)
    again = await register_customer(dom, Registration(telegram_id=1, phone="+79161112233", name="Иван"))
    assert again.welcome_points == 0
    await assert_invariants(dom)


async def test_phone_only_record_joins_on_registration(dom: Domain) -> None:
    c = await create_phone_customer(dom, "8-916-555-44-33", staff_id=None)
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=5_000_000, found_by="phone"))
    r = await register_customer(dom, Registration(telegram_id=77, phone="+79165554433", name="Оля",
                                                  birthday=date(1990, 5, 4)))
    assert r.joined_existing and r.customer_id == c
    assert r.welcome_points == 300  # never paid for this phone before
    assert await balance(dom, c) == 1500 + 300
    async with dom.db.reading() as s:
        customer = await s.get(Customer, c)
        assert customer is not None and customer.tier_index == 1  # history and tier carried over
        assert customer.birth_month == 5 and customer.birth_day == 4
        account = await s.get(TelegramAccount, 77)
        assert account is not None and account.customer_id == c


async def test_referral_rules(dom: Domain) -> None:
    a = await register(dom, phone="+79160000001", telegram_id=501)
    code = await referral_code_of(dom, a)
    # self-referral by the same phone or account is ignored, not an error
    r = await register_customer(dom, Registration(
        telegram_id=502, phone="+79160000002", name="B", attribution=Attribution(referral_code=code)))
    assert r.referrer_id == a
    bogus = await register_customer(dom, Registration(
        telegram_id=503, phone="+79160000003", name="C", attribution=Attribution(referral_code="nope")))
    assert bogus.referrer_id is None
    async with dom.db.reading() as s:
        src = (await s.execute(select(Customer.source_kind).where(Customer.id == r.customer_id))).scalar()
    assert src is SourceKind.REFERRAL


async def test_joining_record_cannot_make_a_referral_cycle(dom: Domain) -> None:
    x = await create_phone_customer(dom, "+79160000010", staff_id=None)
    async with dom.db.reading() as s:
        x_code = (await s.execute(select(Customer.referral_code).where(Customer.id == x))).scalar_one()
    y = await register(dom, referral_code=x_code)  # y referred by phone-only x
    y_code = await referral_code_of(dom, y)
    r = await register_customer(dom, Registration(
        telegram_id=9001, phone="+79160000010", name="X", attribution=Attribution(referral_code=y_code)))
    assert r.customer_id == x and r.referrer_id is None


async def test_campaign_certificate_once_with_limit_and_end(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    async with dom.db.transaction() as s:
        s.add(Campaign(code="opening", name="Opening", points=5000, max_redeem_percent="20",
                       validity_days=6, issue_limit=2, created_at=clock.now(),
                       ends_at=clock.now() + timedelta(days=10)))
    r = await register_customer(dom, Registration(
        telegram_id=1, phone="+79160000100", name="A", attribution=Attribution(campaign_code="opening")))
    assert r.campaign_points == 5000
    assert await claim_campaign(dom, r.customer_id, "opening") is None  # at most once
    b = await register(dom)
    assert await claim_campaign(dom, b, "opening") is not None
    c = await register(dom)
    with pytest.raises(CampaignUnavailable):
        await claim_campaign(dom, c, "opening")  # the limit of 2 is reached
    assert await certificates_total(dom, r.customer_id) == 5000
    async with dom.db.reading() as s:
        src = (await s.execute(select(Customer.source_kind).where(Customer.id == r.customer_id))).scalar()
    assert src is SourceKind.CAMPAIGN


async def test_campaign_end_date(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    async with dom.db.transaction() as s:
        s.add(Campaign(code="old", name="Old", points=100, created_at=clock.now(),
                       ends_at=clock.now() + timedelta(days=1)))
    clock.advance(days=2)
    c = await register(dom)
    with pytest.raises(CampaignUnavailable):
        await claim_campaign(dom, c, "old")


async def test_code_single_use_and_expiry(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    c = await register(dom)
    first = await issue_code(dom, c)
    assert len(first.code) == 6 and first.code.isdigit()
    assert await resolve_code(dom, first.code) == c
    second = await issue_code(dom, c)  # refreshing the card retires the previous code
    with pytest.raises(CodeExpired):
        await resolve_code(dom, first.code)
    clock.advance(minutes=46)
    with pytest.raises(CodeExpired):
        await resolve_code(dom, second.code)
    with pytest.raises(CodeNotFound):
        await resolve_code(dom, "12345a")


async def test_erasure_keeps_books_balanced(dom: Domain) -> None:
    c = await register(dom, phone="+79169998877")
    await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100_000))
    written_off = await erase_customer(dom, c)
    assert written_off == 330
    async with dom.db.reading() as s:
        customer = await s.get(Customer, c)
        assert customer is not None
        assert (customer.name, customer.phone, customer.birthday) == (None, None, None)
        assert (await s.execute(select(TelegramAccount).where(TelegramAccount.customer_id == c))).first() is None
    with pytest.raises(CustomerErased):
        await commit_purchase(dom, PurchaseRequest(customer_id=c, amount_kopecks=100))
    await assert_invariants(dom)


async def test_birthday_rules(dom: Domain) -> None:
    today = date(2026, 3, 2)
    assert parse_birthday("04.05.1990", today) == date(1990, 5, 4)
    assert parse_birthday("1990-05-04", today) == date(1990, 5, 4)
    for bad in ("31.02.1990", "1.1.90", "03.03.2026", "01.01.1900", "abc", ""):
        with pytest.raises(InvalidDate):
            parse_birthday(bad, today)
    c = await register(dom)
    await set_birthday(dom, c, date(1990, 2, 28))
    with pytest.raises(InvalidDate):  # set once; later changes only by staff
        await set_birthday(dom, c, date(1991, 2, 28))
    await set_birthday(dom, c, date(1991, 2, 28), by_staff=True)


async def test_bad_phone_is_refused(dom: Domain) -> None:
    with pytest.raises(InvalidPhone):
        await register_customer(dom, Registration(telegram_id=5, phone="12", name="X"))


async def test_registration_goes_on_when_the_campaign_ran_out(dom: Domain, clock) -> None:  # type: ignore[no-untyped-def]
    async with dom.db.transaction() as s:
        s.add(Campaign(code="one", name="One", points=100, issue_limit=1, created_at=clock.now()))
    first = await register_customer(dom, Registration(
        telegram_id=31, phone="+79160003101", name="A", attribution=Attribution(campaign_code="one")))
    second = await register_customer(dom, Registration(
        telegram_id=32, phone="+79160003102", name="B", attribution=Attribution(campaign_code="one")))
    assert (first.campaign_points, second.campaign_points) == (100, 0)
    assert await balance(dom, second.customer_id) == 300
    with pytest.raises(CampaignUnavailable):  # told, not silently ignored, when claiming later
        await claim_campaign(dom, second.customer_id, "one")
