"""The combined document carries the services' OpenAPI ``webhooks`` (what partners' endpoints
receive), with their schemas; a webhook schema clashing with another is refused like any clash."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.gateway.openapi_merge import SchemaClash, merge_documents


def _resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


async def test_the_combined_document_has_the_referral_services_webhooks(edge: httpx.AsyncClient) -> None:
    spec = (await edge.get("/openapi.json")).json()
    hooks = spec["webhooks"]
    assert {"referral.decided", "child.registered", "webhook.ping"} <= hooks.keys()
    ref = hooks["referral.decided"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = _resolve(spec, ref)
    assert set(schema["properties"]) == {"type", "timestamp", "data"}
    assert _resolve(spec, schema["properties"]["data"]["$ref"])["properties"].keys() >= {"referral_id", "child_id"}
    assert "/v1/webhook-endpoints" in spec["paths"]
    assert "webhooks:manage" in spec["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]["scopes"]


def test_webhook_schemas_are_carried_and_a_clash_fails_the_merge() -> None:
    own: dict[str, Any] = {"openapi": "3.1.0", "info": {"version": "1"}, "paths": {},
                           "components": {"schemas": {"Event": {"type": "string"}}}}
    service = {
        "paths": {},
        "components": {"schemas": {"Thing": {"type": "object"}}},
        "webhooks": {"thing.happened": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"}}}}}}},
    }
    merged = merge_documents(own, {"referral": service}, [], lambda path: "referral")
    ref = merged["webhooks"]["thing.happened"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert _resolve(merged, ref) == {"type": "object"}
    clashing = {**service, "components": {"schemas": {"Event": {"type": "object"}}}}
    with pytest.raises(SchemaClash):
        merge_documents(own, {"referral": clashing}, [], lambda path: "referral")
    # No service with webhooks: no empty section.
    assert "webhooks" not in merge_documents(own, {"referral": {"paths": {}}}, [], lambda path: "referral")
