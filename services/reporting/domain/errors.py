from __future__ import annotations

from typing import Any

from shared.errors import Unauthorized, Unprocessable


class InvalidEventSignature(Unauthorized):
    slug, title = "invalid-event-signature", "The event's Standard Webhooks signature was not accepted"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        # Not a bearer-token route: say which scheme the sender must use.
        self.headers["WWW-Authenticate"] = 'StandardWebhooks realm="neglect-backbone"'


class EventIdMismatch(Unprocessable):
    slug, title = "event-id-mismatch", "The event id does not match the webhook-id header"
