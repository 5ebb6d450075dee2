"""Audit of child-level access, written in the request's own transaction."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request

from shared.context import current_request_id
from shared.db import SessionDep
from shared.models import AuditEvent
from shared.tokens import Principal

_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
DEFAULT_PURPOSE = "safeguarding"


class Audit:
    def __init__(self, session: SessionDep, request: Request) -> None:
        self.session = session
        purpose = request.headers.get("x-purpose", DEFAULT_PURPOSE).strip().lower()
        self.purpose = purpose if _PURPOSE.match(purpose) else DEFAULT_PURPOSE

    def record(
        self, who: Principal, action: str, resource: str, child_ids: Iterable[uuid.UUID | str],
        *, resource_id: str | None = None,
    ) -> None:
        """Add one row; it commits or rolls back with the request's change."""
        self.session.add(
            AuditEvent(
                client_id=who.client_id,
                agency_id=who.agency_id,
                acting_user=who.acting_user,
                action=action,
                resource=resource,
                resource_id=resource_id,
                child_ids=sorted({str(c) for c in child_ids}),
                purpose=self.purpose,
                request_id=current_request_id(),
            )
        )


AuditDep = Annotated[Audit, Depends()]
