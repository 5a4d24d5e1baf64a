"""Helpers for tests that drive the real pipeline through Kafka: produce to ingest, run a
processor in-process or as a worker process, read outputs with read_committed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from eventgate.connections import kafka_common, redis_client
from eventgate.counters.store import CounterStore
from eventgate.ingest.processor import IngestProcessor
from eventgate.metrics import Metrics
from eventgate.registry.model import WorkflowStatus
from eventgate.registry.requests import CreateType, PutWorkflow, WorkflowBody
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

Record = tuple[bytes | None, bytes]  # (key, value)


async def buy_launches_wf(registry: Registry) -> None:
    """A ``pipeline`` setup: type ``buy`` and the active workflow ``wf`` it launches."""
    (await registry.request(CreateType(key="buy", name="Buy"))).raise_for_code()
    body = WorkflowBody(id="wf", name="wf", status=WorkflowStatus.ACTIVE, launch_on=("buy",))
    (await registry.request(PutWorkflow(workflow=body))).raise_for_code()


def event(key: str, contact: str = "c1", **fields: Any) -> Record:
    body = {"eventTypeKey": key, "keyValue": contact, **fields}
    return contact.encode(), orjson.dumps(body)


async def produce(
    settings: Settings,
    records: Sequence[Record],
    topic: str = "ingest",
    partition: int | None = None,
    headers: Sequence[tuple[str, bytes]] | None = None,
) -> None:
    producer = AIOKafkaProducer(
        **kafka_common(settings, "test-producer"), acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                settings.topic(topic),
                value,
                key=key,
                partition=partition,
                headers=list(headers) if headers else None,
            )
            for key, value in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def read_committed(
    settings: Settings,
    topic: str,
    expect: int | None = None,
    timeout: float = 60,
    quiet_ms: int = 1500,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every committed record of ``topic``: waits for ``expect`` records (if given), then
    reads on until nothing new arrives for ``quiet_ms`` (so duplicates would show)."""
    consumer = AIOKafkaConsumer(
        settings.topic(topic),
        **kafka_common(settings, "test-reader"),
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout):
            while expect is not None and len(found) < expect:
                batch = await consumer.getmany(timeout_ms=300)
                found += [m for msgs in batch.values() for m in msgs]
            while True:
                batch = await consumer.getmany(timeout_ms=quiet_ms)
                fresh = [m for msgs in batch.values() for m in msgs]
                if not fresh:
                    break
                found += fresh
    finally:
        await consumer.stop()
    return found


def bodies(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[dict[str, Any]]:
    return [orjson.loads(r.value) for r in records]


@dataclass
class Pipeline:
    settings: Settings
    registry: Registry
    processor: IngestProcessor
    store: CounterStore
    metrics: Metrics


@contextlib.asynccontextmanager
async def pipeline(
    settings: Settings, setup: Callable[[Registry], Any] | None = None
) -> AsyncIterator[Pipeline]:
    """A registry and one ingest processor running in this process."""
    await ensure_topics(settings)
    redis = redis_client(settings)
    registry = Registry(settings, name="test")
    await registry.start()
    if setup is not None:
        await setup(registry)
    metrics = Metrics()
    store = CounterStore(redis, settings)
    processor = IngestProcessor(settings, registry, store, metrics)
    await processor.start()
    task = asyncio.create_task(processor.run())
    try:
        yield Pipeline(settings, registry, processor, store, metrics)
        if task.done():
            task.result()  # the processor died: its error is the test's failure
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await processor.stop()
        await registry.stop()
        await redis.aclose()


def worker_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTGATE_")}
    env.update(
        {
            "EVENTGATE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "EVENTGATE_REDIS_URL": settings.redis_url.get_secret_value(),
            "EVENTGATE_REDIS_CLUSTER": str(settings.redis_cluster).lower(),
            "EVENTGATE_TOPIC_PREFIX": settings.topic_prefix,
            "EVENTGATE_CONSUMER_GROUP": settings.consumer_group,
            "EVENTGATE_TOPIC_REPLICATION_FACTOR": "1",
            "EVENTGATE_TOPIC_MIN_INSYNC_REPLICAS": "1",
            "EVENTGATE_INGEST_PARTITIONS": str(settings.ingest_partitions),
            "EVENTGATE_OUTPUT_PARTITIONS": str(settings.output_partitions),
            "EVENTGATE_WORKER_HTTP_PORT": "0",
            "EVENTGATE_LOG_FORMAT": "text",
            "EVENTGATE_LOG_LEVEL": "WARNING",
        }
    )
    return env


def start_worker(settings: Settings, log_path: str) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "eventgate", "worker"],
            env=worker_env(settings),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def kill(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` and reap the process; SIGKILL it if it is still there after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
