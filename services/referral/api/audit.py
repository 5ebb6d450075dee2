"""The referral service's audit trail (shared.audit_api), with its own visibility rule for children."""

from __future__ import annotations

import uuid

from fastapi import Request

from services.referral.queries.children import ChildQueries
from shared.audit_api import ChildCheck, audit_router
from shared.db import SessionDep
from shared.tokens import Principal


def child_check(request: Request, session: SessionDep) -> ChildCheck:
    queries = ChildQueries(session, request.app.state.settings.full_access_agency_types)

    async def visible(who: Principal, child_id: uuid.UUID) -> bool:
        return await queries.get(who, child_id) is not None

    return visible


router = audit_router("referral", child_check)
