"""Program texts in the reader's language, end to end (issue 16): the case-A preset names its
tiers { ru = "Статус N", en = "Tier N" }; a customer, a cashier and the owner each read them
in their own language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import handlers.customer_views
from bot.card import CardData
from models.purchase.purchases import PurchaseRequest, commit_purchase
from tests.helpers import fresh_code

from .conftest import BotEnv

PROGRAM = (Path(__file__).resolve().parents[2] / "programs" / "case-a.toml").read_text(encoding="utf-8")
TIER_2 = '{ ru = "Статус 2", en = "Tier 2" }'


@pytest.fixture
def cards(monkeypatch: pytest.MonkeyPatch) -> list[CardData]:
    """What the card image is drawn from (the picture itself cannot be read back as text)."""
    drawn: list[CardData] = []
    draw = handlers.customer_views.render_card

    def recording(data: CardData) -> bytes:
        drawn.append(data)
        return draw(data)

    monkeypatch.setattr(handlers.customer_views, "render_card", recording)
    return drawn


@pytest.mark.parametrize("language, tier_1, tier_2", [("ru", "Статус 1", "Статус 2"), ("en", "Tier 1", "Tier 2")])
async def test_a_customer_reads_tier_names_in_their_language(
        botenv: BotEnv, cards: list[CardData], language: str, tier_1: str, tier_2: str) -> None:
    customer = botenv.customer("Анна" if language == "ru" else "Ann", language_code=language)
    customer_id = await botenv.register(customer)
    card = cards[-1]
    assert (card.tier_name, card.next_tier_name, card.business_name) == (tier_1, tier_2, "Case A")
    assert tier_2 in card.progress_text
    # A purchase that reaches the second tier: the notice is written once, read in the customer's language.
    await commit_purchase(botenv.dom, PurchaseRequest(customer_id=customer_id, amount_kopecks=5_000_000))
    await botenv.settle()
    notice = botenv.text(customer, "notify-tier-up", tier=tier_2)
    assert any(m.text == notice for m in customer.chat.bot_messages()), [m.text for m in customer.chat.bot_messages()]
    other = "Tier 2" if language == "ru" else "Статус 2"
    assert not any(other in (m.text or "") for m in customer.chat.bot_messages())
    customer.skip_pending()
    await customer.send("/card")
    while (await customer.expect()).photo is None:
        pass
    assert cards[-1].tier_name == tier_2 and cards[-1].next_tier_name == tier_1.replace("1", "3")


async def test_a_cashier_reads_the_tier_in_the_cashiers_language(botenv: BotEnv) -> None:
    ann = botenv.customer("Ann", language_code="en")
    customer_id = await botenv.register(ann)
    cashier = botenv.customer("Мария", language_code="ru")
    await botenv.add_staff(cashier, "Мария")
    await cashier.start(f"c_{await fresh_code(botenv.dom, customer_id)}")
    found = await cashier.expect_text("Ann")
    assert "Статус 1" in found.text and "Tier 1" not in found.text  # the reader's language, not the customer's


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_owners_program_and_its_diff_use_the_owners_language(botenv: BotEnv, language: str) -> None:
    owner = botenv.owner
    if language == "en":
        await botenv.choose_language(owner, "en")
    t = botenv.t(language)
    await owner.send("/program")
    shown = await owner.expect_text(t("program-tiers-money"))
    assert ("\n2. Tier 2: " in shown.content) is (language == "en")
    assert ("\n2. Статус 2: " in shown.content) is (language == "ru")
    # Only the English name changes: a Russian owner sees which, an English owner sees the new name.
    await owner.send_document(PROGRAM.replace(TIER_2, '{ ru = "Статус 2", en = "Silver" }').encode(), "new.toml")
    diff = await owner.expect_text(t("program-diff-head", version=1))
    if language == "ru":
        expected = "Название статуса «Статус 2»: Статус 2 (en: Tier 2) → Статус 2 (en: Silver)"
        assert expected in diff.content, diff.content
    else:
        assert "Name of tier “Silver”: Tier 2 (ru: Статус 2) → Silver (ru: Статус 2)" in diff.content, diff.content
    assert "tiers.levels" not in diff.content
    await botenv.press(owner, t("program-button-apply"))
    await owner.expect_text(t("program-applied", version=2))
    await owner.send("/program")
    shown = await owner.expect_text(t("program-tiers-money"))
    assert ("Silver" in shown.content) is (language == "en") and ("Статус 2" in shown.content) is (language == "ru")
    assert any(t("program-set-cashback", tier="Silver" if language == "en" else "Статус 2") in row
               for row in shown.button_texts)


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_name_in_no_language_is_refused_in_the_owners_words(botenv: BotEnv, language: str) -> None:
    owner = botenv.owner
    if language == "en":
        await botenv.choose_language(owner, "en")
    t = botenv.t(language)
    for name, key, args in (("{}", "program-error-text-no-language", {}),
                            ('{ ru = "Статус 2", de = "Stufe 2" }', "program-error-text-unknown-language",
                             {"unknown": "de"})):
        await owner.send_document(PROGRAM.replace(TIER_2, name).encode(), "bad.toml")
        refused = await owner.expect_text(t("program-invalid", errors="").strip())
        expected: Any = t(key, **args)
        assert f"bad.toml: tiers.levels.1.name: {expected}" in refused.content, refused.content
