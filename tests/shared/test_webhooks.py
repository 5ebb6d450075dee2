from __future__ import annotations

import time

import pytest

from shared.errors import Unauthorized
from shared.events import backoff_seconds, verify_webhook, webhook_headers


def test_signed_event_verifies() -> None:
    body = b'{"id":"1"}'
    headers = webhook_headers("s3cret", "msg-1", body)
    assert verify_webhook("s3cret", headers, body) == "msg-1"


def test_known_vector_from_standard_webhooks_shape() -> None:
    # whsec_ secrets are base64; the signed content is "id.timestamp.body".
    headers = webhook_headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", b'{"test": 2432232314}', now=1614265330)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


@pytest.mark.parametrize("mutate", ["body", "secret", "stale", "missing"])
def test_tampered_or_stale_events_are_refused(mutate: str) -> None:
    body = b'{"id":"1"}'
    now = int(time.time())
    headers = webhook_headers("s3cret", "msg-1", body, now=now - 3600 if mutate == "stale" else now)
    if mutate == "missing":
        headers.pop("webhook-signature")
    with pytest.raises(Unauthorized):
        verify_webhook("other" if mutate == "secret" else "s3cret", headers, body + (b" " if mutate == "body" else b""))


def test_backoff_grows_and_is_capped() -> None:
    assert all(0.5 <= backoff_seconds(1) <= 1.0 for _ in range(20))
    assert all(4.0 <= backoff_seconds(4) <= 8.0 for _ in range(20))
    assert all(900 <= backoff_seconds(30) <= 1800 for _ in range(20))  # the default cap: 30 min
    assert all(150 <= backoff_seconds(30, cap=300) <= 300 for _ in range(20))
