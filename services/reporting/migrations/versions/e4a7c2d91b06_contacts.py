"""contacts in the read model: rm_contact, and the contact a referral was converted from

Revision ID: e4a7c2d91b06
Revises: a7c41e9d2b60
Create Date: 2026-12-05 09:00:00.000000

Annex A list 1 counts every concern received at the front door: the contacts recorded (whether
or not they became referrals) and the referrals received directly (no contact_id).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'e4a7c2d91b06'
down_revision: str | None = 'a7c41e9d2b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rm_contact',
    sa.Column('contact_id', sa.Uuid(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=True),
    sa.Column('received_date', sa.Date(), nullable=True),
    sa.Column('referral_source', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('referring_agency_type', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('contact_id')
    )
    with op.batch_alter_table('rm_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rm_contact_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rm_contact_received_date'), ['received_date'], unique=False)
    with op.batch_alter_table('rm_referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('rm_referral', schema=None) as batch_op:
        batch_op.drop_column('contact_id')
    with op.batch_alter_table('rm_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rm_contact_received_date'))
        batch_op.drop_index(batch_op.f('ix_rm_contact_child_id'))
    op.drop_table('rm_contact')
