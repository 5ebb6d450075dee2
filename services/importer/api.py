"""Where import calls go: the services' own apps in-process, or a running gateway.

In-process is the default for a migration on the machine that holds the databases: the
referral and assessment apps are built with ``create_app(settings)``, exactly as they
serve requests, and called over ASGI with short-lived tokens signed by the gateway's key
(as ``seed-demo`` does). Through a gateway, each line's ``as`` names a client whose id
and secret are in a credentials file, and tokens come from ``/oauth/token``.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from shared.tokens import TokenSigner, load_or_create_signer

PURPOSE = "migration"
SUBJECT = "migration-import"
SCOPES = ("referral:read", "referral:write", "assessment:read", "assessment:write")


class UnknownCaller(Exception):
    """A line's ``as`` names no agency (in-process) or no client (gateway)."""


class Api(Protocol):
    async def request(self, service: str, caller: str, acting_user: str | None, method: str, url: str,
                      headers: dict[str, str], body: Any = None) -> httpx.Response: ...

    async def agency_id(self, caller: str, agency: str) -> str: ...


async def _agencies(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, str]:
    """Every agency by its id and by its external reference."""
    found: dict[str, str] = {}
    next_url: str | None = url
    while next_url:
        r = await client.get(next_url, headers=headers)
        r.raise_for_status()
        for agency in r.json()["items"]:
            found[agency["id"]] = agency["id"]
            if agency.get("external_ref"):
                found[agency["external_ref"]] = agency["id"]
        next_url = r.links.get("next", {}).get("url")
    return found


class InProcessApi:
    """The referral and assessment apps called in-process, as any agency of the partnership."""

    def __init__(self, clients: dict[str, httpx.AsyncClient], signer: TokenSigner, issuer: str, audience: str) -> None:
        self.clients, self.signer, self.issuer, self.audience = clients, signer, issuer, audience
        self._agency_ids: dict[str, str] | None = None

    def _headers(self, agency_id: str, acting_user: str | None) -> dict[str, str]:
        token = self.signer.issue(issuer=self.issuer, audience=self.audience, subject=SUBJECT,
                                  agency_id=uuid.UUID(agency_id), scopes=SCOPES, ttl_seconds=300,
                                  acting_user=acting_user)
        return {"Authorization": f"Bearer {token}", "X-Purpose": PURPOSE}

    async def agency_id(self, caller: str, agency: str) -> str:
        if self._agency_ids is None:
            headers = self._headers(str(uuid.uuid4()), None)
            self._agency_ids = await _agencies(self.clients["referral"], "/v1/agencies?limit=200", headers)
        try:
            return self._agency_ids[agency]
        except KeyError:
            raise UnknownCaller(f"No agency has the reference or id {agency!r}.") from None

    async def request(self, service: str, caller: str, acting_user: str | None, method: str, url: str,
                      headers: dict[str, str], body: Any = None) -> httpx.Response:
        agency = await self.agency_id(caller, caller)
        return await self.clients[service].request(
            method, url, headers={**self._headers(agency, acting_user), **headers}, json=body)


class GatewayApi:
    """A running gateway; ``as`` is a client id from a credentials file (a JSON list of
    ``client_id`` and ``client_secret``, the shape of var/demo-clients.json)."""

    def __init__(self, client: httpx.AsyncClient, credentials: dict[str, str]) -> None:
        self.client, self.credentials = client, credentials
        self._tokens: dict[tuple[str, str | None], tuple[str, float]] = {}
        self._agency_ids: dict[str, dict[str, str]] = {}

    @classmethod
    def credentials_from(cls, path: Path) -> dict[str, str]:
        return {c["client_id"]: c["client_secret"] for c in json.loads(path.read_text())}

    async def _token(self, caller: str, acting_user: str | None) -> str:
        cached = self._tokens.get((caller, acting_user))
        if cached and cached[1] > time.monotonic() + 30:
            return cached[0]
        if caller not in self.credentials:
            raise UnknownCaller(f"No credentials for the client {caller!r}.")
        form = {"grant_type": "client_credentials"}
        if acting_user:
            form["acting_user"] = acting_user
        r = await self.client.post("/oauth/token", data=form, auth=(caller, self.credentials[caller]))
        if r.status_code != 200:
            raise UnknownCaller(f"The gateway refused a token for the client {caller!r} ({r.status_code}).")
        answer = r.json()
        self._tokens[(caller, acting_user)] = (answer["access_token"], time.monotonic() + answer["expires_in"])
        return str(answer["access_token"])

    async def agency_id(self, caller: str, agency: str) -> str:
        if caller not in self._agency_ids:
            headers = {"Authorization": f"Bearer {await self._token(caller, None)}"}
            self._agency_ids[caller] = await _agencies(self.client, "/v1/agencies?limit=200", headers)
        try:
            return self._agency_ids[caller][agency]
        except KeyError:
            raise UnknownCaller(f"No agency has the reference or id {agency!r}.") from None

    async def request(self, service: str, caller: str, acting_user: str | None, method: str, url: str,
                      headers: dict[str, str], body: Any = None) -> httpx.Response:
        token = await self._token(caller, acting_user)
        return await self.client.request(
            method, url, headers={"Authorization": f"Bearer {token}", "X-Purpose": PURPOSE, **headers}, json=body)


@contextlib.asynccontextmanager
async def in_process(settings_for: Callable[[str], Any]) -> AsyncIterator[InProcessApi]:
    """The referral and assessment apps on their configured databases, started as in production
    (threshold model and shipped toolkits loaded), each able to call the other in-process."""
    from services.assessment.app import create_app as create_assessment
    from services.referral.app import create_app as create_referral

    signer = load_or_create_signer(settings_for("gateway").key_dir)
    apps = {}
    for service, create in (("referral", create_referral), ("assessment", create_assessment)):
        settings = settings_for(service)
        settings.jwks_json = json.dumps(signer.jwks())
        # What the import writes joins each service's outbox; the running services deliver it.
        settings.relay_enabled = False
        apps[service] = create(settings)
    clients = {s: httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url=f"http://{s}", timeout=60)
               for s, a in apps.items()}
    apps["referral"].state.assessment_client = clients["assessment"]
    apps["assessment"].state.referral_client = clients["referral"]
    settings = apps["referral"].state.settings
    try:
        async with contextlib.AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            yield InProcessApi(clients, signer, settings.token_issuer, settings.token_audience)
    finally:
        for client in clients.values():
            await client.aclose()


@contextlib.asynccontextmanager
async def through_gateway(base_url: str, credentials_file: Path) -> AsyncIterator[GatewayApi]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        yield GatewayApi(client, GatewayApi.credentials_from(credentials_file))
