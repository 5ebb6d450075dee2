"""Assessment service tables."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKeyConstraint,
    Index,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
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
    #: The client that published it through the API; None for versions shipped in reference/.
    published_by: str | None = Field(default=None, max_length=100)
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


def text_column() -> Any:
    """Free text written by practitioners (personal data: never logged, never in events)."""
    return Field(default=None, sa_column=Column(Text, nullable=True))


class Assessment(SQLModel, table=True):
    """One run of a toolkit for one child, made with one published version of it.

    Amending an authorised assessment adds a new revision in the same lineage;
    the earlier revision stays as it was and is marked superseded once the
    amendment is authorised.
    """

    __table_args__ = (
        UniqueConstraint("lineage_id", "revision", name="uq_assessment_lineage_revision"),
        ForeignKeyConstraint(["toolkit_id"], ["toolkit.id"], name="fk_assessment_toolkit"),
        ForeignKeyConstraint(["toolkit_version_id"], ["toolkit_version.id"], name="fk_assessment_toolkit_version"),
        ForeignKeyConstraint(["amends_id"], ["assessment.id"], name="fk_assessment_amends"),
        ForeignKeyConstraint(["superseded_by_id"], ["assessment.id"], name="fk_assessment_superseded_by"),
        ForeignKeyConstraint(["previous_assessment_id"], ["assessment.id"], name="fk_assessment_previous"),
        Index("ix_assessment_child_toolkit", "child_id", "toolkit_id", "status"),
        # A child's assessments, in the (created_at, id) order pages are read in.
        Index("ix_assessment_child_created", "child_id", "created_at", "id"),
    )
    id: uuid.UUID = uuid_pk()
    child_id: uuid.UUID
    #: The agency that made the assessment: only it changes the assessment.
    agency_id: uuid.UUID = Field(index=True)
    toolkit_id: str = Field(max_length=60)
    toolkit_version_id: uuid.UUID
    toolkit_version: str = Field(max_length=40)
    status: str = Field(default="draft", max_length=20)
    lineage_id: uuid.UUID = Field(index=True)
    revision: int = 1
    amends_id: uuid.UUID | None = None
    superseded_by_id: uuid.UUID | None = None
    previous_assessment_id: uuid.UUID | None = None
    window_start_date: date
    window_end_date: date | None = None
    assessor_name: str = Field(max_length=200)
    assessor_role: str | None = Field(default=None, max_length=100)
    assessor_accreditation: str | None = Field(default=None, max_length=200)
    assessor_accredited_on: date | None = None
    overall_judgement: str | None = text_column()
    amendment_reason: str | None = text_column()
    return_reason: str | None = text_column()
    created_by_client: str = Field(max_length=100)
    created_by_user: str | None = Field(default=None, max_length=200)
    submitted_at: datetime | None = utc_column(nullable=True)
    #: The day it was submitted, as the partner says (a migrated record keeps its own date);
    #: ``submitted_at`` is when we recorded it.
    submitted_on: date | None = None
    submitted_by_client: str | None = Field(default=None, max_length=100)
    submitted_by_user: str | None = Field(default=None, max_length=200)
    authorised_at: datetime | None = utc_column(nullable=True)
    #: The day it was authorised (the date reporting counts); ``authorised_at`` is when we recorded it.
    authorised_on: date | None = None
    authorised_by: str | None = Field(default=None, max_length=200)
    authorised_by_client: str | None = Field(default=None, max_length=100)
    authorised_by_user: str | None = Field(default=None, max_length=200)
    version: int = 1
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class AssessmentRating(SQLModel, table=True):
    """One rating of one item (or sub-area), with its evidence and strengths.

    On a tool with several raters (Signs of Safety) each rater's score on each
    date is its own row: scores are never merged. ``rater_key`` is empty for
    single-rater tools so the unique key holds on every database (no NULLs in it).
    """

    __tablename__ = "assessment_rating"
    __table_args__ = (
        UniqueConstraint("assessment_id", "item_id", "rater_key", name="uq_assessment_rating"),
        ForeignKeyConstraint(["assessment_id"], ["assessment.id"], name="fk_assessment_rating_assessment"),
    )
    id: uuid.UUID = uuid_pk()
    assessment_id: uuid.UUID
    item_id: str = Field(max_length=60)
    area_id: str = Field(max_length=60)
    rater_key: str = Field(default="", max_length=200)
    rater_kind: str | None = Field(default=None, max_length=60)
    rater_label: str | None = Field(default=None, max_length=100)
    rated_on: date | None = None
    value: int
    value_id: str | None = Field(default=None, max_length=60)
    evidence: str | None = text_column()
    strengths: str | None = text_column()
    recorded_by_client: str = Field(max_length=100)
    recorded_by_user: str | None = Field(default=None, max_length=200)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class AssessmentJudgement(SQLModel, table=True):
    """An area's result: the practitioner's judgement, and apart from it the system's suggestion.

    The suggestion columns are recomputed from the ratings; nothing ever writes
    them into the practitioner's columns.
    """

    __tablename__ = "assessment_judgement"
    __table_args__ = (
        UniqueConstraint("assessment_id", "area_id", name="uq_assessment_judgement_area"),
        ForeignKeyConstraint(["assessment_id"], ["assessment.id"], name="fk_assessment_judgement_assessment"),
    )
    id: uuid.UUID = uuid_pk()
    assessment_id: uuid.UUID
    area_id: str = Field(max_length=60)
    practitioner_value: int | None = None
    practitioner_value_id: str | None = Field(default=None, max_length=60)
    rationale: str | None = text_column()
    judged_by_client: str | None = Field(default=None, max_length=100)
    judged_by_user: str | None = Field(default=None, max_length=200)
    judged_at: datetime | None = utc_column(nullable=True)
    suggested_value: int | None = None
    suggested_value_id: str | None = Field(default=None, max_length=60)
    suggestion_rule: str | None = Field(default=None, max_length=40)
    suggestion_based_on: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


class AssessmentTarget(SQLModel, table=True):
    """A target for improvement, as on the tool's summary sheet, with its review."""

    __tablename__ = "assessment_target"
    __table_args__ = (
        ForeignKeyConstraint(["assessment_id"], ["assessment.id"], name="fk_assessment_target_assessment"),
        Index("ix_assessment_target_assessment", "assessment_id", "created_at"),
    )
    id: uuid.UUID = uuid_pk()
    assessment_id: uuid.UUID
    area_id: str = Field(max_length=60)
    sub_area_id: str | None = Field(default=None, max_length=60)
    item_ref: str | None = Field(default=None, max_length=60)
    current_grade: int
    target_grade: int
    period_for_change: str = Field(max_length=20)
    review_date: date
    grade_after_review: int | None = None
    reviewed_on: date | None = None
    carer_comments: str | None = text_column()
    carer_consent_recorded: bool = False
    created_by_client: str = Field(max_length=100)
    created_at: datetime = utc_column()
    updated_at: datetime = utc_column()


METADATA = service_metadata([
    *SHARED_TABLES,
    Toolkit.__table__,  # type: ignore[attr-defined]
    ToolkitVersion.__table__,  # type: ignore[attr-defined]
    Assessment.__table__,  # type: ignore[attr-defined]
    AssessmentRating.__table__,  # type: ignore[attr-defined]
    AssessmentJudgement.__table__,  # type: ignore[attr-defined]
    AssessmentTarget.__table__,  # type: ignore[attr-defined]
])
