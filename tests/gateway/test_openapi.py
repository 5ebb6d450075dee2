from __future__ import annotations

import re
from typing import Any

import httpx

from services.gateway.domain.credentials import SCOPES
from tests.gateway.conftest import GATEWAY, MakeGateway
from tests.gateway.stub import Stub


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref" and isinstance(v, str)] + [
            ref for v in node.values() for ref in _refs(v)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


async def test_one_document_for_every_service(edge: httpx.AsyncClient) -> None:
    r = await edge.get("/openapi.json")
    assert r.status_code == 200
    spec = r.json()
    paths = spec["paths"]
    # the gateway's own, the referral service's (real) and the assessment stub's
    assert {"/oauth/token", "/.well-known/jwks.json", "/livez", "/readyz"} <= paths.keys()
    assert {"/v1/children", "/v1/children/{child_id}", "/v1/agencies"} <= paths.keys()
    assert {"/v1/toolkits", "/v1/children/{child_id}/trajectory"} <= paths.keys()
    # what the gateway would not route to the service that listed it stays out
    assert "/v1/agencies/{agency_id}/stub-only" not in paths
    assert paths["/livez"]["get"].get("operationId") != "stub_livez"
    assert not {"/docs", "/openapi.json", "/redoc"} & paths.keys()
    # reporting sits on a closed port
    assert spec["info"]["x-unavailable-services"] == ["reporting"]


