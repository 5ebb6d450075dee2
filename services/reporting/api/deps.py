from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from services.reporting.domain.errors import EventIdMismatch, InvalidEventSignature
from services.reporting.domain.read_model import ReadModel
from services.reporting.queries import ReadModelQueries
from services.reporting.schemas import EventEnvelope
from shared.auth import require_scopes
from shared.db import SessionDep
from shared.errors import Unauthorized
from shared.events import verify_webhook
from shared.tokens import Principal

CanRead = Annotated[Principal, Depends(require_scopes("reporting:read"))]


@dataclass(frozen=True)
class SignedEvent:
    webhook_id: str
    event: EventEnvelope


async def signed_event(request: Request) -> SignedEvent:
    """Authenticate a service event by its Standard Webhooks signature, then parse it.

    The signature covers the exact bytes sent, so the raw body is read here and
    validated only after it is verified: 401, then 400 (not JSON), then 422.
    """
    body = await request.body()
    try:
        webhook_id = verify_webhook(request.app.state.settings.webhook_secret, request.headers, body)
    except Unauthorized as exc:
        raise InvalidEventSignature(exc.detail) from exc
    try:
        event = EventEnvelope.model_validate_json(body)
    except ValidationError as exc:
        # Rendered by the shared handler like any body error: 400 for bad JSON, else 422 per field.
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from exc
    if event.id != webhook_id:
        raise EventIdMismatch(
            "The body's id must equal the webhook-id header.",
            errors=[{"field": "body.id", "message": "must equal the webhook-id header", "code": "webhook_id_mismatch"}],
        )
    return SignedEvent(webhook_id=webhook_id, event=event)


def read_model(session: SessionDep) -> ReadModel:
    return ReadModel(ReadModelQueries(session))


SignedEventDep = Annotated[SignedEvent, Depends(signed_event)]
ReadModelDep = Annotated[ReadModel, Depends(read_model)]
