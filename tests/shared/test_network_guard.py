"""The guard behind "no network call inside an open database transaction"."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db import (
    Database,
    TransactionHeldDuringCall,
    check_no_transaction,
    end_read_transaction,
    strict_network_guard,
)
from tests.support import create_database, drop_database


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    url = await create_database("referral", tmp_path)
    database = Database(url)
    yield database  # type: ignore[misc]
    await database.dispose()
    await drop_database(url)


async def test_a_call_inside_a_transaction_is_refused_and_after_it_allowed(db: Database) -> None:
    check_no_transaction("before any session")
    async with db.sessions() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        with pytest.raises(TransactionHeldDuringCall):
            check_no_transaction("another service")
        await end_read_transaction(session)
        check_no_transaction("another service")


async def test_a_transaction_that_wrote_is_not_ended_and_the_call_is_refused(db: Database) -> None:
    async with db.sessions() as session:
        await session.exec(text("INSERT INTO inbox_event (webhook_id, event_type, received_at) "  # type: ignore[call-overload]
                                "VALUES ('w-guard', 'test.guard', CURRENT_TIMESTAMP)"))
        session.info["wrote"] = True  # as the flush hook marks an ORM write
        await end_read_transaction(session)
        assert session.in_transaction()
        with pytest.raises(TransactionHeldDuringCall):
            check_no_transaction("another service")
        await session.rollback()


async def test_in_production_the_guard_logs_instead(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    strict_network_guard(False)
    try:
        async with db.sessions() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            with caplog.at_level(logging.ERROR, logger="shared.db"):
                check_no_transaction("another service")
        assert "network call inside a database transaction" in caplog.text
    finally:
        strict_network_guard(True)
