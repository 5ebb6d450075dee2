"""The event catalogue (docs/events.md) and the code agree: every event the referral and
assessment services emit is a registered model, published through ``shared.contracts``."""

from __future__ import annotations

import re
from pathlib import Path

from services.assessment.events import CATALOGUE as ASSESSMENT
from services.referral.events import CATALOGUE as REFERRAL
from services.referral.events import EMITTED

ROOT = Path(__file__).resolve().parents[2]
RAW_EMIT = re.compile(r"\.emit\(")


def test_no_event_is_emitted_without_its_model() -> None:
    for service in ("referral", "assessment"):
        for path in (ROOT / "services" / service).rglob("*.py"):
            assert not RAW_EMIT.search(path.read_text()), f"{path}: build the event's model and publish() it"


def test_every_catalogued_type_is_documented() -> None:
    doc = (ROOT / "docs" / "events.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+\.[a-z_]+)`", doc))
    assert REFERRAL.types() == EMITTED
    missing = {t for t in [*REFERRAL.types(), *ASSESSMENT.types()] if t not in documented}
    assert not missing, sorted(missing)


def test_every_event_has_id_fields() -> None:
    for catalogue in (REFERRAL, ASSESSMENT):
        for contract in catalogue:
            assert contract.ids, contract.event_type
            assert all(name.endswith(("_id", "_ids")) for name in contract.ids)
