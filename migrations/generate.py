"""Autogenerate a migration against a scratch SQLite database at head.

    python -m migrations.generate "add broadcasts"
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command

from migrations.runner import alembic_config, upgrade_head


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}"
        asyncio.run(upgrade_head(url))
        command.revision(alembic_config(url), message=message, autogenerate=True)


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "schema change")
