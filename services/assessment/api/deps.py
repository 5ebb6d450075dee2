from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.assessment.domain.toolkits import Toolkits
from services.assessment.queries import ToolkitQueries
from shared.auth import require_scopes
from shared.db import SessionDep
from shared.tokens import Principal

CanRead = Annotated[Principal, Depends(require_scopes("assessment:read"))]


def toolkits_domain(session: SessionDep) -> Toolkits:
    return Toolkits(ToolkitQueries(session))


ToolkitsDep = Annotated[Toolkits, Depends(toolkits_domain)]
