"""The assessment service's audit trail (shared.audit_api). Whether the caller may see the child
is asked of the referral service, as for every other read here, before any database work."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from services.assessment.api.deps import child_directory
from services.assessment.domain.children import ChildDirectory
from services.assessment.domain.errors import ChildCheckRefused, ChildNotFound, ReferralUnavailable
from shared.audit_api import ChildCheck, audit_router
from shared.tokens import Principal


def child_check(children: Annotated[ChildDirectory, Depends(child_directory)]) -> ChildCheck:
    async def visible(who: Principal, child_id: uuid.UUID) -> bool:
        try:
            await children.require_visible(child_id)
        except ChildNotFound:
            return False
        return True

    return visible


router = audit_router("assessment", child_check, (ChildCheckRefused, ReferralUnavailable))
