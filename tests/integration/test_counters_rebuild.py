"""Rebuild after a Redis loss: the counters and history rebuilt from the topics equal what
the live path had written."""

from __future__ import annotations

import time
import uuid

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from eventgate.connections import RedisClient, kafka_common
from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.rebuild import rebuild_counters
from eventgate.counters.results import Failure, apply_results
from eventgate.counters.store import CounterStore
from eventgate.counters.windows import HOUR_MS, MINUTE_MS
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

TYPES = ("purchase", "signup")


async def lose_redis(redis: RedisClient, prefix: str) -> None:
    """Redis loses this test's data (its keys alone: the servers are shared)."""
    for key in [k async for k in redis.scan_iter(match=f"{{{prefix}*", count=1000)]:
        await redis.delete(key)


def command(type_key: str, event_id: str, workflow: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_OID, f"{type_key}|{event_id}|{workflow}|launch"))


async def test_rebuild_gives_the_live_figures_and_history(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    await ensure_topics(settings)
    now = int(time.time() * 1000)
    ingest = settings.topic("ingest")
    producer = AIOKafkaProducer(
        **kafka_common(settings, "test-rebuild"), enable_idempotence=True, acks="all"
    )
    await producer.start()
    live: dict[int, list[BatchEntry]] = {0: [], 1: []}
    try:
        for p in (0, 1):
            for i in range(60):
                ts = now - 23 * HOUR_MS + i * 20 * MINUTE_MS + p
                type_key = TYPES[i % 2]
                explicit = f"id-{p}-{i // 3}" if i % 5 == 0 else None  # some retries
                body: dict[str, object] = {
                    "eventTypeKey": type_key,
                    "keyValue": f"contact-{i % 4}",
                    "params": {"n": i},
                }
                if explicit:
                    body["eventId"] = explicit
                value = b"{broken" if i == 7 else orjson.dumps(body)
                meta = await (
                    await producer.send(ingest, value, key=b"k", partition=p, timestamp_ms=ts)
                )
                offset = meta.offset
                event_id = explicit or f"{ingest}/{p}/{offset}"
                rejected = i == 7 or i % 11 == 0
                reason = "invalid_json" if i == 7 else "validation_failed"
                entry = BatchEntry(
                    position=offset,
                    timestamp_ms=ts,
                    type_key=None if i == 7 else type_key,
                    dedupe_id=explicit,
                    outcome=Outcome.REJECTED if rejected else Outcome.ACCEPTED,
                    reason=reason if rejected else None,
                    launched=() if rejected else ("wf-a", "wf-b")[: 1 + i % 2],
                    stopped=(),
                    event_id=event_id,
                    key_value=None if i == 7 else f"contact-{i % 4}",
                )
                live[p].append(entry)
        # the live processor's pass: Redis decides duplicates; outputs follow from it
        store = CounterStore(redis, settings)
        outputs = []
        for p, entries in live.items():
            result = await store.apply_batch(p, 0, entries[-1].position + 1, entries, now)
            for e in entries:
                if e.position in result.duplicates:
                    continue
                if e.outcome is Outcome.REJECTED:
                    letter = {
                        "reason": e.reason,
                        "eventTypeKey": e.type_key,
                        "source": {"topic": ingest, "partition": p, "offset": e.position},
                    }
                    outputs.append(("rejected", letter))
                for wf in e.launched:
                    cmd = {
                        "commandId": command(str(e.type_key), e.event_id, wf),
                        "workflowId": wf,
                        "eventTypeKey": e.type_key,
                        "eventId": e.event_id,
                    }
                    outputs.append(("workflow.launch", cmd))
        for topic, doc in outputs:
            await producer.send(settings.topic(topic), orjson.dumps(doc), key=b"k")
        failed = [
            {
                "commandId": command("purchase", f"x{i}", "wf-a"),
                "workflowId": "wf-a",
                "eventTypeKey": "purchase",
                "status": "failed",
            }
            for i in (1, 2, 2, 3)
        ]
        for n, doc in enumerate(failed):
            await producer.send(
                settings.topic("workflow.results"), orjson.dumps(doc), key=b"r", partition=0
            )
            await apply_results(
                store,
                0,
                n + 1,
                [Failure(n, str(doc["commandId"]), "purchase", now - MINUTE_MS)],
                now,
            )
        await producer.flush()
    finally:
        await producer.stop()
    # the processors committed everything they applied
    committer = AIOKafkaConsumer(
        **kafka_common(settings, "test-commit"),
        group_id=settings.consumer_group,
        enable_auto_commit=False,
    )
    await committer.start()
    try:
        committer.assign([TopicPartition(ingest, p) for p in live])
        await committer.commit(
            {TopicPartition(ingest, p): entries[-1].position + 1 for p, entries in live.items()}
        )
    finally:
        await committer.stop()
    before = await store.figures(TYPES, now)
    history_before = await store.history(None, limit=1000)
    assert before["purchase"].errors24h == 3 and before["purchase"].volume24h > 0
    # Redis loses everything
    await lose_redis(redis, settings.topic_prefix)
    assert (await store.figures(TYPES, now))["purchase"].volume24h == 0
    report = await rebuild_counters(
        settings, store, known_type=lambda k: k in TYPES, known=lambda t, w: True, now_ms=now
    )
    assert report.ingest_records == 120 and not report.skipped_partitions
    assert await store.figures(TYPES, now) == before
    assert await store.history(None, limit=1000) == history_before
    for type_key in TYPES:
        assert await store.history(type_key, limit=1000) == await store.history(
            type_key, limit=1000
        )
