"""Callback data factories (issue 15): every button's data is a `CallbackData` subclass, packed
within Telegram's 64 bytes; buttons from before the factories (still on people's screens after
the upgrade) either pack the same and keep working, or get the clear "this button no longer
works" answer, never an error; forged or garbled data gets the same clear answer.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from sqlalchemy import select

from bot.keyboards import ConsentCb, LanguageCb, RefreshCardCb
from bot.markups import RateCb, ReviewDecisionCb
from handlers.customer_menu import HistoryCb
from handlers.customer_reviews import ReviewCb
from handlers.customer_settings import BroadcastsCb, EraseCb, SettingsCb
from handlers.owner_views import (
    OWNER_CALLBACKS,
    AuditCb,
    BroadcastCb,
    CampaignCb,
    CardCb,
    ExportCb,
    ImportCb,
    MenuCb,
    ProgramCb,
    PromoCb,
)
from models.kernel.tables import AuditEntry, Customer
from models.owner.exports import ExportFormat, ExportWhat

from .conftest import BotEnv

BIG = 10**18 - 1  # the largest id a factory packs

# The longest data each factory packs (the longest action, every id at its largest).
LONGEST: list[CallbackData] = [
    ConsentCb(action="agree"), RefreshCardCb(action="refresh"), LanguageCb(locale="en"),
    RateCb(operation_id=BIG, score=5), ReviewDecisionCb(action="approve", claim_id=BIG),
    HistoryCb(page=99_999), ReviewCb(action="site", index=999), SettingsCb(action="birthday"),
    EraseCb(erase=True), BroadcastsCb(on=False),
    MenuCb(item="promocodes"), ProgramCb(action="download"), ProgramCb(action="set", setting="winback_after_days"),
    ProgramCb(action="set", setting="tier_cashback", tier=19),
    CampaignCb(action="create", campaign_id=BIG),
    BroadcastCb(action="value", kind="birthday_month", value="12", broadcast_id=0),
    BroadcastCb(action="value", kind="source_kind", value="campaign"),
    BroadcastCb(action="no_button", broadcast_id=BIG), ImportCb(action="confirm"),
    ExportCb(what=ExportWhat.OPERATIONS, fmt=ExportFormat.XLSX),
    CardCb(action="pin_set", customer_id=BIG, page=BIG, tier=19), AuditCb(page=BIG), PromoCb(promo_id=BIG),
]


def test_every_factory_packs_within_telegrams_64_bytes_and_unpacks_to_itself() -> None:
    assert {type(data) for data in LONGEST} >= set(OWNER_CALLBACKS)
    for data in LONGEST:
        packed = data.pack()
        assert len(packed.encode()) <= 64, packed
        assert type(data).unpack(packed) == data
    prefixes = [cls.__prefix__ for cls in {type(data) for data in LONGEST}]
    assert len(prefixes) == len(set(prefixes))  # no two factories share a prefix


def test_the_customers_buttons_pack_as_before_the_factories() -> None:
    """These are on people's screens (a purchase notification's stars for days): same data, same handler."""
    assert ConsentCb(action="agree").pack() == "reg:agree"
    assert RefreshCardCb(action="refresh").pack() == "card:refresh"
    assert LanguageCb(locale="ru").pack() == "lang:ru"
    assert RateCb(operation_id=7, score=3).pack() == "rate:7:3"
    assert ReviewDecisionCb(action="reject", claim_id=12).pack() == "rv:reject:12"
    assert HistoryCb(page=2).pack() == "hist:2"
    assert ReviewCb(action="site", index=1).pack() == "review:site:1"
    assert [SettingsCb(action=a).pack() for a in ("lang", "birthday", "erase")] == [  # type: ignore[arg-type]
        "set:lang", "set:birthday", "set:erase"]


async def test_old_and_garbled_customer_buttons_get_a_clear_answer(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    customer_id = await botenv.register(anna)
    stale = botenv.text(anna, "fallback-stale-button")
    # Buttons from before the factories whose data changed, and forged or garbled data.
    for data in ("set:erase:yes", "review:rate", "hist:abc", "rate:x:y", "rate:-1:5", f"rate:{10**19}:5",
                 "rate:1:+5", "hist:-1", "set:nonsense", "set-er:maybe", "review:site:x", "lang", "💥"):
        record = await anna.press_callback(data)
        assert record.answered and record.text == stale, (data, record.text)
    async with botenv.db.reading() as session:
        erased = (await session.execute(select(Customer.erased_at).where(Customer.id == customer_id))).scalar()
    assert erased is None  # an old "erase: yes" erases nothing
    # A button whose data did not change keeps working: the settings' "erase" asks again.
    anna.skip_pending()
    await anna.press_callback("set:erase")
    confirm = await anna.expect()
    assert confirm.callback_data(botenv.text(anna, "settings-button-erase-no")) == EraseCb(erase=False).pack()
    await botenv.press(anna, botenv.text(anna, "settings-button-erase-no"))
    await anna.expect_text(botenv.text(anna, "settings-erase-kept"))
    assert not botenv.errors


async def test_garbled_review_decisions_are_refused_for_customers_and_stale_for_staff(botenv: BotEnv) -> None:
    cashier = botenv.customer("Ира")
    await botenv.add_staff(cashier, "Ира")
    vera = botenv.customer("Вера")
    await botenv.register(vera)
    record = await vera.press_callback("rv:maybe:1")
    assert record.show_alert and record.text == botenv.text(vera, "not-allowed")
    record = await cashier.press_callback("rv:maybe:1")
    assert record.text == botenv.text(cashier, "fallback-stale-button")
    async with botenv.db.reading() as session:
        forbidden = (await session.execute(select(AuditEntry.target).where(
            AuditEntry.action == "review.forbidden"))).scalars().all()
    assert forbidden == ["rv:maybe:1"]  # the customer's attempt is in the audit log, once


async def test_the_owners_old_or_garbled_buttons_are_outdated_and_anyone_elses_refused(botenv: BotEnv) -> None:
    owner = botenv.owner
    customer = botenv.customer("Анна")
    customer_id = await botenv.register(customer)
    outdated = botenv.text(owner, "owner-stale")
    await owner.send("/owner")  # the buttons below are pressed under the owner menu's message
    await owner.expect_text("/program")
    for data in ("ow|menu|program", f"ow|cblock|{customer_id}", "ou:show:abc:0:", "oe:customers:pdf",
                 "ob:no_button::0"):  # the last: a compose step that is over
        record = await owner.press_callback(data)
        assert record.show_alert and record.text == outdated, (data, record.text)
    # The same card button packed by the factory works for the owner...
    record = await owner.press_callback(CardCb(action="show", customer_id=customer_id).pack())
    assert record.answered and not record.show_alert
    await owner.expect_text("Анна")
    # ...and is refused (and audited) for anyone else, like the buttons from before the factories.
    for data in (CardCb(action="block", customer_id=customer_id).pack(), f"ow|cblock|{customer_id}"):
        record = await customer.press_callback(data)
        assert record.show_alert and record.text == botenv.text(customer, "owner-refused")
    async with botenv.db.reading() as session:
        blocked = (await session.execute(select(Customer.blocked).where(Customer.id == customer_id))).scalar()
        refused = (await session.execute(select(AuditEntry.actor_role).where(
            AuditEntry.action == "owner.refused"))).scalars().all()
    assert blocked is False and refused == ["customer", "customer"]
