"""The error type the fake server answers with, shaped like Bot API errors."""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_DESCRIPTIONS", "MIGRATED", "ApiError"]

#: What real Telegram says for each status when a test does not pass a description.
DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: something is wrong with the request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}

#: What Telegram says (400, with ``parameters.migrate_to_chat_id``) for a write to a basic
#: group that was upgraded to a supergroup.
MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"


class ApiError(Exception):
    """A Bot API failure: becomes ``{"ok": false, "error_code": status, ...}``.

    The HTTP status equals ``error_code`` (that is what aiogram keys its exception
    classes on).
    """

    def __init__(
        self,
        status: int,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        retry_after = (parameters or {}).get("retry_after")
        if description is None:
            description = DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        description = description.replace("{retry_after}", str(retry_after))
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters or None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """Shortcut for ``400 Bad Request: <reason>``."""
    return ApiError(400, f"Bad Request: {reason}")
