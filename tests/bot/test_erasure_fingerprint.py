"""After "delete my data" only a keyed fingerprint of the phone is kept, and welcome points
are still paid once per phone ever (issue 21 §2), through the real bot."""

from __future__ import annotations

from sqlalchemy import select

from models.kernel.phone_key import unkeyed_hash
from models.kernel.tables import Customer, RewardClaim
from tests.helpers import assert_invariants, balance

from .conftest import BotEnv

PHONE = "+79161230021"


async def erase(botenv: BotEnv, user) -> None:  # type: ignore[no-untyped-def]
    await user.send("/settings")
    await user.expect_text("Настройки")
    await botenv.press(user, botenv.text(user, "settings-button-erase"))
    await user.expect_text("Удалить ваши данные?")
    await botenv.press(user, botenv.text(user, "settings-button-erase-yes"))
    await user.expect_text(equals=botenv.text(user, "settings-erased"))
    await botenv.settle()


async def test_welcome_once_per_phone_across_erasure_and_only_a_keyed_fingerprint_kept(botenv: BotEnv) -> None:
    welcome = 300  # case-a
    anna = botenv.customer("Анна", phone=PHONE)
    first = await botenv.register(anna)
    assert await balance(botenv.dom, first) == welcome
    await erase(botenv, anna)

    async with botenv.db.reading() as session:
        erased = (await session.execute(select(Customer).where(Customer.id == first))).scalar_one()
        subjects = list((await session.execute(
            select(RewardClaim.subject).where(RewardClaim.kind == "welcome"))).scalars())
    assert erased.phone is None and erased.erased_at is not None
    assert len(subjects) == 1
    # What is left cannot be looked up by hashing candidate phones the old, unkeyed way.
    assert subjects[0] != unkeyed_hash(PHONE) and "79161230021" not in subjects[0]

    # The same phone again, from the same Telegram account and from a new one: no second welcome.
    again = await botenv.register(anna)
    assert again != first and await balance(botenv.dom, again) == 0
    await erase(botenv, anna)
    other = botenv.customer("Анна", phone=PHONE)
    third = await botenv.register(other)
    assert await balance(botenv.dom, third) == 0
    # A phone never seen before still gets its welcome.
    boris = botenv.customer("Борис")
    assert await balance(botenv.dom, await botenv.register(boris)) == welcome
    await assert_invariants(botenv.dom)
