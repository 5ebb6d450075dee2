"""event identity apart: census identifiers leave the event log for the export-scoped event_identity

Revision ID: 5e0c1d7a9b24
Revises: de2303a09e2d
Create Date: 2026-12-05 08:30:00.000000

Data: every logged event's census identifiers (LA child id, UPN, dates of birth, expected
birth and death) move from ``event_log.data`` to ``event_identity``; names, NHS numbers,
addresses, postcodes and free text are removed from the log and from the read-model tables
(outside ``rm_child_identity``). The patterns are copied from
``services/reporting/domain/identifiers.py`` as they were at this revision, so that later
changes there do not change what this migration did.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '5e0c1d7a9b24'
down_revision: str | None = 'de2303a09e2d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000
CENSUS_IDENTIFIERS = frozenset({"la_child_id", "upn", "birth_date", "expected_birth_date", "death_date"})
_IDENTIFYING_KEY = re.compile(
    r"(^|_)(nhs|chi|name|names|forename|forenames|surname|initials|alias|"
    r"address|postcode|post_code|street|town|email|phone|telephone|mobile|dob|ni_number|nino)(_|$)"
)
_NHS_NUMBER = re.compile(r"^\d{3}[ -]?\d{3}[ -]?\d{4}$")
_UPN = re.compile(r"^[A-Za-z]\d{11}[A-Za-z0-9]$")
_POSTCODE = re.compile(r"^[A-Za-z]{1,2}\d[A-Za-z\d]?\s*\d[A-Za-z]{2}$")
_SPACE = re.compile(r"\s")

event_log = sa.table('event_log', sa.column('id', sa.Uuid()), sa.column('data', sa.JSON()))
event_identity = sa.table('event_identity', sa.column('event_id', sa.Uuid()), sa.column('data', sa.JSON()))


def _identifying_value(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    return bool(_SPACE.search(value) or _NHS_NUMBER.match(value) or _UPN.match(value) or _POSTCODE.match(value))


def _split(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    kept: dict[str, Any] = {}
    identity: dict[str, Any] = {}
    for key, value in data.items():
        if key in CENSUS_IDENTIFIERS:
            identity[key] = value
        elif _IDENTIFYING_KEY.search(key.lower()):
            continue
        elif isinstance(value, list) and any(_identifying_value(v) for v in value):
            continue
        elif isinstance(value, Mapping) and any(_identifying_value(v) or _identifying_value(k) for k, v in value.items()):
            continue
        elif _identifying_value(value):
            continue
        else:
            kept[key] = value
    return kept, identity


def _scrub_event_log(conn: sa.Connection) -> None:
    last = None
    while True:
        query = sa.select(event_log.c.id, event_log.c.data).order_by(event_log.c.id).limit(BATCH)
        if last is not None:
            query = query.where(event_log.c.id > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        identities = []
        for event_id, data in rows:
            kept, identity = _split(data or {})
            if identity:
                identities.append({"event_id": event_id, "data": identity})
            if kept != data:
                conn.execute(sa.update(event_log).where(event_log.c.id == event_id).values(data=kept))
        if identities:
            conn.execute(sa.insert(event_identity), identities)
        last = rows[-1][0]


def _scrub_read_model(conn: sa.Connection) -> None:
    """Null any identifier or text that reached a read-model code column."""
    inspector = sa.inspect(conn)
    for name in inspector.get_table_names():
        if not name.startswith("rm_") or name == "rm_child_identity":
            continue
        keys = inspector.get_pk_constraint(name)["constrained_columns"]
        strings = [c["name"] for c in inspector.get_columns(name) if isinstance(c["type"], sa.String) and c["name"] not in keys]
        table = sa.table(name, *(sa.column(k) for k in keys), *(sa.column(c) for c in strings))
        for column in strings:
            found = conn.execute(sa.select(*(table.c[k] for k in keys), table.c[column]).where(table.c[column].is_not(None))).all()
            for row in found:
                if _identifying_value(row[-1]):
                    match = sa.and_(*(table.c[k] == row[i] for i, k in enumerate(keys)))
                    conn.execute(sa.update(table).where(match).values({column: None}))


def upgrade() -> None:
    op.create_table('event_identity',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event_log.id'], ),
    sa.PrimaryKeyConstraint('event_id')
    )
    conn = op.get_bind()
    _scrub_event_log(conn)
    _scrub_read_model(conn)


def downgrade() -> None:
    # The identifiers go back into the log; what was dropped (names, NHS numbers, text) is gone.
    conn = op.get_bind()
    rows = conn.execute(sa.select(event_identity.c.event_id, event_identity.c.data, event_log.c.data)
                        .join(event_log, event_log.c.id == event_identity.c.event_id)).all()
    for event_id, identity, data in rows:
        conn.execute(sa.update(event_log).where(event_log.c.id == event_id).values(data={**(data or {}), **identity}))
    op.drop_table('event_identity')
