"""Shared fixtures: a real database per test (a SQLite file, and PostgreSQL when
TEST_POSTGRES_URL is set), an injectable clock, and the case-study programs."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from models.kernel import phone, phone_key
from models.kernel.clock import ManualClock
from models.kernel.context import Domain
from models.kernel.db import Database, normalise_url
from models.program.rules import Program, load_program_file
from models.program.store import ensure_program

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "programs"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")

# A fixed phone hash key for every test (models/kernel/phone_key.py); subprocesses inherit it.
TEST_PHONE_HASH_KEY = "tests-only-phone-hash-key-0123456789abcdef"
os.environ["PHONE_HASH_KEY"] = TEST_PHONE_HASH_KEY
phone_key.configure(TEST_PHONE_HASH_KEY)

BACKENDS = ["sqlite"] + (["postgres"] if POSTGRES_URL else [])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend") == "postgres":
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(autouse=True)
def _phone_settings() -> None:
    """A test that loads another key or PHONE_REGION does not leak it into the next one."""
    phone_key.configure(TEST_PHONE_HASH_KEY)
    phone.set_region(phone.DEFAULT_REGION)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def make_database(backend: str, tmp_path: Path) -> tuple[Database, str | None]:
    if backend == "sqlite":
        return Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"), None
    assert POSTGRES_URL
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(normalise_url(POSTGRES_URL))
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return Database(POSTGRES_URL, schema=schema, pool_size=20), schema


async def drop_schema(schema: str) -> None:
    assert POSTGRES_URL
    admin = create_async_engine(normalise_url(POSTGRES_URL))
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture
async def db(backend: str, tmp_path: Path) -> AsyncIterator[Database]:
    database, schema = await make_database(backend, tmp_path)
    await database.create_all()
    try:
        yield database
    finally:
        await database.dispose()
        if schema:
            await drop_schema(schema)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def case_a() -> Program:
    return load_program_file(PROGRAMS / "case-a.toml")


@pytest.fixture
def cosmocode() -> Program:
    return load_program_file(PROGRAMS / "cosmocode.toml")


@pytest.fixture
async def dom(db: Database, clock: ManualClock, case_a: Program) -> Domain:
    """A domain on a fresh database with the case-A program stored as version 1."""
    domain = Domain(db=db, clock=clock, tz=ZoneInfo("Europe/Moscow"))
    await ensure_program(domain, case_a)
    return domain
