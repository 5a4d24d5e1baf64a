"""The workflow-results consumer on real Kafka and Redis: ``errors`` counts distinct
failed commandIds, exactly once across a crash between Redis and the offset commit."""

from __future__ import annotations

import asyncio
import time
import uuid

import orjson
from aiokafka import AIOKafkaProducer

from eventgate.connections import RedisClient, kafka_common
from eventgate.counters.results import (
    Failure,
    ResultsConsumer,
    ResultStats,
    apply_results,
    parse_result,
)
from eventgate.counters.store import CounterStore
from eventgate.settings import Settings
from eventgate.topics import ensure_topics


def command(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"purchase|e{n}|wf|launch"))


def result(cmd: str, status: str, type_key: str = "purchase") -> bytes:
    return orjson.dumps(
        {"commandId": cmd, "workflowId": "wf", "eventTypeKey": type_key, "status": status}
    )


def known(type_key: str, workflow_id: str) -> bool:
    return type_key in ("purchase", "signup") and workflow_id == "wf"


async def produce(settings: Settings, values: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        **kafka_common(settings, "test-results"), enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:
        for key, value in values:
            await producer.send(settings.topic("workflow.results"), value, key=key, partition=0)
        await producer.flush()
    finally:
        await producer.stop()


async def wait_for(consumer: ResultsConsumer, seen: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        s = consumer.stats
        if s.started + s.failed + s.malformed + s.unknown >= seen:
            return
        assert time.monotonic() < deadline, f"saw {s} of {seen}"
        await asyncio.sleep(0.1)


async def test_errors_count_distinct_failures_exactly_once(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    await ensure_topics(settings)
    now = int(time.time() * 1000)
    store = CounterStore(redis, settings, now_ms=lambda: now)
    values = [
        (b"k1", result(command(1), "failed")),
        (b"k2", result(command(2), "started")),
        (b"k3", result(command(3), "failed", "signup")),
        (b"k1", result(command(1), "failed")),  # reported twice: one error
        (b"k4", b"not json"),  # malformed
        (b"k5", orjson.dumps({"commandId": command(5), "status": "failed"})),  # malformed
        (b"k6", result(str(uuid.uuid4()), "failed")),  # not a UUIDv5: unknown
        (b"k7", result(command(7), "failed", "no-such-type")),  # unknown type
        (b"k8", result(command(8), "failed")),
    ]
    await produce(settings, values)
    # crash: a first consumer applied the first 6 records to Redis and died before its
    # offset commit (its poll is replayed here by calling the same code path directly)
    stats = ResultStats()
    head = [
        f
        for i, (_, v) in enumerate(values[:6])
        if (f := parse_result(v, i, now - 1000, known, stats)) is not None
    ]
    await apply_results(store, 0, 6, head, now)
    figures = await store.figures(["purchase", "signup"])
    assert figures["purchase"].errors24h == 1 and figures["signup"].errors24h == 1
    # the group restarts from offset 0 (nothing committed) and reads everything again
    consumer = ResultsConsumer(settings, store, known=known, now_ms=lambda: now)
    await consumer.start()
    try:
        await wait_for(consumer, len(values))
    finally:
        await consumer.stop()
    assert consumer.stats.malformed == 2
    assert consumer.stats.unknown == 2
    assert consumer.stats.started == 1
    assert consumer.stats.failed == 4  # 1 (twice), 3, 8
    figures = await store.figures(["purchase", "signup", "no-such-type"])
    assert figures["purchase"].errors24h == 2  # commands 1 and 8
    assert figures["signup"].errors24h == 1
    assert figures["no-such-type"].errors24h == 0
    # a restarted consumer resumes after the committed offsets: nothing counts again
    await produce(settings, [(b"k9", result(command(1), "failed"))])
    again = ResultsConsumer(settings, store, known=known, now_ms=lambda: now)
    await again.start()
    try:
        await wait_for(again, 1)
    finally:
        await again.stop()
    assert again.stats.failed == 1 and again.stats.counted == 0
    assert (await store.figures(["purchase"]))["purchase"].errors24h == 2


async def test_replayed_batch_is_fenced_by_position(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    """Even when the distinct set has lost a commandId (evicted), a replay of a batch
    already applied does not count it again: the shard's stored position fences it."""
    settings, redis = counters_redis
    now = int(time.time() * 1000)
    store = CounterStore(redis, settings, error_shards=1)
    failures = [Failure(i, command(i), "purchase", now) for i in range(5)]
    assert await apply_results(store, 0, 5, failures, now) == 5
    await redis.delete(store.shard_tags()[0].failed)
    assert await apply_results(store, 0, 5, failures, now) == 0
    # positions above the stored one still count
    assert await apply_results(store, 0, 7, [Failure(5, command(5), "purchase", now)], now) == 1
    assert (await store.figures(["purchase"], now))["purchase"].errors24h == 6
