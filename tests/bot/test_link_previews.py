"""Issue 16: `link_preview_options` in place of the deprecated `disable_web_page_preview`."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.runner import policy_warning

from .conftest import BotEnv

ROOT = Path(__file__).resolve().parents[2]


async def test_the_consent_message_has_no_preview_and_uses_link_preview_options(botenv: BotEnv) -> None:
    anna = botenv.customer("Анна")
    await anna.start()
    consent = await anna.expect_text("согласие")
    assert consent.link_preview_disabled, consent.raw
    [call] = [c for c in botenv.tg.calls("sendMessage", chat_id=anna.id) if c.result
              and c.result.get("message_id") == consent.message_id]
    assert "link_preview_options" in call.params and "disable_web_page_preview" not in call.params, call.params


def test_no_code_sends_the_deprecated_parameter() -> None:
    used = [str(path.relative_to(ROOT)) for folder in ("bot", "handlers", "scheduler", "models")
            for path in (ROOT / folder).rglob("*.py") if "disable_web_page_preview" in path.read_text()]
    assert used == []


async def test_the_consent_links_the_privacy_policy_set_by_the_business(botenv: BotEnv) -> None:
    """Issue 16: PRIVACY_POLICY_URL is the link customers see when they give consent."""
    botenv.services.settings = botenv.services.settings.model_copy(
        update={"privacy_policy_url": "https://kofeinya.ru/privacy"})
    anna = botenv.customer("Анна")
    await anna.start()
    consent = await anna.expect_text("согласие")
    links = [e.get("url") for e in consent.entities if e.get("type") == "text_link"]
    assert links == ["https://kofeinya.ru/privacy"], consent.raw


def test_start_up_warns_while_the_policy_link_is_missing_or_a_placeholder() -> None:
    plain = Settings(_env_file=None)  # type: ignore[call-arg]
    assert "PRIVACY_POLICY_URL is not set" in (policy_warning(plain, "") or "")
    assert "placeholder" in (policy_warning(plain, "https://example.com/privacy") or "")
    assert policy_warning(plain, "https://kofeinya.ru/privacy") is None
    own = Settings(_env_file=None, privacy_policy_url="https://kofeinya.ru/privacy")  # type: ignore[call-arg]
    assert policy_warning(own, "https://example.com/privacy") is None  # the setting wins
    with pytest.raises(ValidationError):
        Settings(_env_file=None, privacy_policy_url="javascript:alert(1)")  # type: ignore[call-arg]
