"""customers.broadcasts_off: a customer can turn promotional broadcasts off (issue 16, "Customers")

Revision ID: c3e5a7b9d1f2
Revises: b88ca0a68417
Create Date: 2026-12-04 19:35:00

Everyone already in the base keeps receiving broadcasts (false) until they turn them off in
/settings; the column is NOT NULL with a server default, so existing rows need no rewrite by us.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c3e5a7b9d1f2'
down_revision = 'b88ca0a68417'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('broadcasts_off', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('broadcasts_off')
