"""Every once-only reward is once per person, not per customer record (issue 14 §3): a hostile
customer deletes their data and registers again with the same phone and Telegram account,
through another referrer's link and with another birthday, and gets nothing a second time;
the first referrer stays. Through the real bot, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from models.automation.jobs import birthday_certificates
from models.kernel.tables import Customer, Lot, LotKind
from models.program.store import current_program, set_program
from models.purchase.purchases import PurchaseRequest, commit_purchase
from tests.helpers import assert_invariants

from .conftest import BotEnv
from .test_customer_reviews import SCREENSHOT
from .test_erasure_fingerprint import erase

PHONE = "+79161230031"
FIXED = 300  # COSMOCODE: "300 points on a friend's first purchase"


async def _referral_points(botenv: BotEnv, customer_id: int, operation_id: int) -> int:
    async with botenv.db.reading() as s:
        return int((await s.execute(select(func.coalesce(func.sum(Lot.amount), 0)).where(
            Lot.customer_id == customer_id, Lot.operation_id == operation_id, Lot.kind == LotKind.REFERRAL,
        ))).scalar_one())


async def _lots(botenv: BotEnv, customer_id: int, kind: LotKind) -> list[int]:
    async with botenv.db.reading() as s:
        return list((await s.execute(select(Lot.amount).where(
            Lot.customer_id == customer_id, Lot.kind == kind))).scalars())


async def _review(botenv: BotEnv, user, cashier) -> None:  # type: ignore[no-untyped-def]
    await user.send("/review")
    await user.expect_text("за отзыв начислим баллы")
    await user.press("Отзыв на 2GIS (+100)")
    await user.expect_text("Оставьте отзыв на 2GIS")
    await user.send_photo(SCREENSHOT)
    await user.expect_text("отправлен на проверку")
    await botenv.settle()
    await botenv.staff_chat.press(cashier, "Одобрить")
    await botenv.settle()
    await user.expect_text("Спасибо за отзыв на 2GIS! Начислено: +100 баллов")


@pytest.mark.botenv(postgres=True)
async def test_erase_and_register_again_pays_no_once_only_reward_twice(botenv: BotEnv) -> None:
    async with botenv.db.reading() as s:
        _, program = await current_program(s)
    program = program.model_copy(update={
        "referral": program.referral.model_copy(update={"first_purchase_points": FIXED})})
    await set_program(botenv.dom, program, None, "a fixed first-purchase referral reward")
    assert program.birthday is not None and program.birthday.days_before == 0
    cashier = botenv.customer("Кассир Олег")
    await botenv.add_staff(cashier, "Олег")
    anna, boris = botenv.customer("Анна"), botenv.customer("Борис")
    anna_id, boris_id = await botenv.register(anna), await botenv.register(boris)
    async with botenv.db.reading() as s:
        codes = {c.id: c.referral_code for c in (await s.execute(select(Customer))).scalars()}
    today = botenv.clock.now().astimezone(botenv.dom.tz).date()
    vera = botenv.customer("Вера", phone=PHONE)

    # The first time: Anna's link, a birthday today, a purchase, the campaign, a review.
    first = await botenv.register(vera, payload=f"r_{codes[anna_id]}", birthday=date(1990, today.month, today.day))
    bought = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=first, amount_kopecks=100_000))
    share = await _referral_points(botenv, anna_id, bought.operation_id) - FIXED
    assert share >= 0  # Anna got the fixed reward (and her share of the check)
    await vera.start("g_partner1")
    await vera.expect_text("Сертификат по акции начислен")
    await botenv.settle()
    await _review(botenv, vera, cashier)
    assert (await birthday_certificates(botenv.dom, today)).issued == 1
    assert sorted(await _lots(botenv, first, LotKind.CERTIFICATE)) == sorted([500, program.birthday.points])
    assert await _lots(botenv, first, LotKind.REVIEW) == [100]
    await erase(botenv, vera)

    # Again, same phone and Telegram account, through Boris's link, with tomorrow's birthday.
    tomorrow = today + timedelta(days=1)
    second = await botenv.register(vera, payload=f"r_{codes[boris_id]}",
                                   birthday=date(1991, tomorrow.month, tomorrow.day))
    assert second != first
    async with botenv.db.reading() as s:
        again = (await s.execute(select(Customer).where(Customer.id == second))).scalar_one()
    assert again.referrer_id == anna_id  # the referrer is fixed for the phone, whatever the link
    bought = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=second, amount_kopecks=100_000))
    assert await _referral_points(botenv, anna_id, bought.operation_id) == share  # no second fixed reward
    assert await _referral_points(botenv, boris_id, bought.operation_id) == 0
    await vera.start("g_partner1")
    await vera.expect_text("уже получали сертификат")
    await vera.send("/review")
    await vera.expect_text("за отзыв начислим баллы")
    refused = await vera.press("Отзыв на 2GIS (+100)")
    assert refused.text == "За отзыв на 2GIS вы уже получили баллы."
    botenv.clock.advance(timedelta(days=1))
    assert (await birthday_certificates(botenv.dom, tomorrow)).issued == 0  # once per person per year
    await botenv.settle()
    assert await _lots(botenv, second, LotKind.CERTIFICATE) == []  # neither the campaign's nor a birthday's

    # The same again from a new Telegram account: still the first referrer, still nothing twice.
    await erase(botenv, vera)
    other = botenv.customer("Вера", phone=PHONE)
    third = await botenv.register(other, payload=f"r_{codes[boris_id]}")
    async with botenv.db.reading() as s:
        assert (await s.get(Customer, third)).referrer_id == anna_id  # type: ignore[union-attr]
    bought = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=third, amount_kopecks=100_000))
    assert await _referral_points(botenv, anna_id, bought.operation_id) == share
    await assert_invariants(botenv.dom)


async def test_an_erased_first_referrer_leaves_the_phone_without_a_referrer(botenv: BotEnv) -> None:
    anna, boris = botenv.customer("Анна"), botenv.customer("Борис")
    anna_id, boris_id = await botenv.register(anna), await botenv.register(boris)
    async with botenv.db.reading() as s:
        codes = {c.id: c.referral_code for c in (await s.execute(select(Customer))).scalars()}
    vera = botenv.customer("Вера", phone=PHONE)
    first = await botenv.register(vera, payload=f"r_{codes[anna_id]}")
    await erase(botenv, vera)
    await erase(botenv, anna)
    second = await botenv.register(vera, payload=f"r_{codes[boris_id]}")
    async with botenv.db.reading() as s:
        rows = {c.id: c for c in (await s.execute(select(Customer).where(Customer.id.in_([first, second]))))
                .scalars()}
    assert rows[first].referrer_id == anna_id and rows[second].referrer_id is None
    # A phone seen for the first time still takes the link's referrer.
    dina = botenv.customer("Дина")
    dina_id = await botenv.register(dina, payload=f"r_{codes[boris_id]}")
    async with botenv.db.reading() as s:
        assert (await s.get(Customer, dina_id)).referrer_id == boris_id  # type: ignore[union-attr]
