"""Typed conversation data (issue 15) stores what was stored before: a conversation whose data
was written by the version before the TypedDicts (plain keys in the FSM storage) goes on."""

from __future__ import annotations

from aiogram.fsm.storage.base import StorageKey

from handlers.customer_reviews import ReviewFlow
from handlers.owner_program import ProgramEdit

from .conftest import BotEnv


async def _stored_before(botenv: BotEnv, user_id: int, state: str, data: dict[str, object]) -> StorageKey:
    key = StorageKey(bot_id=botenv.bot.id, chat_id=user_id, user_id=user_id)
    await botenv.dp.storage.set_state(key, state)
    await botenv.dp.storage.set_data(key, data)
    return key


async def test_a_conversation_stored_before_the_upgrade_goes_on(botenv: BotEnv) -> None:
    owner = botenv.owner
    # The owner was asked for the welcome points before the upgrade ({"setting": ...}).
    await _stored_before(botenv, owner.id, ProgramEdit.value.state, {"setting": "welcome_points"})
    await owner.send("777")
    offer = await owner.expect_text("777")
    assert offer.buttons  # Apply / Cancel: the change is offered from the old data
    await botenv.press(owner, botenv.text(owner, "program-button-apply"))
    await owner.expect_text(botenv.text(owner, "program-applied", version=2)[:12])


async def test_the_typed_helpers_write_the_same_keys(botenv: BotEnv) -> None:
    owner = botenv.owner
    key = StorageKey(bot_id=botenv.bot.id, chat_id=owner.id, user_id=owner.id)
    await owner.send("/program")
    await botenv.press(owner, botenv.text(owner, "program-set-welcome-points"))
    await owner.expect_text(botenv.text(owner, "program-ask-points")[:12])
    assert await botenv.dp.storage.get_state(key) == ProgramEdit.value.state
    assert await botenv.dp.storage.get_data(key) == {"setting": "welcome_points"}
    await owner.send("650")
    await owner.expect_text("650")
    stored = await botenv.dp.storage.get_data(key)
    assert stored["setting"] == "welcome_points" and stored["program_base"] == 1
    assert stored["program_candidate"]["welcome"]["points"] == 650
    assert set(stored) == {"setting", "program_candidate", "program_base", "program_comment"}
    assert ReviewFlow.what_went_wrong.state == "ReviewFlow:what_went_wrong"  # state names as before
