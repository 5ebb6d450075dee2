from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.referral.events import CATALOGUE
from tests.contract_support import breaches, caught_events


@pytest.fixture(scope="session", autouse=True)
def every_event_keeps_its_contract() -> Iterator[None]:
    """After the referral tests: every event they made the service emit fits its model and
    reporting's contracts (tests/contract_support.py)."""
    with caught_events() as caught:
        yield
    assert breaches(caught, CATALOGUE) == []
