"""Basic authentication with `companyId:apiKey` (UDS "Basic" security scheme)."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request
from fastapi.security import HTTPBasic

from bot.http.errors import Unauthorized
from models.api_keys import KeyInfo, verify_api_key

# Only declares the scheme in our OpenAPI; the check itself is `require_key`.
basic_scheme = HTTPBasic(auto_error=False, description="companyId as user name, the API key as password")


def parse_basic(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


async def require_key(request: Request) -> KeyInfo:
    """The API key of this request, or 401 `unauthorized`."""
    credentials = parse_basic(request.headers.get("authorization"))
    if credentials is None:
        raise Unauthorized()
    services = request.app.state.services
    key = await verify_api_key(services.dom, credentials[0], credentials[1])
    if key is None:
        raise Unauthorized()
    request.state.api_key = key
    return key
