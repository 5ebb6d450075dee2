"""Request limits: per client on ``/v1``, per source address and per client id on the token endpoint.

Counted with the sliding window counter of the ``limits`` library (a minute's window, the
previous minute weighted by how much of it still overlaps). Where the counts live:

- by default, this process's memory: each gateway replica counts on its own, so with N
  replicas a client gets up to N times the limit (fine for one replica, or to stop a
  runaway partner system);
- with ``GATEWAY_RATE_LIMIT_STORAGE=redis://...``, Redis: every replica counts against the
  same numbers, so the limit holds exactly however many replicas run.

When Redis fails (down, or slower than ``storage_timeout``), each limit does what it was
made to do, never waits and never answers 500:

- ``/v1`` **fails open**: the request goes ahead uncounted. A partner's casework must not
  stop because a counter is unreachable; every such request is counted in
  :attr:`LimitStore.failed_open` and logged (at most once per ``LOG_EVERY_SECONDS``).
- the token endpoint **falls back to this replica's memory** (:attr:`LimitStore.fell_back`):
  guessing secrets stays limited, per replica, while Redis is away. Never unlimited.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Literal

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string

from services.gateway.domain.errors import TokenRequestsLimited

log = logging.getLogger("gateway.ratelimit")
LOG_EVERY_SECONDS = 30.0
#: URL schemes GATEWAY_RATE_LIMIT_STORAGE accepts (besides empty: this process's memory).
SHARED_SCHEMES = ("redis://", "rediss://")

OnFailure = Literal["open", "local"]


class StorageUnavailable(Exception):
    """The shared storage did not answer in time, or answered with an error."""


@dataclass
class LimitStore:
    """Where the counts live: ``shared`` (Redis) if configured, and always this process's memory."""

    shared: Storage | None = None
    storage_timeout: float = 0.25
    local: Storage = field(default_factory=MemoryStorage)
    #: Requests let through uncounted because the shared storage failed (``/v1``).
    failed_open: int = 0
    #: Requests counted in this replica's memory because the shared storage failed (token endpoint).
    fell_back: int = 0
    _logged_at: float = field(default=-LOG_EVERY_SECONDS, repr=False)
    _strategies: dict[int, SlidingWindowCounterRateLimiter] = field(default_factory=dict, repr=False)

    def _strategy(self, storage: Storage) -> SlidingWindowCounterRateLimiter:
        strategy = self._strategies.get(id(storage))
        if strategy is None:
            strategy = self._strategies[id(storage)] = SlidingWindowCounterRateLimiter(storage)
        return strategy

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str, storage_timeout: float) -> LimitStore:
        """``url`` empty or ``memory://``: this process only; ``redis://`` or ``rediss://``: shared."""
        if not url or url == "memory://":
            return cls(storage_timeout=storage_timeout)
        if not url.startswith(SHARED_SCHEMES):
            raise ValueError(f"the rate limit storage must be a {' or '.join(SHARED_SCHEMES)} URL")
        timeout = max(storage_timeout, 0.05)
        shared = storage_from_string(f"async+{url}", key_prefix=key_prefix, wrap_exceptions=True,
                                     connect_timeout=timeout, stream_timeout=timeout)
        if not isinstance(shared, Storage):  # pragma: no cover - async+ always gives an async storage
            raise TypeError("expected an async storage")
        return cls(shared=shared, storage_timeout=storage_timeout)

    @property
    def is_shared(self) -> bool:
        return self.shared is not None

    def _note_failure(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_SECONDS:
            self._logged_at = now
            log.warning("rate limit storage unavailable", extra={
                "action": what, "error_type": type(exc).__name__,
                "failed_open": self.failed_open, "fell_back": self.fell_back,
            })

    async def take(self, item: RateLimitItem, key: tuple[str, ...], on_failure: OnFailure) -> float:
        """Spend one request of ``key``'s allowance: 0 when it may go ahead, else seconds to wait."""
        local = self._strategy(self.local)
        if self.shared is None:
            return await _take(local, item, key)
        try:
            return await asyncio.wait_for(_take(self._strategy(self.shared), item, key), timeout=self.storage_timeout)
        except Exception as exc:  # the storage's errors, timeouts, refused connections alike
            if on_failure == "open":
                self.failed_open += 1
                self._note_failure("failed open", exc)
                return 0.0
            self.fell_back += 1
            self._note_failure("counted in this replica", exc)
            return await _take(local, item, key)


async def _take(limiter: SlidingWindowCounterRateLimiter, item: RateLimitItem, key: tuple[str, ...]) -> float:
    if await limiter.hit(item, *key):
        return 0.0
    reset_at, _ = await limiter.get_window_stats(item, *key)
    return max(1.0, reset_at - time.time())


class RequestLimit:
    """One limit: ``per_minute`` requests per key in the namespace ``name``."""

    def __init__(self, store: LimitStore, name: str, per_minute: int, on_failure: OnFailure) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive; leave the limit out to switch it off")
        self.store = store
        self.item = RateLimitItemPerMinute(per_minute, namespace="gw")
        self.name = name
        self.on_failure: OnFailure = on_failure

    async def take(self, key: str) -> float:
        return await self.store.take(self.item, (self.name, key), self.on_failure)


class TokenEndpointLimits:
    """``POST /oauth/token``: attempts per source address and per client id, failed ones included.

    Checked before the slow secret check, so a guessing client is turned away cheaply. The
    address is counted first and a request it refuses does not spend the client's allowance,
    so one noisy address cannot drain a client id for the others. Someone who knows a client
    id can still use up that client's allowance from many addresses: the limit is set well
    above what a client needs (tokens last 15 minutes). If the shared storage fails, both
    limits are counted in this replica's memory instead.
    """

    def __init__(self, store: LimitStore, per_client: int, per_address: int) -> None:
        self.by_client = RequestLimit(store, "token-client", per_client, "local") if per_client else None
        self.by_address = RequestLimit(store, "token-address", per_address, "local") if per_address else None

    async def admit_address(self, address: str | None) -> None:
        if self.by_address is not None and address:
            wait = await self.by_address.take(address)
            if wait > 0:
                raise TokenRequestsLimited("Too many token requests from this address; retry after the time given.", wait)

    async def admit_client(self, client_id: str) -> None:
        if self.by_client is not None:
            wait = await self.by_client.take(client_id)
            if wait > 0:
                raise TokenRequestsLimited("Too many token requests for this client; retry after the time given.", wait)
