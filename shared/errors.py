"""Domain errors and their RFC 9457 problem+json rendering.

Domain code raises these; ``install_problem_handlers`` renders every error
once, with a ``request_id``. No handler builds an error body by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.context import current_request_id

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://neglect-backbone.example/problems/"
log = logging.getLogger("shared.errors")


class DomainError(Exception):
    """Base of every error a client may see. Subclasses set status, slug and title."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra
        self.headers: dict[str, str] = {}

    @classmethod
    def example(cls) -> dict[str, Any]:
        return {
            "type": TYPE_BASE + cls.slug,
            "title": cls.title,
            "status": cls.status,
            "detail": f"{cls.title}.",
            "instance": "/v1/...",
            "request_id": "6f1c2e8a9b0d4c3e8f7a6b5c4d3e2f1a",
        }


class BadRequest(DomainError):
    status, slug, title = 400, "bad-request", "Bad request"


class MalformedBody(BadRequest):
    slug, title = "malformed-body", "Request body is not valid JSON"


class InvalidIdempotencyKey(BadRequest):
    slug, title = "invalid-idempotency-key", "Idempotency-Key is empty, too long or has characters other than letters, digits and . _ : -"


class InvalidIfMatch(BadRequest):
    slug, title = "invalid-if-match", 'If-Match is not "*" or a list of entity tags such as "3"'


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["WWW-Authenticate"] = 'Bearer realm="neglect-backbone"'


class InvalidClient(Unauthorized):
    slug, title = "invalid-client", "Client authentication failed"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Not allowed"


class InsufficientScope(Forbidden):
    slug, title = "insufficient-scope", "Token lacks the required scope"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class MethodNotAllowed(DomainError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"


class NotAcceptable(DomainError):
    status, slug, title = 406, "not-acceptable", "None of the requested media types can be served"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class IllegalTransition(Conflict):
    slug, title = "illegal-transition", "Transition not allowed"


class DuplicateRecord(Conflict):
    slug, title = "duplicate", "A record with these identifiers already exists"


class IdempotencyInFlight(Conflict):
    slug, title = "idempotency-in-flight", "A request with this Idempotency-Key is in progress"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "stale-version", "The resource has changed (If-Match does not match)"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported content type"


class Unprocessable(DomainError):
    status, slug, title = 422, "validation-error", "The request is not valid"


class IdempotencyKeyReused(Unprocessable):
    slug, title = "idempotency-key-reused", "Idempotency-Key was used with a different request"


class PreconditionRequired(DomainError):
    status, slug, title = 428, "if-match-required", "If-Match header required"


class TooManyRequests(DomainError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class BadGateway(DomainError):
    status, slug, title = 502, "bad-gateway", "Upstream service failed"


class ServiceUnavailable(DomainError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"


class GatewayTimeout(DomainError):
    status, slug, title = 504, "gateway-timeout", "Upstream service timed out"


class InternalError(DomainError):
    status, slug, title = 500, "internal-error", "Internal error"


def problem_body(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "request_id": current_request_id(),
    }
    if extra:
        body.update(extra)
    return body


def problem_response(error: DomainError, instance: str) -> JSONResponse:
    body = problem_body(error.status, error.slug, error.title, error.detail, instance, error.extra)
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM_JSON, headers=error.headers)


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        # Never echo the submitted value: it may be personal data.
        out.append({"field": ".".join(loc), "message": err.get("msg", ""), "code": err.get("type", "")})
    return out


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    error = exc if isinstance(exc, DomainError) else InternalError()
    return problem_response(error, request.url.path)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = list(exc.errors()) if isinstance(exc, RequestValidationError) else []
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(MalformedBody("The body could not be parsed as JSON."), request.url.path)
    problem = Unprocessable(
        f"{len(errors)} problem(s) with the request.", errors=_field_errors(errors)
    )
    return problem_response(problem, request.url.path)


_HTTP_STATUS_TO_ERROR: dict[int, type[DomainError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    406: NotAcceptable, 409: Conflict, 412: PreconditionFailed, 413: PayloadTooLarge, 415: UnsupportedMediaType,
    422: Unprocessable, 428: PreconditionRequired, 429: TooManyRequests, 503: ServiceUnavailable,
}


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        return await _on_unhandled(request, exc)
    cls = _HTTP_STATUS_TO_ERROR.get(exc.status_code, BadRequest)
    detail = exc.detail if isinstance(exc.detail, str) else cls.title
    if exc.status_code == 404:
        detail = "No such resource."
    if exc.status_code == 400:
        # FastAPI and Starlette raise 400 only for a body they cannot decode (bytes that are not UTF-8, say).
        cls, detail = MalformedBody, "The body could not be parsed as JSON."
    error = cls(detail)
    if exc.headers:
        error.headers.update(exc.headers)
    return problem_response(error, request.url.path)


async def _on_unhandled(request: Request, exc: Exception) -> JSONResponse:
    # Log the type only: exception messages can carry submitted personal data.
    log.error("unhandled error", extra={"error_type": type(exc).__name__}, exc_info=False)
    return problem_response(
        InternalError("Something went wrong on our side; quote the request id."), request.url.path
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unhandled)


def problems(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the errors a route raises itself.

    The ones that follow from the operation's shape (a token, a JSON body,
    If-Match, a cursor, ...) are added to every operation by ``shared.openapi``.
    """
    out: dict[int | str, dict[str, Any]] = {}
    add_problems(out, errors)
    return out


def add_problems(responses: dict[int | str, dict[str, Any]], errors: Sequence[type[DomainError]]) -> None:
    """Merge the errors into ``responses`` (a route's), one example per problem type."""
    for cls in errors:
        entry = responses.get(cls.status, responses.get(str(cls.status)))
        if entry is None:
            entry = responses[cls.status] = {"description": cls.title}
        content = entry.setdefault("content", {}).setdefault(PROBLEM_JSON, {"schema": {"$ref": "#/components/schemas/Problem"}})
        content.setdefault("examples", {})[cls.slug] = {"summary": cls.title, "value": cls.example()}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details. Members other than these may be added; ignore the ones you do not know.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "Identifies the kind of problem; stable."},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong with this request."},
        "instance": {"type": "string", "description": "The path of the request."},
        "request_id": {"type": "string", "description": "Quote it when you report a problem (also in X-Request-ID)."},
        "errors": {
            "type": "array",
            "description": "One entry per field in error: validation errors and field-level rules.",
            "items": {
                "type": "object",
                "required": ["field", "message", "code"],
                "properties": {
                    "field": {"type": "string", "description": "Where: body.<field>, query.<name>, path.<name>, header.<name>."},
                    "message": {"type": "string"},
                    "code": {"type": "string", "description": "Machine-readable reason."},
                },
            },
        },
        "rule": {"type": "string", "description": "The business rule a refused transition breaks (409, 422)."},
        "error": {"type": "string", "description": "The OAuth 2.0 error code (RFC 6749 §5.2), on POST /oauth/token."},
    },
}
