"""The problem responses every operation can give because of its shape, documented once.

A route lists the errors it raises itself (``responses=problems(...)``). What
follows from how the operation is called is added here, to every operation of
every app, so a new route is documented without remembering the list:

- a bearer token: 401 (missing, invalid), 403 (scope), 429 (the gateway's rate limit);
- a JSON body: 400 (not JSON); POST, PUT, PATCH: 413 (size), 415 (content type);
- If-Match: 400 (not an ETag), 428 (missing), 412 (stale);
- Idempotency-Key: 400 (malformed), 409 (in progress), 422 (other body);
- a cursor: 400 (not one of ours); path ids: 404; parameters: 422;
- anything: 500, problem+json with the request id to quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared.errors import (
    PROBLEM_JSON,
    DomainError,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    InsufficientScope,
    InternalError,
    InvalidIdempotencyKey,
    InvalidIfMatch,
    MalformedBody,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from shared.pagination import InvalidCursor

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "The Bearer challenge (RFC 6750).", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}},
}


def _bearer_schemes(document: dict[str, Any]) -> set[str]:
    schemes = document.get("components", {}).get("securitySchemes", {})
    return {
        name for name, scheme in schemes.items()
        if scheme.get("type") == "oauth2" or (scheme.get("type") == "http" and scheme.get("scheme", "").lower() == "bearer")
    }


def _parameters(operation: dict[str, Any], where: str) -> set[str]:
    return {
        str(p.get("name", "")).lower() for p in operation.get("parameters", [])
        if isinstance(p, dict) and p.get("in") == where
    }


def common_errors(
    method: str, path: str, operation: dict[str, Any], *, bearer: set[str], body_exempt_prefixes: Sequence[str] = ()
) -> list[type[DomainError]]:
    """The errors ``operation`` can answer with, from its shape alone."""
    errors: list[type[DomainError]] = []
    if any(name in bearer for requirement in operation.get("security", []) for name in requirement):
        errors += [Unauthorized, InsufficientScope, TooManyRequests]
    body = operation.get("requestBody", {}).get("content", {})
    if any(media == "application/json" or media.endswith("+json") for media in body):
        errors.append(MalformedBody)
    if method in ("post", "put", "patch"):
        # shared.middleware.BodyGuardMiddleware, in front of every route
        errors.append(PayloadTooLarge)
        if not path.startswith(tuple(body_exempt_prefixes)):
            errors.append(UnsupportedMediaType)
    headers, query = _parameters(operation, "header"), _parameters(operation, "query")
    if "if-match" in headers:
        errors += [InvalidIfMatch, PreconditionRequired, PreconditionFailed]
    if "idempotency-key" in headers:
        errors += [InvalidIdempotencyKey, IdempotencyInFlight, IdempotencyKeyReused]
    if "cursor" in query:
        errors.append(InvalidCursor)
    if _parameters(operation, "path") and "404" not in operation.get("responses", {}):
        errors.append(NotFound)
    if "422" in operation.get("responses", {}) or operation.get("parameters") or body:
        # FastAPI validates this operation's parameters or body, and U+0000 in any of them is
        # refused before it (shared.middleware.BodyGuardMiddleware).
        errors.append(Unprocessable)
    errors.append(InternalError)
    return errors


def add_problem(responses: dict[str, Any], error: type[DomainError]) -> None:
    """Document ``error`` on an operation: a new status, or one more example of a documented one."""
    entry = responses.setdefault(str(error.status), {"description": error.title})
    if error.status in _HEADERS:
        entry.setdefault("headers", {}).update(
            {k: v for k, v in _HEADERS[error.status].items() if k not in entry.get("headers", {})})
    content = entry.setdefault("content", {})
    if not content:
        content[PROBLEM_JSON] = {"schema": PROBLEM_REF}
    problem = content.get(PROBLEM_JSON)
    if problem is None:
        return  # documented as something else (a 404 as HTML, say): that route knows better
    problem.setdefault("schema", PROBLEM_REF)
    examples = problem.setdefault("examples", {})
    examples.setdefault(error.slug, {"summary": error.title, "value": error.example()})


def document_common_problems(document: dict[str, Any], *, body_exempt_prefixes: Sequence[str] = ()) -> dict[str, Any]:
    """Add the errors every operation can give (see the module docstring) to ``document``, in place."""
    bearer = _bearer_schemes(document)
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for error in common_errors(method, path, operation, bearer=bearer, body_exempt_prefixes=body_exempt_prefixes):
                add_problem(responses, error)
    return document
