"""26 simulated hours of traffic against real Redis (and a Redis Cluster): every figure
stays within one bucket of a brute-force count, and no key outlives 25 hours.

The clock is injected. Redis expires keys in real time, which the simulation outruns, so
the test emulates expiry in simulated time: it reads every key's TTL after each step and
deletes the keys whose simulated expiry has passed — the store must cope with its keys
disappearing exactly when their TTLs say.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass

from eventgate.connections import RedisClient
from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.results import Failure, apply_results
from eventgate.counters.store import CounterStore
from eventgate.counters.windows import BUCKET_MS, DAY_MS, HOUR_MS, MINUTE_MS
from eventgate.settings import Settings

TYPES = [f"type.{i}" for i in range(6)]
PARTITIONS = 3
START = 1_900_000_000_000 + 123_456  # not aligned on a bucket


@dataclass
class Counted:
    """One counted fact: its effective (clamped) time and what it adds."""

    time_ms: int
    type_key: str
    volume: int
    rejected: int
    launched: int
    errors: int


def effective(ts: int, now: int) -> int:
    return min(max(ts, now - DAY_MS), now)


async def all_keys(redis: RedisClient, prefix: str) -> list[bytes]:
    return [k async for k in redis.scan_iter(match=f"{{{prefix}*", count=1000)]


class ExpiryEmulator:
    """Expires keys in simulated time. A key's TTL read back equals what real time alone
    leaves of the previous reading unless a write set it again since; then its simulated
    expiry is recomputed from now (the write happened at or before now, so a key is only
    ever deleted late, never early). Every key must have a TTL of at most 25 h."""

    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.seen: dict[bytes, tuple[int, float, int]] = {}  # key -> (pttl, read at, expiry)

    async def step(self, now: int) -> None:
        keys = await all_keys(self.redis, self.prefix)
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.pttl(key)
        ttls = await pipe.execute()
        real = time.monotonic()
        current: dict[bytes, tuple[int, float, int]] = {}
        for key, ttl in zip(keys, ttls, strict=True):
            assert ttl > 0, f"{key!r} has no TTL ({ttl})"
            assert ttl <= 25 * HOUR_MS, f"{key!r} lives {ttl / HOUR_MS:.2f} h"
            old = self.seen.get(key)
            if old is not None and abs(old[0] - (real - old[1]) * 1000 - ttl) < 200:
                current[key] = (ttl, real, old[2])
            else:
                current[key] = (ttl, real, now + ttl)
        doomed = [key for key, (_, _, when) in current.items() if when <= now]
        for key in doomed:
            await self.redis.delete(key)
            del current[key]
        self.seen = current


def check_figures(got: dict[str, object], facts: list[Counted], now: int) -> None:
    for type_key in TYPES:
        fig = got[type_key]
        for name, attr in (
            ("volume", "volume24h"),
            ("rejected", "rejected24h"),
            ("launched", "launched24h"),
            ("errors", "errors24h"),
        ):
            inner = sum(
                getattr(f, name)
                for f in facts
                if f.type_key == type_key and now - DAY_MS + BUCKET_MS < f.time_ms <= now
            )
            outer = sum(
                getattr(f, name)
                for f in facts
                if f.type_key == type_key and now - DAY_MS - BUCKET_MS < f.time_ms <= now
            )
            value = getattr(fig, attr)
            assert inner <= value <= outer, (
                f"{type_key} {name} at +{(now - START) / HOUR_MS:.2f} h: "
                f"{value} not in [{inner}, {outer}]"
            )


def active(partition: int, hour: float) -> bool:
    if partition == 1:
        return not 10 <= hour < 11.5  # idle 90 min: the Lua recount path
    if partition == 2:
        return not 3 <= hour < 20  # idle 17 h: readers correct, then recount
    return True


async def test_26_hours_within_one_bucket_and_ttls(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    settings = settings.model_copy(update={"ingest_partitions": PARTITIONS})
    store = CounterStore(redis, settings, error_shards=2)
    rng = random.Random(2604)
    facts: list[Counted] = []
    positions = [0] * PARTITIONS
    remembered: dict[tuple[int, str, str], int] = {}  # (partition, type, id) -> position
    recent_ids: list[tuple[str, str, int]] = []
    expiry = ExpiryEmulator(redis, settings.topic_prefix)
    results_pos = 0
    failed_seen: dict[str, int] = {}
    now = START
    step = 0
    while now < START + 26 * HOUR_MS:
        hour = (now - START) / HOUR_MS
        for p in range(PARTITIONS):
            if not active(p, hour):
                continue
            entries = []
            for _ in range(rng.randint(5, 30)):
                pos = positions[p]
                positions[p] += 1
                roll = rng.random()
                ts = now - rng.randint(0, 3 * MINUTE_MS)
                if roll < 0.05:
                    ts = now - DAY_MS - rng.randint(1, 5 * HOUR_MS)  # very late
                elif roll < 0.08:
                    ts = now + rng.randint(1, 20 * MINUTE_MS)  # clock ahead
                type_key = rng.choice(TYPES) if rng.random() > 0.03 else None
                dedupe_id = None
                if type_key is not None and rng.random() < 0.3:
                    fresh = [r for r in recent_ids if r[2] > now - 12 * HOUR_MS]
                    if fresh and rng.random() < 0.15:
                        type_key, dedupe_id, _ = rng.choice(fresh)
                    else:
                        dedupe_id = uuid.UUID(int=rng.getrandbits(128)).hex
                rejected = rng.random() < 0.1
                launched = () if rejected else tuple(f"wf{i}" for i in range(rng.randint(0, 2)))
                entries.append(
                    BatchEntry(
                        pos,
                        ts,
                        type_key,
                        dedupe_id,
                        Outcome.REJECTED if rejected else Outcome.ACCEPTED,
                        "validation_failed" if rejected else None,
                        launched,
                        (),
                        dedupe_id or f"derived/{p}/{pos}",
                        f"contact-{rng.randrange(100)}",
                    )
                )
            expected_dups = set()
            for e in entries:
                if e.type_key is None:
                    continue
                key = (p, e.type_key, e.dedupe_id or "")
                first = remembered.get(key) if e.dedupe_id else None
                if first is not None and first != e.position:
                    expected_dups.add(e.position)
                    continue
                if e.dedupe_id and first is None and e.outcome is Outcome.ACCEPTED:
                    remembered[key] = e.position
                    recent_ids.append((e.type_key, e.dedupe_id, now))
                rej = 1 if e.outcome is Outcome.REJECTED else 0
                facts.append(
                    Counted(effective(e.timestamp_ms, now), e.type_key, 1, rej, len(e.launched), 0)
                )
            result = await store.apply_batch(
                p, entries[0].position, entries[-1].position + 1, entries, now
            )
            assert result.duplicates == expected_dups
        # workflow results: some failures, some reported twice
        failures = []
        for _ in range(rng.randint(0, 6)):
            if failed_seen and rng.random() < 0.3:
                command = rng.choice(list(failed_seen))
            else:
                command = str(uuid.uuid5(uuid.NAMESPACE_URL, f"c{rng.getrandbits(64)}"))
            type_key = rng.choice(TYPES)
            ts = now - rng.randint(0, MINUTE_MS)
            failures.append(Failure(results_pos, command, type_key, ts))
            results_pos += 1
            if command not in failed_seen:
                failed_seen[command] = now
                facts.append(Counted(effective(ts, now), type_key, 0, 0, 0, 1))
        if failures:
            await apply_results(store, 0, results_pos, failures, now)
        # forget commandIds older than the window in the model, as the store does
        failed_seen = {c: t for c, t in failed_seen.items() if t > now - 20 * HOUR_MS}
        if hour > 13 and step % 5 == 0:
            await store.roll(now)
        check_figures(await store.figures(TYPES, now), facts, now)
        if step % 5 == 0:
            await expiry.step(now)
        step += 1
        now += rng.randint(5 * MINUTE_MS, 11 * MINUTE_MS)
    # the keys left are bounded: buckets of at most one window per partition and shard
    keys = await all_keys(redis, settings.topic_prefix)
    buckets = [k for k in keys if b":c:" in k]
    assert len(buckets) <= (PARTITIONS + 2) * 290 * len(TYPES)
    # 26 h later with no traffic, everything is gone from the figures
    later = now + DAY_MS + BUCKET_MS
    assert all(
        f.volume24h == 0 and f.errors24h == 0 for f in (await store.figures(TYPES, later)).values()
    )
