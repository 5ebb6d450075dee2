"""The combined document carries the services' OpenAPI ``webhooks`` (what partners' endpoints
receive), with their schemas, renamed like the paths' when a name conflicts."""

from __future__ import annotations

from typing import Any

import httpx

from services.gateway.openapi_merge import merge_documents


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


def test_webhook_schemas_that_conflict_are_renamed_and_their_refs_follow() -> None:
    own: dict[str, Any] = {"openapi": "3.1.0", "info": {"version": "1"}, "paths": {},
                           "components": {"schemas": {"Event": {"type": "string"}}}}
    service = {
        "paths": {},
        "components": {"schemas": {"Event": {"type": "object"}}},
        "webhooks": {"thing.happened": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Event"}}}}}}},
    }
    merged = merge_documents(own, {"referral": service}, [], lambda path: "referral")
    ref = merged["webhooks"]["thing.happened"]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ReferralEvent"
    assert merged["components"]["schemas"]["ReferralEvent"] == {"type": "object"}
    # No service with webhooks: no empty section.
    assert "webhooks" not in merge_documents(own, {"referral": {"paths": {}}}, [], lambda path: "referral")
