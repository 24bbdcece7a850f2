"""Ratings after a purchase and rewarded reviews approved in the staff chat."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from models.kernel.tables import AuditEntry, Lot, LotKind, Rating, ReviewClaim, ReviewStatus
from models.purchase.purchases import PurchaseRequest, commit_purchase

from .conftest import BotEnv

SCREENSHOT = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ffff3f0005fe02fe"
    "a7356d810000000049454e44ae426082")


async def test_rating_after_a_purchase_is_stored_with_the_staff_member(botenv: BotEnv) -> None:
    cashier = botenv.customer("Кассир Ира")
    staff_id = await botenv.add_staff(cashier, "Ира")
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)
    result = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=customer_id, amount_kopecks=250_000,
                                                               staff_id=staff_id))
    receipt = await anna.expect_text("Оцените, пожалуйста, визит")
    assert receipt.button_texts == ["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]
    answer = await anna.press("5⭐")
    assert answer.text == "Спасибо за оценку!"
    edited = await anna.expect()
    assert edited.edited and not edited.buttons
    assert "Оцените, пожалуйста, визит" in edited.text and "Ваша оценка: ★★★★★" in edited.text  # issue 16
    async with botenv.db.reading() as s:
        rating = (await s.execute(select(Rating))).scalar_one()
    assert (rating.operation_id, rating.customer_id, rating.staff_id, rating.score) == (
        result.operation_id, customer_id, staff_id, 5)
    # Pressing an old keyboard again (or forging it) does not rate twice.
    again = await anna.press_callback(f"rate:{result.operation_id}:1")
    assert again.text == "Этот визит уже оценён."
    await botenv.settle()
    assert not botenv.staff_chat.bot_messages()  # 5 is not a low rating


async def test_low_rating_alerts_the_staff_chat_and_foreign_purchases_cannot_be_rated(botenv: BotEnv) -> None:
    boris = botenv.customer("Борис")
    boris_id = await botenv.register(boris)
    other = botenv.customer("Чужой")
    other_id = await botenv.register(other)
    theirs = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=other_id, amount_kopecks=100_000))
    mine = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=boris_id, amount_kopecks=123_450))
    await botenv.settle()
    forged = await boris.press_callback(f"rate:{theirs.operation_id}:1")
    assert forged.text == "Эта покупка не найдена."
    # The menu offers the last unrated purchase.
    boris.skip_pending()
    await boris.send("⭐ Оценить визит")
    await boris.expect_text("Оцените последний визит")
    await boris.press("Оценить последний визит")
    prompt = await boris.expect_text("Как вам визит 02.03.2026")
    assert prompt.callback_data("2⭐") == f"rate:{mine.operation_id}:2"
    await boris.press("2⭐")
    await botenv.settle()
    alert = botenv.staff_chat.last_bot_message()
    assert alert is not None
    assert "Низкая оценка: 2 из 5" in alert.text and "Борис" in alert.text and "1\u00a0234,50\u00a0₽" in alert.text


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_low_rating_asks_what_went_wrong_and_the_staff_chat_reads_it(botenv: BotEnv, language: str) -> None:
    """Issue 16: after a low rating the bot asks what went wrong; the answer reaches the staff
    chat once, through the outbox; the rated message shows the stars given. Without a visit the
    menu says a visit can be rated after a purchase."""
    gleb = botenv.customer("Глеб", language_code=language)
    gleb_id = await botenv.register(gleb)
    await gleb.send("/review")
    await gleb.expect_text(botenv.text(gleb, "review-menu-no-visit")[:25])
    purchase = await commit_purchase(botenv.dom, PurchaseRequest(customer_id=gleb_id, amount_kopecks=100_000))
    await botenv.settle()
    await botenv.press(gleb, "2⭐")
    asked = await gleb.expect_text(botenv.text(gleb, "review-ask-what-went-wrong")[:20])
    rated = [m for m in botenv.tg.chat(gleb.id).bot_messages() if m.edited and "★★☆☆☆" in m.text]
    assert rated and not rated[0].buttons, gleb.transcript()
    assert asked.text == botenv.text(gleb, "review-ask-what-went-wrong")
    await gleb.send("Долго ждали кофе <b>и</b> было холодно")
    await gleb.expect_text(botenv.text(gleb, "review-comment-thanks"))
    await botenv.settle()
    [comment] = [m for m in botenv.staff_chat.bot_messages() if "💬" in m.text]
    assert f"#{purchase.operation_id}" in comment.text and "Долго ждали кофе <b>и</b> было холодно" in comment.text
    # Another message is an ordinary message again, not a second comment.
    await gleb.send("ещё одно")
    await botenv.settle()
    assert len([m for m in botenv.staff_chat.bot_messages() if "💬" in m.text]) == 1


@pytest.mark.botenv(postgres=True)
async def test_review_approved_by_staff_once_and_forged_approval_refused(
        botenv: BotEnv, caplog: pytest.LogCaptureFixture) -> None:
    cashier = botenv.customer("Кассир Олег")
    await botenv.add_staff(cashier, "Олег")
    vera = botenv.customer("Вера")
    vera_id = await botenv.register(vera)
    await vera.send("⭐ Оценить визит")
    await vera.expect_text("за отзыв начислим баллы")
    await vera.press("Отзыв на 2GIS (+100)")
    link = await vera.expect_text("Оставьте отзыв на 2GIS")
    assert link.button("Открыть 2GIS") == {"text": "Открыть 2GIS", "url": "https://2gis.ru/"}
    await vera.send("вот мой отзыв")  # text instead of a screenshot
    await vera.expect_text("Пришлите скриншот")
    await vera.send_photo(SCREENSHOT)
    await vera.expect_text("отправлен на проверку")
    await botenv.settle()
    staff_message = botenv.staff_chat.last_bot_message()
    assert staff_message is not None and staff_message.photo == SCREENSHOT
    assert "Отзыв на проверку: 2GIS" in (staff_message.caption or "")
    approve_data = staff_message.callback_data("✅ Одобрить")
    assert approve_data is not None

    # The customer forges the staff button: refused, logged, audited, nothing paid.
    with caplog.at_level(logging.WARNING, logger="handlers.customer_reviews"):
        forged = await vera.press_callback(approve_data)
    assert forged.text == "Это действие вам недоступно." and forged.show_alert
    assert any(str(vera.id) in r.getMessage() for r in caplog.records)
    async with botenv.db.reading() as s:
        claim = (await s.execute(select(ReviewClaim))).scalar_one()
        assert claim.status is ReviewStatus.PENDING
        audit = list((await s.execute(select(AuditEntry.action, AuditEntry.actor_telegram_id))).all())
    assert ("review.forbidden", vera.id) in audit

    # Staff approve in the staff chat: the caption records who, the customer is paid and told.
    answer = await botenv.staff_chat.press(cashier, "Одобрить")
    assert answer.text == "Одобрено, баллы начислены."
    await botenv.settle()
    decided = botenv.staff_chat.last_bot_message()
    assert decided is not None and "Одобрено: Олег" in (decided.caption or "") and not decided.buttons
    await vera.expect_text("Спасибо за отзыв на 2GIS! Начислено: +100 баллов")
    async with botenv.db.reading() as s:
        lots = list((await s.execute(select(Lot).where(Lot.customer_id == vera_id, Lot.kind == LotKind.REVIEW)))
                    .scalars())
    assert [lot.amount for lot in lots] == [100]
    # Pressing again: already decided. And the site cannot be claimed a second time.
    assert (await botenv.staff_chat.press_callback(cashier, approve_data)).text == \
        "По этому отзыву уже принято решение."
    await vera.send("/review")
    await vera.expect_text("за отзыв начислим баллы")
    refused = await vera.press("Отзыв на 2GIS (+100)")
    assert refused.text == "За отзыв на 2GIS вы уже получили баллы."


async def test_rejected_review_tells_the_customer(botenv: BotEnv) -> None:
    gleb = botenv.customer("Глеб", language_code="en")
    await botenv.register(gleb)
    await gleb.send("/review")
    await botenv.press(gleb, "Review on 2GIS (+100)")
    await gleb.send_photo(SCREENSHOT)
    await gleb.expect_text("sent for checking")
    await botenv.settle()
    # The owner may decide too (owners are staff); the staff chat speaks Russian.
    answer = await botenv.staff_chat.press(botenv.owner, "Отклонить")
    assert answer.text == "Отклонено."
    await gleb.expect_text("did not pass the check")
