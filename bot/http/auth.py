"""Basic authentication with `companyId:apiKey` (UDS "Basic" security scheme).

FastAPI's `HTTPBasic` reads the header (and declares the scheme in our OpenAPI); a missing or
malformed header and a wrong key all get the same 401 `unauthorized` answer (bot/http/errors.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from bot.http.errors import Unauthorized
from models.partner import KeyInfo, verify_api_key

# auto_error=False: no header (or another scheme) gives None, answered below like a wrong key;
# a header that is not base64 of "user:password" raises its 401, which errors.py answers the same way.
basic_scheme = HTTPBasic(auto_error=False, description="companyId as user name, the API key as password")


async def require_key(request: Request,
                      credentials: Annotated[HTTPBasicCredentials | None, Depends(basic_scheme)]) -> KeyInfo:
    """The API key of this request, or 401 `unauthorized`."""
    if credentials is None:
        raise Unauthorized()
    services = request.app.state.services
    key = await verify_api_key(services.dom, credentials.username, credentials.password)
    if key is None:
        raise Unauthorized()
    request.state.api_key = key
    return key
