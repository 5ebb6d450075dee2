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

import copy
import re
from collections.abc import Sequence
from typing import Any

from fastapi.routing import APIRoute

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


def operation_id(route: APIRoute) -> str:
    """``generate_unique_id_function`` of every app: the route function's name (``register_child``),
    readable in a generated client. It must be unique across the combined document (the gateway's
    contract test): name a route function for what it does, or give the route ``name=``."""
    return route.name


def one_security_requirement(document: dict[str, Any]) -> dict[str, Any]:
    """Each operation's security as one requirement per scheme with every scope it needs, in place.

    FastAPI lists each ``Security`` dependency as a requirement of its own, and a list of
    requirements means *any one of them*; the scopes a route checks are all needed."""
    for item in document.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            combined: dict[str, set[str]] = {}
            for requirement in operation["security"]:
                for scheme, scopes in requirement.items():
                    combined.setdefault(scheme, set()).update(scopes)
            if combined:
                operation["security"] = [{scheme: sorted(scopes) for scheme, scopes in combined.items()}]
    return document


# ---------------------------------------------------------------------------------------------
# Examples: every request body and every success response carries a whole example (a generated
# client's docs and the contract test rely on it). A route's or a model's own example wins
# (``openapi_examples``, ``responses={...: {"content": {...: {"example": ...}}}}``, a model's
# ``json_schema_extra={"examples": [...]}``); otherwise one is built from the schema: each
# field's own ``examples``, else its default, else a value of its type and format.

