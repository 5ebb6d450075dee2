"""Every /v1 route of every domain service refuses a caller without a token (401) and
one without the route's scope (403), before anything else is looked at; a caller of
another agency asking for a record by id gets 404, never the record.

Routes are read from the apps themselves, so a route added without its guard fails here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import fastapi.routing
import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from services.assessment.app import create_app as create_assessment
from services.assessment.settings import AssessmentSettings
from services.referral.app import create_app as create_referral
from services.referral.settings import ReferralSettings
from services.reporting.app import create_app as create_reporting
from services.reporting.settings import ReportingSettings
from tests.referral.factories_records import child_record
from tests.referral.factories_referrals import referral_body
from tests.support import Keys, TokenFor, common_settings, create_database, drop_database, isolated

# Authenticated by something other than a bearer token (documented on the route).
NOT_BEARER = {("POST", "/v1/events")}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
async def apps(keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, FastAPI]]:
    tmp: Path = tmp_path_factory.mktemp("matrix")
    urls = {name: await create_database(name, tmp) for name in ("referral", "assessment", "reporting")}
    built = {
        "referral": create_referral(ReferralSettings(**common_settings(keys, urls["referral"]))),  # type: ignore[arg-type]
        "assessment": create_assessment(AssessmentSettings(**common_settings(keys, urls["assessment"]))),  # type: ignore[arg-type]
        "reporting": create_reporting(ReportingSettings(**common_settings(keys, urls["reporting"]))),  # type: ignore[arg-type]
    }
    yield built
    for app in built.values():
        await app.state.db.dispose()
    for url in urls.values():
        await drop_database(url)


def routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """(method, full path, route) of every /v1 operation."""
    if hasattr(fastapi.routing, "iter_route_contexts"):  # FastAPI >= 0.160 nests included routers
        pairs = [(ctx.path, ctx.route) for ctx in fastapi.routing.iter_route_contexts(app.routes)]
    else:
        pairs = [(getattr(r, "path", ""), r) for r in app.routes]
    out = []
    for path, route in pairs:
        if isinstance(route, APIRoute) and path.startswith("/v1"):
            out.extend((m, path, route) for m in sorted(route.methods) if (m, path) not in NOT_BEARER)
    return out


def concrete(path: str, route: APIRoute) -> str:
    """The path with a fresh UUID for id parameters and an unknown slug for the others."""
    kinds = {p.name: p.field_info.annotation for p in route.dependant.path_params}

    def value(match: re.Match[str]) -> str:
        return str(uuid.uuid4()) if kinds.get(match.group(1)) is uuid.UUID else "nosuchthing"

    return re.sub(r"\{([^}:]+)[^}]*\}", value, path)


def required_scopes(route: APIRoute) -> set[str]:
    """The scopes the route's guard asks for, read from its dependency's name."""
    found: set[str] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        name = getattr(dep.call, "__name__", "")
        if name.startswith("require_"):
            found.add(name)
        stack.extend(dep.dependencies)
    return found


@pytest.mark.parametrize("service", ["referral", "assessment", "reporting"])
async def test_every_route_needs_a_token_and_its_scope(service: str, apps: dict[str, FastAPI], token_for: TokenFor) -> None:
    app = apps[service]
    checked = 0
    async with isolated(app, f"http://{service}") as client:
        for method, path, route in routes(app):
            url = concrete(path, route)
            assert required_scopes(route), f"{method} {path} has no scope guard"
            r = await client.request(method, url, json={})
            assert r.status_code == 401, f"{method} {path} without a token answered {r.status_code}"
            assert r.headers["content-type"] == PROBLEM
            # A token with a scope no route uses: every route must refuse it.
            r = await client.request(method, url, json={}, headers=token_for(uuid.uuid4(), "nothing:here"))
            assert r.status_code == 403, f"{method} {path} with a useless scope answered {r.status_code}"
            checked += 1
    assert checked >= 1


@pytest.mark.parametrize("service", ["referral", "assessment"])
async def test_records_by_id_are_404_for_another_agency(service: str, apps: dict[str, FastAPI], token_for: TokenFor) -> None:
    """Unknown or foreign ids never leak: a GET by id is 404 (or 503 where visibility is checked
    with another service that is not running here), never 200 or 500."""
    app = apps[service]
    all_scopes = ("referral:read", "assessment:read", "reporting:read", "audit:read", "webhooks:manage")
    async with isolated(app, f"http://{service}") as client:
        for method, path, route in routes(app):
            if method != "GET" or "{" not in path:
                continue
            r = await client.get(concrete(path, route), headers=token_for(uuid.uuid4(), *all_scopes))
            if path.endswith("/agencies/{agency_id}") and path.startswith("/v1/audit/"):
                # Agencies are no secret (GET /v1/agencies): another agency's audit trail is a plain 403.
                assert r.status_code == 403, f"GET {path} answered {r.status_code}"
                assert r.json()["type"].endswith("/audit-agency-forbidden")
                continue
            assert r.status_code in (404, 503), f"GET {path} answered {r.status_code}"
            assert r.headers["content-type"] == PROBLEM


# Path parameters that name a part of a child's record, filled from a real record below.
RECORD_PARAMS = {"child_id", "entry_id", "episode_id", "offer_id", "person_id", "household_id", "involvement_id",
                 "referral_id"}
# The record has a children in need episode, not an early help one.
NOT_IN_RECORD = {"/v1/early-help-episodes/{episode_id}"}


async def test_real_records_of_another_agency_are_404_to_an_agency_that_only_referred_the_child(
    apps: dict[str, FastAPI], token_for: TokenFor
) -> None:
    """Real ids, not random ones: children's social care holds a child's whole record and a school
    with no involvement refers the child by id. Every GET by id of the record is 404 to the school,
    in the referral service and in the assessment service (which asks referral, as the caller);
    the school's own referral is 200 (README "Who sees what")."""
    referral_app, assessment_app = apps["referral"], apps["assessment"]
    async with isolated(referral_app, "http://referral") as referral:
        record = await child_record(referral, token_for, referral_app)
        r = await referral.post("/v1/referrals", json=referral_body(record.child_id), headers=record.school.headers())
        assert r.status_code == 201, r.text
        own = r.json()["id"]
        ids = {"child_id": record.child_id, "entry_id": record.entry_id, "episode_id": record.episode_id,
               "offer_id": record.offer_id, "person_id": record.person_id, "household_id": record.household_id,
               "involvement_id": record.involvement_id, "referral_id": record.hv_referral_id}
        before = assessment_app.state.referral_client
        assessment_app.state.referral_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=referral_app))
        checked: set[tuple[str, str]] = set()
        try:
            async with isolated(assessment_app, "http://assessment") as assessment:
                for service, client in (("referral", referral), ("assessment", assessment)):
                    for method, path, route in routes(apps[service]):
                        names = {p.name for p in route.dependant.path_params}
                        if method != "GET" or not names or not names <= RECORD_PARAMS or path in NOT_IN_RECORD:
                            continue
                        url = re.sub(r"\{([^}:]+)[^}]*\}", lambda m: ids[m.group(1)], path)
                        for who, expected in ((record.school, 404), (record.csc, 200)):
                            got = await client.get(url, headers=who.headers("referral:read", "assessment:read", "audit:read"))
                            assert got.status_code == expected, (service, path, who.agency["agency_type"], got.text)
                        checked.add((service, path))
        finally:
            await assessment_app.state.referral_client.aclose()
            assessment_app.state.referral_client = before
        mine = await referral.get(f"/v1/referrals/{own}", headers=record.school.headers())
        assert mine.status_code == 200
    assert {("referral", "/v1/children/{child_id}"), ("referral", "/v1/children/{child_id}/chronology"),
            ("referral", "/v1/children/{child_id}/voice"), ("referral", "/v1/children/{child_id}/visits"),
            ("referral", "/v1/episodes/{episode_id}"), ("referral", "/v1/referrals/{referral_id}"),
            ("assessment", "/v1/children/{child_id}/trajectory")} <= checked
    assert len(checked) >= 20, sorted(checked)
