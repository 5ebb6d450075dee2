from __future__ import annotations

from typing import Any

from shared.errors import DuplicateRecord, Forbidden, IllegalTransition, NotFound


class ChildNotFound(NotFound):
    slug, title = "child-not-found", "No such child for this agency"


class AgencyNotFound(NotFound):
    slug, title = "agency-not-found", "No such agency"


class AgencyNotRegistered(Forbidden):
    slug, title = "agency-not-registered", "The calling agency is not registered with the partnership"


class DuplicateExternalRef(DuplicateRecord):
    slug, title = "duplicate-external-ref", "This external reference is already in use"


class DuplicateChildId(DuplicateRecord):
    slug, title = "duplicate-la-child-id", "This LA child id is already in use"


class DuplicateNhsNumber(DuplicateRecord):
    """Only ever about children the caller may see: a child it may not see is never mentioned."""

    slug, title = "duplicate-nhs-number", "Your agency can already see a child with this NHS number"

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(),
                "detail": "Your agency can already see a child with this NHS number; use that record (existing_child_ids).",
                "existing_child_ids": ["6a1f0c52-1b7e-4c1a-9d0e-3f5b2a7c8d90"]}


class EpisodeNotFound(NotFound):
    slug, title = "episode-not-found", "No such episode (or part of one) for this agency"


class NotStatutoryAgency(Forbidden):
    slug, title = "statutory-agency-only", "Only children's social care records statutory steps"


class UnbornChildRule(IllegalTransition):
    slug, title = "child-record-rule", "Not allowed for this child's record"
