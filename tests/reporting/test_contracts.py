"""Event contracts between the producers (referral, assessment) and reporting.

- The producers' models still carry every field reporting reads, of the kind it reads,
  and always send the ones it requires (compared against reporting's declared
  ``PROJECTIONS`` and its committed schema copies).
- The generated docs and schema copies are current (``scripts/event_docs.py --check``).
- What a producer's model publishes passes reporting's check and projects.
- Over HTTP, an event that breaks its contract gets 422 and nothing is written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import Field
from sqlalchemy import func, select
from sqlmodel import col

from scripts import event_docs
from services.assessment.events import CATALOGUE as ASSESSMENT
from services.referral.events import CATALOGUE as REFERRAL
from services.referral.events import ContactConverted
from services.reporting.domain.contracts import CONTRACTS_DIR, Contracts, schema_path
from services.reporting.domain.errors import EventContractBroken
from services.reporting.domain.projection import PROJECTIONS, Event, Read, project
from services.reporting.models import EventLog
from shared.contracts import OUTBOX_VERSION, Catalogue, EventData
from shared.events import EVENT_VERSION
from shared.models import InboxEvent
from tests.reporting.factories import event, send

CATALOGUES = {c.producer: c for c in (REFERRAL, ASSESSMENT)}


def _kinds(schema: Mapping[str, Any]) -> set[str]:
    """The JSON kinds a field schema allows: its types, with a string's format instead of "string"."""
    if "anyOf" in schema:
        return set().union(*(_kinds(option) for option in schema["anyOf"]))
    if "format" in schema:
        return {str(schema["format"])}
    return {str(schema.get("type", "any"))}


def breaches(catalogues: Mapping[str, Catalogue], projections: Mapping[str, Mapping[str, Mapping[str, Read]]]) -> list[str]:
    """Every way the producers' models fail what the consumer declares it reads."""
    found: list[str] = []
    for producer, types in projections.items():
        catalogue = catalogues.get(producer)
        if catalogue is None:
            found.append(f"{producer}: no such producer")
            continue
        for event_type, reads in types.items():
            if event_type not in catalogue:
                found.append(f"{producer} {event_type}: no longer emitted")
                continue
            schema = catalogue.json_schema(event_type)
            properties, required = schema.get("properties", {}), set(schema.get("required", []))
            for name, read in reads.items():
                if name not in properties:
                    found.append(f"{producer} {event_type}.{name}: removed, but reporting reads it")
                    continue
                kinds = _kinds(properties[name])
                if not kinds - {"null"} <= {read.kind}:
                    found.append(f"{producer} {event_type}.{name}: is {sorted(kinds)}, reporting reads {read.kind}")
                if read.required and (name not in required or "null" in kinds):
                    found.append(f"{producer} {event_type}.{name}: may be left out or null, reporting requires it")
    return found


def test_producer_models_carry_every_field_reporting_reads() -> None:
    assert breaches(CATALOGUES, PROJECTIONS) == []


def test_reporting_schema_copies_match_the_producer_models_for_every_field_it_reads() -> None:
    for producer, types in PROJECTIONS.items():
        for event_type, reads in types.items():
            catalogue = CATALOGUES[producer]
            path = schema_path(CONTRACTS_DIR, producer, event_type, catalogue.version(event_type))
            assert path.exists(), f"{path} is missing: run `make events`"
            committed = json.loads(path.read_text())["properties"]
            current = catalogue.json_schema(event_type)["properties"]
            for name in reads:
                assert committed.get(name) == current.get(name), \
                    f"{producer} changed {event_type}.{name}, which reporting reads: run `make events` and check the projection"


def test_the_contract_check_catches_a_field_removed_retyped_or_made_optional() -> None:
    doctored = Catalogue("referral")

    @doctored.register("contact.converted")
    class Renamed(EventData):  # referral_id renamed, contact_id now a number
        contact_id: int
        converted_referral_id: uuid.UUID

    @doctored.register("referral.feedback_sent")
    class MadeOptional(EventData):  # sent_at may now be left out
        referral_id: uuid.UUID
        sent_at: datetime | None = Field(default=None)

    reads = {"referral": {t: PROJECTIONS["referral"][t] for t in ("contact.converted", "referral.feedback_sent")}}
    found = breaches({"referral": doctored}, reads)
    assert any("contact.converted.referral_id: removed" in f for f in found), found
    assert any("contact.converted.contact_id: is ['integer'], reporting reads uuid" in f for f in found), found
    assert any("referral.feedback_sent.sent_at: may be left out or null" in f for f in found), found
    assert breaches({"referral": REFERRAL}, reads) == []


def test_the_catalogue_and_schema_copies_are_current() -> None:
    assert event_docs.main(["--check"]) == 0, "docs/events.md or services/reporting/contracts are stale: run `make events`"


def test_a_stale_schema_copy_is_reported(tmp_path: Any) -> None:
    files = event_docs.expected_files()
    path = next(p for p in files if p.suffix == ".json")
    changed = {**files, path: files[path].replace('"uuid"', '"date"', 1)}
    assert any(str(path.relative_to(event_docs.ROOT)) in line for line in event_docs.stale(changed))


