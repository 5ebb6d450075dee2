from __future__ import annotations

from typing import Any, ClassVar

from shared.errors import Conflict, NotFound, Unauthorized, Unprocessable


class InvalidEventSignature(Unauthorized):
    slug, title = "invalid-event-signature", "The event's Standard Webhooks signature was not accepted"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        # Not a bearer-token route: say which scheme the sender must use.
        self.headers["WWW-Authenticate"] = 'StandardWebhooks realm="neglect-backbone"'


class EventIdMismatch(Unprocessable):
    slug, title = "event-id-mismatch", "The event id does not match the webhook-id header"


class _FieldProblem(Unprocessable):
    """A query parameter the caller got wrong, named in ``errors`` like any validation error."""

    default_field: ClassVar[str] = "query.period"
    code: ClassVar[str] = "invalid"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail, errors=[{"field": field or self.default_field, "message": detail, "code": self.code}])


class InvalidPeriod(_FieldProblem):
    slug, title = "invalid-period", "The period is not one the dataset knows"
    code = "invalid_period"


class PeriodTooLong(_FieldProblem):
    slug, title = "period-too-long", "The period is longer than the configured maximum"
    code = "period_too_long"


class UnsupportedCollectionYear(_FieldProblem):
    slug, title = "unsupported-collection-year", "No census rules are configured for this collection year"
    default_field = "query.year"
    code = "unsupported_year"


class UnknownMetric(_FieldProblem):
    slug, title = "unknown-metric", "No such metric in the quarterly dataset"
    default_field = "query.metric"
    code = "unknown_metric"


class ConfigurationIncomplete(Conflict):
    slug, title = "configuration-incomplete", "The partnership configuration lacks a setting this output needs"


class AnnexListNotFound(NotFound):
    slug, title = "annex-a-list-not-found", "No such Annex A list"


class AnnexListNotAvailable(Conflict):
    """The list is known, but the events it is built from are not emitted by any service yet."""

    slug, title = "annex-a-list-not-available", "This Annex A list cannot be produced from the events received"


class EventContractBroken(Unprocessable):
    """An event of a type reporting projects breaks the producer's published contract for a
    field reporting reads (missing, wrong type, unparseable date or id): nothing is stored."""

    slug, title = "event-contract-broken", "The event's data breaks its contract"
