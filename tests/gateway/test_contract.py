"""The combined OpenAPI document as a contract a generated client can rely on.

The document is built in-process exactly as the gateway serves it (``services.openapi_export``,
also ``python -m services.cli openapi``) and every rule below is checked over all of it.

What a new operation must declare (most of it comes for free):

1. **A readable, unique operationId**: the route function's name is the operationId
   (``shared.openapi.operation_id``), so name the function for what it does
   (``register_child``, ``list_webhook_subscriptions``). Two services may not use one name:
   ``referral.start_statutory_assessment`` beside ``assessment.start_assessment``.
2. **Its scopes**: depend on a scope dependency (``CanRead``, ``CanWrite``, ``IsAdmin``... all
   ``shared.auth.require_scopes``); the operation's ``security`` then lists them. A route
   without a token is listed in ``PUBLIC`` below with the reason.
3. **Typed bodies and responses with unique schema names**: ``response_model=`` (or a return
   annotation) with a Pydantic model whose class name no other service uses for another
   shape; the merge refuses a clash (``SchemaClash``).
4. **Examples**: every request body and success response gets one built from the schema
   (``shared.openapi.add_examples``: a field's ``examples=[...]``, else its default, else its
   type). Give a model ``model_config = ConfigDict(json_schema_extra={"examples": [{...}]})``
   or the route ``responses={201: {"content": {"application/json": {"example": {...}}}}}`` for
   a realistic one; whichever it is must validate against the schema.
5. **Its errors**: ``responses=problems(...)`` for the domain errors the route raises itself;
   what follows from its shape (token 401/403/429, JSON body 400/413/415/422, path ids 404,
   If-Match 400/412/428, Idempotency-Key 400/409/422, the gateway's 502/503/504) is added by
   ``shared.openapi`` and checked here.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from services.gateway.domain.credentials import SCOPES
from services.gateway.openapi_merge import SchemaClash, merge_documents
from services.openapi_export import combined_document

METHODS = ("get", "put", "post", "delete", "patch")
#: Operations that take no bearer token, and why.
PUBLIC = {
    "issue_token": "the token endpoint itself: client id and secret (HTTP Basic)",
    "get_jwks": "the public keys that verify tokens",
    "livez": "health",
    "readyz": "health",
    "receive_event": "service-to-service events, signed with the shared webhook secret",
}
#: Statuses every operation of a shape must document.
FORWARDED = {"502", "503", "504"}
SECURED = {"401", "403", "429"}
JSON_BODY = {"400", "413", "415", "422"}
IF_MATCH = {"400", "412", "428"}
IDEMPOTENT = {"400", "409", "422"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return combined_document("https://gateway.partnership.example")


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """Validates against ``schema``; its ``#/components/...`` references resolve in ``document``."""
    root = {"components": document["components"], **schema}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def examples_of(content: dict[str, Any]) -> list[tuple[str, Any]]:
    found = [("example", content["example"])] if "example" in content else []
    return found + [(name, entry.get("value")) for name, entry in content.get("examples", {}).items()]


def parameters(operation: dict[str, Any], where: str) -> set[str]:
    return {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == where}


def test_the_document_passes_the_openapi_linter(document: dict[str, Any]) -> None:
    validate(document)  # openapi-spec-validator: OpenAPI 3.1 and JSON Schema, offline


def test_servers_name_the_gateway(document: dict[str, Any]) -> None:
    assert document["servers"][0]["url"] == "https://gateway.partnership.example"
    flow = document["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "https://gateway.partnership.example/oauth/token"
    assert flow["scopes"] == SCOPES


def test_operation_ids_are_the_function_names_and_unique(document: dict[str, Any]) -> None:
    ids = Counter(operation.get("operationId") for _, _, operation in operations(document))
    assert not [name for name, n in ids.items() if n > 1]
    for path, method, operation in operations(document):
        name = operation.get("operationId", "")
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), (method, path, name)
        assert not name.endswith(f"_{method}"), (method, path, name)  # FastAPI's default: name_path_method
    assert ids["register_child"] == 1
    assert {"start_statutory_assessment", "start_assessment", "authorise_statutory_assessment",
            "authorise_assessment"} <= ids.keys()


