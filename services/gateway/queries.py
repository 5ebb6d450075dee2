"""Reads and writes of the gateway's clients."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.models import ApiClient
from shared.pagination import PageParams, pack_cursor, unpack_cursor


class ClientQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_client_id(self, client_id: str) -> ApiClient | None:
        stmt = select(ApiClient).where(ApiClient.client_id == client_id)
        return (await self.session.exec(stmt)).first()

    async def end_read(self) -> None:
        """End a transaction that has only read, before the slow secret check.

        On SQLite every transaction takes the write lock when it begins (``BEGIN IMMEDIATE``,
        shared/db.py), so a token request would hold it through tens of milliseconds of scrypt
        and concurrent requests would queue behind it; on PostgreSQL the pooled connection
        would sit idle as long. The rows read stay usable (``expire_on_commit=False``).
        """
        if self.session.new or self.session.dirty or self.session.deleted or self.session.info.get("wrote"):
            raise RuntimeError("end_read() after a write would split the request's transaction")
        await self.session.commit()

    async def page(self, page: PageParams, agency_id: uuid.UUID | None = None) -> tuple[Sequence[ApiClient], str | None]:
        """Clients in client id order."""
        stmt = select(ApiClient)
        if agency_id is not None:
            stmt = stmt.where(col(ApiClient.agency_id) == agency_id)
        if page.cursor is not None:
            (after,) = unpack_cursor(page.cursor, 1)
            stmt = stmt.where(col(ApiClient.client_id) > str(after))
        rows = list((await self.session.exec(stmt.order_by(col(ApiClient.client_id)).limit(page.limit + 1))).all())
        if len(rows) <= page.limit:
            return rows, None
        rows = rows[: page.limit]
        return rows, pack_cursor([rows[-1].client_id])

    async def add(self, client: ApiClient) -> None:
        self.session.add(client)
        await self.session.flush()
