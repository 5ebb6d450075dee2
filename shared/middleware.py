"""Pure ASGI middleware: request ids and trace context, access logs, body limits.

Written as raw ASGI (not BaseHTTPMiddleware) so streaming bodies pass through
and the per-request cost stays small.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.context import request_id_var, traceparent_var
from shared.errors import (
    PROBLEM_JSON,
    DomainError,
    InternalError,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    problem_body,
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
access_log = logging.getLogger("access")


def new_traceparent(trace_id: str | None = None) -> str:
    return f"00-{trace_id or secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def send_problem(
    send: Send, status: int, slug: str, title: str, detail: str, instance: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """A problem+json response from raw ASGI code (middleware, the gateway's forwarder)."""
    body = json.dumps(problem_body(status, slug, title, detail, instance)).encode()
    raw = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: DomainError, instance: str) -> None:
    """Render a domain error from raw ASGI code, with its headers (WWW-Authenticate, Retry-After)."""
    await send_problem(send, error.status, error.slug, error.title, error.detail, instance, error.headers)


class RequestContextMiddleware:
    """Gives every request an id and a W3C trace context, and logs it without personal data."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        inbound = _header(scope, b"x-request-id")
        request_id = inbound if inbound and _REQUEST_ID.match(inbound) else uuid.uuid4().hex
        parent = _header(scope, b"traceparent")
        match = _TRACEPARENT.match(parent or "")
        traceparent = new_traceparent(match.group(1) if match else None)
        rid_token = request_id_var.set(request_id)
        tp_token = traceparent_var.set(traceparent)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", [])
                    if k.lower() not in (b"x-request-id", b"traceparent")
                ]
                headers.append((b"x-request-id", request_id.encode()))
                headers.append((b"traceparent", traceparent.encode()))
                message["headers"] = headers
            await send(message)

        response_started = False

        async def tracking(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send_with_ids(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            # Rendered here, inside the request's context, so the 500 carries its request id;
            # only the error's type is logged (its message can hold submitted personal data).
            frames = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in traceback.extract_tb(exc.__traceback__)]
            access_log.error("unhandled error", extra={"error_type": type(exc).__name__, "request_id": request_id,
                                                       "where": frames[-6:]})
            if response_started:
                raise
            await send_problem(send_with_ids, 500, InternalError.slug, InternalError.title,
                               "Something went wrong on our side; quote the request id.", scope.get("path", ""))
        finally:
            if access_log.isEnabledFor(logging.INFO):  # the record is not built when it would be dropped
                principal = scope.get("state", {}).get("principal")
                route = scope.get("route")
                # The route template, never the raw path or query: those can carry identifiers.
                path = getattr(route, "path", None) or "unmatched"
                access_log.info(
                    "request",
                    extra={
                        "service": self.service,
                        "method": scope.get("method"),
                        "route": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "request_id": request_id,
                        "client_id": getattr(principal, "client_id", None),
                    },
                )
            request_id_var.reset(rid_token)
            traceparent_var.reset(tp_token)


JSON_TYPES = ("application/json", "application/merge-patch+json")
# U+0000 as a JSON escape (not itself escaped: an even run of backslashes before it), as a
# percent-escape (query strings, forms) or as a raw byte. PostgreSQL cannot store it in text.
_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")


def _has_nul(data: bytes, *, percent_encoded: bool) -> bool:
    if b"\x00" in data:
        return True
    if percent_encoded:
        return b"%00" in data
    return _JSON_NUL.search(data) is not None


class BodyGuardMiddleware:
    """Checks every request before any handler runs: oversized bodies (413), bodies that are
    not JSON (415), and U+0000 anywhere in the path, query or body (422).

    NUL is refused here, in one place, because no text column of ours can hold it and every
    string a partner sends (names, references, filters, a child's own words) passes through.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        form_paths: Iterable[str] = (),
        exempt_prefixes: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.form_paths = frozenset(form_paths)
        self.exempt_prefixes = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if "\x00" in path or _has_nul(scope.get("query_string", b""), percent_encoded=True):
            await _refuse_nul(send, path, "path or query")
            return
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await send_problem(send, 413, PayloadTooLarge.slug, PayloadTooLarge.title,
                               f"Bodies are limited to {self.max_bytes} bytes.", path)
            return
        has_body = length is None or int(length) > 0
        if has_body and not path.startswith(self.exempt_prefixes):
            ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            allowed: tuple[str, ...] = JSON_TYPES
            if path in self.form_paths:
                allowed = ("application/x-www-form-urlencoded",)
            if length is None and not ctype:
                has_body = False  # no length, no type: a bodiless POST from a plain client
            elif ctype not in allowed:
                await send_problem(send, 415, UnsupportedMediaType.slug, UnsupportedMediaType.title,
                                   f"Send the body as {' or '.join(allowed)}.", path)
                return
        # Read the body here (servers hold it to its declared length; a chunked one is cut at
        # the limit), check it, then hand it on.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await send_problem(send, 413, PayloadTooLarge.slug, PayloadTooLarge.title,
                                   f"Bodies are limited to {self.max_bytes} bytes.", path)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if _has_nul(body, percent_encoded=path in self.form_paths):
            await _refuse_nul(send, path, "body")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _refuse_nul(send: Send, path: str, where: str) -> None:
    # The field is not named: finding it would mean parsing what we refuse, and echoing is not allowed.
    await send_problem(send, 422, Unprocessable.slug, Unprocessable.title,
                       f"The {where} contains a NUL character (U+0000), which no field accepts.", path)


def asgi_state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state
