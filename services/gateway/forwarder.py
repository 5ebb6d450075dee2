"""The forwarding path: a raw ASGI app in front of the gateway's FastAPI app.

Requests under ``/v1`` go to the service that owns the path (``domain/routing``)
over one pooled aiohttp session per service; everything else falls through to
the FastAPI app (token endpoint, JWKS, docs, health). Not a FastAPI route:
DESIGN.md §9 measured the difference.

On the way the gateway limits the body size, checks the bearer token (every
service checks it again), applies the per-client rate limit, strips hop-by-hop
headers both ways, passes on the request id and trace context, and streams
request bodies and large answers (exports); an answer of up to 64 KiB declared
by Content-Length is read whole and passed on in one message. Content types are
the services' business (415).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from yarl import URL

from services.gateway.domain.ratelimit import RequestLimit
from shared.context import current_request_id, current_traceparent
from shared.errors import (
    BadGateway,
    DomainError,
    GatewayTimeout,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from shared.middleware import send_error
from shared.tokens import TokenVerifier

log = logging.getLogger("gateway.forwarder")

RawHeaders = list[tuple[bytes, bytes]]

# RFC 9110 §7.6.1 connection-specific fields, plus the obsolete ones proxies still meet.
HOP_BY_HOP = frozenset({
    b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer",
    b"transfer-encoding", b"upgrade",
})
# Set by the gateway itself, or answered by the server that received the request.
_REQUEST_OWN = frozenset({
    b"host", b"expect", b"x-request-id", b"traceparent", b"x-forwarded-proto", b"x-forwarded-host",
})
# The gateway's server adds its own Date and Server; two of each would confuse clients.
_RESPONSE_OWN = frozenset({b"date", b"server"})
# aiohttp adds these unless told not to; the client's own values (or none) pass instead.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
_BODILESS_RESPONSES = {204, 304}
# Answers up to this size (declared by Content-Length) are read whole before they are passed on;
# larger or undeclared ones (exports) stream chunk by chunk.
_WHOLE_BODY_BYTES = 64 * 1024


def end_to_end(headers: Iterable[tuple[bytes, bytes]], drop: frozenset[bytes] = frozenset()) -> RawHeaders:
    """The headers without hop-by-hop ones, those named in ``Connection``, any ``Proxy-*`` and ``drop``."""
    pairs = [(name.lower(), value) for name, value in headers]
    named = {
        token.strip().lower()
        for name, value in pairs if name == b"connection"
        for token in value.split(b",")
    }
    return [
        (name, value) for name, value in pairs
        if name not in HOP_BY_HOP and name not in named and name not in drop
        and not name.startswith(b"proxy-")
    ]


class Upstream:
    """One service behind the gateway and its connection pool."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        connect_timeout: float,
        read_timeout: float,
        pool_size: int = 100,
        keepalive_seconds: float = 4.0,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.pool_size = pool_size
        self.keepalive_seconds = keepalive_seconds
        self.session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self.session is not None or not self.base_url:
            return
        connector = aiohttp.TCPConnector(
            limit=self.pool_size, limit_per_host=0, keepalive_timeout=self.keepalive_seconds,
            ttl_dns_cache=60,
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            # sock_read bounds each wait for response bytes, not the whole (streamed) response;
            # connect also covers waiting for a free pooled connection.
            timeout=aiohttp.ClientTimeout(
                total=None, connect=self.connect_timeout + self.read_timeout,
                sock_connect=self.connect_timeout, sock_read=self.read_timeout,
            ),
            auto_decompress=False,  # bodies pass through byte for byte
            cookie_jar=aiohttp.DummyCookieJar(),  # one client's cookies must never reach another's request
            skip_auto_headers=_NO_AUTO_HEADERS,
            trust_env=False,
        )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def url(self, raw_path: bytes, query: bytes) -> URL:
        target = self.base_url + raw_path.decode("latin-1")
        if query:
            target += "?" + query.decode("latin-1")
        # encoded=True: the client's percent-encoding reaches the service unchanged.
        return URL(target, encoded=True)

    async def get_json(self, path: str, within: float) -> Any:
        """A JSON document from the service, or None when it cannot give one."""
        if self.session is None:
            return None
        try:
            async with self.session.get(
                self.base_url + path, headers={"Accept": "application/json"}, allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=within),
            ) as response:
                if response.status != 200:
                    return None
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None


class UpstreamPool:
    def __init__(self, upstreams: Mapping[str, Upstream]) -> None:
        self.upstreams = dict(upstreams)

    @classmethod
    def from_urls(
        cls, urls: Mapping[str, str], *, connect_timeout: float, read_timeout: float,
        pool_size: int = 100, keepalive_seconds: float = 4.0,
    ) -> UpstreamPool:
        return cls({
            name: Upstream(name, url, connect_timeout=connect_timeout, read_timeout=read_timeout,
                           pool_size=pool_size, keepalive_seconds=keepalive_seconds)
            for name, url in urls.items()
        })

    @property
    def names(self) -> list[str]:
        return list(self.upstreams)

    def get(self, name: str) -> Upstream | None:
        return self.upstreams.get(name)

    async def start(self) -> None:
        for upstream in self.upstreams.values():
            await upstream.start()

    async def close(self) -> None:
        for upstream in self.upstreams.values():
            await upstream.close()


@dataclass(frozen=True)
class ForwardedRoute:
    """Stands in for a FastAPI route in the access log: the service, never the raw path."""

    path: str


class _ClientGone(Exception):
    pass


class _UpstreamBroke(Exception):
    """The service failed after its response had started: the client's connection is cut."""


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


