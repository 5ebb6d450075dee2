"""audit reader indexes, audit resource_id

Revision ID: 620467260bf4
Revises: 641259bd1ac5
Create Date: 2026-12-01 09:00:00.000000

An agency's audit trail is read newest first ((agency_id, occurred_at)); a child's is found
through the JSON list child_ids: on PostgreSQL a GIN index on (child_ids::jsonb) serves the
containment query (SQLite reads the list with json_each and has no such index).
resource_id names the one record acted on when it is not a child (an API client).
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '620467260bf4'
down_revision: str | None = '641259bd1ac5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resource_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.create_index('ix_audit_event_agency_time', ['agency_id', 'occurred_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE INDEX IF NOT EXISTS ix_audit_event_child_ids ON audit_event '
                   'USING gin ((child_ids::jsonb) jsonb_path_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_audit_event_child_ids')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_agency_time')
        batch_op.drop_column('resource_id')
