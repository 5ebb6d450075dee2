from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.reporting.api.deps import ReadModelDep, SignedEventDep
from services.reporting.domain.errors import (
    EventContractBroken,
    EventIdMismatch,
    InvalidEventSignature,
)
from services.reporting.schemas import EventEnvelope, EventReceipt
from shared.errors import (
    InsufficientScope,
    MalformedBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    problems,
)

router = APIRouter(tags=["events"])

_HEADERS = [
    ("webhook-id", "The event's unique id; redeliveries reuse it. Equal to the body's `id`."),
    ("webhook-timestamp", "Unix seconds when signed; refused when more than 5 minutes from our clock."),
    ("webhook-signature", "`v1,<base64 HMAC-SHA256 of '<webhook-id>.<webhook-timestamp>.<body>'>`; several may be sent, space-separated."),
]
EVENT_DOCS: dict[str, Any] = {
    # The body is read raw (the signature covers its exact bytes), so it is described here.
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": EventEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")}},
    },
    "parameters": [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": text}
        for name, text in _HEADERS
    ],
    # No bearer token: the shared webhook secret authenticates the sending service.
    "security": [],
}


def _event_problems() -> dict[int | str, dict[str, Any]]:
    # A signature, not a token with scopes: this route never answers 403.
    responses = problems(InvalidEventSignature, MalformedBody, EventIdMismatch, EventContractBroken, PayloadTooLarge,
                         UnsupportedMediaType)
    responses.pop(InsufficientScope.status, None)
    return responses


@router.post("/events", responses=_event_problems(), openapi_extra=EVENT_DOCS)
async def receive_event(signed: SignedEventDep, read_model: ReadModelDep) -> EventReceipt:
    """Receive an event from another service's outbox relay (machine to machine).

    Authenticated by its [Standard Webhooks](https://www.standardwebhooks.com/) signature
    with the partnership's shared event secret, not by a bearer token. Applied once per
    `webhook-id`: the event is logged and the dashboard counts move in the same transaction.
    A redelivery answers 200 `{"status": "duplicate"}` and changes nothing, so senders may
    retry freely. Events of types reporting does not use yet are logged and counted as
    received only. Any non-2xx answer makes the sender retry with backoff.

    Each event type reporting projects is checked against its producer's published
    contract for the fields reporting reads (`services/reporting/contracts`, see
    docs/events.md): a missing required field, a wrong type, an id that is not a UUID
    or a date that is not ISO 8601 gets 422 `event-contract-broken` naming the
    fields, and nothing is stored (not even the webhook-id).

    The census identifiers (`la_child_id`, `upn`, `birth_date`, `expected_birth_date`,
    `death_date`) are stored apart from the log, for the statutory exports only. Names,
    NHS numbers, addresses, postcodes and text (any value with spaces) are dropped on
    arrival and never stored: send ids and codes.
    """
    status = await read_model.receive(signed.webhook_id, signed.event)
    return EventReceipt(status=status)
