"""Assessment service tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapper, object_session
from sqlmodel import Field, SQLModel

from services.assessment.domain.errors import PublishedVersionImmutable
from shared.db import service_metadata
from shared.models import SHARED_TABLES, utc_column, uuid_pk

PUBLISHED = "published"


class Toolkit(SQLModel, table=True):
    """A tool (GCP2, a local screening tool, ...): its versions hold the definitions."""

    id: str = Field(primary_key=True, max_length=60, description="A slug such as `gcp2`.")
    name: str = Field(max_length=200)
    owner: str = Field(max_length=200)
    created_at: datetime = utc_column()


class ToolkitVersion(SQLModel, table=True):
    """One version of a toolkit's definition. Immutable once published: assessments cite it."""

    __tablename__ = "toolkit_version"
    __table_args__ = (
        UniqueConstraint("toolkit_id", "version", name="uq_toolkit_version"),
        Index("ix_toolkit_version_latest", "toolkit_id", "status", "published_at"),
    )
    id: uuid.UUID = uuid_pk()
    toolkit_id: str = Field(foreign_key="toolkit.id", max_length=60)
    version: str = Field(max_length=40)
    status: str = Field(default=PUBLISHED, max_length=20)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    published_at: datetime | None = utc_column(nullable=True)
    created_at: datetime = utc_column()


@event.listens_for(ToolkitVersion, "before_update")
def _published_versions_are_immutable(_mapper: Mapper[Any], _connection: Any, target: ToolkitVersion) -> None:
    # Assessments record the version they were made with; changing it would
    # silently rewrite what practitioners were shown. Publish a new version.
    status = inspect(target).attrs.status.history
    was = status.deleted[0] if status.deleted else target.status
    session = object_session(target)
    if was == PUBLISHED and session is not None and session.is_modified(target):
        raise PublishedVersionImmutable(
            f"Version {target.version} of toolkit {target.toolkit_id} is published; publish a new version instead."
        )


METADATA = service_metadata([
    *SHARED_TABLES,
    Toolkit.__table__,  # type: ignore[attr-defined]
    ToolkitVersion.__table__,  # type: ignore[attr-defined]
])
