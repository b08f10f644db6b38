"""Claimed events stay open until answered, so another replica can answer a dead one's.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before this revision were all handled when claimed: they read as "done".
    with op.batch_alter_table('processed_events') as batch:
        batch.add_column(
            sa.Column('status', sa.String(length=16), server_default='done', nullable=False)
        )
        batch.add_column(sa.Column('holder', sa.String(length=255), server_default='', nullable=False))
        batch.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('work', sa.JSON(), nullable=True))
        batch.create_index(
            'ix_processed_events_status_lease', ['status', 'lease_until'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('processed_events') as batch:
        batch.drop_index('ix_processed_events_status_lease')
        batch.drop_column('work')
        batch.drop_column('attempts')
        batch.drop_column('lease_until')
        batch.drop_column('holder')
        batch.drop_column('status')
