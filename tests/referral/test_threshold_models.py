"""Threshold models as versioned data, through the API."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from tests.referral.factories import ADMIN_AGENCY, make_agency, make_child
from tests.referral.factories_referrals import (
    AssessmentStub,
    decision_body,
    gcp2_result,
    make_referral,
)
from tests.support import TokenFor

PROBLEM = "application/problem+json"
REFERENCE = Path(__file__).resolve().parents[2] / "services" / "referral" / "reference" / "thresholds_example.yaml"
DATA = yaml.safe_load(REFERENCE.read_text())


def partnership(pid: str) -> dict[str, Any]:
    return copy.deepcopy(next(p for p in DATA["partnerships"] if p["id"] == pid))


@pytest.fixture
async def assessment(referral_app: FastAPI) -> AsyncIterator[AssessmentStub]:
    stub = AssessmentStub()
    client = stub.client()
    referral_app.state.assessment_client = client
    try:
        yield stub
    finally:
        referral_app.state.assessment_client = None
        await client.aclose()


def admin(token_for: TokenFor) -> dict[str, str]:
    return token_for(ADMIN_AGENCY, "admin")


async def test_reference_model_is_loaded_on_first_use(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.get("/v1/threshold-models", headers=token_for(ADMIN_AGENCY, "referral:read"))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [(m["partnership_id"], m["ruleset_version"], m["active"], m["created_by"]) for m in items] == [
        ("example_partnership_a", "2026.2", True, "reference-data")]
    assert items[0]["definition"]["level_order"] == ["1", "2a", "2b", "3", "4"]
    one = await referral.get("/v1/threshold-models/example_partnership_a/versions/2026.2",
                             headers=token_for(ADMIN_AGENCY, "referral:read"))
    assert one.status_code == 200
    assert one.json()["id"] == items[0]["id"]


async def test_publish_a_new_partnership_model(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = partnership("example_partnership_b")
    body["id"], body["ruleset_version"] = "test_partnership_x", "2026.9"
    r = await referral.post("/v1/threshold-models", json=body, headers=admin(token_for))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["active"] is False
    assert created["definition"]["rules"][0]["id"] == "B-R01"
    assert r.headers["location"] == "/v1/threshold-models/test_partnership_x/versions/2026.9"
    listed = await referral.get("/v1/threshold-models", params={"partnership_id": "test_partnership_x"},
                                headers=token_for(ADMIN_AGENCY, "referral:read"))
    assert [m["ruleset_version"] for m in listed.json()["items"]] == ["2026.9"]


async def test_invalid_model_lists_every_problem(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = partnership("example_partnership_b")
    body["id"], body["ruleset_version"] = "test_partnership_bad", "1"
    body["default_level"] = "9"
    body["levels"][0]["allowed_outcomes"] = ["nfa", "send_a_letter"]
    body["rules"][0]["when"] = {"all": [{"fact": "toolkit.shoe_size", "op": ">=", "value": 4}]}
    body["rules"][1]["reason"] = ""
    body["rules"][2]["when"]["all"][0]["op"] = "roughly"
    body["rules"][3]["when"]["all"][0]["params"] = {"type": "was_not_brought"}  # window_days missing
    body["rules"][4]["recommend_min_level"] = "5"
    r = await referral.post("/v1/threshold-models", json=body, headers=admin(token_for))
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["type"].endswith("invalid-threshold-model")
    messages = [e["message"] for e in problem["errors"]]
    assert len(messages) == 7, messages
    expected = ["default_level '9'", "unknown outcomes ['send_a_letter']", "unknown fact 'toolkit.shoe_size'",
                "a reason is required", "unknown operator 'roughly'", "needs params ['window_days']",
                "recommend_min_level '5' is not a level"]
    for fragment in expected:
        assert any(fragment in m for m in messages), (fragment, messages)
    assert "body.rules[0]" in [e["field"] for e in problem["errors"]]
    missing = await referral.get("/v1/threshold-models/test_partnership_bad/versions/1",
                                 headers=token_for(ADMIN_AGENCY, "referral:read"))
    assert missing.status_code == 404


async def test_malformed_model_is_422_with_fields(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.post("/v1/threshold-models", json={"id": "x", "name": "x", "levels": "none"},
                            headers=admin(token_for))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"body.ruleset_version", "body.level_order", "body.levels"} <= fields


async def test_published_versions_are_immutable(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = partnership("example_partnership_b")
    body["id"], body["ruleset_version"] = "test_partnership_dup", "2026.1"
    assert (await referral.post("/v1/threshold-models", json=body, headers=admin(token_for))).status_code == 201
    body["name"] = "Changed after publication"
    again = await referral.post("/v1/threshold-models", json=body, headers=admin(token_for))
    assert again.status_code == 409
    assert again.json()["type"].endswith("threshold-model-version-exists")
    # The reference model, once loaded, is published like any other.
    await referral.get("/v1/threshold-models", headers=token_for(ADMIN_AGENCY, "referral:read"))
    reference = partnership("example_partnership_a")
    clash = await referral.post("/v1/threshold-models", json=reference, headers=admin(token_for))
    assert clash.status_code == 409


async def test_only_admins_publish_and_activate(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    body = partnership("example_partnership_b")
    body["id"] = "test_partnership_scopes"
    headers = token_for(ADMIN_AGENCY, "referral:read", "referral:write")
    r = await referral.post("/v1/threshold-models", json=body, headers=headers)
    assert r.status_code == 403
    r = await referral.post("/v1/threshold-models/example_partnership_a/versions/2026.2/activation", headers=headers)
    assert r.status_code == 403
    assert (await referral.get("/v1/threshold-models")).status_code == 401


async def test_activation_switches_the_model_used_for_recommendations_and_decisions(
    referral: httpx.AsyncClient, token_for: TokenFor, assessment: AssessmentStub
) -> None:
    read = token_for(ADMIN_AGENCY, "referral:read")
    first = (await referral.get("/v1/threshold-models", headers=read)).json()["items"][0]
    # Partnership A moves to a level model with 3 = child in need (B's shape), as version 2027.1.
    body = partnership("example_partnership_b")
    body["id"], body["ruleset_version"], body["name"] = "example_partnership_a", "2027.1", "A, revised"
    assert (await referral.post("/v1/threshold-models", json=body, headers=admin(token_for))).status_code == 201
    r = await referral.post("/v1/threshold-models/example_partnership_a/versions/2027.1/activation", headers=admin(token_for))
    assert r.status_code == 200
    assert r.json()["active"] is True
    active = (await referral.get("/v1/threshold-models", params={"active": "true"}, headers=read)).json()["items"]
    assert [m["ruleset_version"] for m in active] == ["2027.1"]
    old = await referral.get("/v1/threshold-models/example_partnership_a/versions/2026.2", headers=read)
    assert old.status_code == 200
    assert old.json()["active"] is False
    assert old.json()["id"] == first["id"]

    hv = await make_agency(referral, token_for, "health_visiting")
    csc = await make_agency(referral, token_for, "childrens_social_care")
    child = await make_child(referral, token_for, hv["id"])
    referral_id = (await make_referral(referral, token_for, hv["id"], child["id"])).json()["id"]
    assessment.results[child["id"]] = [gcp2_result(physical_care=4, emotional_care=2)]
    csc_headers = token_for(uuid.UUID(csc["id"]), "referral:read", "referral:write")
    rec = await referral.post(f"/v1/referrals/{referral_id}/recommendation", headers=csc_headers)
    assert rec.status_code == 200
    assert rec.json()["ruleset_version"] == "2027.1"
    assert rec.json()["recommended_level"] == "3"  # B-R01: physical care 4 -> child in need
    assert [f["id"] for f in rec.json()["fired_rules"]] == ["B-R01"]
    # "2b" was a level of the old version only.
    stale = await referral.post(f"/v1/referrals/{referral_id}/decision", json=decision_body("2b", "early_help_assessment"),
                                headers={**csc_headers, "If-Match": '"1"'})
    assert stale.status_code == 422
    decided = await referral.post(f"/v1/referrals/{referral_id}/decision",
                                  json=decision_body("3", "s17_assessment", primary_need="N1"),
                                  headers={**csc_headers, "If-Match": '"1"'})
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["threshold_model_id"] == rec.json()["threshold_model_id"]
    assert decided.json()["decision"]["overridden"] is False
    # Switching back leaves exactly one active version.
    back = await referral.post("/v1/threshold-models/example_partnership_a/versions/2026.2/activation", headers=admin(token_for))
    assert back.status_code == 200
    active = (await referral.get("/v1/threshold-models", params={"active": "true"}, headers=read)).json()["items"]
    assert [m["ruleset_version"] for m in active] == ["2026.2"]


async def test_activating_an_unknown_version_is_404(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.post("/v1/threshold-models/example_partnership_a/versions/1999.1/activation", headers=admin(token_for))
    assert r.status_code == 404
    assert r.json()["type"].endswith("threshold-model-not-found")


async def test_indicator_rules_with_unknown_facts_or_values_are_refused(
    referral: httpx.AsyncClient, token_for: TokenFor
) -> None:
    body = partnership("example_partnership_a")
    body["id"], body["ruleset_version"] = "test_partnership_indicators", "1"
    rules = body["rules"]
    rules[0]["when"] = {"all": [{"fact": "concern.indicator_colour", "op": "==", "value": "red"}]}
    rules[1]["when"] = {"all": [{"fact": "concern.indicator_severity", "params": {"domain": "housing"}, "op": ">=", "value": 3}]}
    rules[2]["when"] = {"all": [{"fact": "concern.indicator_count", "params": {"min_severity": "severe"}, "op": ">=", "value": 1}]}
    rules[3]["when"] = {"all": [{"fact": "concern.indicator_count", "params": {"severity": "high", "min_severity": "low"},
                                 "op": ">=", "value": 1}]}
    rules[4]["when"] = {"all": [{"fact": "concern.high_severity_indicator", "params": {"area": "physical_care"}, "op": "is_true"}]}
    r = await referral.post("/v1/threshold-models", json=body, headers=admin(token_for))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    messages = [e["message"] for e in r.json()["errors"]]
    expected = ["rules[0] (A-R01): unknown fact 'concern.indicator_colour'",
                "rules[1] (A-R02): concern.indicator_severity param domain must be one of",
                "rules[2] (A-R03): concern.indicator_count param min_severity must be one of",
                "rules[3] (A-R04): concern.indicator_count takes severity or min_severity, not both",
                "rules[4] (A-R05): concern.high_severity_indicator has unknown params ['area']"]
    assert len(messages) == len(expected), messages
    for fragment in expected:
        assert any(m.startswith(fragment) for m in messages), (fragment, messages)
    missing = await referral.get("/v1/threshold-models/test_partnership_indicators/versions/1",
                                 headers=token_for(ADMIN_AGENCY, "referral:read"))
    assert missing.status_code == 404


async def test_a_newer_shipped_model_is_published_beside_the_one_in_force(
    referral: httpx.AsyncClient, token_for: TokenFor
) -> None:
    """A partnership already running the 2026.1 reference model keeps it: the shipped 2026.2 is
    published next to it, inactive, for an administrator to activate."""
    old = partnership("example_partnership_a")
    old["ruleset_version"] = "2026.1"
    old["rules"] = [r for r in old["rules"] if not r["when"]["all"][0]["fact"].startswith("concern.")]
    assert (await referral.post("/v1/threshold-models", json=old, headers=admin(token_for))).status_code == 201
    r = await referral.post("/v1/threshold-models/example_partnership_a/versions/2026.1/activation", headers=admin(token_for))
    assert r.status_code == 200
    read = token_for(ADMIN_AGENCY, "referral:read")
    items = (await referral.get("/v1/threshold-models", params={"partnership_id": "example_partnership_a"},
                                headers=read)).json()["items"]
    assert sorted((m["ruleset_version"], m["active"], m["created_by"] == "reference-data") for m in items) == [
        ("2026.1", True, False), ("2026.2", False, True)]
    r = await referral.post("/v1/threshold-models/example_partnership_a/versions/2026.2/activation", headers=admin(token_for))
    assert r.status_code == 200
    assert [r["id"] for r in r.json()["definition"]["rules"]][-3:] == ["A-R10", "A-R11", "A-R12"]
