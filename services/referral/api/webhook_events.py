"""The OpenAPI ``webhooks`` section: what a partner's endpoint receives, one entry per event type."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from services.referral.domain.webhooks import EVENT_TYPES, OUTCOME_EVENTS, PING
from services.referral.schemas.webhooks import PingEvent, event_model

HEADERS = """

Sent as a `POST` with a JSON body and three headers (Standard Webhooks):
`webhook-id` (the same on every attempt: apply each id once), `webhook-timestamp`
(Unix seconds: refuse one more than five minutes away) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` with the endpoint's secret;
two space-separated during a secret's rotation, either may match).
`scripts/webhook_receiver.py` shows the check. Answer any `2xx` within 10 seconds;
anything else, or no answer, is retried with backoff, then dead-lettered."""

RESPONSES: dict[int | str, dict[str, Any]] = {
    204: {"description": "Received (any 2xx will do): the delivery is done."},
    401: {"description": "The signature did not verify: the delivery is retried, then dead-lettered."},
    503: {"description": "Any other answer, or none in time: retried with backoff, then dead-lettered."},
}


def _route(model: type[BaseModel]) -> Any:
    async def receive(body: Any) -> None:
        return None

    receive.__annotations__ = {"body": model, "return": None}
    return receive


def document_webhooks(app: FastAPI) -> None:
    for event_type in EVENT_TYPES:
        who = ("Endpoints of agencies that may read the child, and the referrer of the referral "
               "(with `referral_id` and `child_id` only)." if event_type in OUTCOME_EVENTS
               else "Endpoints of agencies that may read the child.")
        app.webhooks.add_api_route(
            event_type, _route(event_model(event_type)), methods=["POST"], summary=f"{event_type}",
            description=f"`{event_type}` (docs/events.md). {who}" + HEADERS, responses=RESPONSES,
            tags=["webhooks"], operation_id=f"webhook_{event_type.replace('.', '_')}", status_code=204,
        )
    app.webhooks.add_api_route(
        PING, _route(PingEvent), methods=["POST"], summary=PING, status_code=204,
        description="Sent when you ask for it (`POST /v1/webhook-endpoints/{endpoint_id}/ping`)." + HEADERS,
        responses=RESPONSES, tags=["webhooks"], operation_id="webhook_ping",
    )
