"""The acting user, end to end: named at the token endpoint, carried in the token, recorded by
the service in its audit trail, and read back through the gateway's audit routes."""

from __future__ import annotations

import uuid

import httpx
import pytest

from services.gateway.app import Gateway
from tests.gateway.factories import make_client
from tests.referral.factories import make_agency, make_child
from tests.support import TokenFor

PROBLEM = "application/problem+json"
GRANT = {"grant_type": "client_credentials"}


async def _token(client: httpx.AsyncClient, basic: dict[str, str], **form: str) -> dict[str, str]:
    r = await client.post("/oauth/token", data={**GRANT, **form}, headers=basic)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_acting_user_from_the_token_endpoint_is_in_the_services_audit(
    edge: httpx.AsyncClient, edge_app: Gateway, gateway_token_for: TokenFor
) -> None:
    agency = await make_agency(edge, gateway_token_for)
    child = await make_child(edge, gateway_token_for, agency["id"])
    partner = await make_client(edge_app, ["referral:read", "audit:read"], agency_id=uuid.UUID(agency["id"]))

    practitioner = await _token(edge, partner.basic(), acting_user="hv-staff-0042")
    r = await edge.get(f"/v1/children/{child['id']}", headers={**practitioner, "X-Request-ID": "read-by-staff-0042"})
    assert r.status_code == 200, r.text

    officer = await _token(edge, partner.basic(), scope="audit:read", acting_user="ig-officer-7")
    trail = await edge.get(f"/v1/audit/referral/children/{child['id']}", headers=officer)
    assert trail.status_code == 200, trail.text
    [read] = [e for e in trail.json()["items"] if e["request_id"] == "read-by-staff-0042"]
    assert read == {
        "id": read["id"], "occurred_at": read["occurred_at"], "service": "referral",
        "client_id": partner.client_id, "agency_id": agency["id"], "acting_user": "hv-staff-0042",
        "action": "read", "resource": "child", "resource_id": None, "child_ids": [child["id"]],
        "purpose": "safeguarding", "request_id": "read-by-staff-0042",
    }
    # Reading the audit is audited too, under the officer's name.
    again = await edge.get(f"/v1/audit/referral/children/{child['id']}", headers=officer)
    newest = again.json()["items"][0]
    assert (newest["action"], newest["resource"], newest["acting_user"]) == ("read", "audit", "ig-officer-7")

    # The agency's own listing shows the same accesses; another agency's is not theirs to read.
    mine = await edge.get(f"/v1/audit/referral/agencies/{agency['id']}", headers=officer,
                          params={"acting_user": "hv-staff-0042"})
    assert [e["request_id"] for e in mine.json()["items"]] == ["read-by-staff-0042"]
    theirs = await edge.get(f"/v1/audit/referral/agencies/{uuid.uuid4()}", headers=officer)
    assert theirs.status_code == 403
    assert theirs.headers["content-type"] == PROBLEM


# U+0000 is refused before the endpoint, as everywhere (422): tests/gateway/test_oauth.py.
@pytest.mark.parametrize("acting_user", ["", "Jane Example", "staff\tid", "x" * 65, "staffé"])
async def test_malformed_acting_user_is_400_and_not_echoed(
    gateway: httpx.AsyncClient, gateway_app: Gateway, acting_user: str
) -> None:
    partner = await make_client(gateway_app)
    r = await gateway.post("/oauth/token", data={**GRANT, "acting_user": acting_user}, headers=partner.basic())
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["error"] == "invalid_request"
    if acting_user:
        assert acting_user not in r.text


async def test_token_without_acting_user_has_no_act_claim(
    gateway: httpx.AsyncClient, gateway_app: Gateway
) -> None:
    partner = await make_client(gateway_app)
    r = await gateway.post("/oauth/token", data=GRANT, headers=partner.basic())
    principal = await gateway_app.state.verifier.verify(r.json()["access_token"])
    assert principal.acting_user is None
    named = await gateway.post("/oauth/token", data={**GRANT, "acting_user": "staff-1"}, headers=partner.basic())
    assert (await gateway_app.state.verifier.verify(named.json()["access_token"])).acting_user == "staff-1"


async def test_audit_paths_are_routed_to_their_service(
    edge: httpx.AsyncClient, gateway_token_for: TokenFor, stub: object
) -> None:
    headers = gateway_token_for(uuid.uuid4(), "audit:read")
    child = uuid.uuid4()
    at_assessment = await edge.get(f"/v1/audit/assessment/children/{child}", headers=headers)
    at_referral = await edge.get(f"/v1/audit/referral/children/{child}", headers=headers)
    at_reporting = await edge.get(f"/v1/audit/reporting/agencies/{child}", headers=headers)
    assert at_assessment.headers["x-upstream"] == "stub"
    assert "x-upstream" not in at_referral.headers
    assert at_referral.status_code == 404
    assert at_reporting.status_code == 502  # reporting sits on a closed port
    assert [s["path"] for s in stub.seen] == [f"/v1/audit/assessment/children/{child}"]  # type: ignore[attr-defined]
