"""Dashboard targets: read by any reporting reader, replaced by an administrator under If-Match,
every invalid set refused with problem+json and nothing changed."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.reporting.factories import READER
from tests.support import TokenFor

ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a1")
PROBLEM = "application/problem+json"
PATH = "/v1/dashboard/targets"
GOOD: list[dict[str, Any]] = [
    {"figure": "timeliness:referral_decision", "direction": "higher_is_better", "green": 90, "amber": 75},
    {"figure": "alerts:assessment_completion", "direction": "lower_is_better", "green": 0, "amber": 3,
     "label": "Assessments past 45 working days"},
    {"figure": "metric:NQ15", "direction": "higher_is_better", "green": 80, "amber": 60},
    {"figure": "caseload:referrals_awaiting_decision", "direction": "lower_is_better", "green": 5, "amber": 10},
]


async def test_none_until_set_then_replaced_under_if_match(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    reader, admin = token_for(READER, "reporting:read"), token_for(ADMIN, "admin")
    r = await reporting.get(PATH, headers=reader)
    assert r.status_code == 200, r.text
    assert (r.headers["etag"], r.json()["targets"], r.json()["version"]) == ('"0"', [], 0)

    r = await reporting.put(PATH, json={"targets": GOOD}, headers={**admin, "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert r.json()["updated_by"] == "test-client"
    read = (await reporting.get(PATH, headers=reader)).json()
    assert [t["figure"] for t in read["targets"]] == [t["figure"] for t in GOOD]
    assert read["targets"][1] == GOOD[1]
    assert read["targets"][0]["label"] is None

    stale = await reporting.put(PATH, json={"targets": []}, headers={**admin, "If-Match": '"0"'})
    assert (stale.status_code, stale.headers["content-type"]) == (412, PROBLEM)
    missing = await reporting.put(PATH, json={"targets": []}, headers=admin)
    assert (missing.status_code, missing.headers["content-type"]) == (428, PROBLEM)
    emptied = await reporting.put(PATH, json={"targets": []}, headers={**admin, "If-Match": '"1"'})
    assert (emptied.status_code, emptied.json()["targets"], emptied.headers["etag"]) == (200, [], '"2"')


async def test_a_reader_may_not_replace_them(reporting: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await reporting.put(PATH, json={"targets": GOOD},
                            headers={**token_for(READER, "reporting:read", "reporting:export"), "If-Match": '"0"'})
    assert (r.status_code, r.headers["content-type"]) == (403, PROBLEM)
    assert (await reporting.get(PATH, headers=token_for(READER, "reporting:read"))).json()["version"] == 0


@pytest.mark.parametrize(("target", "field", "code"), [
    ({"figure": "timeliness:no_such_clock", "direction": "higher_is_better", "green": 90, "amber": 75},
     "body.targets.1.figure", "unknown_figure"),
    ({"figure": "weather:rain", "direction": "higher_is_better", "green": 90, "amber": 75},
     "body.targets.1.figure", "unknown_kind"),
    ({"figure": "metric:NQ99", "direction": "higher_is_better", "green": 90, "amber": 75},
     "body.targets.1.figure", "unknown_figure"),
    ({"figure": "timeliness:referral_decision", "direction": "higher_is_better", "green": 90, "amber": 75},
     "body.targets.1.figure", "duplicate"),
    ({"figure": "timeliness:cp_first_review", "direction": "higher_is_better", "green": 70, "amber": 80},
     "body.targets.1.amber", "thresholds_out_of_order"),
    ({"figure": "alerts:cp_first_review", "direction": "lower_is_better", "green": 4, "amber": 2},
     "body.targets.1.amber", "thresholds_out_of_order"),
    ({"figure": "timeliness:cp_first_review", "direction": "higher_is_better", "green": 120, "amber": 80},
     "body.targets.1.green", "out_of_range"),
])
async def test_invalid_targets_are_refused_by_field(
    reporting: httpx.AsyncClient, token_for: TokenFor, target: dict[str, Any], field: str, code: str,
) -> None:
    admin = {**token_for(ADMIN, "admin"), "If-Match": '"0"'}
    r = await reporting.put(PATH, json={"targets": [GOOD[0], target]}, headers=admin)
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert {"field": field, "code": code} in [{"field": e["field"], "code": e["code"]} for e in r.json()["errors"]]
    assert (await reporting.get(PATH, headers=token_for(READER, "reporting:read"))).json()["version"] == 0


@pytest.mark.parametrize("body", [
    {"targets": [{**GOOD[0], "direction": "sideways"}]},
    {"targets": [{**GOOD[0], "green": -1}]},
    {"targets": [{**GOOD[0], "colour": "red"}]},
    {"targets": [{k: v for k, v in GOOD[0].items() if k != "amber"}]},
    {"targets": "all of them"},
    {},
])
async def test_malformed_bodies_are_refused(reporting: httpx.AsyncClient, token_for: TokenFor, body: Any) -> None:
    r = await reporting.put(PATH, json=body, headers={**token_for(ADMIN, "admin"), "If-Match": '"0"'})
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert (await reporting.get(PATH, headers=token_for(READER, "reporting:read"))).json()["version"] == 0
