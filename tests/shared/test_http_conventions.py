"""Problem+json and request conventions every service shares, checked on real apps."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

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
        return {"version": 3}

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
        assert (await client.patch("/v1/versioned", json={}, headers={"If-Match": '"3"'})).status_code == 200


async def test_referral_migrations_match_models(referral_url: str) -> None:
    assert await schema_drift(referral_url, METADATA) == []


def test_openapi_documents_problems(referral_app: object) -> None:
    schema = referral_app.openapi()  # type: ignore[attr-defined]
    assert "Problem" in schema["components"]["schemas"]
    get_child = schema["paths"]["/v1/children/{child_id}"]["get"]
    assert {"401", "403", "404"} <= set(get_child["responses"])
    assert "application/problem+json" in get_child["responses"]["404"]["content"]


@pytest.mark.parametrize("key", [b"", b"   ", b"x" * 201, b"key with spaces", b"tab\tkey", "caf\u00e9".encode(),
                                 b'""', b'"quoted key"', b"semi;colon"])
async def test_unusable_idempotency_key_is_400_and_nothing_written(
    referral: httpx.AsyncClient, token_for: TokenFor, key: bytes
) -> None:
    agency = await make_agency(referral, token_for)
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    r = await referral.post("/v1/children", json=child_body(), headers={**headers, "Idempotency-Key": key})  # type: ignore[dict-item]
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("invalid-idempotency-key")
    assert key.strip() in (b"", b'""') or key.decode("latin-1") not in r.text  # never echoed
    assert (await referral.get("/v1/children", headers=headers)).json()["items"] == []


async def test_two_idempotency_keys_are_400(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    agency = await make_agency(referral, token_for)
    headers = [*token_for(uuid.UUID(agency["id"]), "referral:write").items(), ("Idempotency-Key", "a-1"), ("Idempotency-Key", "b-2")]
    r = await referral.post("/v1/children", json=child_body(), headers=headers)
    assert r.status_code == 400
    assert r.json()["type"].endswith("invalid-idempotency-key")


async def test_a_quoted_idempotency_key_is_the_same_key(referral: httpx.AsyncClient, token_for: TokenFor) -> None:
    # The IETF draft writes the key as a structured-field string: "abc" and abc are one key.
    agency = await make_agency(referral, token_for)
    headers = token_for(uuid.UUID(agency["id"]), "referral:write", "referral:read")
    body = child_body()
    first = await referral.post("/v1/children", json=body, headers={**headers, "Idempotency-Key": '"reg-42"'})
    again = await referral.post("/v1/children", json=body, headers={**headers, "Idempotency-Key": "reg-42"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert first.json()["id"] == again.json()["id"]


def test_openapi_documents_the_shared_header_problems(referral_app: object) -> None:
    paths = referral_app.openapi()["paths"]  # type: ignore[attr-defined]

    def slugs(operation: dict[str, Any], status: str) -> set[str]:
        return set(operation["responses"].get(status, {}).get("content", {}).get(PROBLEM, {}).get("examples", {}))

    create = paths["/v1/children"]["post"]
    assert "invalid-idempotency-key" in slugs(create, "400")
    assert "idempotency-in-flight" in slugs(create, "409")
    assert "idempotency-key-reused" in slugs(create, "422")
    change = paths["/v1/children/{child_id}"]["patch"]
    assert "invalid-if-match" in slugs(change, "400")
    assert "stale-version" in slugs(change, "412")
    assert "if-match-required" in slugs(change, "428")
    assert "invalid-if-match" not in slugs(create, "400")
    assert "idempotency-key-reused" not in slugs(change, "422")


@pytest.mark.parametrize(("if_match", "status"), [
    ('"3"', 200),
    ("*", 200),
    ('"1", "3"', 200),
    ('"1","2" , "3"', 200),
    (',"3",', 200),  # empty list elements are ignored (RFC 9110 section 5.6.1)
    ('"2"', 412),
    ('"abc"', 412),  # well formed, just not one of ours
    ('""', 412),
    ('"03"', 412),  # strong comparison is character by character
    ('W/"3"', 412),  # If-Match compares strongly: a weak tag never matches
    ('W/"3", "2"', 412),
    ('"a,b"', 412),  # a comma may sit inside a tag
    ("3", 400),
    ("nonsense", 400),
    ('"3" "4"', 400),
    ('*, "3"', 400),
    ("", 400),
    (",", 400),
    ('"3', 400),
])
async def test_if_match_follows_rfc_9110(keys: Keys, tmp_path: Path, if_match: str, status: int) -> None:
    router = APIRouter()

    @router.patch("/versioned")
    async def versioned(version: IfMatch) -> dict[str, int]:
        check_version(3, version)
        return {"version": 3}

    settings = ServiceSettings(**common_settings(keys, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))  # type: ignore[arg-type]
    app = build_service_app(settings, title="t", description="t", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.patch("/v1/versioned", json={}, headers={"If-Match": if_match})
        assert r.status_code == status, r.text
        if status != 200:
            assert r.headers["content-type"] == PROBLEM
            assert r.json()["type"].endswith({400: "invalid-if-match", 412: "stale-version"}[status])


async def test_if_match_on_several_header_lines_is_one_list(keys: Keys, tmp_path: Path) -> None:
    router = APIRouter()

    @router.patch("/versioned")
    async def versioned(version: IfMatch) -> dict[str, int]:
        check_version(3, version)
        return {"version": 3}

    settings = ServiceSettings(**common_settings(keys, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))  # type: ignore[arg-type]
    app = build_service_app(settings, title="t", description="t", routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.patch("/v1/versioned", json={}, headers=[("If-Match", '"1"'), ("If-Match", '"3"')])
        assert r.status_code == 200
