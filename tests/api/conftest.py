"""Fixtures for the HTTP API: the real app on the `dom` database, called in-process through
httpx's ASGI transport, with a real API key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.config import Settings, load_settings
from bot.http import build_app
from bot.services import Services
from models.kernel.context import Domain
from models.partner.api_keys import CreatedKey, create_api_key

BASE = "/partner/v2"


def api_settings(**overrides: Any) -> Settings:
    return load_settings(_env_file=None, **overrides)


@pytest.fixture
def services(dom: Domain) -> Services:
    return Services(settings=api_settings(), dom=dom, bot_username="test_loyalty_bot")


@pytest.fixture
async def api_key(dom: Domain) -> CreatedKey:
    return await create_api_key(dom, "till-1")


@pytest.fixture
async def client(services: Services, api_key: CreatedKey) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(services)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test",
                                 auth=(str(api_key.company_id), api_key.secret)) as http:
        yield http


def error_code(response: httpx.Response) -> str:
    return str(response.json().get("errorCode"))


class NoAuth(httpx.Auth):
    """Send a request without the client's credentials."""

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def, override]
        yield request
