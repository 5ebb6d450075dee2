"""Typed factories that go through the API, as a partner system would."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support import TokenFor

ADMIN_AGENCY = uuid.UUID("00000000-0000-4000-8000-00000000a0a0")
_counter = 0


def _next() -> int:
    global _counter
    _counter += 1
    return _counter


async def make_agency(client: httpx.AsyncClient, token_for: TokenFor, agency_type: str = "health_visiting", **extra: Any) -> dict[str, Any]:
    n = _next()
    body = {"name": f"Test agency {n}", "agency_type": agency_type, **extra}
    r = await client.post("/v1/agencies", json=body, headers=token_for(ADMIN_AGENCY, "admin"))
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def child_body(**overrides: Any) -> dict[str, Any]:
    n = _next()
    body: dict[str, Any] = {
        "given_name": f"Testchild{n}",
        "family_name": "Example",
        "birth_date": "2019-03-02",
        "gender": "1",
        "disabilities": ["NONE"],
    }
    body.update(overrides)
    return body


async def make_child(client: httpx.AsyncClient, token_for: TokenFor, agency_id: uuid.UUID | str, **overrides: Any) -> dict[str, Any]:
    r = await client.post("/v1/children", json=child_body(**overrides),
                          headers=token_for(uuid.UUID(str(agency_id)), "referral:write"))
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result
