"""Issue 16: `link_preview_options` in place of the deprecated `disable_web_page_preview`."""

from __future__ import annotations

from pathlib import Path

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
