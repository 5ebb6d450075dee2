"""Child protection plans elsewhere, from the referral service's API through its outbox to the
census export (NumberOfPreviousCPP, checked with the DfE's rules) and the repeat-plan metrics."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

import httpx
from fastapi import FastAPI

from shared.events import OutboxRelay
from tests.referral.factories import make_agency, make_child
from tests.referral.journey_support import open_episode
from tests.reporting.census_rules import validate
from tests.reporting.factories import READER, event, send
from tests.support import WEBHOOK_SECRET, TokenFor

ADMIN = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")
EXPORTER = uuid.UUID("00000000-0000-4000-8000-0000000000e1")


async def test_plans_elsewhere_reach_the_census_and_the_repeat_plan_metrics(
    referral: httpx.AsyncClient, referral_app: FastAPI, reporting: httpx.AsyncClient, token_for: TokenFor,
) -> None:
    csc = await make_agency(referral, token_for, "childrens_social_care")
    hv = await make_agency(referral, token_for, "health_visiting")
    child = await make_child(referral, token_for, hv["id"], la_child_id="PE000001", ethnicity="WBRI", birth_date="2021-05-04",
                             upn_unknown="UN1")
    h = token_for(uuid.UUID(csc["id"]), "referral:read", "referral:write")
    episode = await open_episode(referral_app, uuid.UUID(csc["id"]), uuid.UUID(child["id"]), date(2026, 1, 5))
    etag = (await referral.get(f"/v1/children/{child['id']}", headers=h)).headers["etag"]
    r = await referral.put(f"/v1/children/{child['id']}/cp-plans-elsewhere", headers={**h, "If-Match": etag},
                           json={"previous_plans": 2, "latest_end_date": "2025-06-30"})
    assert r.status_code == 200, r.text
    url = f"/v1/episodes/{episode}"
    etag = (await referral.get(url, headers=h)).headers["etag"]

    async def step(path: str, body: dict[str, Any]) -> dict[str, Any]:
        nonlocal etag
        r = await referral.post(f"{url}{path}", json=body, headers={**h, "If-Match": etag})
        assert r.status_code == 200, r.text
        etag = r.headers["etag"]
        result: dict[str, Any] = r.json()
        return result

    await step("/assessments", {"start_date": "2026-01-06"})
    ep = await step("/strategy-discussions", {"held_date": "2026-01-07", "start_s47": True})
    ep = await step("/conferences", {"kind": "initial", "held_date": "2026-01-26", "s47_id": ep["s47s"][0]["id"],
                                     "outcome": "plan", "category": "NEG"})
    assert ep["cp_plans"][0]["previous_plans"] == 2

    relay = OutboxRelay(referral_app.state.db, WEBHOOK_SECRET, reporting)
    while await relay.run_once():
        pass

    admin = token_for(ADMIN, "admin")
    config = await reporting.get("/v1/datasets/configuration", headers=admin)
    r = await reporting.patch("/v1/datasets/configuration", json={"la_code": "919"},
                              headers={**admin, "If-Match": config.headers["etag"]})
    assert r.status_code == 200, r.text
    r = await reporting.get("/v1/exports/cin-census", params={"year": "2025-26"}, headers=token_for(EXPORTER, "reporting:export"))
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)  # noqa: S314 - our own export
    [mine] = [c for c in root.iter("Child") if c.findtext("ChildIdentifiers/LAchildID") == "PE000001"]
    assert mine.findtext("CINdetails/ChildProtectionPlans/NumberOfPreviousCPP") == "2"
    outcome = validate(r.content, "cin2025_26")
    assert outcome.errors == {}

    body = (await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26-Q4"},
                                headers=token_for(READER, "reporting:read", "reporting:export"))).json()
    totals = {m["id"]: (m["total"]["count"], m["total"]["denominator"]) for m in body["metrics"] if m["id"] in ("NQ06", "NQ06b")}
    # A second plan (NQ06), and the one before it (elsewhere) ended within 24 months (NQ06b).
    assert (totals["NQ06"], totals["NQ06b"]) == ((1, 1), (1, 1))


async def test_a_plan_elsewhere_long_ago_is_a_repeat_but_not_within_24_months(
    reporting: httpx.AsyncClient, token_for: TokenFor,
) -> None:
    for previous_end in ("2023-12-01", "2024-02-01", None):
        assert (await send(reporting, event(
            "cp_plan.started", child_id=str(uuid.uuid4()), episode_id=str(uuid.uuid4()), cp_plan_id=str(uuid.uuid4()),
            date="2026-02-02", category="NEG", previous_plans=0 if previous_end is None else 1,
            previous_plan_end_date=previous_end))).json() == {"status": "applied"}
    body = (await reporting.get("/v1/datasets/quarterly", params={"period": "2025-26-Q4"},
                                headers=token_for(READER, "reporting:read", "reporting:export"))).json()
    totals = {m["id"]: (m["total"]["count"], m["total"]["denominator"]) for m in body["metrics"] if m["id"] in ("NQ06", "NQ06b")}
    # 2023-12-01 to 2026-02-02 is 26 months; 2024-02-01 is 24 completed months: not within 24 either.
    assert (totals["NQ06"], totals["NQ06b"]) == ((2, 3), (0, 3))
