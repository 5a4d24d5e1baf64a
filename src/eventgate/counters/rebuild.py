"""Rebuild the 24-hour counters (and history, and the dedupe store) from the topics after
Redis lost them. The CLI calls ``rebuild_counters``; run it while the workers are stopped.

Choice: **replay the ingest records through the same ``apply_batch``**, re-deciding each
record's outcome from what the processors already wrote, not from today's rules:

- ``{prefix}rejected`` (read_committed) says which ingest positions were rejected and why
  (its ``source.partition``/``source.offset``) — so a type's validation switched on since
  does not re-judge old events;
- ``{prefix}workflow.launch`` says which workflows each (eventTypeKey, eventId) launched —
  so the launched figure is what was emitted, whatever workflows are active today;
- every other decodable ingest record of a registered type was accepted;
- duplicates are recomputed by ``apply_batch`` itself (first position wins, rejected ids
  not recorded), exactly as live — a duplicate emitted nothing, so it has no letter and no
  command, and the dedupe store decides;
- ``{prefix}workflow.results`` goes through ``apply_results`` (distinct failed ids).

Ranges: each ingest partition from ``offsets_for_times(now - 24 h)`` up to the processors'
committed offset (what was processed; the workers resume from there and their first
batch continues the fence); outputs and results from one hour earlier, to catch the
outputs of the first records. Types are today's registry: a type deleted since has no
counters, as after its deletion. Buckets use the ingest record timestamps, as live, so
the figures come out the same — except for duplicates of events older than the 24 h read
(the live dedupe window reached further back), which count once here.

A partition whose stored position is already past its start (a worker ran after the
loss) is skipped and reported: its records cannot be applied below the fence.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from eventgate.connections import kafka_common
from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.keys import partition_tag
from eventgate.counters.results import Known, ResultStats, apply_results, parse_result
from eventgate.counters.store import CounterStore, redis_errors
from eventgate.counters.windows import DAY_MS, HOUR_MS
from eventgate.ingest.decode import Event, decode
from eventgate.settings import Settings
from eventgate.topics import topic_partitions

log = logging.getLogger(__name__)

BATCH = 5000
OUTPUT_LEAD_MS = HOUR_MS


@dataclass
class RebuildReport:
    ingest_records: int = 0
    rejected: int = 0
    launch_commands: int = 0
    failures_counted: int = 0
    duplicates: int = 0
    skipped_partitions: list[int] = field(default_factory=list)


async def _read(
    consumer: AIOKafkaConsumer,
    topic: str,
    partitions: list[int],
    since_ms: int,
    until: dict[int, int] | None = None,
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every committed record of ``topic`` from ``since_ms`` up to ``until`` (per
    partition; default: the end), partition by partition."""
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    ends = await consumer.end_offsets(tps)
    starts = await consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
    for tp in tps:
        end = ends[tp] if until is None else min(ends[tp], until.get(tp.partition, ends[tp]))
        found = starts.get(tp)
        if found is None:
            continue  # nothing that recent
        consumer.seek(tp, found.offset)
        position = found.offset
        while position < end:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=BATCH)
            for record in batch.get(tp, []):
                if record.offset >= end:
                    break
                yield record
            position = await consumer.position(tp)


