"""Request and response bodies (never the table models)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


EventType = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)]
DataKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
MAX_DATA_TEXT = 200
MAX_DATA_LIST = 30
Scalar = str | int | float | bool | None


def _scalar(value: Any) -> Scalar:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if len(value) > MAX_DATA_TEXT:
            raise ValueError(f"at most {MAX_DATA_TEXT} characters: events carry ids and codes, not text")
        return value
    raise ValueError("a flat id, code, number, flag or null: events carry no nested records")


def _thin(value: Any) -> Scalar | list[Scalar]:
    # Scalars or short lists of them (codes such as disabilities or assessment factors).
    # A nested object or a long text would be a record's details, which receivers fetch
    # with their own token.
    if isinstance(value, list):
        if len(value) > MAX_DATA_LIST:
            raise ValueError(f"at most {MAX_DATA_LIST} codes in a list")
        return [_scalar(v) for v in value]
    return _scalar(value)


DataValue = Annotated[Scalar | list[Scalar], PlainValidator(_thin, json_schema_input_type=Scalar | list[Scalar])]


class EventEnvelope(Body):
    """An event as the sending service's outbox relay posts it."""

    id: str = Field(min_length=1, max_length=100, description="The event id; equal to the `webhook-id` header.",
                    examples=["0b8f3c1e-5d2a-4f7e-9c61-2a4b8d9e7f10"])
    type: EventType = Field(description="`<resource>.<what happened>`.", examples=["child.registered"])
    source: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,59}$", description="The emitting service.", examples=["referral"])
    occurred_at: AwareDatetime = Field(description="When it happened at the source (RFC 3339 with offset).")
    version: int = Field(ge=1, le=1000, description="The event schema version.", examples=[1])
    data: dict[DataKey, DataValue] = Field(
        default_factory=dict, max_length=50,
        description="Ids and codes only, as flat key/value pairs.",
        examples=[{"child_id": "6a1f0c52-1b7e-4c1a-9d0e-3f5b2a7c8d90", "agency_id": "0d7c2b1a-9e8f-4a6b-8c5d-1e2f3a4b5c6d", "unborn": False}],
    )


class EventReceipt(BaseModel):
    status: Literal["applied", "duplicate"] = Field(
        description="`applied` on first delivery; `duplicate` when this webhook-id was applied before (nothing changed)."
    )


class DashboardSummary(BaseModel):
    children_registered: int = Field(description="Children (incl. unborn) registered with the partnership.")
    agencies_registered: int = Field(description="Partner agencies registered.")
    events_received: int = Field(description="Events applied to the read model, of every type.")
    last_event_at: datetime | None = Field(description="When the most recent event received occurred; null before the first.")
