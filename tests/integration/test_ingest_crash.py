"""Crash test (issues 4 and 5): 100,000 events over 6 partitions, 2 worker processes, one
killed with SIGKILL at ~30 % and ~70 % and restarted; a read_committed verifier finds every
expected launch command exactly once, and the 24 h counters are exact — also after a full
replay of ingest from the earliest offset."""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections import Counter
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer
from streams import kill, pipeline, produce, start_worker

from eventgate.connections import kafka_common, redis_client
from eventgate.counters.model import Figures
from eventgate.counters.store import CounterStore
from eventgate.ingest.outputs import command_id
from eventgate.registry.model import WorkflowStatus
from eventgate.registry.requests import CreateType, PutWorkflow, WorkflowBody
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

EVENTS = 100_000
TYPES = [f"type.{i}" for i in range(10)]
LAUNCHING = {"type.0": "wf-0", "type.3": "wf-3", "type.7": "wf-7"}


def _workload() -> tuple[list[tuple[bytes, bytes]], set[str], Counter[str]]:
    rng = random.Random(7)
    records, expected, per_type = [], set(), Counter[str]()
    for i in range(EVENTS):
        key = rng.choice(TYPES)
        contact = f"c{rng.randrange(5000)}"
        body = {
            "eventTypeKey": key,
            "keyValue": contact,
            "eventId": f"e{i}",
            "params": {"n": i, "sku": f"s{i % 97}"},
        }
        records.append((contact.encode(), orjson.dumps(body)))
        per_type[key] += 1
        if key in LAUNCHING:
            expected.add(command_id(key, f"e{i}", LAUNCHING[key], "launch"))
    return records, expected, per_type


async def _count_commands(settings: Settings, seen: Counter[str], stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        settings.topic("workflow.launch"),
        **kafka_common(settings, "verifier"),
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=300)
            for messages in batch.values():
                for m in messages:
                    seen[orjson.loads(m.value)["commandId"]] += 1
    finally:
        await consumer.stop()


async def test_kill_9_at_30_and_70_percent_loses_and_duplicates_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"ingest_partitions": 6})
    await ensure_topics(settings)
    async with Registry(settings, name="setup") as registry:
        for key in TYPES:
            (await registry.request(CreateType(key=key, name=key))).raise_for_code()
        for key, wid in LAUNCHING.items():
            body = WorkflowBody(id=wid, name=wid, status=WorkflowStatus.ACTIVE, launch_on=(key,))
            (await registry.request(PutWorkflow(workflow=body))).raise_for_code()
    records, expected, per_type = _workload()
    await produce(settings, records)

    seen: Counter[str] = Counter()
    stop = asyncio.Event()
    verifier = asyncio.create_task(_count_commands(settings, seen, stop))
    logs = tmp_path / "workers.log"
    workers = [start_worker(settings, str(logs)), start_worker(settings, str(logs))]
    try:
        for fraction in (0.3, 0.7):
            async with asyncio.timeout(240):
                while sum(seen.values()) < fraction * len(expected):
                    await asyncio.sleep(0.05)
            kill(workers[0])
            workers[0] = start_worker(settings, str(logs))
        async with asyncio.timeout(300):
            while len(seen) < len(expected):
                await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # anything still arriving now would be a duplicate
    finally:
        stop.set()
        for worker in workers:
            kill(worker, signal.SIGTERM)
        with contextlib.suppress(Exception):
            await verifier
    missing = expected - set(seen)
    duplicates = {cid: n for cid, n in seen.items() if n > 1}
    unexpected = set(seen) - expected
    assert (len(missing), len(duplicates), len(unexpected)) == (0, 0, 0), logs.read_text()[-3000:]

    exact_volume = dict(per_type)
    exact_launched = {k: (per_type[k] if k in LAUNCHING else 0) for k in TYPES}
    figures = await _figures(settings)
    assert {k: f.volume24h for k, f in figures.items()} == exact_volume
    assert {k: f.launched24h for k, f in figures.items()} == exact_launched

    # A full replay from the earliest offset (a new consumer group reads everything
    # again) leaves the counters exact: Redis answers "already applied" below its fence.
    replay = settings.model_copy(update={"consumer_group": f"{settings.topic_prefix}replay"})
    async with pipeline(replay) as running:
        async with asyncio.timeout(240):
            while running.metrics.events_in._value.get() < EVENTS:
                await asyncio.sleep(0.2)
    figures = await _figures(settings)
    assert {k: f.volume24h for k, f in figures.items()} == exact_volume
    assert {k: f.launched24h for k, f in figures.items()} == exact_launched


async def _figures(settings: Settings) -> dict[str, Figures]:
    redis = redis_client(settings)
    try:
        return await CounterStore(redis, settings).figures(TYPES)
    finally:
        await redis.aclose()
