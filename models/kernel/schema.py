"""Every table of the schema, registered on `Base.metadata`: they all live in models/kernel/tables.py."""

from __future__ import annotations

from sqlalchemy import MetaData

import models.kernel.tables  # noqa: F401  (importing it registers every table)
from models.kernel.base import Base


def load_all_tables() -> MetaData:
    return Base.metadata
