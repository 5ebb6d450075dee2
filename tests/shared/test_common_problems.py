"""The problems an operation can give because of its shape are documented on every route
(shared/openapi.py), with examples, without the route listing them."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from shared.auth import require_scopes
from shared.errors import PROBLEM_JSON, NotFound, problems
from shared.etag import IfMatch
from shared.idempotency import IdempotencyDep
from shared.pagination import PageDep
from shared.service import build_service_app
from shared.settings import ServiceSettings
from shared.tokens import Principal
from tests.support import Keys, common_settings

CanRead = Annotated[Principal, Depends(require_scopes("referral:read"))]


class Thing(BaseModel):
    name: str


class Missing(NotFound):
    slug, title = "thing-not-found", "No such thing"


@pytest.fixture
def app(keys: Keys, tmp_path: Path) -> FastAPI:
    """A service whose routes list nothing but their own errors (a new route, say)."""
    router = APIRouter()

    @router.get("/things")
    async def list_things(who: CanRead, page: PageDep) -> list[Thing]:
        return []

    @router.post("/things", status_code=201)
    async def create_thing(who: CanRead, body: Thing, idempotency: IdempotencyDep) -> Thing:
        return body

    @router.get("/things/{thing_id}", responses=problems(Missing))
    async def get_thing(who: CanRead, thing_id: uuid.UUID) -> Thing:
        raise Missing()

    @router.patch("/things/{thing_id}")
    async def change_thing(who: CanRead, thing_id: uuid.UUID, body: Thing, version: IfMatch) -> Thing:
        return body

    settings = ServiceSettings(**common_settings(keys, f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"))  # type: ignore[arg-type]
    return build_service_app(settings, title="t", description="t", routers=[router])


def _documented(operation: dict[str, Any]) -> dict[str, set[str]]:
    """Status -> the problem slugs given as its examples."""
    return {
        status: set(response.get("content", {}).get(PROBLEM_JSON, {}).get("examples", {}))
        for status, response in operation["responses"].items()
    }


def test_every_route_documents_what_its_shape_implies(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    listing = _documented(paths["/v1/things"]["get"])
    assert {"unauthorized"} <= listing["401"]
    assert {"insufficient-scope"} <= listing["403"]
    assert {"rate-limited"} <= listing["429"]
    assert {"internal-error"} <= listing["500"]
    assert {"invalid-cursor"} <= listing["400"]
    assert {"validation-error"} <= listing["422"]
    assert not {"404", "413", "415", "428"} & listing.keys()

    create = _documented(paths["/v1/things"]["post"])
    assert {"malformed-body", "invalid-idempotency-key"} <= create["400"]
    assert {"payload-too-large"} <= create["413"]
    assert {"unsupported-media-type"} <= create["415"]
    assert {"idempotency-in-flight"} <= create["409"]
    assert {"validation-error", "idempotency-key-reused"} <= create["422"]

    change = _documented(paths["/v1/things/{thing_id}"]["patch"])
    assert {"invalid-if-match", "malformed-body"} <= change["400"]
    assert {"if-match-required"} <= change["428"]
    assert {"stale-version"} <= change["412"]
    assert {"not-found"} <= change["404"]  # a path id that names nothing

    # the route's own 404 stands; the generic one is not added beside it
    assert _documented(paths["/v1/things/{thing_id}"]["get"])["404"] == {"thing-not-found"}
    # no token, no body: only what anything can give
    assert _documented(paths["/livez"]["get"]).keys() == {"200", "500"}


def test_common_problems_use_the_problem_schema(app: FastAPI) -> None:
    document = app.openapi()
    problem = document["components"]["schemas"]["Problem"]
    assert {"errors", "rule", "error", "request_id"} <= problem["properties"].keys()
    unauthorized = document["paths"]["/v1/things"]["get"]["responses"]["401"]
    assert unauthorized["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "WWW-Authenticate" in unauthorized["headers"]
    assert "Retry-After" in document["paths"]["/v1/things"]["get"]["responses"]["429"]["headers"]


async def test_the_documented_slugs_are_the_ones_sent(app: FastAPI, keys: Keys) -> None:
    headers = keys.headers(uuid.uuid4(), "referral:read")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.patch(f"/v1/things/{uuid.uuid4()}", json={"name": "x"}, headers={**headers, "If-Match": "3"})
        assert r.json()["type"].endswith("/invalid-if-match")
        r = await client.post("/v1/things", content=b"\xff\xfe", headers={**headers, "content-type": "application/json"})
        assert (r.status_code, r.json()["type"].rsplit("/", 1)[1]) == (400, "malformed-body")