async def test_shared_schemas_are_merged_once_and_refs_resolve(edge: httpx.AsyncClient) -> None:
    spec = (await edge.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    assert "given_name" in schemas["ChildRead"]["properties"]  # referral's
    assert "scores" in schemas["ToolkitSummary"]["properties"]  # the stub's
    toolkits = spec["paths"]["/v1/toolkits"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert toolkits == {"$ref": "#/components/schemas/ToolkitSummary"}
    trajectory = spec["paths"]["/v1/children/{child_id}/trajectory"]["get"]["responses"]["404"]
    assert trajectory["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "AssessmentProblem" not in schemas  # identical definitions are shared
    for ref in _refs(spec):
        section, name = ref.removeprefix("#/components/").split("/")
        assert name in spec["components"][section], ref


async def test_a_schema_clash_is_a_502_not_a_quiet_rename(make_gateway: MakeGateway, upstreams: dict[str, str]) -> None:
    from tests.gateway import stub as stub_module

    clashing = {"type": "object", "properties": {"scores": {"type": "integer"}}}
    stub_module.OPENAPI["components"]["schemas"]["ChildRead"] = clashing
    try:
        app = await make_gateway({"referral": upstreams["referral"], "assessment": upstreams["assessment"]})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
            r = await client.get("/openapi.json")
    finally:
        del stub_module.OPENAPI["components"]["schemas"]["ChildRead"]
    assert r.status_code == 502
    assert r.json()["type"].endswith("/openapi-schema-clash")
    assert "ChildRead" in r.json()["detail"]


async def test_security_schemes_for_partners(edge: httpx.AsyncClient) -> None:
    spec = (await edge.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    flow = schemes["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "http://127.0.0.1:8000/oauth/token"  # GATEWAY_PUBLIC_URL
    assert spec["servers"] == [{"url": "http://127.0.0.1:8000", "description": "The partnership's gateway"}]
    assert set(flow["scopes"]) == set(SCOPES)
    assert "HTTPBearer" not in schemes
    assert spec["paths"]["/v1/children/{child_id}"]["get"]["security"] == [{"OAuth2": ["referral:read"]}]
    # the stub's two requirements become one with every scope
    assert spec["paths"]["/v1/children/{child_id}/trajectory"]["get"]["security"] == [{"OAuth2": ["assessment:read"]}]
    token = spec["paths"]["/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    # 422 only for U+0000 in the form, refused before the endpoint; OAuth errors are 400/401.
    assert {"200", "400", "401", "413", "415", "422"} <= token["responses"].keys()
    assert "403" not in token["responses"]


async def test_forwarded_operations_document_the_gateways_own_answers(edge: httpx.AsyncClient) -> None:
    spec = (await edge.get("/openapi.json")).json()
    for path, method in [("/v1/children/{child_id}", "get"), ("/v1/agencies", "post"), ("/v1/toolkits", "get")]:
        responses = spec["paths"][path][method]["responses"]
        for status, slug in [("502", "bad-gateway"), ("503", "service-unavailable"), ("504", "gateway-timeout")]:
            assert slug in responses[status]["content"]["application/problem+json"]["examples"], (path, status)
    assert not {"502", "503", "504"} & spec["paths"]["/oauth/token"]["post"]["responses"].keys()


async def test_missing_service_is_asked_again_and_the_rest_is_cached(
    make_gateway: MakeGateway, upstreams: dict[str, str], stub: Stub
) -> None:
    app = await make_gateway({"assessment": upstreams["assessment"]}, openapi_cache_seconds=300)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY) as client:
        stub.openapi_fails = True
        starting = (await client.get("/openapi.json")).json()
        stub.openapi_fails = False
        ready = (await client.get("/openapi.json")).json()
        again = (await client.get("/openapi.json")).json()
    assert starting["info"]["x-unavailable-services"] == ["assessment"]
    assert "/v1/toolkits" not in starting["paths"]
    assert "/oauth/token" in starting["paths"]
    assert ready["info"]["x-unavailable-services"] == []
    assert "/v1/toolkits" in ready["paths"]
    assert again == ready
    assert stub.openapi_fetches == 2


async def test_docs_pages(edge: httpx.AsyncClient) -> None:
    docs = await edge.get("/docs")
    assert docs.status_code == 200
    assert docs.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in docs.text
    assert '"persistAuthorization": true' in docs.text
    redoc = await edge.get("/redoc")
    assert redoc.status_code == 200
    assert "/openapi.json" in redoc.text


async def test_docs_pages_load_nothing_from_elsewhere(edge: httpx.AsyncClient) -> None:
    for page, assets in {"/docs": ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-init.js"],
                         "/redoc": ["redoc-nonce.js", "redoc.standalone.js", "redoc-init.js"]}.items():
        r = await edge.get(page)
        # every src and href is the gateway's own, and no script is inline
        links = re.findall(r'(?:src|href)="([^"]*)"', r.text)
        assert all(link.startswith("/docs/static/") for link in links), links
        assert [f"/docs/static/{name}" for name in assets] == [
            link for link in links if not link.endswith(".png")]
        assert re.findall(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))", r.text) == []
        policy = dict(part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";"))
        assert policy["default-src"] == "'none'"
        assert policy["script-src"] == "'self'"
        assert policy["style-src"].split()[0] == "'self'"
        assert "unsafe-inline" not in policy["style-src"]
        for name in assets:
            asset = await edge.get(f"/docs/static/{name}")
            assert asset.status_code == 200, name
            assert asset.headers["content-type"].startswith("text/css" if name.endswith(".css") else "text/javascript")
            assert asset.headers["x-content-type-options"] == "nosniff"
    # the nonce differs from one page to the next
    nonces = {re.search(r'"nonce": "([^"]+)"', (await edge.get("/redoc")).text)[1] for _ in range(2)}  # type: ignore[index]
    assert len(nonces) == 2
    assert (await edge.get("/docs/static/swagger-ui.js.map")).status_code == 404
    assert (await edge.get("/docs/static/..%2Fdocs.py")).status_code == 404


async def test_client_admin_and_audit_are_documented_with_their_scopes(edge: httpx.AsyncClient) -> None:
    spec = (await edge.get("/openapi.json")).json()
    paths = spec["paths"]
    assert {"/v1/clients", "/v1/clients/{client_id}", "/v1/clients/{client_id}/secret",
            "/v1/clients/{client_id}/revoke", "/v1/audit/gateway/agencies/{agency_id}",
            "/v1/audit/referral/children/{child_id}", "/v1/audit/referral/agencies/{agency_id}"} <= paths.keys()
    register = paths["/v1/clients"]["post"]
    assert register["security"] == [{"OAuth2": ["admin"]}]
    assert {"201", "401", "403", "409", "422", "429"} <= register["responses"].keys()
    assert "client_secret" in register["responses"]["201"]["content"]["application/json"]["example"]
    rotate = paths["/v1/clients/{client_id}/secret"]["post"]
    assert {"200", "404", "409", "412", "428"} <= rotate["responses"].keys()
    child_trail = paths["/v1/audit/referral/children/{child_id}"]["get"]
    assert "`audit:read`" in child_trail["description"]
    assert {"200", "401", "403", "404", "429"} <= child_trail["responses"].keys()
    token = paths["/oauth/token"]["post"]
    assert "429" in token["responses"]
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert "acting_user" in form["properties"]


async def test_the_services_leave_the_docs_pages_to_the_gateway(referral_server: str) -> None:
    # FastAPI's own pages would load Swagger UI and ReDoc from a CDN; the document stays for the merge
    async with httpx.AsyncClient(base_url=referral_server) as referral:
        assert (await referral.get("/docs")).status_code == 404
        assert (await referral.get("/redoc")).status_code == 404
        assert (await referral.get("/openapi.json")).status_code == 200
