"""Cost of ``CounterStore.apply_batch`` (one Lua call per batch) and of ``figures()``.

    .venv/bin/python bench/counters_micro.py --redis redis://127.0.0.1:26379/0
    .venv/bin/python bench/counters_micro.py --redis redis://127.0.0.1:27000/0 --cluster

``--concurrency N`` keeps N batches of different partitions in flight (a worker owning N
partitions), so Python's encoding overlaps Redis' execution.

Entries: ``--types`` types, ``--explicit`` share with an explicit eventId (dedupe path),
1 % re-sent ids (duplicates), 5 % rejected, accepted entries launching 1 workflow; a
realistic history record (~36-char eventId and contact). Batches go round-robin over the
partitions with increasing positions, timestamps spread over the last minutes. Prints
JSON lines: entries/s end to end (encoding + Redis), the encoding share, then the memory
(``INFO memory`` delta and ``MEMORY USAGE`` of every key) and the time of ``figures()``
for ``--figures-types`` types. Uses its own key prefix and deletes its keys afterwards.

``--day-events N`` instead simulates 24 hours of N events (500-entry batches, the clock
advancing) and prints ``MEMORY USAGE`` summed by key kind.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import re
import time
import uuid
from typing import Any

import orjson
from redis.asyncio.cluster import RedisCluster

from eventgate.connections import RedisClient, redis_client
from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.encode import encode_batch
from eventgate.counters.store import CounterStore
from eventgate.settings import Settings


def make_entries(
    rng: random.Random, start: int, n: int, types: int, explicit: float, now_ms: int
) -> list[BatchEntry]:
    out = []
    for i in range(n):
        pos = start + i
        rejected = rng.random() < 0.05
        dedupe = None
        if rng.random() < explicit:
            # 1 % re-send an id seen a little earlier (a producer retry)
            seq = pos - rng.randint(1, 200) if rng.random() < 0.01 and pos > 200 else pos
            dedupe = f"{uuid.UUID(int=seq):}"
        out.append(
            BatchEntry(
                position=pos,
                timestamp_ms=now_ms - rng.randint(0, 600_000),
                type_key=f"type.{rng.randrange(types)}",
                dedupe_id=dedupe,
                outcome=Outcome.REJECTED if rejected else Outcome.ACCEPTED,
                reason="validation_failed" if rejected else None,
                launched=() if rejected else (f"wf-{rng.randrange(50)}",),
                stopped=(),
                event_id=dedupe or f"eventgate.ingest/0/{pos}",
                key_value=f"contact-{rng.randrange(1_000_000)}@example.com",
            )
        )
    return out


async def used_memory(redis: RedisClient, cluster: bool) -> int:
    """``used_memory`` of INFO memory (summed over the primaries of a cluster)."""
    if isinstance(redis, RedisCluster):
        total = 0
        for node in redis.get_primaries():
            info: Any = await redis.info("memory", target_nodes=node)
            total += int(info["used_memory"])
        return total
    info = await redis.info("memory")
    return int(info["used_memory"])


async def key_bytes(redis: RedisClient, prefix: str, cluster: bool) -> tuple[int, int]:
    total = count = 0
    keys = [k async for k in redis.scan_iter(match=f"{{{prefix}*", count=1000)]
    for k in keys:
        total += int(await redis.memory_usage(k, samples=0) or 0)
        count += 1
    return total, count


async def memory_day(args: argparse.Namespace) -> None:
    """Memory after 24 simulated hours of ``--day-events`` events, by key kind."""
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    settings = Settings(
        redis_url=args.redis,  # type: ignore[arg-type]
        redis_cluster=args.cluster,
        topic_prefix=prefix,
        ingest_partitions=args.partitions,
    )
    redis = redis_client(settings)
    store = CounterStore(redis, settings)
    rng = random.Random(1)  # noqa: S311 - a reproducible workload, not security
    start = 1_900_000_000_000
    positions = [0] * args.partitions
    batches = args.day_events // 500
    try:
        for b in range(batches):
            now = start + b * 86_400_000 // batches
            p = b % args.partitions
            entries = [
                dataclasses.replace(e, timestamp_ms=now - rng.randint(0, 60_000))
                for e in make_entries(rng, positions[p], 500, args.types, args.explicit, now)
            ]
            await store.apply_batch(p, positions[p], positions[p] + 500, entries, now)
            positions[p] += 500
        kinds: dict[str, list[int]] = {}
        async for key in redis.scan_iter(match=f"{{{prefix}*", count=1000):
            kind = re.sub(r"^\{[^}]*\}:", "", key.decode())
            kind = re.sub(r"^c:.*", "c:<bucket>:<shard>", kind)
            kind = re.sub(r"^h:.*", "h:<type>", kind)
            row = kinds.setdefault(kind, [0, 0])
            row[0] += 1
            row[1] += int(await redis.memory_usage(key, samples=0) or 0)
        print(
            orjson.dumps(
                {
                    "dayEvents": batches * 500,
                    "types": args.types,
                    "explicitIdShare": args.explicit,
                    "bytesByKind": {k: {"keys": v[0], "bytes": v[1]} for k, v in kinds.items()},
                    "totalBytes": sum(v[1] for v in kinds.values()),
                }
            ).decode()
        )
    finally:
        doomed = [k async for k in redis.scan_iter(match=f"{{{prefix}*", count=1000)]
        for k in doomed:
            await redis.delete(k)
        await redis.aclose()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis", default="redis://127.0.0.1:26379/0")
    ap.add_argument("--cluster", action="store_true")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--types", type=int, default=200)
    ap.add_argument("--explicit", type=float, default=0.5)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--figures-types", type=int, default=10_000)
    ap.add_argument(
        "--concurrency", type=int, default=1, help="batches of different partitions in flight"
    )
    ap.add_argument(
        "--day-events", type=int, default=0, help="measure memory after a simulated day instead"
    )
    args = ap.parse_args()
    if args.day_events:
        await memory_day(args)
        return
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    settings = Settings(
        redis_url=args.redis,  # type: ignore[arg-type]
        redis_cluster=args.cluster,
        topic_prefix=prefix,
        ingest_partitions=args.partitions,
    )
    redis = redis_client(settings)
    rng = random.Random(7)  # noqa: S311 - a reproducible workload, not security
    now = int(time.time() * 1000)
    store = CounterStore(redis, settings, now_ms=lambda: now)
    base_memory = await used_memory(redis, args.cluster)
    try:
        for size in (500, 5000):
            positions = [0] * args.partitions
            batches = []
            for b in range(args.events // size):
                p = b % args.partitions
                batches.append(
                    (
                        p,
                        positions[p],
                        make_entries(rng, positions[p], size, args.types, args.explicit, now),
                    )
                )
                positions[p] += size
            t0 = time.perf_counter()
            for p, start, entries in batches:
                encode_batch(p, entries, now, store.style, (start, start + size, now, 1, 1, 1, 1))
            encode_s = time.perf_counter() - t0
            # fresh positions for the timed run (a new prefix per size keeps them apart)
            store = CounterStore(
                redis,
                settings.model_copy(update={"topic_prefix": f"{prefix}{size}."}),
                now_ms=lambda: now,
            )
            dups = 0
            t0 = time.perf_counter()
            step = args.concurrency
            for i in range(0, len(batches), step):
                results = await asyncio.gather(
                    *(
                        store.apply_batch(p, start, start + size, entries, now)
                        for p, start, entries in batches[i : i + step]
                    )
                )
                dups += sum(len(r.duplicates) for r in results)
            total_s = time.perf_counter() - t0
            n = len(batches) * size
            print(
                orjson.dumps(
                    {
                        "batch": size,
                        "concurrency": args.concurrency,
                        "entries": n,
                        "explicitIdShare": args.explicit,
                        "types": args.types,
                        "entriesPerSecond": round(n / total_s),
                        "encodeShare": round(encode_s / total_s, 3),
                        "msPerBatch": round(1000 * total_s / len(batches), 2),
                        "duplicates": dups,
                    }
                ).decode()
            )
        memory = await used_memory(redis, args.cluster) - base_memory
        kbytes, nkeys = await key_bytes(redis, prefix, args.cluster)
        print(
            orjson.dumps(
                {
                    "events": 2 * (args.events // 500) * 500,
                    "usedMemoryDelta": memory,
                    "memoryUsageOfKeys": kbytes,
                    "keys": nkeys,
                }
            ).decode()
        )
        keys = [f"type.{i}" for i in range(args.figures_types)]
        timings = []
        for _ in range(5):
            t0 = time.perf_counter()
            figures = await store.figures(keys, now)
            timings.append(time.perf_counter() - t0)
        total = sum(f.volume24h for f in figures.values())
        print(
            orjson.dumps(
                {
                    "figuresTypes": len(keys),
                    "figuresSecondsMin": round(min(timings), 4),
                    "figuresSecondsMedian": round(sorted(timings)[2], 4),
                    "volumeSum": total,
                }
            ).decode()
        )
    finally:
        doomed = [k async for k in redis.scan_iter(match=f"{{{prefix}*", count=1000)]
        for k in doomed:
            await redis.delete(k)
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main())