class Forwarder:
    """ASGI: forwards ``/v1`` to the owning service, hands everything else to ``app``."""

    def __init__(
        self,
        app: ASGIApp,
        pool: UpstreamPool,
        verifier: TokenVerifier,
        route_for: Callable[[str], str | None],
        *,
        max_body_bytes: int,
        limiter: RequestLimit | None = None,
    ) -> None:
        self.app = app
        self.pool = pool
        self.verifier = verifier
        self.route_for = route_for
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        service = self.route_for(scope["path"]) if scope["type"] == "http" else None
        if service is None:
            if scope["type"] == "http" and (scope["path"] == "/v1" or scope["path"].startswith("/v1/")):
                # The gateway's own /v1 paths: the same token check and rate limit as forwarded ones.
                try:
                    await self._admit(scope)
                except DomainError as error:
                    await send_error(send, error, scope["path"])
                    return
            await self.app(scope, receive, send)
            return
        scope["route"] = ForwardedRoute(f"/v1/** -> {service}")
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            self._check_declared_length(scope)
            await self._admit(scope)
            await self._forward(service, scope, receive, tracking_send)
        except _ClientGone:
            return
        except DomainError as error:
            if started:
                raise _UpstreamBroke(type(error).__name__) from error
            await send_error(send, error, scope["path"])

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"Bodies are limited to {self.max_body_bytes} bytes.")

    def _check_declared_length(self, scope: Scope) -> None:
        declared = _header(scope["headers"], b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > self.max_body_bytes):
            raise self._too_large()

    async def _admit(self, scope: Scope) -> None:
        authorization = (_header(scope["headers"], b"authorization") or b"").decode("latin-1")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("A bearer token is required: ask POST /oauth/token for one.")
        principal = await self.verifier.verify(token.strip())
        scope.setdefault("state", {})["principal"] = principal
        if self.limiter is not None:
            wait = await self.limiter.take(principal.client_id)
            if wait > 0:
                error = TooManyRequests("This client has used up its requests for now; retry after the time given.")
                error.headers["Retry-After"] = str(max(1, int(wait + 0.999)))
                raise error

    def _request_headers(self, scope: Scope) -> list[tuple[str, str]]:
        inbound: RawHeaders = scope["headers"]
        headers = end_to_end(inbound, _REQUEST_OWN | {b"x-forwarded-for"})
        client = scope.get("client")
        forwarded_for = _header(inbound, b"x-forwarded-for")
        if client:
            peer = str(client[0]).encode("latin-1")
            forwarded_for = forwarded_for + b", " + peer if forwarded_for else peer
        if forwarded_for:
            headers.append((b"x-forwarded-for", forwarded_for))
        headers.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode()))
        host = _header(inbound, b"host")
        if host:
            headers.append((b"x-forwarded-host", host))
        # The gateway's request id, so the service's logs and problems carry the same one.
        headers.append((b"x-request-id", current_request_id().encode()))
        headers.append((b"traceparent", current_traceparent().encode()))
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]

    async def _forward(self, service: str, scope: Scope, receive: Receive, send: Send) -> None:
        upstream = self.pool.get(service)
        if upstream is None or upstream.session is None:
            raise ServiceUnavailable(f"The {service} service is not configured at this gateway.")
        method: str = scope["method"]
        inbound: RawHeaders = scope["headers"]
        has_body = (
            _header(inbound, b"transfer-encoding") is not None
            or (_header(inbound, b"content-length") or b"0").strip() not in (b"0", b"")
        )
        failures: list[BaseException] = []

        async def body() -> AsyncIterator[bytes]:
            # Passed on chunk by chunk as it arrives: never held whole in the gateway.
            received = 0
            try:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _ClientGone
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    if received > self.max_body_bytes:
                        raise self._too_large()
                    if chunk:
                        yield chunk
                    if not message.get("more_body", False):
                        return
            except Exception as exc:
                # aiohttp wraps what the body raises; keep the original to answer with.
                failures.append(exc)
                raise

        url = upstream.url(scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b""))
        try:
            async with upstream.session.request(
                method, url, headers=self._request_headers(scope),
                data=body() if has_body else None, allow_redirects=False,
            ) as response:
                headers = end_to_end(response.raw_headers, _RESPONSE_OWN)
                bodiless = method == "HEAD" or response.status in _BODILESS_RESPONSES
                length = response.content_length
                if bodiless or (length is not None and length <= _WHOLE_BODY_BYTES):
                    # A small body (most answers) is read whole, then sent with the headers in two
                    # messages instead of three; a service failing mid-body is still a clean 502.
                    payload = b"" if bodiless else await response.read()
                    await send({"type": "http.response.start", "status": response.status, "headers": headers})
                    await send({"type": "http.response.body", "body": payload, "more_body": False})
                    return
                await send({"type": "http.response.start", "status": response.status, "headers": headers})
                try:
                    async for chunk in response.content.iter_any():
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                except (aiohttp.ClientError, TimeoutError) as exc:
                    log.warning("upstream response broke off", extra={"upstream": service, "error_type": type(exc).__name__})
                    raise _UpstreamBroke(service) from exc
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except (aiohttp.ClientError, TimeoutError) as exc:
            if failures:
                raise failures[0] from None
            raise self._problem_for(service, upstream, exc) from exc

    def _problem_for(self, service: str, upstream: Upstream, exc: BaseException) -> DomainError:
        log.warning("upstream failed", extra={"upstream": service, "error_type": type(exc).__name__})
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return GatewayTimeout(f"The {service} service did not accept a connection within {upstream.connect_timeout:g} s.")
        if isinstance(exc, TimeoutError):
            return GatewayTimeout(f"The {service} service did not answer within {upstream.read_timeout:g} s.")
        if isinstance(exc, aiohttp.ClientConnectorError):
            return BadGateway(f"The {service} service could not be reached.")
        return BadGateway(f"The {service} service failed to give a valid response.")
