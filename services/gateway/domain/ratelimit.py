"""Requests per client per minute: a token bucket per client, in this process's memory.

Each gateway process counts on its own; with N replicas a client gets up to
N times the limit. Good enough to stop a runaway partner system.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services.gateway.domain.errors import TokenRequestsLimited


class RateLimiter:
    #: Above this many tracked clients, full buckets are forgotten (they carry no state).
    max_tracked = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive; leave the limiter out to switch it off")
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        """Spend one request of ``client``'s allowance.

        Returns 0 when the request may go ahead, otherwise the seconds until it could.
        """
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.refill_per_second)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > self.max_tracked:
                self._forget_full(now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1.0 - tokens) / self.refill_per_second

    def _forget_full(self, now: float) -> None:
        for client, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.refill_per_second >= self.capacity:
                del self._buckets[client]


class TokenEndpointLimits:
    """``POST /oauth/token``: attempts per source address and per client id, failed ones included.

    Checked before the slow secret check, so a guessing client is turned away cheaply. The
    address is counted first and a request it refuses does not spend the client's allowance,
    so one noisy address cannot drain a client id for the others. Someone who knows a client
    id can still use up that client's allowance from many addresses: the limit is set well
    above what a client needs (tokens last 15 minutes).
    """

    def __init__(self, per_client: int, per_address: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.by_client = RateLimiter(per_client, clock) if per_client else None
        self.by_address = RateLimiter(per_address, clock) if per_address else None

    def admit_address(self, address: str | None) -> None:
        if self.by_address is not None and address:
            wait = self.by_address.take(address)
            if wait > 0:
                raise TokenRequestsLimited("Too many token requests from this address; retry after the time given.", wait)

    def admit_client(self, client_id: str) -> None:
        if self.by_client is not None:
            wait = self.by_client.take(client_id)
            if wait > 0:
                raise TokenRequestsLimited("Too many token requests for this client; retry after the time given.", wait)
