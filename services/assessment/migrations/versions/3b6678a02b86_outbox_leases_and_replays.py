"""outbox delivery leases, dead-letter time and replays

Revision ID: 3b6678a02b86
Revises: c4be6317e972
Create Date: 2026-12-01 09:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db

revision: str = '3b6678a02b86'
down_revision: str | None = 'c4be6317e972'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leased_until', shared.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('dead_at', shared.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('replays', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('replayed_at', shared.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('replayed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('attempts_before_replay', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index('ix_outbox_delivery_dead', ['status', 'dead_at'], unique=False)
    # Rows dead-lettered before this revision: their last attempt is when they died.
    op.execute(
        "UPDATE outbox_delivery SET dead_at = (SELECT max(attempted_at) FROM delivery_attempt"
        " WHERE delivery_attempt.delivery_id = outbox_delivery.id) WHERE status = 'dead'"
    )


def downgrade() -> None:
    with op.batch_alter_table('outbox_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_delivery_dead')
        batch_op.drop_column('attempts_before_replay')
        batch_op.drop_column('replayed_by')
        batch_op.drop_column('replayed_at')
        batch_op.drop_column('replays')
        batch_op.drop_column('dead_at')
        batch_op.drop_column('lease_owner')
        batch_op.drop_column('leased_until')
