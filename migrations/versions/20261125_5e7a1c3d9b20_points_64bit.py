"""points 64-bit: lots, ledger entries, operations' points and checkout points are BIGINT

Revision ID: 5e7a1c3d9b20
Revises: cac2ab40f6fd
Create Date: 2026-11-25 10:00:00.000000

A 32-bit INTEGER overflows on PostgreSQL at 2^31 - 1: two rewards of that size gave a customer
whose erasure (one operation writing off the sum) could no longer be recorded, and an API reward
of 3e9 points was a 500. SQLite's INTEGER is already 64-bit and the models render INTEGER there
(the `Int64` variant), so on SQLite there is nothing to change and no table is rebuilt; the
batch context keeps the migration valid for both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '5e7a1c3d9b20'
down_revision = 'cac2ab40f6fd'
branch_labels = None
depends_on = None

COLUMNS = {
    'lots': ('amount', 'remaining'),
    'ledger_entries': ('delta',),
    'operations': ('points_paid', 'cashback', 'referral_paid', 'points_delta', 'shortfall'),
    'checkout_quotes': ('points',),
    'phone_confirmations': ('points',),
}
NULLABLE = {('checkout_quotes', 'points')}


def _alter(to_type: sa.types.TypeEngine, from_type: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return  # INTEGER is 64-bit on SQLite; the models' type renders INTEGER there too
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, type_=to_type, existing_type=from_type,
                                   existing_nullable=(table, column) in NULLABLE)


def upgrade() -> None:
    _alter(sa.BigInteger(), sa.Integer())


def downgrade() -> None:
    _alter(sa.Integer(), sa.BigInteger())
