"""Per-client token buckets.

The limits exist to keep one runaway caller from starving the others, not to pace a healthy
one: the defaults (2000/s, bursts of 4000) sit above what one internal app sends at full speed.
Buckets are keyed by verified client id only, so their number is bounded by the clients that
can obtain tokens, never by what an anonymous caller makes up.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class ClientRateLimiter:
    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0 or burst < 1:
            raise ValueError("rate_per_second must be positive and burst at least 1")
        self._rate = rate_per_second
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, client_id: str) -> float:
        """Take one request's token; 0.0 when allowed, else the seconds until one is available."""
        now = self._clock()
        tokens, last = self._buckets.get(client_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1.0:
            self._buckets[client_id] = (tokens - 1.0, now)
            return 0.0
        self._buckets[client_id] = (tokens, now)
        return (1.0 - tokens) / self._rate


def retry_after_seconds(wait: float) -> int:
    """``Retry-After`` takes whole seconds; never advise retrying sooner than the wait."""
    return max(1, math.ceil(wait))
