"""A promo code's link (issue 18: "or it comes in a deep link"): `/start p_<id>` redeems the code
for a member at once and for a newcomer when registration ends, once per person, every refusal in
the reader's words; the owner's list shows the link of every live code."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.deeplinks import make_link, parse_deep_link
from models.campaigns.promo import PromoSpec, create_promo, disable_promo
from tests.helpers import certificates_total

from .conftest import OWNER_ID, BotEnv


async def make_code(env: BotEnv, code: str, points: int, *, days: int = 10) -> int:
    today = env.clock.now().astimezone(env.services.dom.tz).date()
    promo = await create_promo(env.services.dom, OWNER_ID, PromoSpec(
        code=code, points=points, first_day=today, last_day=today + timedelta(days=days - 1)))
    return promo.id


def test_the_promo_payload_is_the_codes_id() -> None:
    assert parse_deep_link("p_12").kind == "promo" and parse_deep_link("p_12").value == "12"
    for bad in ("p_", "p_0", "p_012", "p_abc", "p_" + "9" * 19, "p_ЛЕТО"):
        assert parse_deep_link(bad).kind == "unknown", bad
    assert make_link("cafe_bot", "promo", "7") == "https://t.me/cafe_bot?start=p_7"


@pytest.mark.botenv(postgres=True)
async def test_a_member_opening_the_link_gets_the_certificate_once(botenv: BotEnv) -> None:
    promo_id = await make_code(botenv, "ЛЕТО24", 200)
    anna = botenv.customer("Анна")
    anna_id = await botenv.register(anna)
    await anna.start(f"p_{promo_id}")
    got = await anna.expect_text("принят")
    assert "ЛЕТО24" in got.text and "200 баллов" in got.text
    assert await certificates_total(botenv.dom, anna_id) == 200
    await anna.start(f"p_{promo_id}")  # the link again, or /promo with the code: once per person
    await anna.expect_text("Вы уже использовали промокод «ЛЕТО24»")
    await anna.send("/promo ЛЕТО24")
    await anna.expect_text("Вы уже использовали промокод «ЛЕТО24»")
    assert await certificates_total(botenv.dom, anna_id) == 200

    await anna.start("p_999999")  # a link to no code
    await anna.expect_text("Этого промокода нет")
    stopped = await make_code(botenv, "ЗИМА", 50)
    await disable_promo(botenv.dom, OWNER_ID, stopped)
    await anna.start(f"p_{stopped}")
    await anna.expect_text("Промокод «ЗИМА» больше не действует")
    assert await certificates_total(botenv.dom, anna_id) == 200


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_newcomer_gets_the_code_when_registration_ends(botenv: BotEnv, language: str) -> None:
    promo_id = await make_code(botenv, "ЛЕТО24", 150)
    ann = botenv.customer("Ann", language_code=language)
    customer_id = await botenv.register(ann, payload=f"p_{promo_id}")
    done = next(m for m in ann.bot_messages() if botenv.text(ann, "reg-done", name="Ann").split(",")[0] in m.text)
    accepted = botenv.text(ann, "promo-accepted", code="ЛЕТО24", points=150, date="X", percent="100")
    assert accepted.split("X")[0].split("<b>")[0].strip() in done.text, done.text
    assert await certificates_total(botenv.dom, customer_id) == 150


async def test_an_expired_link_still_lets_the_newcomer_join(botenv: BotEnv) -> None:
    promo_id = await make_code(botenv, "ОСЕНЬ", 50, days=1)
    botenv.clock.advance(timedelta(days=2))
    boris = botenv.customer("Борис")
    customer_id = await botenv.register(boris, payload=f"p_{promo_id}")
    done = next(m for m in boris.bot_messages() if "Срок действия промокода «ОСЕНЬ» закончился" in m.text)
    assert done is not None and await certificates_total(botenv.dom, customer_id) == 0


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_owners_list_shows_each_live_codes_link(botenv: BotEnv, language: str) -> None:
    live = await make_code(botenv, "ЛЕТО24", 200)
    stopped = await make_code(botenv, "ЗИМА", 50)
    await disable_promo(botenv.dom, OWNER_ID, stopped)
    owner = botenv.owner
    if language == "en":
        await botenv.choose_language(owner, "en")
    await owner.send("/promocodes")
    listed = await owner.expect_text("ЛЕТО24")
    link = make_link(botenv.tg.bot_username, "promo", str(live))
    assert botenv.t(language)("promo-owner-link", code="ЛЕТО24", link=link) in listed.text, listed.text
    assert f"start=p_{stopped}" not in listed.text  # a stopped code has nothing to share
