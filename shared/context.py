"""Per-request context (request id, trace) carried in contextvars."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
traceparent_var: ContextVar[str] = ContextVar("traceparent", default="")


def current_request_id() -> str:
    return request_id_var.get()


def current_traceparent() -> str:
    return traceparent_var.get()
