"""ids never return: AUTOINCREMENT where housekeeping deletes, and request digests

Revision ID: 7f3b9c1d2e4a
Revises: 5e7a1c3d9b20
Create Date: 2026-12-03 15:00:00.000000

Housekeeping deletes finished checkouts, their phone confirmations and old outbox rows. On
SQLite an INTEGER PRIMARY KEY without AUTOINCREMENT hands the highest deleted ids out again,
and `quote:<id>` (a purchase's idempotency key), `phone-confirm:<id>` (an outbox dedupe key),
buttons and audit targets are built from them. This migration

- rebuilds the three tables with AUTOINCREMENT (SQLite; batch mode), and
- starts each id sequence above the highest id ever used in any key or audit entry, so a
  database that already reused ids is safe from the next request on (both databases);
- adds `operations.request_hash`, what the request under a key asked for (models/kernel/replays.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import sqlalchemy as sa
from alembic import op


revision = '7f3b9c1d2e4a'
down_revision = '5e7a1c3d9b20'
branch_labels = None
depends_on = None

TABLES = ('checkout_quotes', 'phone_confirmations', 'outbox')  # parents before children


def _ints(values: Iterable[object], pattern: str) -> list[int]:
    found = []
    regex = re.compile(pattern)
    for value in values:
        match = regex.fullmatch(str(value or ''))
        if match:
            found.append(int(match.group(1)))
    return found


def _highest_used(bind: sa.engine.Connection) -> dict[str, int]:
    """The highest id of each table used anywhere: its rows, keys, audit targets and details."""
    def column(sql: str) -> list[object]:
        return [row[0] for row in bind.execute(sa.text(sql))]

    highest = {table: max([0, *[int(v) for v in column(f'SELECT max(id) FROM {table}') if v is not None]])
               for table in TABLES}
    quotes = _ints(column("SELECT idempotency_key FROM operations WHERE idempotency_key LIKE 'quote:%'"),
                   r'quote:(\d+)')
    quotes += _ints(column("SELECT target FROM audit_log WHERE target LIKE 'quote:%'"), r'quote:(\d+)')
    confirmations = _ints(column("SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE 'phone-confirm:%'"),
                          r'phone-confirm:(\d+)')
    for raw in column("SELECT details FROM audit_log WHERE action LIKE 'checkout.%'"):
        try:
            details = raw if isinstance(raw, dict) else json.loads(str(raw or '{}'))
        except ValueError:
            continue
        if not isinstance(details, dict):
            continue
        for name, into in (('quote', quotes), ('confirmation', confirmations)):
            value = details.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                into.append(value)
    highest['checkout_quotes'] = max([highest['checkout_quotes'], *quotes])
    highest['phone_confirmations'] = max([highest['phone_confirmations'], *confirmations])
    return highest


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('operations') as batch:
        batch.add_column(sa.Column('request_hash', sa.String(length=64), nullable=True))
    highest = _highest_used(bind)
    if bind.dialect.name == 'sqlite':
        # Foreign keys are off while migrations run on SQLite (migrations/env.py).
        for table in TABLES:
            with op.batch_alter_table(table, recreate='always',
                                      table_kwargs={'sqlite_autoincrement': True}):
                pass
            op.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :name').bindparams(name=table))
            op.execute(sa.text('INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)')
                       .bindparams(name=table, seq=highest[table]))
    else:
        for table in TABLES:
            sequence = bind.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')").bindparams(t=table)).scalar()
            if sequence is None or highest[table] == 0:
                continue
            # A sequence never goes back: only move it forward.
            current = bind.execute(sa.text(f'SELECT last_value FROM {sequence}')).scalar() or 0
            if highest[table] > current:
                bind.execute(sa.text('SELECT setval(:s, :v)').bindparams(s=sequence, v=highest[table]))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for table in reversed(TABLES):
            with op.batch_alter_table(table, recreate='always',
                                      table_kwargs={'sqlite_autoincrement': False}):
                pass
    with op.batch_alter_table('operations') as batch:
        batch.drop_column('request_hash')
