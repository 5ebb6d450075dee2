"""The importer against the real referral and assessment apps, both in the test's rolled-back
transaction, each calling the other in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.importer.api import InProcessApi
from services.importer.operations import local_operations
from services.importer.runner import Outcome, import_file
from tests.assessment import conftest as assessment_fixtures
from tests.conftest import ADMIN_AGENCY
from tests.support import AUDIENCE, ISSUER, Keys, TokenFor

# The assessment service's fixtures, so both apps answer here (and call each other).
assessment_url = assessment_fixtures.assessment_url
assessment_app = assessment_fixtures.assessment_app
referral_calls = assessment_fixtures.referral_calls
assessment = assessment_fixtures.assessment

DEMO_AGENCIES = [("NS-CSC", "childrens_social_care"), ("NS-HV", "health_visiting"), ("NS-SCH", "school")]
RunImport = Callable[..., Coroutine[Any, Any, Outcome]]


@pytest.fixture
async def agencies(referral: httpx.AsyncClient, token_for: TokenFor) -> dict[str, str]:
    """The demo partnership's agencies that the example file names."""
    ids = {}
    for ref, kind in DEMO_AGENCIES:
        r = await referral.post("/v1/agencies", headers=token_for(ADMIN_AGENCY, "admin"),
                                json={"name": f"Import test {ref}", "agency_type": kind, "external_ref": ref})
        assert r.status_code == 201, r.text
        ids[ref] = r.json()["id"]
    return ids


@pytest.fixture
async def api(referral: httpx.AsyncClient, assessment: httpx.AsyncClient, referral_app: FastAPI,
              assessment_app: FastAPI, keys: Keys) -> AsyncIterator[InProcessApi]:
    # The decision asks assessment for the child's latest results: in-process, in the same transaction.
    before = getattr(referral_app.state, "assessment_client", None)
    referral_app.state.assessment_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=assessment_app))
    try:
        yield InProcessApi({"referral": referral, "assessment": assessment}, keys.signer, ISSUER, AUDIENCE)
    finally:
        await referral_app.state.assessment_client.aclose()
        referral_app.state.assessment_client = before


@pytest.fixture
def run_import(api: InProcessApi, agencies: dict[str, str], tmp_path: Path) -> RunImport:
    operations = local_operations()

    async def run(source: Path, **kw: Any) -> Outcome:
        return await import_file(api, operations, source, tmp_path / "journal.sqlite", tmp_path / "errors.jsonl",
                                 progress=False, **kw)

    return run
