"""The event catalogue (docs/events.md) and the code agree: every event the referral
service emits is listed in services/referral/events.py and documented."""

from __future__ import annotations

import re
from pathlib import Path

from services.referral.events import EMITTED

ROOT = Path(__file__).resolve().parents[2]
EMIT = re.compile(r'emit\(\s*"([a-z0-9_]+\.[a-z_]+)"')


def test_every_emitted_literal_is_catalogued() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "services" / "referral").rglob("*.py"))
    emitted = set(EMIT.findall(source))
    assert emitted, "no emit() calls found: the pattern is out of date"
    assert emitted <= set(EMITTED), sorted(emitted - set(EMITTED))


def test_every_catalogued_type_is_documented() -> None:
    doc = (ROOT / "docs" / "events.md").read_text()
    documented = set(re.findall(r"`([a-z0-9_]+\.[a-z_<>]+)`", doc))
    stages = {t for t in EMITTED if t.startswith("non_engagement.") and t != "non_engagement.opened"}
    offers = {t for t in EMITTED if t.startswith("service_offer.") and t != "service_offer.made"}
    missing = {t for t in EMITTED if t not in documented} - stages - offers
    assert not missing, sorted(missing)
    assert "non_engagement.<stage>" in documented
