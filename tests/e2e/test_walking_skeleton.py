"""Through the gateway, with real processes: token, child, read back, and who may not."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
PROBLEM = "application/problem+json"


async def test_walk_through_the_gateway(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=20) as gw:
        admin = await stack.token(gw, *(await stack.register_client(uuid.uuid4(), ["admin", "referral:read"])))
        agencies = {}
        for name, kind in (("E2E Health Visiting", "health_visiting"), ("E2E Police", "police"),
                           ("E2E Partnership Unit", "la_other_internal")):
            r = await gw.post("/v1/agencies", json={"name": name, "agency_type": kind}, headers=admin)
            assert r.status_code == 201, r.text
            agencies[kind] = uuid.UUID(r.json()["id"])
        hv = await stack.token(gw, *(await stack.register_client(agencies["health_visiting"], ["referral:read", "referral:write", "assessment:read"])))
        police = await stack.token(gw, *(await stack.register_client(agencies["police"], ["referral:read", "referral:write"])))
        analyst = await stack.token(gw, *(await stack.register_client(agencies["la_other_internal"], ["reporting:read"])))

        before = await gw.get("/v1/dashboard/summary", headers=analyst)
        assert before.status_code == 200, before.text

        # token -> create a child -> read it back
        body = {"given_name": "Etwoe", "family_name": "Example", "birth_date": "2022-08-01", "gender": "2",
                "nhs_number": "9990000018", "external_ref": "HV-E2E-1"}
        created = await gw.post("/v1/children", json=body, headers={**hv, "Idempotency-Key": "e2e-1"})
        assert created.status_code == 201, created.text
        child_id = created.json()["id"]
        read = await gw.get(f"/v1/children/{child_id}", headers=hv)
        assert read.status_code == 200
        assert read.json()["external_ref"] == "HV-E2E-1"
        assert read.headers["x-request-id"]
        found = await gw.get("/v1/children", params={"external_ref": "HV-E2E-1"}, headers=hv)
        assert [c["id"] for c in found.json()["items"]] == [child_id]

        # no token -> 401 problem
        r = await gw.get(f"/v1/children/{child_id}")
        assert r.status_code == 401
        assert r.headers["content-type"] == PROBLEM

        # wrong scope -> 403 (a token narrowed to assessment:read)
        narrowed = await stack.token(gw, *(await stack.register_client(agencies["health_visiting"], ["referral:read", "assessment:read"])), scope="assessment:read")
        r = await gw.get(f"/v1/children/{child_id}", headers=narrowed)
        assert r.status_code == 403
        assert r.headers["content-type"] == PROBLEM

        # another agency's child -> 404
        r = await gw.get(f"/v1/children/{child_id}", headers=police)
        assert r.status_code == 404
        assert r.headers["content-type"] == PROBLEM

        # the toolkits come from the assessment service through the same gateway
        r = await gw.get("/v1/toolkits/gcp2", headers=hv)
        assert r.status_code == 200, r.text

        # reporting's summary moves through the outbox, not a direct call
        deadline = time.monotonic() + 20
        moved = False
        while time.monotonic() < deadline and not moved:
            summary = (await gw.get("/v1/dashboard/summary", headers=analyst)).json()
            moved = summary["children_registered"] == before.json()["children_registered"] + 1
            await asyncio.sleep(0.3)
        assert moved, summary


async def test_gateway_serves_one_document_for_every_service(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=20) as gw:
        spec = (await gw.get("/openapi.json")).json()
        paths = set(spec["paths"])
        assert {"/oauth/token", "/v1/children", "/v1/toolkits", "/v1/dashboard/summary"} <= paths
        docs = await gw.get("/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        jwks = (await gw.get("/.well-known/jwks.json")).json()
        assert all("d" not in key for key in jwks["keys"])
