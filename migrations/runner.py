"""Running Alembic from code (`loyalty-bot migrate`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from models.kernel.db import Database

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade_head(url: str, db: Database | None = None, revision: str = "head") -> None:
    """Upgrade the database to `revision` (the latest by default)."""
    database = db or Database(url)
    try:
        async with database.engine.connect() as conn:
            await conn.run_sync(_upgrade, database.url, revision)
            await conn.commit()
    finally:
        if db is None:
            await database.dispose()


def _upgrade(sync_conn, url: str, revision: str = "head") -> None:  # type: ignore[no-untyped-def]
    cfg = alembic_config(url)
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, revision)
