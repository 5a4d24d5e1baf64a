"""Workflow results (``{prefix}workflow.results``) -> the ``errors`` counter (SPEC §6, §8).

Engines report ``{commandId, workflowId, eventTypeKey, status: started|failed, error?}``.
``errors`` counts DISTINCT commandIds reported ``failed``, per type, in the rolling window.

- **Parsing** (``parse_result``, pure): a record counts only if its value is a JSON object
  with string ``commandId``, ``workflowId``, ``eventTypeKey`` and ``status`` ``started`` or
  ``failed``; anything else is *malformed*. A well-formed result is *unknown* when its
  ``commandId`` is not a version-5 UUID (every command eventgate emits is UUIDv5 of
  ``eventTypeKey|eventId|workflowId|kind``; the eventId is not in the result, so the
  derivation itself cannot be re-checked), or the registry knows no such type or no such
  workflow. Malformed and unknown results are ignored and counted (``ResultStats``).
- **Exactly once**: failed commandIds are hashed into ``error_shards`` Redis slots; a
  shard's Lua call counts a commandId only the first time it is seen in the window
  (distinct) and only if its position is at or above the shard's stored position for that
  results partition (a replay after a crash changes nothing), then stores the batch's end
  position. Offsets are committed to Kafka after Redis: a crash in between replays into
  "already applied".
- **Time**: the results record's timestamp buckets the failure (clamped like every
  counter); the ingest record's time is not in the result.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from eventgate.connections import kafka_common
from eventgate.counters.keys import bucket_shard, shard_tag
from eventgate.counters.model import Clock, wall_clock_ms
from eventgate.counters.store import CounterStore, redis_errors
from eventgate.counters.windows import bucket_of
from eventgate.errors import EventgateError
from eventgate.settings import Settings

log = logging.getLogger(__name__)

MAX_POLL_RECORDS = 5000
Known = Callable[[str, str], bool]  # (eventTypeKey, workflowId) -> does the registry know them


@dataclass(frozen=True, slots=True)
class Failure:
    """A well-formed, known result with status ``failed``."""

    position: int
    command_id: str
    type_key: str
    timestamp_ms: int


@dataclass
class ResultStats:
    """What the results consumer saw (for metrics)."""

    started: int = 0
    failed: int = 0
    counted: int = 0  # failures that raised an errors counter (first report in the window)
    malformed: int = 0
    unknown: int = 0

    def add(self, other: ResultStats) -> None:
        self.started += other.started
        self.failed += other.failed
        self.counted += other.counted
        self.malformed += other.malformed
        self.unknown += other.unknown


def is_command_id(value: str) -> bool:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return parsed.version == 5 and str(parsed) == value.lower()


def parse_result(
    value: bytes | None, position: int, timestamp_ms: int, known: Known, stats: ResultStats
) -> Failure | None:
    """The failure a results record reports, or None (started, malformed, unknown)."""
    try:
        doc: Any = orjson.loads(value) if value else None
    except orjson.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict):
        stats.malformed += 1
        return None
    command_id, workflow_id = doc.get("commandId"), doc.get("workflowId")
    type_key, status = doc.get("eventTypeKey"), doc.get("status")
    if not (
        isinstance(command_id, str)
        and isinstance(workflow_id, str)
        and isinstance(type_key, str)
        and status in ("started", "failed")
    ):
        stats.malformed += 1
        return None
    if not is_command_id(command_id) or not known(type_key, workflow_id):
        stats.unknown += 1
        return None
    if status == "started":
        stats.started += 1
        return None
    stats.failed += 1
    return Failure(position, command_id.lower(), type_key, timestamp_ms)


def shard_of(command_id: str, shards: int) -> int:
    return bucket_shard(command_id) % shards


async def apply_results(
    store: CounterStore,
    partition: int,
    to_pos: int,
    failures: Sequence[Failure],
    now_ms: int,
) -> int:
    """Count ``failures`` of results ``partition`` (positions below ``to_pos``) exactly
    once; returns how many raised a counter. One Lua call per shard concerned."""
    by_shard: dict[int, list[object]] = {}
    for f in failures:
        flat = by_shard.setdefault(shard_of(f.command_id, store.error_shards), [])
        flat += (
            f.position,
            f.command_id,
            f.type_key,
            bucket_of(f.timestamp_ms, now_ms),
            bucket_shard(f.type_key),
        )
    counted = 0
    prefix = store.settings.topic_prefix
    for shard, flat in sorted(by_shard.items()):
        tag = shard_tag(prefix, shard)
        doc = orjson.dumps({"s": [partition, to_pos, now_ms, store.dedupe_cap], "e": flat})
        async with redis_errors():
            reply = await store.scripts.apply_results(
                keys=[tag.meta, tag.totals, tag.failed, tag.failed_queue], args=[doc]
            )
        counted += int(reply[1])
    return counted


def _always(_type_key: str, _workflow_id: str) -> bool:
    return True


class ResultsConsumer:
    """The asyncio service the worker hosts: ``await start()``, ``await stop()``.

    ``known`` answers whether the registry knows a type and a workflow (default: always,
    for tests; the worker passes ``registry_known(registry)``). ``stats`` accumulates what
    it saw, for metrics.
    """

    def __init__(
        self,
        settings: Settings,
        store: CounterStore,
        known: Known = _always,
        now_ms: Clock = wall_clock_ms,
        retry_delay_s: float = 1.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.known = known
        self.now_ms = now_ms
        self.retry_delay_s = retry_delay_s
        self.stats = ResultStats()
        self.consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def group_id(self) -> str:
        return f"{self.settings.consumer_group}-results"

    async def start(self) -> None:
        self.consumer = AIOKafkaConsumer(
            self.settings.topic("workflow.results"),
            **kafka_common(self.settings, "eventgate-results"),
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=MAX_POLL_RECORDS,
        )
        await self.consumer.start()
        self._task = asyncio.create_task(self._run(), name="eventgate-results")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.consumer is not None:
            await self.consumer.stop()
            self.consumer = None

    def _consumer(self) -> AIOKafkaConsumer:
        if self.consumer is None:
            raise RuntimeError("ResultsConsumer is not started")
        return self.consumer

    async def _run(self) -> None:
        consumer = self._consumer()
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=MAX_POLL_RECORDS)
            for tp, records in batches.items():
                if records:
                    await self.process(tp, records)

    async def process(
        self, tp: TopicPartition, records: Iterable[ConsumerRecord[bytes, bytes]]
    ) -> None:
        """Count one poll of one partition, then commit its offsets (Redis first)."""
        consumer = self._consumer()
        batch = list(records)
        stats = ResultStats()
        failures = [
            f
            for r in batch
            if (f := parse_result(r.value, r.offset, r.timestamp, self.known, stats)) is not None
        ]
        to_pos = batch[-1].offset + 1
        while True:
            try:
                stats.counted = await apply_results(
                    self.store, tp.partition, to_pos, failures, self.now_ms()
                )
                break
            except EventgateError as exc:
                if not exc.retriable:
                    raise
                log.warning("Redis unavailable, retrying results", extra={"error": str(exc)})
                await asyncio.sleep(self.retry_delay_s)
        await consumer.commit({tp: to_pos})
        self.stats.add(stats)


def registry_known(registry: Any) -> Known:
    """``known`` backed by a ``Registry`` (its in-memory state, no I/O)."""

    def known(type_key: str, workflow_id: str) -> bool:
        state = registry.state
        return state.get(type_key) is not None and state.workflow(workflow_id) is not None

    return known
