"""Webhook endpoints, deliveries and the event payloads sent to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from services.referral.domain.webhooks import DOCUMENTED_IDS, EVENT_TYPES

EXAMPLE_ID = "3f2b8c1e-7d4a-4e6b-9a51-0c8d2e7f1a93"
EXAMPLE_URL = "https://partner.example/hooks/neglect-backbone"
EXAMPLE_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"  # noqa: S105 - an example, not a secret


def _event_types(value: list[str]) -> list[str]:
    unknown = sorted(set(value) - set(EVENT_TYPES))
    if unknown:
        raise ValueError(f"unknown event type(s) {', '.join(unknown)}; see the webhooks section of the API document")
    if len(set(value)) != len(value):
        raise ValueError("each event type once")
    return value


_EVENT_TYPES_FIELD = ("The event types to be told of, each once: "
                      + ", ".join(f"`{t}`" for t in EVENT_TYPES) + ".")


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"url": EXAMPLE_URL, "event_types": ["referral.decided", "referral.feedback_sent"],
         "description": "Case management system, production"},
    ]})
    url: str = Field(min_length=8, max_length=2000, description="Where deliveries are POSTed: `https://`, a public address.")
    event_types: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES), description=_EVENT_TYPES_FIELD)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool = Field(default=True, description="A disabled endpoint's deliveries wait until it is enabled again.")

    _types = field_validator("event_types")(_event_types)


class EndpointUpdate(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"event_types": ["referral.decided"]}, {"enabled": False}, {"url": "https://partner.example/hooks/v2"},
    ]})
    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=len(EVENT_TYPES),
                                          description=_EVENT_TYPES_FIELD)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None

    _types = field_validator("event_types")(lambda v: v if v is None else _event_types(v))


_READ_EXAMPLE: dict[str, Any] = {
    "id": EXAMPLE_ID, "url": EXAMPLE_URL, "event_types": ["referral.decided"], "description": "Case management system",
    "enabled": True, "secret_rotated_at": None, "previous_secret_expires_at": None,
    "created_at": "2026-12-05T10:00:00Z", "updated_at": "2026-12-05T10:00:00Z", "version": 1,
}


class EndpointRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_READ_EXAMPLE]})
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    secret_rotated_at: datetime | None = Field(description="When the secret was last rotated.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret signs every delivery too (two `v1,` signatures).")
    created_at: datetime
    updated_at: datetime
    version: int


class EndpointCreated(EndpointRead):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_READ_EXAMPLE, "secret": EXAMPLE_SECRET}]})
    secret: str = Field(description="The signing secret (`whsec_` and base64). Shown this once: keep it safe.")


class EndpointPage(BaseModel):
    items: list[EndpointRead]
    next_cursor: str | None = None


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}, {"grace_period_seconds": 3600}, {"grace_period_seconds": 0}]})
    grace_period_seconds: int | None = Field(
        default=None, ge=0, le=7 * 86400,
        description="How long the old secret keeps signing beside the new one (default: the service's, 24 hours); "
                    "0 stops it at once (a leaked secret).")


class SecretRotated(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"secret": EXAMPLE_SECRET, "previous_secret_expires_at": "2026-12-06T10:00:00Z", "version": 2}]})
    secret: str = Field(description="The new secret. Shown this once.")
    previous_secret_expires_at: datetime | None = Field(description="The old secret signs too until then; null: not at all.")
    version: int


class AttemptRead(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(description="The endpoint's answer; null when none came.")
    error: str | None = Field(description="`HTTP 503`, `timeout`, `ConnectError`, `refused: ...` (the address is not allowed).")
    duration_ms: float


_DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": "8d0b5a3c-2e1f-4a7b-9c6d-5e4f3a2b1c0d", "webhook_id": "0f6e1b2a-9c8d-4e7f-a6b5-c4d3e2f1a0b9",
    "event_type": "referral.decided", "status": "delivered", "attempts": 2, "redeliveries": 0,
    "payload": {"type": "referral.decided", "timestamp": "2026-12-05T10:00:00Z",
                "data": {"referral_id": EXAMPLE_ID, "child_id": "6a1f0c52-1b7e-4c1a-9d0e-3f5b2a7c8d90"}},
    "next_attempt_at": None, "last_status_code": 204, "last_error": None, "created_at": "2026-12-05T10:00:00Z",
    "delivered_at": "2026-12-05T10:00:03Z", "dead_at": None,
    "attempt_log": [
        {"attempted_at": "2026-12-05T10:00:01Z", "status_code": 503, "error": "HTTP 503", "duration_ms": 41.2},
        {"attempted_at": "2026-12-05T10:00:03Z", "status_code": 204, "error": None, "duration_ms": 38.9},
    ],
}


class DeliveryRead(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY_EXAMPLE]})
    id: uuid.UUID
    webhook_id: str = Field(description="Sent as `webhook-id`, the same on every attempt: apply each once.")
    event_type: str
    status: Literal["pending", "delivered", "dead"] = Field(description="`dead`: its retries ran out (a dead letter).")
    attempts: int
    redeliveries: int
    payload: dict[str, object] = Field(description="The body sent: type, timestamp, ids.")
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried next.")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    attempt_log: list[AttemptRead] = Field(description="Every attempt, oldest first.")


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None = None


class DeliveryQueued(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"delivery_id": "8d0b5a3c-2e1f-4a7b-9c6d-5e4f3a2b1c0d", "webhook_id": "0f6e1b2a-9c8d-4e7f-a6b5-c4d3e2f1a0b9",
         "status": "pending"}]})
    delivery_id: uuid.UUID
    webhook_id: str
    status: Literal["pending"] = "pending"


# --- Event payloads, for the OpenAPI `webhooks` section ---------------------------------------

def event_model(event_type: str) -> type[BaseModel]:
    """The body of one event type: type, timestamp and the ids it carries."""
    fields = {name: (uuid.UUID | None, Field(default=None)) for name in DOCUMENTED_IDS.get(event_type, ())}
    name = "".join(part.capitalize() for part in event_type.replace(".", "_").split("_"))
    data = create_model(f"{name}Ids", __config__=ConfigDict(extra="allow"), **fields)  # type: ignore[call-overload]
    example_data = dict.fromkeys(DOCUMENTED_IDS.get(event_type, ()), EXAMPLE_ID)
    model: type[BaseModel] = create_model(
        f"{name}Event",
        __config__=ConfigDict(json_schema_extra={"examples": [
            {"type": event_type, "timestamp": "2026-12-05T10:00:00Z", "data": example_data}]}),  # type: ignore[dict-item]
        type=(Literal[event_type], Field(description="The event type.")),  # type: ignore[valid-type,arg-type,unused-ignore]
        timestamp=(datetime, Field(description="When it happened (UTC).")),
        data=(data, Field(description="Ids only; fetch the records with your token.")),
    )
    return model


class PingEvent(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"type": "webhook.ping", "timestamp": "2026-12-05T10:00:00Z", "data": {"endpoint_id": EXAMPLE_ID}}]})
    type: Literal["webhook.ping"]
    timestamp: datetime
    data: dict[str, str] = Field(title="PingData", description="`endpoint_id`: the endpoint pinged.")
