"""Reads and writes of the gateway's clients."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.models import ApiClient


class ClientQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_client_id(self, client_id: str) -> ApiClient | None:
        stmt = select(ApiClient).where(ApiClient.client_id == client_id)
        return (await self.session.exec(stmt)).first()

    async def add(self, client: ApiClient) -> None:
        self.session.add(client)
        await self.session.flush()
