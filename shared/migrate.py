"""Alembic, one history per service (``services/<name>/migrations``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from shared.db import UTCDateTime, make_engine, to_async_url
from shared.models import AUDIT_CHILD_INDEX

#: Indexes the migrations make that the models cannot describe on every database.
MIGRATION_ONLY_INDEXES = frozenset({AUDIT_CHILD_INDEX})

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", to_async_url(url).replace("%", "%%"))
    cfg.set_main_option("service", service)
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Synchronous: call from a thread when an event loop is running."""
    command.upgrade(alembic_config(service, url), revision)


def revision(service: str, url: str, message: str) -> None:
    command.revision(alembic_config(service, url), message=message, autogenerate=True)


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import shared.db")
        return "shared.db.UTCDateTime()"
    return False


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and reflected and name in MIGRATION_ONLY_INDEXES)


def _configure(connection: Connection, metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for ALTERs
        compare_type=True,
        render_item=_render_item,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is set by shared.migrate.alembic_config")

    async def run() -> None:
        engine = make_engine(url)
        async with engine.connect() as connection:
            await connection.run_sync(_configure, metadata)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


async def schema_drift(url: str, metadata: MetaData) -> list[Any]:
    """Differences between a migrated database and the models (empty when they agree)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda conn: compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_object": _include_object}), metadata)
            )
    finally:
        await engine.dispose()
