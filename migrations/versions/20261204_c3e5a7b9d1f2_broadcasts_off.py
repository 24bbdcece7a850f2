"""broadcast_opt_outs: a customer can turn promotional broadcasts off (issue 16, "Customers")

Revision ID: c3e5a7b9d1f2
Revises: b88ca0a68417
Create Date: 2026-12-04 19:35:00

A table of its own (one row per customer who turned broadcasts off, with the time): no row
means the customer receives broadcasts, so everyone already in the base keeps them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.kernel.base

revision = 'c3e5a7b9d1f2'
down_revision = 'b88ca0a68417'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('broadcast_opt_outs',
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', models.kernel.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_broadcast_opt_outs_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_broadcast_opt_outs'))
    )


def downgrade() -> None:
    op.drop_table('broadcast_opt_outs')
