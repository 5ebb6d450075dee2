"""Problem+json and request conventions every service shares, checked on real apps."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from services.referral.models import METADATA
from shared.etag import IfMatch, check_version
from shared.migrate import schema_drift
from shared.service import build_service_app
from shared.settings import ServiceSettings
from tests.referral.factories import child_body, make_agency
from tests.support import Keys, TokenFor, common_settings

PROBLEM = "application/problem+json"


async def test_malformed_json_is_400_problem(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.post("/v1/children", content=b'{"given_name": ', headers={
        **token_for(uuid.uuid4(), "referral:write"), "content-type": "application/json"})
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("malformed-body")


async def test_wrong_content_type_is_415(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.post("/v1/children", content=b"given_name=x", headers={
        **token_for(uuid.uuid4(), "referral:write"), "content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert r.headers["content-type"] == PROBLEM


async def test_oversized_body_is_413_and_nothing_written(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for)
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    body = child_body(family_name="x" * 2_000_000)
    r = await referral.post("/v1/children", json=body, headers=headers)
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM
    assert (await referral.get("/v1/children", headers=headers)).json()["items"] == []


async def test_chunked_oversized_body_is_413(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100_000

    r = await referral.post("/v1/children", content=chunks(), headers={
        **token_for(uuid.uuid4(), "referral:write"), "content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize("path", ["/v1/children/not-a-uuid", "/v1/nothing-here"])
async def test_bad_paths_are_problems(path: str, referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.get(path, headers=token_for(uuid.uuid4(), "referral:read"))
    assert r.status_code in (404, 422)
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["request_id"] == r.headers["x-request-id"]


async def test_missing_token_and_missing_scope(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.get("/v1/children")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Bearer")
    r = await referral.get("/v1/children", headers=token_for(uuid.uuid4(), "assessment:read"))
    assert r.status_code == 403
    assert r.json()["type"].endswith("insufficient-scope")


async def test_request_id_and_traceparent_are_propagated(referral: httpx.AsyncClient) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = await referral.get("/livez", headers={"X-Request-ID": "partner-req-0001",
                                              "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    assert r.headers["x-request-id"] == "partner-req-0001"
    assert r.headers["traceparent"].startswith(f"00-{trace}-")
    r = await referral.get("/livez", headers={"X-Request-ID": "bad id with spaces"})
    assert r.headers["x-request-id"] != "bad id with spaces"


async def test_readyz_checks_the_database(referral: httpx.AsyncClient) -> None:
    r = await referral.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_bad_cursor_is_400(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    r = await referral.get("/v1/children", params={"cursor": "!!!"}, headers=token_for(uuid.uuid4(), "referral:read"))
    assert r.status_code == 400
    assert r.json()["type"].endswith("invalid-cursor")


async def test_unhandled_errors_become_500_problems_without_details(keys: Keys, tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail: Jane Example 9990000018")

    @router.patch("/versioned")
    async def versioned(version: IfMatch) -> dict[str, int]:
        check_version(3, version)
        return {"version": version}

    settings = ServiceSettings(**common_settings(keys, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))  # type: ignore[arg-type]
    app = build_service_app(settings, title="t", description="t", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t") as client:
        r = await client.get("/v1/boom")
        assert r.status_code == 500
        assert r.headers["content-type"] == PROBLEM
        assert r.json()["request_id"] == r.headers["x-request-id"] != ""
        assert "Jane" not in r.text
        assert "Traceback" not in r.text
        assert (await client.patch("/v1/versioned", json={})).status_code == 428
        assert (await client.patch("/v1/versioned", json={}, headers={"If-Match": '"2"'})).status_code == 412
        assert (await client.patch("/v1/versioned", json={}, headers={"If-Match": "nonsense"})).status_code == 400
        assert (await client.patch("/v1/versioned", json={}, headers={"If-Match": 'W/"3"'})).status_code == 200


async def test_referral_migrations_match_models(referral_url: str) -> None:
    assert await schema_drift(referral_url, METADATA) == []


def test_openapi_documents_problems(referral_app: object) -> None:
    schema = referral_app.openapi()  # type: ignore[attr-defined]
    assert "Problem" in schema["components"]["schemas"]
    get_child = schema["paths"]["/v1/children/{child_id}"]["get"]
    assert {"401", "403", "404"} <= set(get_child["responses"])
    assert "application/problem+json" in get_child["responses"]["404"]["content"]
