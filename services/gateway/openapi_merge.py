"""One OpenAPI document for the whole API: the gateway's own operations plus
every service's, fetched from the services and cached.

Each service keeps only the paths the gateway routes to it. Components with
the same name and the same definition are shared; a conflicting one, or two
schemas with one title, fail the merge (``SchemaClash``, a 502 on ``/openapi.json``
and a failing contract test): a generated client cannot have two types of one name.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from services.gateway.domain.credentials import SCOPES
from services.gateway.forwarder import UpstreamPool
from shared.errors import BadGateway, GatewayTimeout, ServiceUnavailable
from shared.openapi import add_problem

Document = dict[str, Any]

OAUTH_SCHEME = "OAuth2"
CLIENT_BASIC_SCHEME = "ClientBasic"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")



def security_schemes(public_url: str) -> dict[str, Any]:
    """The gateway's schemes: OAuth2 client credentials (every /v1 operation, with its scopes)
    and HTTP Basic (the client's id and secret, for the token endpoint only)."""
    return {
        OAUTH_SCHEME: {
            "type": "oauth2",
            "description": "Client credentials of your partner system: POST /oauth/token gives an access "
                           "token, sent as `Authorization: Bearer <token>`. In these docs: Authorize, enter "
                           "the client id and secret, tick the scopes you need.",
            "flows": {"clientCredentials": {"tokenUrl": f"{public_url.rstrip('/')}/oauth/token",
                                            "scopes": dict(SCOPES)}},
        },
        CLIENT_BASIC_SCHEME: {
            "type": "http",
            "scheme": "basic",
            "description": "Client id and secret, for POST /oauth/token only.",
        },
    }

DESCRIPTION = """\
The partnership's shared neglect model: referral, assessment and reporting
services behind one gateway. Every path below is served at this address.

1. Ask for a token: `POST /oauth/token` with `grant_type=client_credentials`,
   your client id and secret (HTTP Basic), optionally `scope` to narrow it and
   `acting_user` (your staff id of the person acting; never a name) to have
   that person recorded in every audit row.
2. Send it on every call: `Authorization: Bearer <access_token>`. Tokens last
   15 minutes; ask for a new one when a call answers 401.

Errors are RFC 9457 `application/problem+json` with a `request_id`; quote it
when you report a problem. Every response carries `X-Request-ID`.
"""


class SchemaClash(BadGateway):
    """Two documents define one component name (or schema title) differently. A generated client
    would get one type for two shapes, so the merge refuses: rename one of the models."""

    slug, title = "openapi-schema-clash", "The services' OpenAPI documents define one schema twice, differently"


def _titles(components: Mapping[str, Any], where: str, seen: dict[str, str]) -> None:
    """Record where each schema title comes from; a title used for two schemas is a clash."""
    for name, definition in components.get("schemas", {}).items():
        title = definition.get("title", name) if isinstance(definition, dict) else name
        origin = f"{where} {name}"
        if seen.setdefault(title, origin) != origin:
            raise SchemaClash(f"Schema title {title!r} is used by {seen[title]} and by {origin}: rename one model.")


def _secured(path_item: dict[str, Any]) -> dict[str, Any]:
    """Operations that need a token name the gateway's OAuth2 client-credentials scheme with the
    scopes they need (one requirement: every scope listed is needed)."""
    for method in _METHODS:
        operation = path_item.get(method)
        if isinstance(operation, dict) and operation.get("security"):
            scopes = sorted({scope for requirement in operation["security"] for scopes in requirement.values()
                             for scope in scopes})
            operation["security"] = [{OAUTH_SCHEME: scopes}]
    return path_item


def _forwarded(path_item: dict[str, Any]) -> dict[str, Any]:
    """A service's operation as the gateway serves it: secured as above, and each may meet the
    gateway's own answers when its service is down, slow or broken (502, 503, 504)."""
    for method in _METHODS:
        operation = path_item.get(method)
        if isinstance(operation, dict):
            responses = operation.setdefault("responses", {})
            for error in (BadGateway, ServiceUnavailable, GatewayTimeout):
                add_problem(responses, error)
    return _secured(path_item)


def merge_documents(
    own: Document,
    services: Mapping[str, Document],
    unavailable: Sequence[str],
    owner: Callable[[str], str | None],
    *,
    public_url: str = "http://127.0.0.1:8000",
) -> Document:
    """The combined document. ``owner(path)`` names the service the gateway routes ``path`` to;
    ``public_url`` is where partners reach the gateway (``servers``, the token URL).

    A component defined differently by two documents, or two schemas with one title, is a
    :class:`SchemaClash`: the merge fails rather than hand a client two shapes under one name.
    """
    merged = copy.deepcopy(own)
    base = public_url.rstrip("/")
    merged["servers"] = [{"url": base, "description": "The partnership's gateway"}]
    merged["info"] = {
        "title": "Neglect backbone API",
        "version": str(own.get("info", {}).get("version", "1.0.0")),
        "description": DESCRIPTION,
        "x-unavailable-services": sorted(unavailable),
    }
    paths: dict[str, Any] = merged.setdefault("paths", {})
    for path, item in paths.items():
        # The gateway's own /v1 operations take the same tokens as the services' (not /oauth/token).
        if path.startswith("/v1/") and isinstance(item, dict):
            _secured(item)
    components: dict[str, Any] = merged.setdefault("components", {})
    tags: list[dict[str, Any]] = merged.setdefault("tags", [])

    for service, document in services.items():
        theirs: dict[str, Any] = {
            section: entries for section, entries in document.get("components", {}).items()
            if section != "securitySchemes" and isinstance(entries, dict)
        }
        for section, entries in theirs.items():
            target = components.setdefault(section, {})
            for name, definition in entries.items():
                if name in target and target[name] != definition:
                    raise SchemaClash(f"components.{section}.{name} differs between {service} and the "
                                      f"document(s) merged before it: rename one model.")
                target.setdefault(name, definition)
        for path, item in document.get("paths", {}).items():
            # Only what the gateway really routes to this service; its /livez is not ours to show.
            if owner(path) == service and path not in paths and isinstance(item, dict):
                paths[path] = _forwarded(copy.deepcopy(item))
        # What a service sends to partners' endpoints (OpenAPI 3.1 ``webhooks``)..
        webhooks: dict[str, Any] = merged.setdefault("webhooks", {})
        for name, item in document.get("webhooks", {}).items():
            if isinstance(item, dict) and name not in webhooks:
                webhooks[name] = copy.deepcopy(item)
        known_tags = {tag.get("name") for tag in tags}
        for tag in document.get("tags", []):
            if isinstance(tag, dict) and tag.get("name") not in known_tags:
                tags.append(tag)
                known_tags.add(tag.get("name"))

    _titles(components, "the combined document:", {})
    components["securitySchemes"] = security_schemes(base)
    if not tags:
        merged.pop("tags")
    if not merged.get("webhooks"):
        merged.pop("webhooks", None)
    return merged


class OpenAPICatalog:
    """The services' documents, each fetched on first need and reused for ``cache_seconds``.

    A service that cannot be reached is asked again on the next request; until
    then it is listed in ``info.x-unavailable-services``. A document that has
    expired but cannot be refetched keeps being served.
    """

    def __init__(
        self,
        own: Callable[[], Document],
        pool: UpstreamPool,
        owner: Callable[[str], str | None],
        *,
        cache_seconds: float,
        fetch_timeout: float,
        clock: Callable[[], float] = time.monotonic,
        public_url: str = "http://127.0.0.1:8000",
    ) -> None:
        self.public_url = public_url
        self.own = own
        self.pool = pool
        self.owner = owner
        self.cache_seconds = cache_seconds
        self.fetch_timeout = fetch_timeout
        self.clock = clock
        self._documents: dict[str, tuple[Document, float]] = {}
        self._merged: tuple[tuple[tuple[str, int], ...], Document] | None = None
        self._lock = asyncio.Lock()

    async def _fetch(self, name: str) -> Document | None:
        upstream = self.pool.get(name)
        document = await upstream.get_json("/openapi.json", self.fetch_timeout) if upstream else None
        if isinstance(document, dict) and isinstance(document.get("paths"), dict):
            return document
        return None

    async def document(self) -> Document:
        async with self._lock:
            now = self.clock()
            due = [
                name for name in self.pool.names
                if name not in self._documents or now - self._documents[name][1] >= self.cache_seconds
            ]
            if due:
                fetched = await asyncio.gather(*(self._fetch(name) for name in due))
                for name, document in zip(due, fetched, strict=True):
                    if document is not None:
                        self._documents[name] = (document, now)
            available = {name: self._documents[name][0] for name in self.pool.names if name in self._documents}
            unavailable = [name for name in self.pool.names if name not in available]
            key = tuple((name, id(document)) for name, document in available.items())
            if self._merged is None or self._merged[0] != key:
                self._merged = (key, merge_documents(self.own(), available, unavailable, self.owner,
                                                              public_url=self.public_url))
            return self._merged[1]
