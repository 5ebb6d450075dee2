"""assessment: the days it was submitted and authorised

Revision ID: a7d1e2f3b4c5
Revises: 013aa013ccc5
Create Date: 2026-12-05 09:00:00.000000

A migrated assessment keeps the day it was submitted and authorised (the day the dataset
counts), apart from when the service recorded it (``submitted_at``, ``authorised_at``).
Existing rows take the recording day.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a7d1e2f3b4c5'
down_revision: str | None = '013aa013ccc5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('authorised_on', sa.Date(), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE assessment SET submitted_on = (submitted_at AT TIME ZONE 'UTC')::date "
                   "WHERE submitted_at IS NOT NULL")
        op.execute("UPDATE assessment SET authorised_on = (authorised_at AT TIME ZONE 'UTC')::date "
                   "WHERE authorised_at IS NOT NULL")
    else:
        op.execute("UPDATE assessment SET submitted_on = date(submitted_at) WHERE submitted_at IS NOT NULL")
        op.execute("UPDATE assessment SET authorised_on = date(authorised_at) WHERE authorised_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_column('authorised_on')
        batch_op.drop_column('submitted_on')
