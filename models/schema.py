"""Imports every module of `models` so all tables are registered on `Base.metadata`.

Later areas add tables in their own modules (e.g. `models/broadcasts.py`); nothing needs
to list them by hand.
"""

from __future__ import annotations

import importlib
import pkgutil

from sqlalchemy import MetaData

import models
from models.base import Base


def load_all_tables() -> MetaData:
    for info in pkgutil.iter_modules(models.__path__):
        importlib.import_module(f"models.{info.name}")
    return Base.metadata
