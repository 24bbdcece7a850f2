"""The base of every request body the HTTP API accepts."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

# C0 control characters other than tab, line feed and carriage return. NUL in particular cannot be
# stored in PostgreSQL text at all: a nonce or a name carrying one must be refused with a 400,
# not reach the database and come back as a 500.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_CONTROL.search(value))
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_control(v) for v in value)
    return False


class Input(BaseModel):
    """Unknown fields are ignored (registers send more than we read); control characters in any
    text are a validation error."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        if _has_control(data):
            raise ValueError("text must not contain control characters")
        return data
