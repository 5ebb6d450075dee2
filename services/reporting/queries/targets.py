"""Reads and writes of the partnership's dashboard targets (one row)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from services.reporting.models import DashboardTargets


class TargetQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self) -> DashboardTargets | None:
        return await self.session.get(DashboardTargets, 1)

    async def save(self, row: DashboardTargets) -> None:
        self.session.add(row)
        await self.session.flush()
