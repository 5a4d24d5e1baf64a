"""Registry start-up figures: load time and memory per type (a benchmark: it lives with the
others under ``bench/``, and ``bench/run.py`` uses its ``fill_registry``).

    .venv/bin/python bench/registry_load.py --bootstrap 127.0.0.1:29092 --types 10000

Writes ``--types`` event-type records (each with a ``--params``-param structure) to a
fresh registry topic, then loads it into a new ``RegistryState`` twice: once timed
(wall clock from reader start to ``loaded()``), once under tracemalloc (bytes held by
the state after load, divided by the number of types). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import resource
import time
import tracemalloc
import uuid

import orjson
from aiokafka import AIOKafkaProducer

from eventgate.connections import kafka_common
from eventgate.registry import records
from eventgate.registry.log import RegistryReader
from eventgate.registry.model import new_auto_type
from eventgate.registry.state import RegistryState
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

NOW_MS = 1_767_225_600_000


def _structure(params: int) -> bytes:
    fields = {
        f"param{i:02d}": {"kind": ("string", "integer", "number")[i % 3], "firstSeenMs": NOW_MS}
        for i in range(params)
    }
    return orjson.dumps({"format": 1, "params": fields})


async def fill_registry(settings: Settings, types: int, params: int) -> None:
    """Write ``types`` auto types (``bench.type.NNNNNN``) straight to the registry topic."""
    producer = AIOKafkaProducer(
        **kafka_common(settings, "registry-bench"),
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
    )
    await producer.start()
    try:
        structure = _structure(params)
        futures = []
        for i in range(types):
            t = dataclasses.replace(
                new_auto_type(f"bench.type.{i:06d}", NOW_MS + i), structure_json=structure
            )
            key, value = records.encode(t, "bench")
            futures.append(await producer.send(settings.topic("registry"), value, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _load(settings: Settings) -> tuple[RegistryState, float]:
    state = RegistryState()
    reader = RegistryReader(settings, state, client_id="registry-bench-reader")
    started = time.perf_counter()
    await reader.start()
    await reader.loaded()
    elapsed = time.perf_counter() - started
    await reader.stop()
    return state, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", default="127.0.0.1:29092")
    parser.add_argument("--types", type=int, default=10_000)
    parser.add_argument("--params", type=int, default=10, help="params per structure")
    parser.add_argument(
        "--prefix", help="load this existing registry (of a previous run) and report RSS only"
    )
    args = parser.parse_args()
    settings = Settings(
        kafka_bootstrap=args.bootstrap,
        topic_prefix=args.prefix or f"bench{uuid.uuid4().hex[:8]}.",
        topic_replication_factor=1,
        topic_min_insync_replicas=1,
    )
    if args.prefix:  # a fresh process loading only: its RSS is what a worker pays
        state, seconds = await _load(settings)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        out = {"types": len(state.types), "loadSeconds": round(seconds, 3), "maxRssMiB": rss}
        print(orjson.dumps(out).decode())
        return
    await ensure_topics(settings)
    await fill_registry(settings, args.types, args.params)

    state, seconds = await _load(settings)
    if len(state.types) != args.types:
        raise SystemExit(f"loaded {len(state.types)} types, expected {args.types}")
    del state
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    state, _ = await _load(settings)
    gc.collect()
    # What the state holds: allocations made by the registry code and still alive (the
    # Kafka client's buffers are gone with the stopped reader).
    mine = [tracemalloc.Filter(True, "*/eventgate/registry/*")]
    held = sum(
        s.size for s in tracemalloc.take_snapshot().filter_traces(mine).statistics("filename")
    )
    tracemalloc.stop()
    print(
        orjson.dumps(
            {
                "types": args.types,
                "paramsPerType": args.params,
                "structureBytesPerType": len(_structure(args.params)),
                "loadSeconds": round(seconds, 3),
                "typesPerSecond": round(args.types / seconds),
                "tracedBytesPerType": round(held / args.types),
                "maxRssMiB": round(
                    max(rss_before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024
                ),
                "stateTypes": len(state.types),
                "prefix": settings.topic_prefix,
            }
        ).decode()
    )


if __name__ == "__main__":
    asyncio.run(main())