def test_every_operation_names_its_scopes(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        name = operation["operationId"]
        if name in PUBLIC:
            assert not any("OAuth2" in requirement for requirement in operation.get("security", [])), name
            continue
        security = operation.get("security")
        assert security, (method, path)
        assert [list(requirement) for requirement in security] == [["OAuth2"]], (method, path, security)
        scopes = security[0]["OAuth2"]
        assert scopes, (method, path)
        assert set(scopes) <= SCOPES.keys(), (method, path, scopes)
    register = document["paths"]["/v1/children"]["post"]
    assert register["security"] == [{"OAuth2": ["referral:write"]}]
    assert document["paths"]["/v1/clients"]["post"]["security"] == [{"OAuth2": ["admin"]}]


def inline_object_titles(node: Any) -> Iterator[str]:
    """Titles of object schemas inside others (a ``dict[str, X]`` field): a generated client makes
    each a type named by its title, so they share the components' namespace."""
    if isinstance(node, dict):
        if node.get("type") == "object" and isinstance(node.get("title"), str) and "$ref" not in node:
            yield node["title"]
        for key, value in node.items():
            if key not in ("examples", "example", "default"):
                yield from inline_object_titles(value)
    elif isinstance(node, list):
        for value in node:
            yield from inline_object_titles(value)


def test_no_two_schemas_share_a_title(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    titles = Counter(schema.get("title", name) for name, schema in schemas.items())
    for schema in schemas.values():
        titles.update(inline_object_titles({key: value for key, value in schema.items() if key != "title"}))
    assert [title for title, n in titles.items() if n > 1] == []
    assert "StatutoryAssessmentRead" in schemas
    assert "AssessmentRead" in schemas  # the toolkit assessment's, typed on its operations
    toolkit = document["paths"]["/v1/assessments"]["post"]["responses"]["201"]["content"]["application/json"]
    assert toolkit["schema"] == {"$ref": "#/components/schemas/AssessmentRead"}


def _doc(schemas: dict[str, Any], path: str) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "components": {"schemas": schemas},
            "paths": {path: {"get": {"operationId": path.strip("/v1"), "responses": {}}}}}


def test_the_merge_fails_loudly_on_a_clash() -> None:
    own = _doc({}, "/oauth/token")
    referral = _doc({"AssessmentRead": {"title": "AssessmentRead", "type": "object"}}, "/v1/children")
    assessment = _doc({"AssessmentRead": {"title": "AssessmentRead", "type": "string"}}, "/v1/toolkits")
    owner = {"/v1/children": "referral", "/v1/toolkits": "assessment"}.get
    with pytest.raises(SchemaClash, match="AssessmentRead"):
        merge_documents(own, {"referral": referral, "assessment": assessment}, [], owner)
    # The same name written the same way is one schema; two names with one title are a clash.
    same = merge_documents(own, {"referral": referral, "assessment": copy.deepcopy(referral)}, [], owner)
    assert list(same["components"]["schemas"]) == ["AssessmentRead"]
    titled = _doc({"StatutoryAssessmentRead": {"title": "AssessmentRead", "type": "string"}}, "/v1/toolkits")
    with pytest.raises(SchemaClash, match="title"):
        merge_documents(own, {"referral": referral, "assessment": titled}, [], owner)


def test_every_body_and_success_response_has_a_valid_whole_example(document: dict[str, Any]) -> None:
    checked = 0
    for path, method, operation in operations(document):
        contents = [("request", media, c) for media, c in operation.get("requestBody", {}).get("content", {}).items()]
        for status, response in operation["responses"].items():
            for media, content in response.get("content", {}).items():
                contents.append((status, media, content))
        for where, media, content in contents:
            found = examples_of(content)
            if where == "request" or where.startswith("2"):
                assert found, (method, path, where, media)
            for name, value in found:
                errors = list(validator(document, content["schema"]).iter_errors(value))
                assert not errors, (method, path, where, media, name, [e.message for e in errors[:3]])
                checked += 1
            if where.startswith("2"):
                # whole: a response shows every property (a request may leave out the optional ones)
                schema = content["schema"]
                ref = schema.get("$ref", "")
                if ref and isinstance(found[0][1], dict):
                    properties = document["components"]["schemas"][ref.rsplit("/", 1)[1]].get("properties", {})
                    assert set(properties) <= set(found[0][1]), (method, path, where, set(properties) - set(found[0][1]))
    assert checked > 500


def test_every_status_an_operation_can_answer_is_documented(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        name, responses = operation["operationId"], operation["responses"]
        statuses = set(responses)
        expected: set[str] = set()
        if path.startswith("/v1/") and name not in ("issue_token",):
            expected |= FORWARDED if not path.startswith(("/v1/clients", "/v1/audit/gateway")) else set()
        if operation.get("security") and name not in PUBLIC:
            expected |= SECURED
        body = operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            expected |= JSON_BODY
        headers = parameters(operation, "header")
        if "if-match" in headers:
            expected |= IF_MATCH
        if "idempotency-key" in headers:
            expected |= IDEMPOTENT
        if parameters(operation, "path"):
            expected.add("404")
        if operation.get("parameters") or body:
            expected.add("422")
        assert expected <= statuses, (method, path, sorted(expected - statuses))
        assert any(s.startswith("2") for s in statuses), (method, path)
        for status, response in responses.items():
            if status >= "400":
                problem = response.get("content", {}).get("application/problem+json")
                if problem is None:
                    continue  # documented as something else by the route (a CSV 404, say)
                assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
                assert problem.get("examples"), (method, path, status)


def test_the_problem_schema_declares_error_and_rule(document: dict[str, Any]) -> None:
    properties = document["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "request_id", "errors", "rule", "error"} <= properties.keys()
    assert properties["error"]["type"] == properties["rule"]["type"] == "string"