_FORMATS: dict[str, str] = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "date": "2026-03-02",
    "date-time": "2026-03-02T09:30:00Z",
    "uri": "https://partner.example/webhooks/neglect",
    "email": "duty.team@partner.example",
}
# Candidates for a string with a pattern and no example of its own, tried in turn.
_PATTERNED = ("signs_of_safety", "ns_csc", "NS-CSC", "partner-client", "P14D", "919", "a1")
_MAX_DEPTH = 12
_FORMAT_SHAPES = {
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "date": r"\d{4}-\d{2}-\d{2}",
    "date-time": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
}
# Names too general to borrow another schema's example for: what they hold depends on the schema.
_GENERIC_FIELDS = frozenset({"id", "kind", "type", "status", "outcome", "name", "label", "value", "reason",
                             "note", "notes", "source", "code", "description", "title", "detail", "role", "items"})


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/"):
        node: Any = document
        for part in schema["$ref"][2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node
    return schema if isinstance(schema, dict) else {}


def _string(schema: dict[str, Any], name: str) -> str:
    if schema.get("format") in _FORMATS:
        return _FORMATS[schema["format"]]
    low, high = int(schema.get("minLength", 1)), int(schema.get("maxLength", 200))
    pattern = schema.get("pattern")
    if pattern:
        for candidate in _PATTERNED:
            if re.search(pattern, candidate) and low <= len(candidate) <= high:
                return candidate
    text = (schema.get("title") or name or "text").replace("_", " ").strip().capitalize() or "Text"
    return (text * (low // max(len(text), 1) + 1))[: max(low, min(len(text), high))]


def _number(schema: dict[str, Any]) -> int | float:
    value: float = schema.get("minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0))
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    if schema.get("type") == "integer":
        return int(value)
    return float(value)


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,), "null": (type(None),),
}


def _fits(document: dict[str, Any], schema: dict[str, Any], value: Any, depth: int = 0) -> bool:
    """A cheap check that ``value`` suits ``schema`` (type, enum, pattern, length, required,
    nested): enough to borrow another schema's example of a same-named field."""
    schema = _resolve(document, schema)
    if depth > _MAX_DEPTH:
        return False
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return any(_fits(document, option, value, depth + 1) for option in options)
    if "const" in schema:
        return bool(value == schema["const"])
    if "enum" in schema:
        return value in schema["enum"]
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds or []
    allowed = tuple(t for kind in kinds for t in _TYPES.get(kind, ()))
    if kinds and (not isinstance(value, allowed) or (isinstance(value, bool) and "boolean" not in kinds)):
        return False
    if isinstance(value, str):
        if not int(schema.get("minLength", 0)) <= len(value) <= int(schema.get("maxLength", 10**9)):
            return False
        if schema.get("pattern") and not re.search(schema["pattern"], value):
            return False
        shape = _FORMAT_SHAPES.get(schema.get("format", ""))
        return shape is None or re.fullmatch(shape, value) is not None
    if isinstance(value, list):
        items = schema.get("items", {})
        return int(schema.get("minItems", 0)) <= len(value) <= int(schema.get("maxItems", 10**9)) and all(
            _fits(document, items, item, depth + 1) for item in value)
    if isinstance(value, dict):
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties", True)
        if not set(schema.get("required", [])) <= value.keys():
            return False
        return all(
            _fits(document, properties[key], item, depth + 1) if key in properties
            else extra is not False and (not isinstance(extra, dict) or _fits(document, extra, item, depth + 1))
            for key, item in value.items())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return bool(schema.get("minimum", value) <= value <= schema.get("maximum", value))
    return True


def field_examples(document: dict[str, Any]) -> dict[str, list[Any]]:
    """Every example any schema gives a field, by the field's name: a response's ``referral_source``
    borrows the ``"2A"`` its create body shows, when it suits the response's field too."""
    hints: dict[str, list[Any]] = {}
    for schema in document.get("components", {}).get("schemas", {}).values():
        for name, sub in (schema.get("properties") or {}).items() if isinstance(schema, dict) else ():
            examples = sub.get("examples") if isinstance(sub, dict) else None
            if isinstance(examples, list) and name not in _GENERIC_FIELDS:
                hints.setdefault(name, []).extend(examples)
    return hints


def schema_example(document: dict[str, Any], schema: dict[str, Any], name: str = "", depth: int = 0,
                   hints: dict[str, list[Any]] | None = None) -> Any:
    """A value valid against ``schema`` (``$ref``s resolved in ``document``), every property filled;
    ``hints`` (``field_examples``) are other schemas' examples of a field of the same name."""
    schema = _resolve(document, schema)
    for key in ("const",):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        examples = schema["examples"]
        return examples[0] if isinstance(examples, list) else next(iter(examples.values()))
    if "example" in schema:
        return schema["example"]
    if schema.get("default") is not None:
        return schema["default"]
    for hint in (hints or {}).get(name, []):
        if _fits(document, schema, hint):
            return hint
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(document, o).get("type") != "null"] or schema[key]
            return schema_example(document, options[0], name, depth, hints)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = schema_example(document, part, name, depth, hints)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        if depth > _MAX_DEPTH:
            return {}
        properties = schema.get("properties", {})
        out = {key: schema_example(document, sub, key, depth + 1, hints) for key, sub in properties.items()}
        extra = schema.get("additionalProperties")
        if not properties and isinstance(extra, dict) and extra:
            out["key"] = schema_example(document, extra, "value", depth + 1, hints)
        return out
    if kind == "array":
        if depth > _MAX_DEPTH:
            return []
        item = schema_example(document, schema.get("items", {}), name, depth + 1, hints)
        return [item] * max(1, int(schema.get("minItems", 1))) if schema.get("maxItems", 1) else []
    if kind == "string":
        return _string(schema, name)
    if kind in ("integer", "number"):
        return _number(schema)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "value"


def _nullable(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    schema = _resolve(document, schema)
    kinds = schema.get("type")
    return kinds == "null" or (isinstance(kinds, list) and "null" in kinds) or any(
        _nullable(document, option) for option in schema.get("anyOf", []) + schema.get("oneOf", []))


def restore_nulls(document: dict[str, Any], schema: dict[str, Any], value: Any, depth: int = 0) -> Any:
    """``value`` with the nullable properties it lacks set to null, in place. FastAPI drops
    every null from the document (``exclude_none``), examples' nulls too; a whole example shows them."""
    schema = _resolve(document, schema)
    if depth > _MAX_DEPTH:
        return value
    options = [o for o in schema.get("anyOf", []) + schema.get("oneOf", []) if not _nullable(document, o)]
    if options and not schema.get("properties"):
        for option in options:
            restore_nulls(document, option, value, depth + 1)
        return value
    if isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key not in value and _nullable(document, sub):
                value[key] = None
            elif key in value:
                restore_nulls(document, sub, value[key], depth + 1)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            restore_nulls(document, schema["items"], item, depth + 1)
    return value


def _has_example(content: dict[str, Any]) -> bool:
    return "example" in content or bool(content.get("examples"))


def add_examples(document: dict[str, Any]) -> dict[str, Any]:
    """Give every request body and every 2xx response an example where none is given, and
    every one of them its nulls back (``restore_nulls``), in place."""
    hints = field_examples(document)
    for item in document.get("paths", {}).values():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            contents = list(operation.get("requestBody", {}).get("content", {}).values())
            for status, response in operation.get("responses", {}).items():
                if str(status).startswith("2") and isinstance(response, dict):
                    contents += list(response.get("content", {}).values())
            for content in contents:
                if not isinstance(content, dict) or not isinstance(content.get("schema"), dict):
                    continue
                if not _has_example(content):
                    content["example"] = copy.deepcopy(schema_example(document, content["schema"], hints=hints))
                if "example" in content:
                    restore_nulls(document, content["schema"], content["example"])
                for example in content.get("examples", {}).values():
                    if isinstance(example, dict) and "value" in example:
                        restore_nulls(document, content["schema"], example["value"])
    return document