def _sample(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    if "$ref" in schema:
        return _sample(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        return _sample(next(o for o in schema["anyOf"] if o.get("type") != "null"), defs)
    fmt, kind = schema.get("format"), schema.get("type")
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt == "date":
        return "2026-01-05"
    if fmt == "date-time":
        return "2026-01-05T10:15:02.123456+00:00"
    samples: dict[str, Any] = {"string": "X1", "integer": 2, "boolean": True, "number": 1.5}
    if kind == "array":
        return [_sample(schema.get("items", {"type": "string"}), defs)]
    if kind == "object":
        return {"area": _sample(schema.get("additionalProperties", {"type": "integer"}), defs)}
    return samples[str(kind)]


@pytest.mark.parametrize(("producer", "event_type"),
                         [(p, t) for p, types in PROJECTIONS.items() for t in types])
def test_what_a_producer_publishes_passes_reporting_and_projects(producer: str, event_type: str) -> None:
    catalogue = CATALOGUES[producer]
    schema = catalogue.json_schema(event_type)
    sample = {name: _sample(field, schema.get("$defs", {})) for name, field in schema["properties"].items()}
    payload = catalogue.model(event_type).model_validate_json(json.dumps(sample)).payload()
    Contracts().check(producer, event_type, catalogue.version(event_type), payload)
    writes, problem = project(Event(str(uuid.uuid4()), event_type, producer, datetime.now(UTC), payload))
    assert problem is None
    assert writes


def test_publish_sends_exactly_the_models_json() -> None:
    referral, contact, child = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    model = ContactConverted(contact_id=contact, child_id=child, referral_id=referral, date=datetime(2026, 1, 5, tzinfo=UTC).date())
    assert model.payload() == {"contact_id": str(contact), "child_id": str(child), "referral_id": str(referral),
                               "date": "2026-01-05"}
    assert REFERRAL.id_fields("contact.converted") == ("contact_id", "child_id", "referral_id")
    assert REFERRAL.webhook_schema("contact.converted")["properties"]["type"] == {"const": "contact.converted"}


# --- over HTTP --------------------------------------------------------------------------------------

async def _written(app: FastAPI, webhook_id: str) -> tuple[int, int]:
    async with app.state.db.sessions() as session:
        logged = (await session.exec(select(func.count()).select_from(EventLog).where(col(EventLog.webhook_id) == webhook_id))).one()  # type: ignore[call-overload]
        inbox = (await session.exec(select(func.count()).select_from(InboxEvent).where(col(InboxEvent.webhook_id) == webhook_id))).one()  # type: ignore[call-overload]
    return logged[0], inbox[0]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"child_id": "CHILD", "episode_id": "EP", "date": "2026-01-05", "category": "NEG"}, "cp_plan_id", "required"),
        ({"cp_plan_id": "not-an-id", "date": "2026-01-05"}, "cp_plan_id", "uuid"),
        ({"cp_plan_id": "PLAN", "date": "05/01/2026"}, "date", "date"),
        ({"cp_plan_id": "PLAN", "date": "2026-01-05", "previous_plans": "two"}, "previous_plans", "integer"),
    ],
)
async def test_a_broken_event_gets_422_and_nothing_is_written(
    reporting: httpx.AsyncClient, reporting_app: FastAPI, data: dict[str, Any], field: str, message: str,
) -> None:
    ids = {"CHILD": str(uuid.uuid4()), "EP": str(uuid.uuid4()), "PLAN": str(uuid.uuid4())}
    broken = event("cp_plan.started", **{k: ids.get(v, v) if isinstance(v, str) else v for k, v in data.items()})
    r = await send(reporting, broken)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["type"].endswith("/event-contract-broken")
    assert [e["field"] for e in problem["errors"]] == [f"body.data.{field}"]
    assert message in problem["errors"][0]["message"]
    assert await _written(reporting_app, broken["id"]) == (0, 0)
    # Nothing was recorded, not even the webhook-id: the corrected event (same id) is applied.
    fixed = {**broken, "data": {"cp_plan_id": str(uuid.uuid4()), "date": "2026-01-05"}}
    assert (await send(reporting, fixed)).json() == {"status": "applied"}
    assert await _written(reporting_app, broken["id"]) == (1, 1)


async def test_fields_reporting_does_not_read_and_types_it_does_not_project_pass(reporting: httpx.AsyncClient) -> None:
    extra = event("cp_plan.started", cp_plan_id=str(uuid.uuid4()), date="2026-01-05", something_new="X")
    assert (await send(reporting, extra)).json() == {"status": "applied"}
    unknown = event("referral.recommendation_computed", referral_id="not checked")
    assert (await send(reporting, unknown)).json() == {"status": "applied"}


def test_reporting_reads_no_field_twice_and_knows_every_kind() -> None:
    kinds = {"uuid", "date", "date-time", "string", "boolean", "integer", "array", "object"}
    for types in PROJECTIONS.values():
        for reads in types.values():
            assert {r.kind for r in reads.values()} <= kinds


def test_a_contract_check_names_every_broken_field() -> None:
    contracts = Contracts()
    with pytest.raises(EventContractBroken) as caught:
        contracts.check("referral", "visit.recorded", 1, {"visited_on": "yesterday", "statutory": "yes"})
    fields = [e["field"] for e in caught.value.extra["errors"]]
    assert fields == ["body.data.visit_id", "body.data.statutory", "body.data.visited_on"]


def test_thin_payloads_take_the_id_fields() -> None:
    data = {"child_id": "c", "episode_id": "e", "date": "2026-01-05", "cp_plan_id": "p", "category": "NEG"}
    assert REFERRAL.ids_of("cp_plan.started", data) == {"child_id": "c", "episode_id": "e", "cp_plan_id": "p"}
    # Record ids only: a toolkit's slug, a local authority's own child reference, a partnership slug stay out.
    assert ASSESSMENT.id_fields("assessment.authorised") == (
        "assessment_id", "child_id", "agency_id", "lineage_id", "amends_id", "previous_assessment_id",
        "supersedes_id")
    assert REFERRAL.id_fields("child.registered") == ("child_id", "agency_id")
    assert "partnership_id" not in REFERRAL.id_fields("referral.decided")


def test_the_outbox_version_is_the_one_publish_checks() -> None:
    assert OUTBOX_VERSION == EVENT_VERSION
