"""Cursor pagination with ``Link: <...>; rel="next"`` (keyset on created_at, id)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from sqlalchemy import and_, or_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from shared.errors import BadRequest

T = TypeVar("T")


class InvalidCursor(BadRequest):
    slug, title = "invalid-cursor", "The cursor is not valid"


def pack_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for a keyset position (JSON list, base64url without padding)."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def unpack_cursor(cursor: str, length: int) -> list[Any]:
    """The keyset position in a cursor made by ``pack_cursor``; a cursor of any other shape is a 400."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("Use the cursor exactly as given in the Link header.") from exc
    if not isinstance(raw, list) or len(raw) != length:
        raise InvalidCursor("Use the cursor exactly as given in the Link header.")
    return raw


class PageParams:
    def __init__(
        self,
        request: Request,
        limit: Annotated[int | None, Query(ge=1, description="Items per page (default and maximum are configured).")] = None,
        cursor: Annotated[str | None, Query(max_length=200, description="Opaque cursor from the previous page's Link header.")] = None,
    ) -> None:
        settings = request.app.state.settings
        self.limit = min(limit or settings.default_page_size, settings.max_page_size)
        self.cursor = cursor
        self.request = request

    def position(self) -> tuple[datetime, uuid.UUID] | None:
        return keyset_position(self.cursor)


def keyset_position(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (timestamp, id) a keyset page continues after, from its opaque cursor."""
    if cursor is None:
        return None
    raw = unpack_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(raw[0]), uuid.UUID(raw[1])
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("Use the cursor exactly as given in the Link header.") from exc


PageDep = Annotated[PageParams, Depends()]


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    return pack_cursor([created_at.isoformat(), str(item_id)])


async def fetch_page(
    session: AsyncSession, stmt: SelectOfScalar[T], model: Any, page: PageParams
) -> tuple[Sequence[T], str | None]:
    """Run ``stmt`` in stable (created_at, id) order after the cursor; one row more tells if there is a next page."""
    position = page.position()
    if position is not None:
        at, last_id = position
        stmt = stmt.where(or_(col(model.created_at) > at, and_(col(model.created_at) == at, col(model.id) > last_id)))
    stmt = stmt.order_by(col(model.created_at), col(model.id)).limit(page.limit + 1)
    rows = list((await session.exec(stmt)).all())
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        last = rows[-1]
        return rows, encode_cursor(last.created_at, last.id)  # type: ignore[attr-defined]
    return rows, None


def set_link_header(response: Response, page: PageParams, next_cursor: str | None) -> None:
    if next_cursor is None:
        return
    url = page.request.url.include_query_params(cursor=next_cursor, limit=page.limit)
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
