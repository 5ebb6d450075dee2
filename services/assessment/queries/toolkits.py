"""Reads and writes of toolkit definitions (reference data: no agency scoping)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.assessment.models import PUBLISHED, Toolkit, ToolkitVersion
from shared.pagination import InvalidCursor, PageParams, fetch_page, pack_cursor, unpack_cursor


@dataclass(frozen=True)
class ToolkitRow:
    toolkit: Toolkit
    latest_version: str | None
    latest_published_at: datetime | None


def _latest_version_id(toolkit_id: Any) -> Any:
    """The id of a toolkit's most recently published version (a correlated subquery).

    An alias inside, so it does not correlate with a ``toolkit_version`` the outer query joins.
    """
    inner = aliased(ToolkitVersion)
    return (
        select(inner.id)
        .where(inner.toolkit_id == toolkit_id, inner.status == PUBLISHED)
        .order_by(col(inner.published_at).desc(), col(inner.version).desc())
        .limit(1)
        .scalar_subquery()
    )


# Toolkit ids are slugs, not UUIDs, so the keyset is the id alone (shared.pagination
# keys on created_at + UUID); the cursor stays opaque all the same.
def encode_cursor(toolkit_id: str) -> str:
    return pack_cursor([toolkit_id])


def decode_cursor(cursor: str) -> str:
    (toolkit_id,) = unpack_cursor(cursor, 1)
    if not isinstance(toolkit_id, str):
        raise InvalidCursor("Use the cursor exactly as given in the Link header.")
    return toolkit_id


class ToolkitQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, toolkit_id: str) -> Toolkit | None:
        return await self.session.get(Toolkit, toolkit_id)

    async def page(self, page: PageParams) -> tuple[list[ToolkitRow], str | None]:
        """Toolkits by id with their latest published version, in one query."""
        stmt = (
            select(Toolkit, ToolkitVersion.version, ToolkitVersion.published_at)
            .outerjoin(ToolkitVersion, col(ToolkitVersion.id) == _latest_version_id(Toolkit.id))
            .order_by(col(Toolkit.id))
            .limit(page.limit + 1)
        )
        if page.cursor is not None:
            stmt = stmt.where(col(Toolkit.id) > decode_cursor(page.cursor))
        rows = [ToolkitRow(t, v, p) for t, v, p in (await self.session.exec(stmt)).all()]
        if len(rows) > page.limit:
            rows = rows[: page.limit]
            return rows, encode_cursor(rows[-1].toolkit.id)
        return rows, None

    async def latest_version(self, toolkit_id: str) -> ToolkitVersion | None:
        stmt = select(ToolkitVersion).where(col(ToolkitVersion.id) == _latest_version_id(toolkit_id))
        return (await self.session.exec(stmt)).first()

    async def version(self, toolkit_id: str, version: str) -> ToolkitVersion | None:
        stmt = select(ToolkitVersion).where(ToolkitVersion.toolkit_id == toolkit_id, ToolkitVersion.version == version)
        return (await self.session.exec(stmt)).first()

    async def version_by_id(self, version_id: Any) -> ToolkitVersion | None:
        return await self.session.get(ToolkitVersion, version_id)

    async def versions_page(self, toolkit_id: str, page: PageParams) -> tuple[list[ToolkitVersion], str | None]:
        stmt = select(ToolkitVersion).where(ToolkitVersion.toolkit_id == toolkit_id, ToolkitVersion.status == PUBLISHED)
        rows, next_cursor = await fetch_page(self.session, stmt, ToolkitVersion, page)
        return list(rows), next_cursor

    async def add_toolkit_if_missing(self, toolkit: Toolkit) -> bool:
        if await self.get(toolkit.id) is not None:
            return False
        return await self._insert_unless_exists(toolkit)

    async def add_version_if_missing(self, version: ToolkitVersion) -> bool:
        """Insert; False when the (toolkit, version) pair exists, e.g. written by another replica just now."""
        return await self._insert_unless_exists(version)

    async def _insert_unless_exists(self, row: Toolkit | ToolkitVersion) -> bool:
        # A savepoint, so a unique violation from a concurrent start leaves the
        # surrounding transaction usable.
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True
