"""The base of every request body the HTTP API accepts, and the text it refuses."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

# C0 control characters other than tab, line feed and carriage return. NUL in particular cannot be
# stored in PostgreSQL text at all: a nonce or a name carrying one must be refused with a 400,
# not reach the database and come back as a 500.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A lone UTF-16 surrogate: JSON may write "\ud800", and Python's json also turns the invalid UTF-8
# bytes ED A0 80 into one ('surrogatepass'), but no database driver can encode it (a 500 before).
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(value: Any) -> str | None:
    """Why `value` (a string, or any JSON structure of them, keys included) cannot be taken, or None."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            return "text must be valid Unicode (a lone UTF-16 surrogate or invalid UTF-8 is not a character)"
        if _CONTROL.search(value):
            return "text must not contain control characters"
        return None
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        return None
    for item in items:
        if (problem := text_problem(item)) is not None:
            return problem
    return None


class Input(BaseModel):
    """Unknown fields are ignored (registers send more than we read); control characters and lone
    surrogates in any text, known field or not, are a validation error."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _printable_text(cls, data: Any) -> Any:
        if (problem := text_problem(data)) is not None:
            raise ValueError(problem)
        return data
