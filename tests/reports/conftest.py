"""Builders for the report tests: staff members and source tags as rows (as the owner's
screens create them), everything else through the domain."""

from __future__ import annotations

import pytest

from bot.i18n import I18n


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return I18n()
