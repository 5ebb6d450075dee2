"""Client administration through HTTP (scope admin): register, list, rotate, revoke; each audited."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from services.gateway.app import Gateway
from tests.gateway.factories import make_client

PROBLEM = "application/problem+json"
GRANT = {"grant_type": "client_credentials"}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _token(gateway: httpx.AsyncClient, basic: dict[str, str], **form: str) -> httpx.Response:
    return await gateway.post("/oauth/token", data={**GRANT, **form}, headers=basic)


async def _bearer(gateway: httpx.AsyncClient, basic: dict[str, str], **form: str) -> dict[str, str]:
    r = await _token(gateway, basic, **form)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
async def admin(gateway: httpx.AsyncClient, gateway_app: Gateway) -> dict[str, str]:
    """An administrator of the partnership, acting as a named member of staff."""
    registered = await make_client(gateway_app, ["admin"])
    return await _bearer(gateway, registered.basic(), acting_user="lscp-admin-1")


def _new(**overrides: Any) -> dict[str, Any]:
    return {"client_id": f"school-{uuid.uuid4().hex[:8]}", "agency_id": str(uuid.uuid4()),
            "name": "Test school MIS", "scopes": ["referral:read", "referral:write"], **overrides}


async def test_register_shows_the_secret_once_and_it_works(gateway: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = _new()
    r = await gateway.post("/v1/clients", json=body, headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["location"] == f"/v1/clients/{body['client_id']}"
    assert r.headers["etag"] == '"1"'
    assert {k: created[k] for k in ("client_id", "agency_id", "name", "scopes", "active", "version")} == {
        **{k: body[k] for k in ("client_id", "agency_id", "name", "scopes")}, "active": True, "version": 1}
    secret = created["client_secret"]
    assert len(secret) >= 43

    token = await _token(gateway, _basic(body["client_id"], secret), scope="referral:read")
    assert token.status_code == 200, token.text

    shown = await gateway.get(f"/v1/clients/{body['client_id']}", headers=admin)
    assert shown.status_code == 200
    assert "client_secret" not in shown.json()
    assert secret not in shown.text
    listed = await gateway.get("/v1/clients", params={"agency_id": body["agency_id"]}, headers=admin)
    assert [c["client_id"] for c in listed.json()["items"]] == [body["client_id"]]
    assert secret not in listed.text


async def test_client_id_is_generated_when_left_out(gateway: httpx.AsyncClient, admin: dict[str, str]) -> None:
    r = await gateway.post("/v1/clients", json=_new(client_id=None, name="Northshire Health Visiting (SystmOne)"), headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["client_id"].startswith("northshire-health-visiting-systmone-")


@pytest.mark.parametrize(("override", "field"), [
    ({"scopes": ["referral:read", "everything"]}, "body.scopes"),
    ({"scopes": []}, "body.scopes"),
    ({"client_id": "has spaces"}, "body.client_id"),
    ({"agency_id": "not-a-uuid"}, "body.agency_id"),
    ({"client_secret": "chosen-by-me"}, "body.client_secret"),
])
async def test_bad_registration_is_422(
    gateway: httpx.AsyncClient, admin: dict[str, str], override: dict[str, Any], field: str
) -> None:
    r = await gateway.post("/v1/clients", json=_new(**override), headers=admin)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_taken_client_id_is_409(gateway: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = _new()
    assert (await gateway.post("/v1/clients", json=body, headers=admin)).status_code == 201
    again = await gateway.post("/v1/clients", json={**body, "name": "Another"}, headers=admin)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/duplicate-client")


async def test_rotation_needs_if_match_and_the_old_secret_stops_working(
    gateway: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = _new()
    first = (await gateway.post("/v1/clients", json=body, headers=admin)).json()
    url = f"/v1/clients/{body['client_id']}/secret"
    assert (await gateway.post(url, headers=admin)).status_code == 428
    assert (await gateway.post(url, headers={**admin, "If-Match": '"7"'})).status_code == 412

    r = await gateway.post(url, headers={**admin, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["etag"] == '"2"'
    rotated = r.json()
    assert rotated["client_secret"] != first["client_secret"]
    assert rotated["secret_rotated_at"] is not None
    old = await _token(gateway, _basic(body["client_id"], first["client_secret"]))
    assert old.status_code == 401
    assert old.json()["error"] == "invalid_client"
    assert (await _token(gateway, _basic(body["client_id"], rotated["client_secret"]))).status_code == 200


async def test_revoked_client_gets_invalid_client(gateway: httpx.AsyncClient, admin: dict[str, str]) -> None:
    body = _new()
    created = (await gateway.post("/v1/clients", json=body, headers=admin)).json()
    basic = _basic(body["client_id"], created["client_secret"])
    assert (await _token(gateway, basic)).status_code == 200

    r = await gateway.post(f"/v1/clients/{body['client_id']}/revoke", headers={**admin, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["version"], r.headers["etag"]) == (False, 2, '"2"')
    assert r.json()["revoked_at"] is not None
    refused = await _token(gateway, basic)
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"

    twice = await gateway.post(f"/v1/clients/{body['client_id']}/revoke", headers={**admin, "If-Match": '"2"'})
    assert twice.status_code == 409
    rotate = await gateway.post(f"/v1/clients/{body['client_id']}/secret", headers={**admin, "If-Match": '"2"'})
    assert rotate.status_code == 409
    assert rotate.json()["type"].endswith("/client-revoked")


async def test_unknown_client_is_404(gateway: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for r in [await gateway.get("/v1/clients/no-such-client", headers=admin),
              await gateway.post("/v1/clients/no-such-client/revoke", headers={**admin, "If-Match": '"1"'})]:
        assert r.status_code == 404
        assert r.json()["type"].endswith("/client-not-found")


async def test_admin_acts_are_audited_with_the_acting_user(
    gateway: httpx.AsyncClient, gateway_app: Gateway, admin: dict[str, str]
) -> None:
    body = _new()
    await gateway.post("/v1/clients", json=body, headers=admin)
    await gateway.post(f"/v1/clients/{body['client_id']}/secret", headers={**admin, "If-Match": '"1"'})
    await gateway.post(f"/v1/clients/{body['client_id']}/revoke", headers={**admin, "If-Match": '"2"'})
    principal = await gateway_app.state.verifier.verify(admin["Authorization"].split()[1])

    r = await gateway.get(f"/v1/audit/gateway/agencies/{principal.agency_id}", headers=admin)
    assert r.status_code == 200, r.text
    acts = [(e["action"], e["resource"], e["resource_id"], e["acting_user"], e["client_id"], e["service"])
            for e in r.json()["items"]]
    assert acts == [(action, "api_client", body["client_id"], "lscp-admin-1", principal.client_id, "gateway")
                    for action in ("revoke", "rotate_secret", "register")]


async def test_client_admin_needs_an_admin_token(gateway: httpx.AsyncClient, gateway_app: Gateway) -> None:
    partner = await make_client(gateway_app, ["referral:read", "referral:write", "audit:read"])
    bearer = await _bearer(gateway, partner.basic())
    cases = [("GET", "/v1/clients"), ("POST", "/v1/clients"), ("GET", "/v1/clients/x"),
             ("POST", "/v1/clients/x/secret"), ("POST", "/v1/clients/x/revoke")]
    for method, path in cases:
        anonymous = await gateway.request(method, path, json=_new() if method == "POST" else None)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["content-type"] == PROBLEM
        partner_call = await gateway.request(method, path, json=_new() if path == "/v1/clients" and method == "POST" else None,
                                             headers={**bearer, "If-Match": '"1"'})
        assert partner_call.status_code == 403, path
        assert partner_call.json()["type"].endswith("/insufficient-scope")


async def test_clients_are_listed_in_pages(gateway: httpx.AsyncClient, admin: dict[str, str]) -> None:
    agency = str(uuid.uuid4())
    ids = sorted([f"page-{n}-{uuid.uuid4().hex[:6]}" for n in range(3)])
    for client_id in ids:
        assert (await gateway.post("/v1/clients", json=_new(client_id=client_id, agency_id=agency), headers=admin)).status_code == 201
    first = await gateway.get("/v1/clients", params={"agency_id": agency, "limit": 2}, headers=admin)
    assert [c["client_id"] for c in first.json()["items"]] == ids[:2]
    link = first.headers["link"]
    assert link.endswith('rel="next"')
    second = await gateway.get(link[1:link.index(">")], headers=admin)
    assert [c["client_id"] for c in second.json()["items"]] == ids[2:]
    assert second.json()["next_cursor"] is None
