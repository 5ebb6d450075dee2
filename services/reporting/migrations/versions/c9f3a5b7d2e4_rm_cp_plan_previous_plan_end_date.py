"""read model: each plan's previous plan end date (here or elsewhere)

Revision ID: c9f3a5b7d2e4
Revises: e4a7c2d91b06
Create Date: 2026-12-05 09:00:00.000000

``cp_plan.started`` carries ``previous_plan_end_date``: the latest end of an earlier plan,
including plans in other local authorities, which the read model cannot see otherwise
(the 24-month repeat-plan measure, NQ06b).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c9f3a5b7d2e4'
down_revision: str | None = 'e4a7c2d91b06'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rm_cp_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_plan_end_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rm_cp_plan', schema=None) as batch_op:
        batch_op.drop_column('previous_plan_end_date')
