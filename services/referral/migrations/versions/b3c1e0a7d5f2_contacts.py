"""contacts: concerns received at the front door that may or may not become referrals

Revision ID: b3c1e0a7d5f2
Revises: 620467260bf4
Create Date: 2026-12-05 09:00:00.000000

A contact ends at the front door (no further action, information and advice, early help) or
is converted into a referral (referral_id, unique: one referral per contact).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import shared.db

revision: str = 'b3c1e0a7d5f2'
down_revision: str | None = '620467260bf4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contact',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('child_id', sa.Uuid(), nullable=False),
    sa.Column('recording_agency_id', sa.Uuid(), nullable=False),
    sa.Column('referral_source', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('received_at', shared.db.UTCDateTime(), nullable=False),
    sa.Column('concern_summary', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', shared.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ),
    sa.ForeignKeyConstraint(['recording_agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('referral_id')
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index('ix_contact_child_received', ['child_id', 'received_at'], unique=False)
        batch_op.create_index('ix_contact_created', ['created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_recording_agency_id'), ['recording_agency_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_recording_agency_id'))
        batch_op.drop_index('ix_contact_created')
        batch_op.drop_index('ix_contact_child_received')
    op.drop_table('contact')
