"""The typed Python client, generated from the combined document as ``make client`` does, used
against the running services through the gateway: token, child, referral, decision, read back.
Typed objects all the way: no dict, no hand-written path."""

from __future__ import annotations

import datetime
import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ROOT, Stack

pytestmark = pytest.mark.e2e
PACKAGE = "neglect_backbone_client"
BIN = Path(sys.executable).parent


def generate(stack: Stack, folder: Path) -> None:
    """``make client``, into ``folder``: export the document, run openapi-python-client."""
    document = folder / "openapi.json"
    exported = subprocess.run([sys.executable, "-m", "services.cli", "openapi", "--public-url", stack.gateway],  # noqa: S603
                              cwd=ROOT, capture_output=True, check=True)
    document.write_bytes(exported.stdout)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # ruff, for its post hooks
    result = subprocess.run(  # noqa: S603
        [str(BIN / "openapi-python-client"), "generate", "--path", str(document), "--meta", "setup",
         "--config", str(ROOT / "scripts" / "openapi-python-client.yaml"), "--output-path", str(folder / "client")],
        cwd=folder, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every schema and operation made it into the client: the generator warns of any it dropped.
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


async def test_a_generated_client_takes_a_referral_to_a_decision(stack: Stack, tmp_path: Path) -> None:
    generate(stack, tmp_path)
    sys.path.insert(0, str(tmp_path / "client"))
    try:
        await _journey(stack)
    finally:
        sys.path.remove(str(tmp_path / "client"))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


async def _journey(stack: Stack) -> None:
    client_module, models = module("client"), module("models")
    issue_token = module("api.oauth.issue_token")
    register_child, get_child = module("api.children.register_child"), module("api.children.get_child")
    register_agency = module("api.agencies.register_agency")
    create_referral, get_referral = module("api.referrals.create_referral"), module("api.referrals.get_referral")
    recommend_level, record_decision = module("api.referrals.recommend_level"), module("api.referrals.record_decision")

    async def token(agency_id: uuid.UUID, scopes: list[str]) -> Any:
        client_id, secret = await stack.register_client(agency_id, scopes)
        async with client_module.Client(base_url=stack.gateway) as anonymous:
            issued = await issue_token.asyncio(client=anonymous, body=models.TokenRequest(
                grant_type="client_credentials", client_id=client_id, client_secret=secret))
        assert isinstance(issued, models.TokenResponse), issued
        return client_module.AuthenticatedClient(base_url=stack.gateway, token=issued.access_token,
                                                 raise_on_unexpected_status=True,
                                                 timeout=httpx.Timeout(30.0))

    admin = await token(uuid.uuid4(), ["admin"])
    agencies = {}
    async with admin:
        for name, kind in (("Client CSC", "childrens_social_care"), ("Client School", "school")):
            agency = await register_agency.asyncio(client=admin, body=models.AgencyCreate(name=name, agency_type=kind))
            assert isinstance(agency, models.AgencyRead), agency
            agencies[kind] = agency.id
    rw = ["referral:read", "referral:write"]
    csc, school = await token(agencies["childrens_social_care"], rw), await token(agencies["school"], rw)

    async with school, csc:
        child = await register_child.asyncio(client=school, idempotency_key=f"client-{uuid.uuid4().hex}", body=models.ChildCreate(
            given_name="Typed", family_name="Example", gender="1", birth_date=datetime.date(2019, 9, 3),
            nhs_number="9990000034", disabilities=["NONE"]))
        assert isinstance(child, models.ChildRead), child
        assert child.birth_date == datetime.date(2019, 9, 3)
        assert isinstance(await get_child.asyncio(child.id, client=school), models.ChildRead)

        referral = await create_referral.asyncio(client=school, body=models.ReferralCreate(
            child_id=child.id, concern_summary="Often hungry at school; same clothes all week.",
            neglect_types=["basic_provision"], received_at=datetime.datetime(2026, 1, 5, 9, tzinfo=datetime.UTC),
            indicators=[models.Indicator(domain="physical_care", indicator="hunger_at_school", severity="high")]))
        assert isinstance(referral, models.ReferralRead), referral
        assert referral.decision is None

        recommendation = await recommend_level.asyncio(referral.id, client=csc)
        assert isinstance(recommendation, models.RecommendationRead), recommendation
        current = await get_referral.asyncio_detailed(referral.id, client=csc)
        assert isinstance(current.parsed, models.ReferralRead)
        decision = models.DecisionCreate(
            level="4", outcome="s17_assessment", primary_need="N1", decided_by="Team manager 1",
            rationale="Cumulative neglect indicators from school.",
            decided_at=datetime.datetime(2026, 1, 5, 15, tzinfo=datetime.UTC))
        if recommendation.recommended_level != "4":
            decision.override_reason = "Concerns from several sources; statutory assessment needed."
        decided = await record_decision.asyncio(referral.id, client=csc, body=decision,
                                                if_match=current.headers["etag"])
        assert isinstance(decided, models.ReferralRead), decided

        # The referrer reads the decision back: typed, with the outcome it was told.
        told = await get_referral.asyncio(referral.id, client=school)
        assert isinstance(told, models.ReferralRead), told
        assert isinstance(told.decision, models.DecisionRead)
        assert (told.decision.level, told.decision.outcome) == ("4", "s17_assessment")

        # A problem is typed too.
        missing = await get_child.asyncio(uuid.uuid4(), client=school)
        assert isinstance(missing, models.Problem)
        assert missing.status == 404
