"""The importer through a running gateway (`--gateway URL --clients FILE`): each line's `as`
is a client, tokens come from `/oauth/token`, per acting user."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from services.importer.api import through_gateway
from services.importer.operations import local_operations
from services.importer.runner import import_file
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "migration-example.jsonl"
SCOPES = ["referral:read", "referral:write", "assessment:read", "assessment:write"]


async def test_the_example_imports_through_the_gateway(stack: Stack, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, timeout=30) as gw:
        admin = await stack.token(gw, *(await stack.register_client(uuid.uuid4(), ["admin"])))
        clients, as_client = [], {}
        for ref, kind in (("NS-CSC", "childrens_social_care"), ("NS-HV", "health_visiting")):
            r = await gw.post("/v1/agencies", headers=admin,
                              json={"name": f"Import {ref}", "agency_type": kind, "external_ref": f"{ref}-{uuid.uuid4().hex[:6]}"})
            assert r.status_code == 201, r.text
            client_id, secret = await stack.register_client(uuid.UUID(r.json()["id"]), SCOPES)
            clients.append({"client_id": client_id, "client_secret": secret})
            as_client[ref] = client_id
    credentials = tmp_path / "clients.json"
    credentials.write_text(json.dumps(clients))
    source = tmp_path / "example.jsonl"
    text = EXAMPLE.read_text()
    for ref, client_id in as_client.items():
        text = text.replace(f'"as": "{ref}"', f'"as": "{client_id}"')
    source.write_text(text)

    async with through_gateway(stack.gateway, credentials) as api:
        outcome = await import_file(api, local_operations(), source, tmp_path / "j.sqlite", tmp_path / "e.jsonl",
                                    progress=False)
        again = await import_file(api, local_operations(), source, tmp_path / "j.sqlite", tmp_path / "e.jsonl",
                                  progress=False)

    lines = len(text.splitlines())
    assert outcome.errors == [], json.dumps(outcome.errors, indent=1)
    assert outcome.imported == lines
    assert (again.imported, again.already_done) == (0, lines)
