from __future__ import annotations

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


class EpisodeNotFound(NotFound):
    slug, title = "episode-not-found", "No such episode (or part of one) for this agency"


class NotStatutoryAgency(Forbidden):
    slug, title = "statutory-agency-only", "Only children's social care records statutory steps"


class UnbornChildRule(IllegalTransition):
    slug, title = "child-record-rule", "Not allowed for this child's record"
