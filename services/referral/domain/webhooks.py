"""Partner webhooks: which events an endpoint may ask for, who is told what, the signed body,
secrets and their rotation, retries. Plain rules; the worker and the API call them.

Events are thin (Standard Webhooks): ``{"type", "timestamp", "data"}`` with ids only; the
partner fetches the details with its own token, so every read is authorised and audited.
An agency is told about a child it may read (the same rule as the reads,
``queries.children.visible_to``, applied when the event is fanned out); a referrer is told
the decision on its own referral even when it may not read the child, with the referral's
and the child's ids only.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.referral.events import CATALOGUE, EMITTED
from shared.errors import Conflict, NotFound, Unprocessable
from shared.events import backoff_seconds, sign_webhook
from shared.ssrf import Target, UnsafeUrl, resolve

PING = "webhook.ping"
#: The decision on a referral: its referrer is told even when it may not read the child.
OUTCOME_EVENTS = frozenset({"referral.decided"})
#: What a referrer without sight of the child is told: the referral and whose it is, nothing more.
OUTCOME_IDS = ("referral_id", "child_id")
#: Events about no one child (agencies, threshold models, people, households, professionals) are
#: not offered: who may be told about them has no rule yet.
NOT_CHILD_EVENTS = frozenset({
    "agency.registered", "threshold_model.published", "threshold_model.activated",
    "person.recorded", "household.recorded", "professional.recorded",
})
EVENT_TYPES: tuple[str, ...] = tuple(t for t in EMITTED if t not in NOT_CHILD_EVENTS)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32
DELIVERED, PENDING, DEAD = "delivered", "pending", "dead"


class WebhookEndpointNotFound(NotFound):
    slug, title = "webhook-endpoint-not-found", "No such webhook endpoint for this agency"


class WebhookDeliveryNotFound(NotFound):
    slug, title = "webhook-delivery-not-found", "No such delivery for this endpoint"


class NotADeadLetter(Conflict):
    slug, title = "not-a-dead-letter", "Only dead letters are redelivered"


class TooManyEndpoints(Conflict):
    slug, title = "webhook-endpoint-limit", "The agency has as many webhook endpoints as it may have"


class UnsafeWebhookUrl(Unprocessable):
    slug, title = "unsafe-webhook-url", "The URL is not one we deliver to"

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {**super().example(), "detail": "The URL's host resolves to a private address; only public addresses are called.",
                "errors": [{"field": "body.url", "message": "The URL's host resolves to a private address; only public "
                            "addresses are called.", "code": "unsafe_url"}]}


# --- What is sent -------------------------------------------------------------------

def event_ids(event_type: str, data: Mapping[str, Any]) -> dict[str, str]:
    """The ids an event carries: the record ids its typed model names (``CATALOGUE.id_fields``,
    the single ``*_id`` UUID fields). The one place that decides what of an event a partner sees;
    ``la_child_id`` (a local reference) and a ``partnership_id`` slug stay out."""
    if event_type not in CATALOGUE:
        return {}
    return {key: str(value) for key, value in CATALOGUE.ids_of(event_type, data).items() if value is not None}


#: For the documentation (OpenAPI ``webhooks``): the ids each offered event type may carry.
DOCUMENTED_IDS: dict[str, tuple[str, ...]] = {
    event_type: CATALOGUE.id_fields(event_type) for event_type in EVENT_TYPES if event_type in CATALOGUE}


def body(event_type: str, occurred_at: datetime, ids: Mapping[str, str]) -> dict[str, Any]:
    """The Standard Webhooks payload: type, when it happened, ids only."""
    return {"type": event_type, "timestamp": occurred_at.isoformat().replace("+00:00", "Z"), "data": dict(ids)}


@dataclass(frozen=True)
class Recipient:
    endpoint_id: uuid.UUID
    data: dict[str, str]


@dataclass(frozen=True)
class Subscriber:
    endpoint_id: uuid.UUID
    agency_id: uuid.UUID
    event_types: Sequence[str]


def recipients(
    event_type: str, ids: Mapping[str, str], subscribers: Iterable[Subscriber],
    readers: set[uuid.UUID], referrer: uuid.UUID | None,
) -> list[Recipient]:
    """Who is told of one event, with which ids.

    ``readers``: the subscribing agencies that may read the event's child now; ``referrer``:
    the referring agency of the referral an outcome event is about (None otherwise).
    """
    out = []
    for sub in subscribers:
        if event_type not in sub.event_types:
            continue
        if sub.agency_id in readers:
            out.append(Recipient(sub.endpoint_id, dict(ids)))
        elif event_type in OUTCOME_EVENTS and referrer is not None and sub.agency_id == referrer:
            out.append(Recipient(sub.endpoint_id, {k: ids[k] for k in OUTCOME_IDS if k in ids}))
    return out


# --- Secrets ---------------------------------------------------------------------------

def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signing_secrets(current: str, previous: str | None, previous_until: datetime | None, now: datetime) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one in its grace period."""
    if previous and previous_until is not None and now < previous_until:
        return [current, previous]
    return [current]


def signature_header(secret_list: Sequence[str], webhook_id: str, timestamp: int, payload: bytes) -> str:
    """``webhook-signature``: one ``v1,<base64>`` per secret, space-separated (any one may verify)."""
    return " ".join(sign_webhook(s, webhook_id, timestamp, payload) for s in secret_list)


def rotation(current: str, now: datetime, grace_seconds: int) -> tuple[str, str | None, datetime | None]:
    """(new secret, previous secret, previous valid until) after a rotation; no grace: the old one stops at once."""
    if grace_seconds <= 0:
        return new_secret(), None, None
    return new_secret(), current, now + timedelta(seconds=grace_seconds)


# --- Retries ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class NextState:
    status: str
    next_attempt_at: datetime | None


def after_attempt(tries: int, outcome: Outcome, max_attempts: int, backoff_cap: float) -> NextState:
    """A delivery's state after its ``tries``-th attempt since it was queued (or redelivered)."""
    if outcome.ok:
        return NextState(DELIVERED, None)
    if tries >= max_attempts:
        return NextState(DEAD, None)
    return NextState(PENDING, outcome.attempted_at + timedelta(seconds=backoff_seconds(tries, backoff_cap)))


# --- URLs ------------------------------------------------------------------------------

async def check_url(url: str, *, allow_private: bool) -> Target:
    """The endpoint's URL checked against SSRF (``shared.ssrf``), or :class:`UnsafeWebhookUrl`.
    Resolves the host name: call it before opening a transaction."""
    try:
        return await resolve(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise UnsafeWebhookUrl(str(exc), errors=[{"field": "body.url", "message": str(exc), "code": "unsafe_url"}]) from exc
