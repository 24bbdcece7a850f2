"""The end-to-end harness of the customer area, re-exported for the owner's tests."""

from tests.bot.conftest import BotEnv, botenv  # noqa: F401
