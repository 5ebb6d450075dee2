"""Which service owns a public path (DESIGN.md §5)."""

from __future__ import annotations

import re

# The trajectory and toolkit results are assessment's views of a child, though the paths sit under /v1/children.
_TRAJECTORY = re.compile(r"^/v1/children/[^/]+/(?:trajectory|latest-results)(?:/.*)?$")
# Each service serves its own outbox's dead letters under /v1/outbox/<its name> and its own
# audit trail under /v1/audit/<its name>.
_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("assessment", ("/v1/toolkits", "/v1/assessments", "/v1/outbox/assessment", "/v1/audit/assessment")),
    ("reporting", ("/v1/events", "/v1/datasets", "/v1/dashboard", "/v1/exports", "/v1/outbox/reporting",
                   "/v1/audit/reporting")),
    ("referral", ("/v1/outbox/referral",)),
)
#: Answered by the gateway itself: client administration and the gateway's own audit trail.
GATEWAY_PREFIXES = ("/v1/clients", "/v1/audit/gateway")
DEFAULT_SERVICE = "referral"
SERVICES = ("referral", "assessment", "reporting")


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def service_for(path: str) -> str | None:
    """The service that answers ``path``, or None for the gateway's own paths."""
    if path != "/v1" and not path.startswith("/v1/"):
        return None
    if any(_under(path, prefix) for prefix in GATEWAY_PREFIXES):
        return None
    if _TRAJECTORY.match(path):
        return "assessment"
    for service, prefixes in _PREFIXES:
        if any(_under(path, prefix) for prefix in prefixes):
            return service
    return DEFAULT_SERVICE
