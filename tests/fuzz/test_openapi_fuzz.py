"""Schema-driven fuzzing (Schemathesis) of every operation in the gateway's combined
OpenAPI document, against the four services running as real processes.

Generated requests, valid and invalid, must never get a 5xx, and every error must be
problem+json. Examples per operation are few to keep the suite fast; raise
FUZZ_EXAMPLES locally for a deeper run.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SCOPES = ["referral:read", "referral:write", "assessment:read", "assessment:write",
          "reporting:read", "reporting:export", "admin", "audit:read"]


@pytest.fixture(scope="session")
def fuzz_target(stack: Stack) -> tuple[schemathesis.BaseSchema, dict[str, str]]:
    async def token() -> dict[str, str]:
        async with httpx.AsyncClient(base_url=stack.gateway, timeout=20) as gw:
            admin = await stack.token(gw, *(await stack.register_client(uuid.uuid4(), ["admin"])))
            r = await gw.post("/v1/agencies", json={"name": "Fuzz CSC", "agency_type": "childrens_social_care"}, headers=admin)
            agency = uuid.UUID(r.json()["id"])
            return await stack.token(gw, *(await stack.register_client(agency, SCOPES)))

    headers = asyncio.run(token())
    schema = schemathesis.openapi.from_url(f"{stack.gateway}/openapi.json")
    return schema, headers


def test_no_server_errors(fuzz_target: tuple[schemathesis.BaseSchema, dict[str, str]], stack: Stack) -> None:
    """Drives Hypothesis per operation directly: Schemathesis' pytest plugin does not run on pytest 9."""
    schema, headers = fuzz_target
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    failures: list[str] = []
    for operation in operations:

        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=stack.gateway, headers={**headers, **(case.headers or {})})
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code >= 400:
                content_type = (response.headers.get("content-type") or [""])[0]
                assert content_type.startswith("application/problem+json"), (response.status_code, response.text[:300])

        try:
            run()
        except Exception as exc:  # collect them all, then fail once with the list
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:500]}")
    assert not failures, "\n\n".join(failures)
