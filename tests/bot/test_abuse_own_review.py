"""Nobody approves their own review in the staff chat (issue 14 §3, docs/RULES.md "Reviews"):
a cashier who is also a customer, or the owner, gets a clear refusal and nothing changes;
another staff member (or the owner) approves it as usual."""

from __future__ import annotations

from sqlalchemy import select

from models.kernel.tables import AuditEntry, Lot, LotKind, ReviewClaim, ReviewStatus

from .conftest import BotEnv
from .test_customer_reviews import SCREENSHOT


async def _submit_review(env: BotEnv, user) -> None:  # type: ignore[no-untyped-def]
    await user.send("/review")
    await user.expect_text("за отзыв начислим баллы")
    await user.press("Отзыв на 2GIS (+100)")
    await user.expect_text("Оставьте отзыв на 2GIS")
    await user.send_photo(SCREENSHOT)
    await user.expect_text("отправлен на проверку")
    await env.settle()


async def _state(env: BotEnv, customer_id: int) -> tuple[ReviewStatus, list[int]]:
    async with env.db.reading() as s:
        claim = (await s.execute(select(ReviewClaim).where(ReviewClaim.customer_id == customer_id))).scalar_one()
        lots = list((await s.execute(select(Lot.amount).where(
            Lot.customer_id == customer_id, Lot.kind == LotKind.REVIEW))).scalars())
    return claim.status, lots


async def test_a_cashier_cannot_approve_their_own_review(botenv: BotEnv) -> None:
    oleg = botenv.customer("Олег")
    oleg_id = await botenv.register(oleg)
    await botenv.add_staff(oleg, "Олег")
    ira = botenv.customer("Ира")
    await botenv.add_staff(ira, "Ира")
    await _submit_review(botenv, oleg)
    staff_message = botenv.staff_chat.last_bot_message()
    assert staff_message is not None and "Олег" in (staff_message.caption or "")

    answer = await botenv.staff_chat.press(oleg, "Одобрить")
    assert answer.text == "Свой отзыв одобряет другой сотрудник или владелец." and answer.show_alert
    await botenv.settle()
    assert await _state(botenv, oleg_id) == (ReviewStatus.PENDING, [])
    still = botenv.staff_chat.last_bot_message()
    assert still is not None and still.buttons  # the buttons stay for a colleague
    async with botenv.db.reading() as s:
        actions = list((await s.execute(select(AuditEntry.action, AuditEntry.actor_telegram_id))).all())
    assert ("review.own_refused", oleg.id) in actions and ("review.approve", oleg.id) not in actions

    answer = await botenv.staff_chat.press(ira, "Одобрить")
    assert answer.text == "Одобрено, баллы начислены."
    await botenv.settle()
    assert await _state(botenv, oleg_id) == (ReviewStatus.APPROVED, [100])


async def test_the_owner_cannot_approve_their_own_review_either(botenv: BotEnv) -> None:
    owner_id = await botenv.register(botenv.owner)
    await _submit_review(botenv, botenv.owner)
    answer = await botenv.staff_chat.press(botenv.owner, "Одобрить")
    assert answer.text == "Свой отзыв одобряет другой сотрудник или владелец."
    assert await _state(botenv, owner_id) == (ReviewStatus.PENDING, [])
    cashier = botenv.customer("Кассир")
    await botenv.add_staff(cashier)
    assert (await botenv.staff_chat.press(cashier, "Одобрить")).text == "Одобрено, баллы начислены."
    assert await _state(botenv, owner_id) == (ReviewStatus.APPROVED, [100])


async def test_rejecting_ones_own_review_is_allowed(botenv: BotEnv) -> None:
    oleg = botenv.customer("Олег", language_code="en")
    oleg_id = await botenv.register(oleg)
    await botenv.add_staff(oleg, "Олег")
    await oleg.send("/review")
    await botenv.press(oleg, "Review on 2GIS (+100)")
    await oleg.send_photo(SCREENSHOT)
    await oleg.expect_text("sent for checking")
    await botenv.settle()
    answer = await botenv.staff_chat.press(oleg, "Одобрить")
    assert answer.text == "Another staff member or the owner approves your own review."
    assert (await botenv.staff_chat.press(oleg, "Отклонить")).text == "Rejected."
    assert await _state(botenv, oleg_id) == (ReviewStatus.REJECTED, [])
