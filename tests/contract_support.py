"""Every event a producer's tests make it emit, checked against its model and reporting's contracts.

Used by a session fixture in tests/referral and tests/assessment: the real payloads of
every journey those tests drive must validate against the producer's own model and
pass reporting's check of the fields it reads (``services/reporting/contracts``). The
tests' transactions roll back, so the payloads are caught on their way into the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

from services.reporting.domain.contracts import Contracts
from services.reporting.domain.errors import EventContractBroken
from shared.contracts import Catalogue
from shared.events import EVENT_VERSION, Outbox


@contextmanager
def caught_events() -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """(source, type, data) of every event emitted through an ``Outbox`` meanwhile."""
    caught: list[tuple[str, str, dict[str, Any]]] = []
    original = Outbox.emit

    async def emit(self: Outbox, event_type: str, occurred_at: datetime | None = None, **data: Any) -> Any:
        message = await original(self, event_type, occurred_at, **data)
        caught.append((self.source, event_type, dict(message.payload["data"])))
        return message

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Outbox, "emit", emit)
        yield caught


def breaches(caught: list[tuple[str, str, dict[str, Any]]], catalogue: Catalogue) -> list[str]:
    contracts, problems = Contracts(), set()
    for source, event_type, data in caught:
        if source != catalogue.producer:
            continue  # another producer's tests in the same session: its own fixture checks them
        if event_type not in catalogue:
            problems.add(f"{source} {event_type}: not in the {catalogue.producer} catalogue")
            continue
        try:
            catalogue.model(event_type).model_validate_json(json.dumps(data))
        except ValidationError as exc:
            problems.add(f"{event_type}: breaks its own model: {exc.errors(include_input=False)}")
        try:
            contracts.check(source, event_type, EVENT_VERSION, data)
        except EventContractBroken as exc:
            problems.add(f"{event_type}: breaks reporting's contract: {exc.extra['errors']}")
    return sorted(problems)
