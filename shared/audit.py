"""Audit of child-level access, written in the request's own transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from shared.context import current_request_id
from shared.db import SessionDep, utcnow
from shared.models import AuditEvent
from shared.tokens import Principal

_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
DEFAULT_PURPOSE = "safeguarding"
#: Rows recorded in a session and not yet written (``Session.info`` key).
PENDING = "audit_rows"
_AUDIT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]


class Audit:
    def __init__(self, session: SessionDep, request: Request) -> None:
        self.session = session
        purpose = request.headers.get("x-purpose", DEFAULT_PURPOSE).strip().lower()
        self.purpose = purpose if _PURPOSE.match(purpose) else DEFAULT_PURPOSE

    def record(
        self, who: Principal, action: str, resource: str, child_ids: Iterable[uuid.UUID | str],
        *, resource_id: str | None = None,
    ) -> None:
        """Add one row; it commits or rolls back with the request's change.

        The row is inserted with one Core statement as the transaction commits (``_write_audit``),
        not through the ORM's unit of work: a read then commits without a flush.
        """
        self.session.info.setdefault(PENDING, []).append({
            "id": uuid.uuid4(),
            "occurred_at": utcnow(),
            "client_id": who.client_id,
            "agency_id": who.agency_id,
            "acting_user": who.acting_user,
            "action": action,
            "resource": resource,
            "resource_id": resource_id,
            "child_ids": sorted({str(c) for c in child_ids}),
            "purpose": self.purpose,
            "request_id": current_request_id(),
        })


@event.listens_for(Session, "before_commit")
def _write_audit(session: Session) -> None:
    rows: list[dict[str, Any]] | None = session.info.pop(PENDING, None)
    if rows:
        session.connection().execute(insert(_AUDIT_TABLE), rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_unwritten(session: Session, transaction: Any) -> None:
    # A rolled-back transaction takes its audit rows with it, as it takes the change they describe.
    if transaction.parent is None:
        session.info.pop(PENDING, None)


async def get_audit(session: SessionDep, request: Request) -> Audit:
    # async: a plain class dependency would be built on the thread pool, once per request.
    return Audit(session, request)


AuditDep = Annotated[Audit, Depends(get_audit)]
