"""The end-to-end harness of the customer area, re-exported for the owner's tests."""

from tests.bot.conftest import BotEnv, botenv  # noqa: F401


def pytest_configure(config: object) -> None:
    config.addinivalue_line("markers", "botenv(**options): options of the bot harness (tests/bot/conftest.py)")  # type: ignore[attr-defined]
