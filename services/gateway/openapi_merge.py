"""One OpenAPI document for the whole API: the gateway's own operations plus
every service's, fetched from the services and cached.

Each service keeps only the paths the gateway routes to it. Components with
the same name and the same definition are shared; a conflicting one is
renamed with the service's name in front and the service's ``$ref``s follow.
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
BEARER_SCHEME = "HTTPBearer"
CLIENT_BASIC_SCHEME = "ClientBasic"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

SECURITY_SCHEMES: dict[str, Any] = {
    OAUTH_SCHEME: {
        "type": "oauth2",
        "description": "Client credentials of your partner system. In these docs: Authorize, "
                       "enter the client id and secret, tick the scopes you need.",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": SCOPES}},
    },
    BEARER_SCHEME: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /oauth/token.",
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


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (renames.get(value, value) if key == "$ref" and isinstance(value, str)
                  else _rewrite_refs(value, renames))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _prefixed(service: str, name: str, taken: set[str]) -> str:
    base = service[:1].upper() + service[1:] + name
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    return candidate


def _secured(path_item: dict[str, Any]) -> dict[str, Any]:
    """Operations that need a token accept the gateway's OAuth2 flow as well as a bare bearer token."""
    for method in _METHODS:
        operation = path_item.get(method)
        if isinstance(operation, dict) and operation.get("security"):
            operation["security"] = [{OAUTH_SCHEME: []}, {BEARER_SCHEME: []}]
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
) -> Document:
    """The combined document. ``owner(path)`` names the service the gateway routes ``path`` to."""
    merged = copy.deepcopy(own)
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
        # A definition that refers to a renamed one differs too: repeat until nothing new conflicts.
        renames: dict[str, str] = {}
        while True:
            rewritten = _rewrite_refs(theirs, renames)
            found = False
            for section, entries in rewritten.items():
                ours = components.get(section, {})
                for name, definition in entries.items():
                    ref = f"#/components/{section}/{name}"
                    if ref not in renames and name in ours and ours[name] != definition:
                        taken = {*ours, *entries, *(r.rsplit("/", 1)[-1] for r in renames.values())}
                        new_name = _prefixed(service, name, taken)
                        renames[ref] = f"#/components/{section}/{new_name}"
                        found = True
            if not found:
                break
        for section, entries in rewritten.items():
            target = components.setdefault(section, {})
            for name, definition in entries.items():
                renamed = renames.get(f"#/components/{section}/{name}", "").rsplit("/", 1)[-1]
                target.setdefault(renamed or name, definition)
        for path, item in document.get("paths", {}).items():
            # Only what the gateway really routes to this service; its /livez is not ours to show.
            if owner(path) == service and path not in paths and isinstance(item, dict):
                paths[path] = _forwarded(_rewrite_refs(item, renames))
        # What a service sends to partners' endpoints (OpenAPI 3.1 ``webhooks``), its refs renamed as its paths'.
        webhooks: dict[str, Any] = merged.setdefault("webhooks", {})
        for name, item in document.get("webhooks", {}).items():
            if isinstance(item, dict) and name not in webhooks:
                webhooks[name] = _rewrite_refs(item, renames)
        known_tags = {tag.get("name") for tag in tags}
        for tag in document.get("tags", []):
            if isinstance(tag, dict) and tag.get("name") not in known_tags:
                tags.append(tag)
                known_tags.add(tag.get("name"))

    schemes = components.setdefault("securitySchemes", {})
    schemes.update(copy.deepcopy(SECURITY_SCHEMES))
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
    ) -> None:
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
                self._merged = (key, merge_documents(self.own(), available, unavailable, self.owner))
            return self._merged[1]
