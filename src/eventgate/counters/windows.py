"""Rolling-window arithmetic of the 24-hour counters. Pure, no I/O.

Time is cut into buckets of ``BUCKET_MS`` (5 minutes); bucket ``b`` covers
``[b * BUCKET_MS, (b + 1) * BUCKET_MS)``. At instant ``now`` the window holds the
``WINDOW_BUCKETS`` (288) buckets ``lo .. cur`` where ``cur = now // BUCKET_MS`` and
``lo = cur - 287``: it starts at most one bucket after ``now - 24 h``, so a figure misses
at most the part of one bucket that is still inside the exact window (SPEC §8: "within
one bucket").

A record is counted in the bucket of its ingest timestamp, clamped to ``[lo, cur]``
(SPEC §8 clamps to ``[now - 24 h, now]``; the bucket of ``now - 24 h`` itself is already
outside the window, so the clamp is to its successor).

The Lua scripts keep, per partition, a *totals* hash equal to the sum of the buckets
``wm + 1 .. hi`` (``wm`` = the watermark: every bucket ``<= wm`` has been subtracted).
Bucket keys live ``BUCKET_GRACE_MS`` past the moment they leave the window, so an idle
partition can still be corrected by subtracting them; past that grace, the totals are
recomputed from the buckets still in the window (``needs_recount``).
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
BUCKET_MS = 5 * MINUTE_MS
WINDOW_BUCKETS = DAY_MS // BUCKET_MS  # 288
BUCKET_GRACE_MS = 30 * MINUTE_MS
# Partition-level keys (position, totals, history) are refreshed on every write and
# expire this long after the last one; no key of the counters lives longer.
KEY_TTL_MS = 25 * HOUR_MS


@dataclass(frozen=True, slots=True)
class Window:
    """The buckets in the window at one instant: ``lo .. cur`` inclusive."""

    lo: int
    cur: int

    def clamp(self, bucket: int) -> int:
        return min(max(bucket, self.lo), self.cur)

    def __contains__(self, bucket: object) -> bool:
        return isinstance(bucket, int) and self.lo <= bucket <= self.cur


def window_at(now_ms: int) -> Window:
    cur = now_ms // BUCKET_MS
    return Window(cur - WINDOW_BUCKETS + 1, cur)


def bucket_of(timestamp_ms: int, now_ms: int) -> int:
    """The bucket a record with this timestamp counts in, at instant ``now_ms``."""
    return window_at(now_ms).clamp(timestamp_ms // BUCKET_MS)


def bucket_expiry_ms(bucket: int) -> int:
    """When a bucket key expires: ``BUCKET_GRACE_MS`` after its last instant leaves the window."""
    return (bucket + 1) * BUCKET_MS + DAY_MS + BUCKET_GRACE_MS


def bucket_ttl_ms(bucket: int, now_ms: int) -> int:
    """The relative TTL to set on a bucket key written at ``now_ms`` (always >= 1)."""
    return max(1, bucket_expiry_ms(bucket) - now_ms)


def totals_ttl_ms(highest_bucket: int, now_ms: int) -> int:
    """TTL of a totals hash whose newest bucket is ``highest_bucket``: it expires once that
    bucket has left the window, i.e. once the totals can only hold zeros."""
    return max(1, (highest_bucket + WINDOW_BUCKETS + 1) * BUCKET_MS - now_ms)


def needs_recount(watermark: int, now_ms: int) -> bool:
    """True when the oldest bucket not yet subtracted (``watermark + 1``) may already have
    expired, so totals must be recomputed from the buckets in the window."""
    return now_ms >= bucket_expiry_ms(watermark + 1) - MINUTE_MS


def stale_buckets(watermark: int, highest: int, now_ms: int) -> range:
    """The buckets a reader must subtract from totals last rolled at ``watermark``: those
    that have left the window since (empty when the totals are current)."""
    window = window_at(now_ms)
    return range(watermark + 1, min(window.lo - 1, highest) + 1)
