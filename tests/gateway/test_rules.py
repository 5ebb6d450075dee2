"""The gateway's plain rules, without HTTP: secrets, scopes, rate limit, routing, document merging."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.gateway.domain.credentials import (
    generate_secret,
    hash_secret,
    narrow_scopes,
    verify_secret,
)
from services.gateway.domain.errors import InvalidScope
from services.gateway.domain.ratelimit import LimitStore, RequestLimit
from services.gateway.domain.routing import service_for
from services.gateway.forwarder import end_to_end
from services.gateway.openapi_merge import SchemaClash, merge_documents


def test_secret_hash_verifies_only_its_secret() -> None:
    secret = generate_secret()
    stored = hash_secret(secret)
    assert stored.startswith("scrypt$")
    assert secret not in stored
    assert verify_secret(secret, stored)
    assert not verify_secret(secret + "x", stored)
    assert not verify_secret(secret, "not-a-hash")
    assert hash_secret(secret) != stored  # a new salt every time


def test_generated_secrets_are_long_and_distinct() -> None:
    secrets = {generate_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert min(len(s) for s in secrets) >= 43


@pytest.mark.parametrize(("requested", "granted"), [
    (None, ["referral:read", "referral:write", "reporting:read"]),
    ("", ["referral:read", "referral:write", "reporting:read"]),
    ("reporting:read", ["reporting:read"]),
    ("referral:write  referral:read referral:read", ["referral:read", "referral:write"]),
])
def test_scope_narrowing(requested: str | None, granted: list[str]) -> None:
    assert narrow_scopes(["referral:write", "referral:read", "reporting:read"], requested) == granted


def test_scope_beyond_the_client_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidScope) as caught:
        narrow_scopes(["referral:read"], "referral:read admin <script>")
    assert "admin" in caught.value.detail
    assert "<script>" not in caught.value.detail
    assert caught.value.extra == {"error": "invalid_scope"}


async def test_request_limit_counts_per_key_in_memory() -> None:
    store = LimitStore()
    limit = RequestLimit(store, "client", 3, on_failure="open")
    assert [await limit.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = await limit.take("a")
    assert 1.0 <= wait <= 60.0
    assert await limit.take("b") == 0.0  # per key
    other = RequestLimit(store, "token-client", 3, on_failure="local")
    assert await other.take("a") == 0.0  # per limit: the same key elsewhere counts apart
    assert store.failed_open == store.fell_back == 0


@pytest.mark.parametrize(("path", "service"), [
    ("/v1/children", "referral"),
    ("/v1/children/0b0e/episodes", "referral"),
    ("/v1/children/0b0e/trajectory", "assessment"),
    ("/v1/children/0b0e/latest-results", "assessment"),
    ("/v1/children/0b0e/chronology", "referral"),
    ("/v1/toolkits", "assessment"),
    ("/v1/toolkits/gcp2", "assessment"),
    ("/v1/toolkitsx", "referral"),
    ("/v1/assessments/1/submission", "assessment"),
    ("/v1/events", "reporting"),
    ("/v1/datasets/quarterly", "reporting"),
    ("/v1/dashboard/summary", "reporting"),
    ("/v1/exports/cin-census", "reporting"),
    ("/v1/outbox/referral/dead-letters", "referral"),
    ("/v1/outbox/assessment/dead-letters", "assessment"),
    ("/v1/outbox/assessment/dead-letters/replay", "assessment"),
    ("/v1/outbox/assessment/dead-letters/0b0e/replay", "assessment"),
    ("/v1/outbox/reporting/dead-letters", "reporting"),
    ("/v1/outbox/reportingx/dead-letters", "referral"),
    ("/v1", "referral"),
    ("/v1/audit/referral/children/0b0e", "referral"),
    ("/v1/audit/referral/agencies/0a0a", "referral"),
    ("/v1/audit/assessment/children/0b0e", "assessment"),
    ("/v1/audit/assessment/agencies/0a0a", "assessment"),
    ("/v1/audit/reporting/agencies/0a0a", "reporting"),
    ("/v1/audit/gateway/agencies/0a0a", None),
    ("/v1/audit/assessmentx/children/0b0e", "referral"),
    ("/v1/clients", None),
    ("/v1/clients/police-niche/secret", None),
    ("/v1/clientsx", "referral"),
    ("/oauth/token", None),
    ("/v1x/children", None),
    ("/docs", None),
])
def test_routing_table(path: str, service: str | None) -> None:
    assert service_for(path) == service


def test_hop_by_hop_filter() -> None:
    headers = [(b"Connection", b"close, X-Foo"), (b"X-Foo", b"1"), (b"Proxy-Authorization", b"x"),
               (b"Transfer-Encoding", b"chunked"), (b"TE", b"trailers"), (b"X-Keep", b"2"), (b"Date", b"now")]
    assert end_to_end(headers, frozenset({b"date"})) == [(b"x-keep", b"2")]


def _doc(schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": {"schemas": schemas}}


def test_merge_shares_identical_components_and_refuses_a_conflict() -> None:
    own = _doc({}, {"/oauth/token": {"post": {"responses": {}}}})
    referral = _doc({"Page": {"type": "object", "properties": {"items": {"$ref": "#/components/schemas/Item"}}},
                     "Item": {"type": "string"}},
                    {"/v1/children": {"get": {"responses": {"200": {"$ref": "#/components/schemas/Page"}}}}})
    owner = {"/v1/children": "referral", "/v1/toolkits": "assessment"}.get
    same = _doc(copy.deepcopy(referral["components"]["schemas"]),
                {"/v1/toolkits": {"get": {"responses": {"200": {"$ref": "#/components/schemas/Page"}}}}})
    merged = merge_documents(own, {"referral": referral, "assessment": same}, [], owner)
    assert set(merged["components"]["schemas"]) == {"Page", "Item"}
    assert merged["paths"]["/v1/toolkits"]["get"]["responses"]["200"] == {"$ref": "#/components/schemas/Page"}
    assert merged["info"]["x-unavailable-services"] == []
    # Page is written the same, but its Item is not: a client would get one type for two shapes.
    other = copy.deepcopy(same)
    other["components"]["schemas"]["Item"] = {"type": "integer"}
    with pytest.raises(SchemaClash, match="Item"):
        merge_documents(own, {"referral": referral, "assessment": other}, [], owner)
