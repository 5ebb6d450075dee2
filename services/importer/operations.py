"""The operations an import line may name, read from the services' own OpenAPI documents.

An operation is ``<service>.<handler>``: ``referral.create_referral``,
``referral.record_decision``, ``assessment.submit_assessment``. Every POST, PUT and PATCH
of the referral and assessment services is one, so a record type added to an API later
can be imported with no change here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

IMPORT_SERVICES = ("referral", "assessment")
# Operator actions, not records: never part of a migration.
_EXCLUDED_PREFIXES = ("/v1/outbox/", "/v1/timescales/")
_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Operation:
    name: str
    service: str
    method: str
    path: str
    #: A creating call: sent with ``Idempotency-Key: import-<ref>``.
    idempotent: bool
    #: A change of an existing record: the importer reads this resource's ETag first (If-Match).
    etag_path: str | None

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def url(self, params: Mapping[str, str]) -> str:
        return _PARAM.sub(lambda m: params[m.group(1)], self.path)

    def etag_url(self, params: Mapping[str, str]) -> str | None:
        return None if self.etag_path is None else _PARAM.sub(lambda m: params[m.group(1)], self.etag_path)


def _handler_name(operation_id: str, path: str, method: str) -> str:
    # FastAPI's generated id is "<function>_<path with non-word characters as _>_<method>".
    suffix = re.sub(r"\W", "_", path) + "_" + method
    return operation_id[: -len(suffix)] if operation_id.endswith(suffix) else operation_id


def _etag_source(path: str, readable: set[str]) -> str | None:
    """The resource whose version guards a change: the shortest readable prefix ending in an id
    (``/v1/episodes/{episode_id}`` for every step of an episode)."""
    segments = path.split("/")
    for end in range(2, len(segments) + 1):
        candidate = "/".join(segments[:end])
        if _PARAM.fullmatch(segments[end - 1]) and candidate in readable:
            return candidate
    return None


def operations_from_openapi(service: str, spec: Mapping[str, Any]) -> dict[str, Operation]:
    paths: Mapping[str, Mapping[str, Any]] = spec.get("paths", {})
    readable = {p for p, ops in paths.items() if "get" in ops}
    found: dict[str, Operation] = {}
    for path, ops in paths.items():
        if path.startswith(_EXCLUDED_PREFIXES):
            continue
        for method, op in ops.items():
            if method not in ("post", "put", "patch"):
                continue
            headers = {p["name"].lower() for p in op.get("parameters", []) if p.get("in") == "header"}
            name = f"{service}.{_handler_name(op.get('operationId', ''), path, method)}"
            found[name] = Operation(
                name=name, service=service, method=method.upper(), path=path,
                idempotent="idempotency-key" in headers,
                etag_path=_etag_source(path, readable) if "if-match" in headers else None,
            )
    return found


def with_short_names(ops: Mapping[str, Operation]) -> dict[str, Operation]:
    """Also by the handler name alone (``create_referral``) where only one service has it."""
    short: dict[str, list[Operation]] = {}
    for op in ops.values():
        short.setdefault(op.name.split(".", 1)[1], []).append(op)
    named = {k: v[0] for k, v in short.items() if len(v) == 1}
    named.update(ops)
    return named


def local_operations() -> dict[str, Operation]:
    """The operations of this code base's referral and assessment services (no database opened)."""
    from services.assessment.app import create_app as create_assessment
    from services.assessment.settings import AssessmentSettings
    from services.referral.app import create_app as create_referral
    from services.referral.settings import ReferralSettings

    offline: dict[str, Any] = {"database_url": "sqlite+aiosqlite:///:memory:", "jwks_json": '{"keys": []}',
                               "relay_enabled": False}
    ops = operations_from_openapi("referral", create_referral(ReferralSettings(**offline)).openapi())
    ops.update(operations_from_openapi("assessment", create_assessment(AssessmentSettings(**offline)).openapi()))
    return with_short_names(ops)
