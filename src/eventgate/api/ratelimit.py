"""Token buckets, one per caller: the pure logic of the API's rate limit.

A bucket holds up to ``burst`` requests and refills at ``rate_per_s``; a request takes
one, or is refused with the time until one is back (the ``Retry-After`` of the 429).
Time comes from an injectable clock (``time.monotonic`` by default), so tests step it.

The buckets live in this process's memory: the API runs as one process (``eventgate
api``), so one table sees every request. Their number is capped (least recently used
dropped first), so a flood of client addresses cannot grow memory without bound; a
dropped bucket comes back full, which only ever favours the caller.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_MAX_BUCKETS = 10_000


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Buckets keyed by caller (a token's identity, or a client address)."""

    def __init__(
        self,
        rate_per_s: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = DEFAULT_MAX_BUCKETS,
    ) -> None:
        if rate_per_s <= 0 or burst < 1 or max_buckets < 1:
            raise ValueError("rate_per_s must be above 0, burst and max_buckets at least 1")
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.clock = clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, caller: str) -> float:
        """Take one request from ``caller``'s bucket: 0.0 when allowed, else the seconds
        until the bucket holds a request again (nothing is taken then)."""
        now = self.clock()
        bucket = self._buckets.get(caller)
        if bucket is None:
            bucket = Bucket(float(self.burst), now)
            self._buckets[caller] = bucket
            while len(self._buckets) > self.max_buckets:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(caller)
            elapsed = max(0.0, now - bucket.updated)  # a clock never runs back here
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate_per_s)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate_per_s


def retry_after_header(wait_s: float) -> str:
    """``Retry-After`` takes whole seconds: round up, and never say 0 to a refused caller."""
    return str(max(1, math.ceil(wait_s)))
