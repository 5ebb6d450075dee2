"""child protection plans elsewhere: on the child, and each plan's previous end date

Revision ID: b8e2f4a6c1d3
Revises: b3c1e0a7d5f2
Create Date: 2026-12-05 09:00:00.000000

A child who arrives on another authority's plan, or had plans elsewhere, carries how many and
when the latest ended; each plan here keeps the latest end of an earlier plan (here or
elsewhere) when it started, for the repeat-plan measures.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b8e2f4a6c1d3'
down_revision: str | None = 'b3c1e0a7d5f2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cp_plans_elsewhere', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('cp_plans_elsewhere_latest_end_date', sa.Date(), nullable=True))
    with op.batch_alter_table('cp_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_plan_end_date', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('cp_plan', schema=None) as batch_op:
        batch_op.drop_column('previous_plan_end_date')
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_column('cp_plans_elsewhere_latest_end_date')
        batch_op.drop_column('cp_plans_elsewhere')
