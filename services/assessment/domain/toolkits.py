"""The toolkit catalogue: published versions, shipped at start or published by a partnership.

Versions are immutable once published: assessments cite the exact version
they were made with. A changed definition is a new version.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from services.assessment.domain.definitions import (
    InvalidToolkitDefinition,
    ShippedToolkit,
    as_current,
    normalise,
)
from services.assessment.domain.errors import (
    InvalidToolkit,
    ToolkitNotFound,
    ToolkitVersionExists,
    ToolkitVersionNotFound,
)
from services.assessment.models import PUBLISHED, Toolkit, ToolkitVersion
from services.assessment.queries.toolkits import ToolkitQueries, ToolkitRow
from shared.db import utcnow
from shared.pagination import PageParams
from shared.tokens import Principal

log = logging.getLogger("assessment.toolkits")


def definition_etag(version: ToolkitVersion) -> str:
    """A strong validator for one immutable version (changes when a newer one becomes latest)."""
    canonical = json.dumps([version.toolkit_id, version.version, version.definition], sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


class Toolkits:
    def __init__(self, queries: ToolkitQueries) -> None:
        self.queries = queries

    async def page(self, page: PageParams) -> tuple[Sequence[ToolkitRow], str | None]:
        return await self.queries.page(page)

    async def latest(self, toolkit_id: str) -> tuple[Toolkit, ToolkitVersion]:
        toolkit = await self._toolkit(toolkit_id)
        version = await self.queries.latest_version(toolkit_id)
        if version is None:
            raise ToolkitVersionNotFound(f"Toolkit {toolkit_id} has no published version yet.")
        return toolkit, version

    async def version(self, toolkit_id: str, version: str) -> tuple[Toolkit, ToolkitVersion]:
        toolkit = await self._toolkit(toolkit_id)
        found = await self.queries.version(toolkit_id, version)
        if found is None or found.status != PUBLISHED:
            raise ToolkitVersionNotFound(f"Toolkit {toolkit_id} has no published version {version}.")
        return toolkit, found

    async def versions(self, toolkit_id: str, page: PageParams) -> tuple[Toolkit, list[ToolkitVersion], str | None]:
        toolkit = await self._toolkit(toolkit_id)
        rows, next_cursor = await self.queries.versions_page(toolkit_id, page)
        return toolkit, rows, next_cursor

    async def _toolkit(self, toolkit_id: str) -> Toolkit:
        toolkit = await self.queries.get(toolkit_id)
        if toolkit is None:
            raise ToolkitNotFound(f"No toolkit {toolkit_id}.")
        return toolkit

    async def publish(self, who: Principal, raw: Mapping[str, Any]) -> tuple[Toolkit, ToolkitVersion]:
        """Publish a partnership's own tool, or a new version of a tool.

        Every rule the definition breaks is listed at once (422). The toolkit's
        name and owner follow its newest version.
        """
        try:
            item = normalise(raw)
        except InvalidToolkitDefinition as exc:
            raise InvalidToolkit(
                f"{len(exc.problems)} problem(s) with the definition; nothing was published.",
                errors=[{"field": p.field, "message": p.message, "code": "invalid_definition"} for p in exc.problems],
            ) from exc
        if await self.queries.version(item.id, item.version) is not None:
            raise ToolkitVersionExists(
                f"Version {item.version} of {item.id} is published and never changes; publish a new version."
            )
        toolkit = await self.queries.get(item.id)
        if toolkit is None:
            toolkit = Toolkit(id=item.id, name=item.name, owner=item.owner)
            if not await self.queries.add_toolkit_if_missing(toolkit):
                toolkit = await self._toolkit(item.id)
        if (toolkit.name, toolkit.owner) != (item.name, item.owner):
            toolkit.name, toolkit.owner = item.name, item.owner
            self.queries.session.add(toolkit)
        now = utcnow()
        version = ToolkitVersion(toolkit_id=item.id, version=item.version, status=PUBLISHED,
                                 definition=item.definition, published_at=now, created_at=now,
                                 published_by=who.client_id)
        if not await self.queries.add_version_if_missing(version):
            raise ToolkitVersionExists(f"Version {item.version} of {item.id} was published just now.")
        log.info("toolkit version published", extra={"toolkit_id": item.id, "version": item.version})
        return toolkit, version

    async def load_shipped(self, shipped: Iterable[ShippedToolkit]) -> int:
        """Publish every shipped version not yet in the database; returns how many were added.

        Idempotent and safe when replicas start together: a version another
        replica has just written is skipped, never duplicated or changed.
        """
        added = 0
        for item in shipped:
            await self.queries.add_toolkit_if_missing(Toolkit(id=item.id, name=item.name, owner=item.owner))
            existing = await self.queries.version(item.id, item.version)
            if existing is not None:
                if as_current(existing.definition) != item.definition:
                    # Published versions never change; a changed file needs a new version.
                    log.warning("shipped toolkit differs from its published version; keeping the published one",
                                extra={"toolkit_id": item.id, "version": item.version})
                continue
            now = utcnow()
            version = ToolkitVersion(toolkit_id=item.id, version=item.version, status=PUBLISHED,
                                     definition=item.definition, published_at=now, created_at=now)
            if await self.queries.add_version_if_missing(version):
                added += 1
                log.info("toolkit version published", extra={"toolkit_id": item.id, "version": item.version})
        return added
