"""Demo data for `make run`: one partnership, its partner agencies, one API client
per agency, an analyst and an administrator client, a few synthetic children, and
three complete journeys (services/demo_journeys.jsonl: a child protection plan from
referral to closure, a child in need with two toolkit scores, an early help decision
and a contact), dated in 2025-26 and 2026-27 so the quarterly dataset, the dashboards
and the census export have something to show.

Everything goes through the services' own APIs (in-process), so demo records are
validated, audited and announced through the outbox like any other. Safe to run
again: what exists is kept; client secrets are written once to var/demo-clients.json.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.settings import VAR_DIR
from shared.tokens import TokenSigner, load_or_create_signer

DEMO_CLIENTS_FILE = VAR_DIR / "demo-clients.json"
DEMO_JOURNEYS = Path(__file__).with_name("demo_journeys.jsonl")
PARTNERSHIP = "Northshire Safeguarding Children Partnership (demo)"


@dataclass(frozen=True)
class DemoAgency:
    ref: str
    name: str
    agency_type: str
    scopes: tuple[str, ...]


AGENCIES = [
    DemoAgency("NS-CSC", "Northshire Children's Social Care", "childrens_social_care",
               ("referral:read", "referral:write", "assessment:read", "assessment:write", "reporting:read",
                "webhooks:manage")),
    DemoAgency("NS-POL", "Northshire Police", "police", ("referral:read", "referral:write", "webhooks:manage")),
    DemoAgency("NS-HV", "Northshire Health Visiting", "health_visiting",
               ("referral:read", "referral:write", "assessment:read", "assessment:write", "webhooks:manage")),
    DemoAgency("NS-SCH", "Harbourside Primary School", "school", ("referral:read", "referral:write", "webhooks:manage")),
    DemoAgency("NS-EH", "Northshire Early Help", "early_help",
               ("referral:read", "referral:write", "assessment:read", "assessment:write", "webhooks:manage")),
    DemoAgency("NS-LSCP", "Northshire Partnership Business Unit", "la_other_internal",
               ("reporting:read", "reporting:export")),
]
# The business unit also gets an administrator client (agencies, configuration).
ADMIN_SCOPES = ("admin", "audit:read")

# Synthetic children only: invented names, NHS numbers from the 999 test range.
CHILDREN: list[tuple[str, dict[str, Any]]] = [
    ("NS-HV", {"given_name": "Demo", "family_name": "Unborn-Baker", "expected_birth_date": None, "gender": "0",
               "external_ref": "HV-DEMO-001"}),
    ("NS-HV", {"given_name": "Ada", "family_name": "Demo-Baker", "birth_date": "2023-02-11", "gender": "2",
               "nhs_number": "9990000018", "external_ref": "HV-DEMO-002"}),
    ("NS-SCH", {"given_name": "Bram", "family_name": "Demo-Cole", "birth_date": "2016-09-03", "gender": "1",
                "nhs_number": "9990000026", "la_child_id": "NSDEMO0003", "external_ref": "SCH-DEMO-003"}),
    ("NS-POL", {"given_name": "Cleo", "family_name": "Demo-Drew", "birth_date": "2011-01-20", "gender": "2",
                "external_ref": "POL-DEMO-004"}),
    ("NS-CSC", {"given_name": "Dev", "family_name": "Demo-Ellis", "birth_date": "2019-06-30", "gender": "1",
                "la_child_id": "NSDEMO0005", "external_ref": "CSC-DEMO-005"}),
]


def _expected_birth() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC).date() + timedelta(weeks=12)).isoformat()


class _Api:
    """Calls one service in-process with tokens signed by the gateway's key."""

    def __init__(self, app: Any, signer: TokenSigner, settings: Any) -> None:
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://demo")
        self.signer = signer
        self.settings = settings

    def headers(self, agency_id: uuid.UUID, *scopes: str) -> dict[str, str]:
        token = self.signer.issue(issuer=self.settings.token_issuer, audience=self.settings.token_audience,
                                  subject="demo-seeder", agency_id=agency_id, scopes=scopes, ttl_seconds=300)
        return {"Authorization": f"Bearer {token}", "X-Purpose": "demo_data"}

    async def request(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        response = await self.client.request(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            raise RuntimeError(f"demo seeding: {method} {path} -> {response.status_code} {response.text[:300]}")
        return response.json()


async def _seed_referral(settings_for: Callable[[str], Any], signer: TokenSigner) -> dict[str, uuid.UUID]:
    from services.referral.app import create_app

    settings = settings_for("referral")
    settings.jwks_json = json.dumps(signer.jwks())
    settings.relay_enabled = False
    app = create_app(settings)
    api = _Api(app, signer, settings)
    admin = api.headers(uuid.uuid4(), "admin", "referral:read")
    try:
        existing = {a["external_ref"]: uuid.UUID(a["id"]) for a in
                    (await api.request("GET", "/v1/agencies?limit=200", admin))["items"]}
        ids: dict[str, uuid.UUID] = {}
        for agency in AGENCIES:
            if agency.ref not in existing:
                body = {"name": agency.name, "agency_type": agency.agency_type, "external_ref": agency.ref}
                existing[agency.ref] = uuid.UUID((await api.request("POST", "/v1/agencies", admin, json=body))["id"])
            ids[agency.ref] = existing[agency.ref]
        for ref, child in CHILDREN:
            who = api.headers(ids[ref], "referral:read", "referral:write")
            found = await api.request("GET", "/v1/children", who, params={"external_ref": child["external_ref"]})
            if found["items"]:
                continue
            body = {k: v for k, v in child.items() if v is not None}
            if "birth_date" not in body:
                body["expected_birth_date"] = _expected_birth()
            await api.request("POST", "/v1/children", who, json=body)
        return ids
    finally:
        await api.client.aclose()
        await app.state.db.dispose()


async def _seed_journeys(settings_for: Callable[[str], Any]) -> int:
    """The demo journeys, through the importer (each line once: a second run finds them in its journal)."""
    from services.importer.api import in_process
    from services.importer.operations import local_operations
    from services.importer.runner import import_file, journal_path

    journal = journal_path(DEMO_JOURNEYS, VAR_DIR)
    async with in_process(settings_for) as api:
        outcome = await import_file(api, local_operations(), DEMO_JOURNEYS, journal,
                                    journal.with_suffix(".errors.jsonl"), progress=False)
    if not outcome.ok:
        raise RuntimeError(f"demo journeys: {outcome.failed} lines failed, {outcome.skipped} skipped: "
                           f"{json.dumps(outcome.errors[:3])}")
    return outcome.imported + outcome.already_done


#: Example targets, so the dashboard colours its figures red, amber or green out of the box.
DEMO_TARGETS: list[dict[str, Any]] = [
    {"figure": "timeliness:referral_decision", "direction": "higher_is_better", "green": 95, "amber": 80},
    {"figure": "timeliness:assessment_completion", "direction": "higher_is_better", "green": 90, "amber": 75},
    {"figure": "alerts:referral_decision", "direction": "lower_is_better", "green": 0, "amber": 2},
    {"figure": "alerts:assessment_completion", "direction": "lower_is_better", "green": 0, "amber": 2},
    {"figure": "alerts:cp_first_review", "direction": "lower_is_better", "green": 0, "amber": 1},
    {"figure": "alerts:cp_statutory_visit", "direction": "lower_is_better", "green": 0, "amber": 1},
    {"figure": "caseload:referrals_awaiting_decision", "direction": "lower_is_better", "green": 5, "amber": 10},
    {"figure": "metric:NQ15", "direction": "higher_is_better", "green": 90, "amber": 75},
    {"figure": "metric:NQ19", "direction": "higher_is_better", "green": 85, "amber": 70},
]


async def _seed_targets(settings_for: Callable[[str], Any], signer: TokenSigner) -> bool:
    """The example dashboard targets, unless the partnership has set its own (version above 0)."""
    from services.reporting.app import create_app

    settings = settings_for("reporting")
    settings.jwks_json = json.dumps(signer.jwks())
    settings.relay_enabled = False
    app = create_app(settings)
    api = _Api(app, signer, settings)
    admin = api.headers(uuid.uuid4(), "admin", "reporting:read")
    try:
        current = await api.request("GET", "/v1/dashboard/targets", admin)
        if current["version"] != 0:
            return False
        await api.request("PUT", "/v1/dashboard/targets", {**admin, "If-Match": '"0"'}, json={"targets": DEMO_TARGETS})
        return True
    finally:
        await api.client.aclose()
        await app.state.db.dispose()


async def seed_demo(settings_for: Callable[[str], Any]) -> None:
    from services.gateway.clients import ensure_demo_clients

    gateway = settings_for("gateway")
    signer = load_or_create_signer(gateway.key_dir)
    agency_ids = await _seed_referral(settings_for, signer)
    journey_lines = await _seed_journeys(settings_for)
    await _seed_targets(settings_for, signer)
    wanted = [(f"demo-{a.ref.lower()}", a.name, agency_ids[a.ref], list(a.scopes)) for a in AGENCIES]
    wanted.append(("demo-admin", "Partnership administrator", agency_ids["NS-LSCP"], list(ADMIN_SCOPES)))
    known: list[dict[str, Any]] = json.loads(DEMO_CLIENTS_FILE.read_text()) if DEMO_CLIENTS_FILE.exists() else []
    known_ids = {c["client_id"] for c in known}
    created = await ensure_demo_clients(gateway, [w for w in wanted if w[0] not in known_ids])
    clients = known + [
        {"client_id": cid, "client_secret": secret, "agency_id": str(agency), "agency_name": name, "scopes": scopes}
        for cid, secret, agency, name, scopes in created
    ]
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DEMO_CLIENTS_FILE.write_text(json.dumps(clients, indent=2))
    DEMO_CLIENTS_FILE.chmod(0o600)
    print(f"{PARTNERSHIP}: {len(agency_ids)} agencies, {len(CHILDREN)} demo children, "  # noqa: T201
          f"3 demo journeys ({journey_lines} records), "
          f"{len(clients)} API clients (credentials in var/demo-clients.json"
          f"{', ' + str(len(created)) + ' new' if created else ''}).")
