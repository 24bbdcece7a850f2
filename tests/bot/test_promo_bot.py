"""The customer's /promo through the real bot and fakegram (issue 18): a certificate once per
person, every refusal in the customer's words, in Russian and English."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.campaigns.promo import PromoSpec, create_promo
from models.kernel.tables import AuditEntry
from tests.helpers import certificates_total

from .conftest import OWNER_ID, BotEnv


async def make_code(env: BotEnv, code: str, points: int, *, days: int = 10, limit: int | None = None) -> None:
    today = env.clock.now().astimezone(env.services.dom.tz).date()
    await create_promo(env.services.dom, OWNER_ID, PromoSpec(code=code, points=points, first_day=today,
                                                             last_day=today + timedelta(days=days - 1),
                                                             uses_limit=limit))


@pytest.mark.botenv(postgres=True)
async def test_promo_code_gives_a_certificate_once_per_person(botenv: BotEnv) -> None:
    await make_code(botenv, "ЛЕТО24", 200, limit=2)
    anna = botenv.customer("Анна")
    anna_id = await botenv.register(anna)
    await anna.send("/promo")
    await anna.expect_text("Отправьте промокод")
    await anna.send("/promo лето 24")  # any case, spaces: the code as printed on a flyer
    got = await anna.expect_text("принят")
    assert "ЛЕТО24" in got.text and "200 баллов" in got.text
    assert await certificates_total(botenv.services.dom, anna_id) == 200
    await anna.send("/promo ЛЕТО24")
    await anna.expect_text("Вы уже использовали промокод «ЛЕТО24»")
    await anna.send("/promo ЗИМА")
    await anna.expect_text("Промокода «ЗИМА» нет")
    await anna.send("/promo !!")
    await anna.expect_text("от 3 до 20 букв и цифр")
    assert await certificates_total(botenv.services.dom, anna_id) == 200  # nothing else was given

    vera = botenv.customer("Vera", language_code="en")
    await botenv.register(vera)
    await vera.send("/promo Лето24")
    accepted = await vera.expect_text("accepted")
    assert "200 points" in accepted.text
    boris = botenv.customer("Boris", language_code="en")
    await botenv.register(boris)
    await boris.send("/promo ЛЕТО24")
    await boris.expect_text("has been used as many times as it allowed")

    botenv.clock.advance(timedelta(days=11))
    await make_code(botenv, "ОСЕНЬ", 50, days=1)
    botenv.clock.advance(timedelta(days=2))
    await boris.send("/promo осень")
    await boris.expect_text("has expired")


async def test_promo_needs_a_registered_customer(botenv: BotEnv) -> None:
    await make_code(botenv, "ЛЕТО24", 200)
    guest = botenv.customer("Гость")  # never registered: sent to /start, no certificate
    await guest.send("/promo ЛЕТО24")
    await guest.expect_text("/start")
    mid = botenv.customer("Ира")  # in the middle of registering: the registration step answers
    await mid.send("/start")
    await mid.expect_text("согласие")
    await mid.send("/promo ЛЕТО24")
    await mid.expect_text("нажмите «Согласен»")


async def test_the_owner_creates_lists_and_stops_promo_codes(botenv: BotEnv) -> None:
    owner = botenv.owner
    await owner.send("/promocodes")
    await owner.expect_text("Промокодов пока нет")
    today = botenv.clock.now().astimezone(botenv.services.dom.tz).date()
    days = f"{today:%d.%m.%Y}-{today + timedelta(days=29):%d.%m.%Y}"
    await owner.send(f"/promocodes лето24 200 {days} 100")
    created = await owner.expect_text("Промокод создан")
    assert "ЛЕТО24" in created.text and "использован 0 из 100" in created.text and "действует" in created.text
    for bad, answer in ((f"/promocodes ЗИМА 200 {days[:10]}", "Не понял промокод"),
                        (f"/promocodes ЗИМА ２００ {days}", "Не понял промокод"),  # ASCII digits only
                        ("/promocodes ЗИМА 200 31.02.2026-01.03.2026", "Не понял промокод"),
                        (f"/promocodes ЛETO24 50 {days}", "уже был"),  # a Latin look-alike of ЛЕТО24
                        (f"/promocodes ЗИМА 0 {days}", "от 1 до 10 000 000"),
                        ("/promocodes ЗИМА 10 01.01.2020-02.01.2020", "Проверьте даты")):
        await owner.send(bad)
        await owner.expect_text(answer)

    anna = botenv.customer("Анна")
    await botenv.register(anna)
    await anna.send("/promo ЛЕТО24")
    await anna.expect_text("принят")
    await owner.send("/owner")
    await botenv.press(owner, "Промокоды")  # the owner menu's button shows the same list
    listed = await owner.expect_text("Промокоды")
    assert "использован 1 из 100, выдано 200 б." in listed.text
    stopped = await botenv.press(owner, "Остановить ЛЕТО24")
    assert "остановлен" in (stopped.text or "")
    await owner.expect_text("остановлен", timeout=5)
    boris = botenv.customer("Борис")
    await botenv.register(boris)
    await boris.send("/promo ЛЕТО24")
    await boris.expect_text("больше не действует")

    # /report (this month) counts the code's uses and the points it gave.
    await owner.send("/report")
    await botenv.press(owner, botenv.text(owner, "report-period-month"))
    await owner.expect_text(botenv.text(owner, "report-xlsx-caption"), timeout=20)  # summary, charts, workbook
    await botenv.press(owner, botenv.text(owner, "report-button-more"))  # the promo codes are in the details
    report = await owner.expect_text("Промокоды\n• ЛЕТО24", timeout=20)
    assert "• ЛЕТО24: использований 1, выдано 200 баллов" in report.text

    # A customer can neither list codes nor press Stop on a forged button.
    await anna.send("/promocodes")
    await anna.expect_text("доступна только владельцу")
    forged = await anna.press_callback("ow|promo-off|1")
    assert forged.show_alert and "только владельцу" in (forged.text or "")
    async with botenv.db.reading() as session:
        refusals = (await session.execute(select(AuditEntry.action).where(AuditEntry.action == "owner.refused"))
                    ).scalars().all()
    assert len(refusals) == 2  # both attempts are in the audit log
