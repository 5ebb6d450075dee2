"""transfer-in conferences, pre-proceedings

Episode-level DateOfInitialCPC (a transfer-in conference) and the 2025-26
PreProceedingsandFGDM record. Additive only: a nullable column on episode and a
new table, so existing rows need no default.

Revision ID: d64c43e3b46e
Revises: 1004396284a2
Create Date: 2026-11-26 07:39:44.969173
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
import shared.db

revision: str = 'd64c43e3b46e'
down_revision: str | None = '1004396284a2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pre_proceedings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('episode_id', sa.Uuid(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('letter_before_proceedings_sent', sa.Date(), nullable=True),
    sa.Column('fgdm_offered', sa.Boolean(), nullable=False),
    sa.Column('fgdm_held', sa.Boolean(), nullable=False),
    sa.Column('meeting_dates', sa.JSON(), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('court_application_date', sa.Date(), nullable=True),
    sa.Column('created_at', shared.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['episode_id'], ['episode.id'], name='fk_pre_proceedings_episode_id_episode'),
    sa.PrimaryKeyConstraint('id', name='pk_pre_proceedings')
    )
    with op.batch_alter_table('pre_proceedings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pre_proceedings_episode_id'), ['episode_id'], unique=False)

    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('icpc_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('episode', schema=None) as batch_op:
        batch_op.drop_column('icpc_date')

    with op.batch_alter_table('pre_proceedings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pre_proceedings_episode_id'))

    op.drop_table('pre_proceedings')
