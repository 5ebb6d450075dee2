"""Reads and writes of the dashboard sign-in's authorization codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.gateway.models import AuthorizationCode


class CodeQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, code: AuthorizationCode) -> None:
        self.session.add(code)
        await self.session.flush()

    async def by_hash(self, code_hash: str) -> AuthorizationCode | None:
        return await self.session.get(AuthorizationCode, code_hash)

    async def spend(self, code_hash: str, now: datetime) -> bool:
        """Mark the code used; False when it already was (one winner among concurrent attempts)."""
        stmt = (update(AuthorizationCode).where(col(AuthorizationCode.code_hash) == code_hash)
                .where(col(AuthorizationCode.used_at).is_(None)).values(used_at=now))
        result = await self.session.exec(stmt)
        return bool(result.rowcount == 1)

    async def commit(self) -> None:
        await self.session.commit()

    async def purge_expired(self, before: datetime) -> None:
        """Forget codes that can no longer be used (called as new ones are issued)."""
        await self.session.exec(delete(AuthorizationCode).where(col(AuthorizationCode.expires_at) < before))