async def _committed(settings: Settings, group: str, topic: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(**kafka_common(settings, "eventgate-rebuild-admin"))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {tp.partition: om.offset for tp, om in offsets.items() if tp.topic == topic}


def entry_of(
    record: ConsumerRecord[bytes, bytes],
    max_bytes: int,
    known_type: Callable[[str], bool],
    letters: dict[tuple[int, int], tuple[str, str | None]],
    launches: dict[tuple[str, str], list[str]],
) -> BatchEntry:
    """The entry the processor applied for one ingest record, as its outputs show it."""
    decoded = decode(record, max_bytes)
    letter = letters.get((record.partition, record.offset))
    type_key = decoded.event_type_key
    if letter is not None and letter[1] is not None:
        type_key = letter[1]
    if type_key is not None and not known_type(type_key):
        type_key = None
    event = decoded if isinstance(decoded, Event) else None
    event_id = event.event_id if event else f"{record.topic}/{record.partition}/{record.offset}"
    launched: tuple[str, ...] = ()
    if letter is not None or event is None:
        reason = letter[0] if letter is not None else getattr(decoded, "reason", "unknown")
        outcome = Outcome.REJECTED
    else:
        reason, outcome = None, Outcome.ACCEPTED
        launched = tuple(launches.get((event.event_type_key, event.event_id), ()))
    return BatchEntry(
        position=record.offset,
        timestamp_ms=record.timestamp,
        type_key=type_key,
        dedupe_id=event.event_id if event is not None and event.explicit_id else None,
        outcome=outcome,
        reason=str(reason) if reason is not None else None,
        launched=launched,
        stopped=(),
        event_id=event_id,
        key_value=event.key_value if event else None,
    )


async def rebuild_counters(
    settings: Settings,
    store: CounterStore,
    known_type: Callable[[str], bool],
    known: Known,
    now_ms: int | None = None,
) -> RebuildReport:
    """Rebuild from the last 24 hours of the topics (see the module docstring)."""
    now = store.now_ms() if now_ms is None else now_ms
    since = now - DAY_MS
    report = RebuildReport()
    consumer = AIOKafkaConsumer(
        **kafka_common(settings, "eventgate-rebuild"),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    names = [settings.topic(t) for t in ("ingest", "rejected", "workflow.launch")]
    results = settings.topic("workflow.results")
    parts = await topic_partitions(settings, [*names, results])
    await consumer.start()
    try:
        letters: dict[tuple[int, int], tuple[str, str | None]] = {}
        ingest = settings.topic("ingest")
        async for r in _read(consumer, names[1], parts[names[1]], since - OUTPUT_LEAD_MS):
            doc: Any = _json(r.value)
            source = doc.get("source") if isinstance(doc, dict) else None
            if isinstance(source, dict) and source.get("topic") == ingest:
                key = (int(source["partition"]), int(source["offset"]))
                letters[key] = (str(doc.get("reason")), doc.get("eventTypeKey"))
        launches: dict[tuple[str, str], list[str]] = {}
        async for r in _read(consumer, names[2], parts[names[2]], since - OUTPUT_LEAD_MS):
            doc = _json(r.value)
            if isinstance(doc, dict):
                key2 = (str(doc.get("eventTypeKey")), str(doc.get("eventId")))
                launches.setdefault(key2, []).append(str(doc.get("workflowId")))
                report.launch_commands += 1
        processed = await _committed(settings, settings.consumer_group, ingest)
        pending: dict[int, list[BatchEntry]] = {}
        starts: dict[int, int] = {}
        async for r in _read(consumer, ingest, parts[ingest], since, processed):
            p = r.partition
            if p not in starts:
                starts[p] = r.offset
                async with redis_errors():
                    stored = await store.redis.hget(
                        partition_tag(settings.topic_prefix, p).meta, "pos"
                    )
                if stored is not None and int(stored) > r.offset:
                    report.skipped_partitions.append(p)
            if p in report.skipped_partitions:
                continue
            e = entry_of(r, settings.max_record_bytes, known_type, letters, launches)
            report.ingest_records += 1
            report.rejected += e.outcome is Outcome.REJECTED and e.type_key is not None
            batch = pending.setdefault(p, [])
            batch.append(e)
            if len(batch) >= BATCH:
                await _flush(store, p, batch, now, report)
        for p, batch in pending.items():
            if batch:
                await _flush(store, p, batch, now, report, processed.get(p))
        done = await _committed(settings, f"{settings.consumer_group}-results", results)
        stats = ResultStats()
        per: dict[int, list[Any]] = {}
        async for r in _read(
            consumer, results, parts[results], since - OUTPUT_LEAD_MS, done or None
        ):
            f = parse_result(r.value, r.offset, r.timestamp, known, stats)
            per.setdefault(r.partition, [])
            if f is not None:
                per[r.partition].append(f)
        for p, failures in per.items():
            to = done.get(p, (failures[-1].position + 1) if failures else 0)
            report.failures_counted += await apply_results(store, p, to, failures, now)
    finally:
        await consumer.stop()
    return report


def _json(value: bytes | None) -> Any:
    try:
        return orjson.loads(value) if value else None
    except orjson.JSONDecodeError:
        return None


async def _flush(
    store: CounterStore,
    partition: int,
    batch: list[BatchEntry],
    now: int,
    report: RebuildReport,
    end: int | None = None,
) -> None:
    to = max(batch[-1].position + 1, end or 0)
    result = await store.apply_batch(partition, batch[0].position, to, batch, now)
    report.duplicates += len(result.duplicates)
    batch.clear()
