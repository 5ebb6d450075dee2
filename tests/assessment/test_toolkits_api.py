from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.assessment.domain.definitions import (
    LICENSED_KEYS,
    InvalidToolkitDefinition,
    normalise,
)
from services.assessment.domain.toolkits import Toolkits
from services.assessment.queries.toolkits import ToolkitQueries
from tests.assessment.toolkit_data import gcp2_raw, home_scale_raw, local_tool_raw
from tests.support import TokenFor

PROBLEM = "application/problem+json"
AGENCY = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
GCP2_AREAS = {
    "physical_care": ["nutrition", "housing", "clothing", "hygiene", "health"],
    "care_of_safety": ["safety_carer_present", "safety_carer_absent", "online_safety", "road_safety", "home_safety"],
    "emotional_care": ["carer_responsiveness", "mutual_engagement"],
    "developmental_care": ["stimulation", "approval", "disapproval", "acceptance"],
}


def _keys_anywhere(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys_anywhere(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys_anywhere(v)}
    return set()


async def test_list_contains_gcp2_with_its_latest_version(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await assessment.get("/v1/toolkits", headers=token_for(AGENCY, "assessment:read"))
    assert r.status_code == 200
    gcp2 = {t["id"]: t for t in r.json()["items"]}["gcp2"]
    assert gcp2["name"] == "Graded Care Profile 2"
    assert gcp2["owner"] == "NSPCC"
    assert gcp2["latest_version"] == "2-structure-1"
    assert gcp2["latest_published_at"]


async def test_read_gcp2_areas_sub_areas_and_scale(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await assessment.get("/v1/toolkits/gcp2", headers=token_for(AGENCY, "assessment:read"))
    assert r.status_code == 200
    body = r.json()
    assert (body["toolkit_id"], body["version"], body["status"]) == ("gcp2", "2-structure-1", "published")
    definition = body["definition"]
    assert {a["id"]: [s["id"] for s in a["sub_areas"]] for a in definition["areas"]} == GCP2_AREAS
    assert [a["id"] for a in definition["areas"]] == list(GCP2_AREAS)
    scale = definition["scale"]
    assert (scale["type"], scale["min"], scale["max"]) == ("ordinal", 1, 5)
    assert [v["value"] for v in scale["values"]] == [1, 2, 3, 4, 5]
    assert scale["direction"] == "higher_is_worse"
    assert scale["aggregation"] == "none"
    rules = definition["judgement_rules"]
    assert rules["practitioner_area_grade"]["authoritative"] is True
    assert rules["system_suggestion"]["label"] == "System suggestion - not an NSPCC method"
    assert rules["system_suggestion"]["may_overwrite_practitioner_grade"] is False
    unconfirmed = {s["id"] for a in definition["areas"] for s in a["sub_areas"] if not s["confirmed_level"]}
    assert unconfirmed == {"online_safety", "road_safety", "home_safety"}


async def test_shipped_definition_has_no_item_wording(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await assessment.get("/v1/toolkits/gcp2", headers=token_for(AGENCY, "assessment:read"))
    definition = r.json()["definition"]
    assert definition["licence"] == {
        "licensed_content": False, "licence_required_for_use": True,
        "items_shipped": False, "items_source": "tenant_licensed_store",
    }
    # ``items`` is the (empty) list of rated items of a local tool; no wording key appears anywhere.
    assert not _keys_anywhere(definition) & (LICENSED_KEYS - {"items"})
    assert definition["rating_level"] == "sub_area"
    for area in definition["areas"]:
        assert set(area) == {"id", "code", "name", "former_name", "mandatory", "sub_areas", "items", "reported_additions"}
        assert area["items"] == []
        for sub_area in area["sub_areas"]:
            assert set(sub_area) == {"id", "name", "confirmed_level", "note"}


async def test_version_read_and_etag(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    headers = token_for(AGENCY, "assessment:read")
    latest = await assessment.get("/v1/toolkits/gcp2", headers=headers)
    exact = await assessment.get("/v1/toolkits/gcp2/versions/2-structure-1", headers=headers)
    assert exact.status_code == 200
    assert exact.json() == latest.json()
    assert exact.headers["etag"] == latest.headers["etag"]
    assert exact.headers["etag"].startswith('"')
    cached = await assessment.get("/v1/toolkits/gcp2", headers={**headers, "If-None-Match": latest.headers["etag"]})
    assert cached.status_code == 304
    assert cached.headers["etag"] == latest.headers["etag"]
    stale = await assessment.get("/v1/toolkits/gcp2", headers={**headers, "If-None-Match": '"0"'})
    assert stale.status_code == 200


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/v1/toolkits/no_such_tool", "toolkit-not-found"),
        ("/v1/toolkits/no_such_tool/versions/1", "toolkit-not-found"),
        ("/v1/toolkits/gcp2/versions/9-nope", "toolkit-version-not-found"),
    ],
)
async def test_unknown_toolkit_or_version_is_404_problem(
    assessment: httpx.AsyncClient, token_for: TokenFor, path: str, problem: str
) -> None:
    r = await assessment.get(path, headers=token_for(AGENCY, "assessment:read"))
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"].endswith("/" + problem)
    assert body["status"] == 404
    assert body["request_id"]


@pytest.mark.parametrize("path", ["/v1/toolkits", "/v1/toolkits/gcp2", "/v1/toolkits/gcp2/versions/2-structure-1"])
async def test_token_and_scope_are_required(assessment: httpx.AsyncClient, token_for: TokenFor, path: str) -> None:
    anonymous = await assessment.get(path)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM
    wrong_scope = await assessment.get(path, headers=token_for(AGENCY, "referral:read", "assessment:write"))
    assert wrong_scope.status_code == 403
    assert wrong_scope.json()["type"].endswith("insufficient-scope")


async def test_list_pages_with_a_cursor(
    assessment: httpx.AsyncClient, assessment_app: FastAPI, token_for: TokenFor
) -> None:
    async with assessment_app.state.db.sessions() as session:
        await Toolkits(ToolkitQueries(session)).load_shipped([normalise(local_tool_raw(f"local_{n}")) for n in "abc"])
        await session.commit()
    headers = token_for(AGENCY, "assessment:read")
    seen: list[str] = []
    url: str | None = "/v1/toolkits?limit=2"
    while url:
        r = await assessment.get(url, headers=headers)
        assert r.status_code == 200
        seen += [t["id"] for t in r.json()["items"]]
        link = r.headers.get("link")
        url = link.split(";")[0].strip("<>") if link else None
    assert seen == sorted(seen)
    assert set(seen) == {"gcp2", "local_neglect_screening", "signs_of_safety", "local_a", "local_b", "local_c"}
    bad = await assessment.get("/v1/toolkits?cursor=not-a-cursor", headers=headers)
    assert bad.status_code == 400
    assert bad.json()["type"].endswith("invalid-cursor")


async def test_openapi_documents_the_problems(assessment: httpx.AsyncClient) -> None:
    spec = (await assessment.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/toolkits/{toolkit_id}"]["get"]
    assert {"304", "401", "403", "404"} <= set(operation["responses"])
    assert "toolkit-not-found" in operation["responses"]["404"]["content"][PROBLEM]["examples"]


ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")


async def test_a_partnership_publishes_its_own_tool(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    admin = token_for(ADMIN, "admin", client_id="partnership-admin")
    r = await assessment.post("/v1/toolkits", json=home_scale_raw(), headers=admin)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/v1/toolkits/home_conditions_example/versions/1"
    body = r.json()
    assert body["definition"]["scale"]["step"] == 5
    assert body["definition"]["rating_level"] == "item"
    assert [t["id"] for t in body["definition"]["totals"]] == ["home_total", "everything"]
    read = await assessment.get("/v1/toolkits/home_conditions_example", headers=token_for(AGENCY, "assessment:read"))
    assert read.status_code == 200
    assert read.json() == body
    assert read.headers["etag"] == r.headers["etag"]

    newer = home_scale_raw(version="2")
    newer["tool"]["name"] = "Home conditions scale (renamed, test)"
    assert (await assessment.post("/v1/toolkits", json=newer, headers=admin)).status_code == 201
    versions = await assessment.get("/v1/toolkits/home_conditions_example/versions",
                                    headers=token_for(AGENCY, "assessment:read"))
    assert [v["version"] for v in versions.json()["items"]] == ["1", "2"]
    latest = (await assessment.get("/v1/toolkits", headers=token_for(AGENCY, "assessment:read"))).json()
    listed = {t["id"]: t for t in latest["items"]}["home_conditions_example"]
    assert (listed["latest_version"], listed["name"]) == ("2", "Home conditions scale (renamed, test)")


async def test_publishing_needs_admin(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await assessment.post("/v1/toolkits", json=home_scale_raw(), headers=token_for(AGENCY, "assessment:write"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("insufficient-scope")


async def test_a_published_version_is_a_409(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await assessment.post("/v1/toolkits", json=gcp2_raw(), headers=token_for(ADMIN, "admin"))
    assert r.status_code == 409
    assert r.json()["type"].endswith("/toolkit-version-exists")


async def test_an_invalid_definition_lists_every_problem(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    raw = home_scale_raw()
    raw["grade_scale"]["aggregation"] = "none"          # totals on a profile
    raw["totals"][0]["areas"] = ["nowhere"]              # an unknown area
    raw["areas"][1]["items"][0]["id"] = "kitchen"        # a duplicate id
    r = await assessment.post("/v1/toolkits", json=raw, headers=token_for(ADMIN, "admin"))
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["type"].endswith("/invalid-toolkit-definition")
    fields = [e["field"] for e in body["errors"]]
    assert {"totals", "totals[0].areas", "areas[1]"} <= set(fields)
    assert (await assessment.get("/v1/toolkits/home_conditions_example",
                                 headers=token_for(AGENCY, "assessment:read"))).status_code == 404


@pytest.mark.parametrize("scale", [
    {"min": 1725905548, "max": 113688357538648784896},   # found by the fuzzer: a 500 before
    {"min": -5000, "max": 5},
    {"step": 0},
])
async def test_scale_bounds_out_of_range_are_a_422(
    assessment: httpx.AsyncClient, token_for: TokenFor, scale: dict[str, int],
) -> None:
    raw = home_scale_raw(tool_id="wide_scale")
    raw["grade_scale"].update(scale)
    r = await assessment.post("/v1/toolkits", json=raw, headers=token_for(ADMIN, "admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert {e["field"].split(".")[-1] for e in r.json()["errors"]} & {"min", "max", "step"}
    assert (await assessment.get("/v1/toolkits/wide_scale",
                                 headers=token_for(AGENCY, "assessment:read"))).status_code == 404


def test_a_scale_wider_than_its_values_can_label_is_refused_without_listing_it() -> None:
    raw = home_scale_raw()
    raw["grade_scale"].update({"min": 0, "max": 10**20, "step": 1})
    with pytest.raises(InvalidToolkitDefinition) as refused:
        normalise(raw)
    assert [p.field for p in refused.value.problems if p.field.startswith("grade_scale")] == ["grade_scale.max"]


async def test_wording_keys_and_licensed_content_are_refused(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    raw = home_scale_raw()
    raw["areas"][0]["items"][0]["text"] = "placeholder"
    raw["tool"]["licensed_content"] = True
    r = await assessment.post("/v1/toolkits", json=raw, headers=token_for(ADMIN, "admin"))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert "body.areas.0.items.0.text" in fields
    raw = home_scale_raw()
    raw["tool"]["licensed_content"] = True
    r = await assessment.post("/v1/toolkits", json=raw, headers=token_for(ADMIN, "admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["tool.licensed_content"]


async def test_publishing_is_idempotent(assessment: httpx.AsyncClient, token_for: TokenFor) -> None:
    headers = {**token_for(ADMIN, "admin"), "Idempotency-Key": "publish-home-1"}
    first = await assessment.post("/v1/toolkits", json=home_scale_raw(), headers=headers)
    again = await assessment.post("/v1/toolkits", json=home_scale_raw(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = await assessment.post("/v1/toolkits", json=home_scale_raw(version="9"), headers=headers)
    assert other.status_code == 422


async def test_health(assessment: httpx.AsyncClient) -> None:
    assert (await assessment.get("/livez")).json() == {"status": "ok"}
    assert (await assessment.get("/readyz")).status_code == 200
