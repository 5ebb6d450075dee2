"""episode-level initial conference date (transfer-in) in the read model

Revision ID: a7c41e9d2b60
Revises: d0002b33a1e5
Create Date: 2026-12-05 09:00:00.000000

``rm_episode.icpc_date`` holds the date of a transfer-in conference, which the CIN census
returns as DateOfInitialCPC in CINdetails (DfE rules 2883, 2885). Filled from the
``transfer_in.held`` events already in the log, so no rebuild is needed.
"""
import uuid
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = 'a7c41e9d2b60'
down_revision: str | None = 'd0002b33a1e5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

event_log = sa.table('event_log', sa.column('event_type', sa.String()), sa.column('source', sa.String()),
                     sa.column('data', sa.JSON()))
rm_episode = sa.table('rm_episode', sa.column('episode_id', sa.Uuid()), sa.column('icpc_date', sa.Date()))


def upgrade() -> None:
    with op.batch_alter_table('rm_episode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('icpc_date', sa.Date(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(event_log.c.data).where(event_log.c.event_type == 'transfer_in.held',
                                                          event_log.c.source == 'referral')).all()
    for (data,) in rows:
        try:
            episode_id, held = uuid.UUID(str(data['episode_id'])), date.fromisoformat(str(data['date'])[:10])
        except (KeyError, TypeError, ValueError):
            continue  # unreadable events project nothing (services/reporting/domain/projection.py)
        done = bind.execute(rm_episode.update().where(rm_episode.c.episode_id == episode_id).values(icpc_date=held))
        if done.rowcount == 0:  # logged before its episode.opened: the projection upserts, so do we
            bind.execute(rm_episode.insert().values(episode_id=episode_id, icpc_date=held))


def downgrade() -> None:
    with op.batch_alter_table('rm_episode', schema=None) as batch_op:
        batch_op.drop_column('icpc_date')
