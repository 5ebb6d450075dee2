"""The events this service emits (thin: ids, dates, numbers; never free text): ``CATALOGUE``.

``assessment.submitted`` and ``assessment.authorised`` carry the assessment, child
and agency ids, the toolkit id and version, the lineage and revision (``amends_id``
for an amendment), the previous assessment, the window dates, the practitioner's
area grades as numbers, and when it happened (``supersedes_id`` when an authorised
amendment replaces an earlier revision). Receivers fetch details with their own
token, so the read is authorised and audited. docs/events.md and consumers' JSON
Schemas are generated from these models (``make events``).
"""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import Field

from shared.contracts import Catalogue, EventData, Instant

CATALOGUE = Catalogue("assessment")


class ToolkitAssessment(EventData):
    """What every toolkit assessment event carries."""

    assessment_id: uuid.UUID = Field(description="The toolkit assessment (this revision).")
    child_id: uuid.UUID = Field(description="The child.")
    agency_id: uuid.UUID = Field(description="The assessing agency.")
    toolkit_id: str = Field(description="The toolkit (e.g. gcp2).")
    toolkit_version: str = Field(description="The toolkit version used.")
    lineage_id: uuid.UUID = Field(description="The assessment's lineage: all its revisions share it.")
    revision: int = Field(description="The revision within the lineage (1 for the first).")
    amends_id: uuid.UUID | None = Field(description="The revision this one amends, for an amendment.")
    previous_assessment_id: uuid.UUID | None = Field(description="The child's previous assessment with this toolkit.")
    window_start_date: date = Field(description="The start of the period assessed.")
    window_end_date: date | None = Field(description="The end of the period assessed.")
    area_grades: dict[str, int] = Field(description="The practitioner's grade for each area graded, by area code.")


@CATALOGUE.register("assessment.submitted")
class AssessmentSubmitted(ToolkitAssessment):
    """A toolkit assessment was submitted for authorisation."""

    submitted_at: Instant = Field(description="When it was submitted.")
    submitted_on: date = Field(description="The day it counts as submitted (a migrated record keeps its own).")


@CATALOGUE.register("assessment.authorised")
class AssessmentAuthorised(ToolkitAssessment):
    """A toolkit assessment was authorised; an authorised amendment supersedes the earlier revision."""

    authorised_at: Instant = Field(description="When it was authorised.")
    authorised_on: date = Field(description="The day it counts as authorised (a migrated record keeps its own).")
    supersedes_id: uuid.UUID | None = Field(description="The revision this amendment replaces, if any.")


EMITTED: list[str] = CATALOGUE.types()
CONSUMED: list[str] = []
