"""promo codes: the owner's codes and their uses (issue 18, "Promo codes"; models/campaigns/promo.py)

Revision ID: b88ca0a68417
Revises: 4d8a1f6c3b27
Create Date: 2026-12-04 11:40:03.711684

Two new tables, both AUTOINCREMENT on SQLite (ids are audit targets and never come back).
Once-per-person is a `reward_claims` row ("promo", person, code id): no change there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.kernel.base


revision = 'b88ca0a68417'
down_revision = '4d8a1f6c3b27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('promo_codes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('lookup_key', sa.String(length=20), nullable=False),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('max_redeem_percent', sa.String(length=8), nullable=False),
    sa.Column('validity_days', sa.Integer(), nullable=False),
    sa.Column('starts_at', models.kernel.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', models.kernel.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('uses_limit', sa.Integer(), nullable=True),
    sa.Column('uses_count', sa.Integer(), nullable=False),
    sa.Column('points_given', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.kernel.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('disabled_at', models.kernel.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_codes')),
    sa.UniqueConstraint('lookup_key', name=op.f('uq_promo_codes_lookup_key')),
    sqlite_autoincrement=True
    )
    op.create_table('promo_code_uses',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('promo_code_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('operation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', models.kernel.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_promo_code_uses_customer_id_customers')),
    sa.ForeignKeyConstraint(['lot_id'], ['lots.id'], name=op.f('fk_promo_code_uses_lot_id_lots')),
    sa.ForeignKeyConstraint(['operation_id'], ['operations.id'], name=op.f('fk_promo_code_uses_operation_id_operations')),
    sa.ForeignKeyConstraint(['promo_code_id'], ['promo_codes.id'], name=op.f('fk_promo_code_uses_promo_code_id_promo_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_code_uses')),
    sa.UniqueConstraint('promo_code_id', 'customer_id', name=op.f('uq_promo_code_uses_promo_code_id_customer_id')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('promo_code_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promo_code_uses_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_code_uses_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_promo_code_uses_promo_code_id'), ['promo_code_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('promo_code_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promo_code_uses_promo_code_id'))
        batch_op.drop_index(batch_op.f('ix_promo_code_uses_customer_id'))
        batch_op.drop_index(batch_op.f('ix_promo_code_uses_created_at'))

    op.drop_table('promo_code_uses')
    op.drop_table('promo_codes')
