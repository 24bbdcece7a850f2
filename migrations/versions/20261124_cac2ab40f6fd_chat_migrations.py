"""chat migrations: groups upgraded to supergroups (the outbox sender follows them)

Revision ID: cac2ab40f6fd
Revises: bc22781c8e82
Create Date: 2026-11-24 01:57:16.537241
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.kernel.base
from sqlalchemy import Text  # noqa: F401  (JSONB variants render Text())


revision = 'cac2ab40f6fd'
down_revision = 'bc22781c8e82'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_migrations',
    sa.Column('old_chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('new_chat_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('migrated_at', models.kernel.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('old_chat_id', name=op.f('pk_chat_migrations'))
    )


def downgrade() -> None:
    op.drop_table('chat_migrations')
