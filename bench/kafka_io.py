"""Kafka plumbing of the harness: topics, pre-fill, paced producer, group progress, and
the ``read_committed`` collector that sees commands appear. Every wait has a deadline."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

EVENT_ID_HEADER = "eventgate-event-id"
Log = Callable[[str], None]


def now_ms() -> float:
    return time.time() * 1000


async def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(n, partitions, 1) for n in names if n not in existing]
        if new:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new)
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, prefix: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours)
        return len(ours)
    finally:
        await admin.close()


async def partitions_via(
    admin: AIOKafkaAdminClient, topic: str, deadline_s: float = 30.0
) -> list[int]:
    until = time.monotonic() + deadline_s
    while True:
        for found in await admin.describe_topics([topic]):
            if found.get("topic") == topic and found.get("partitions"):
                return sorted(p["partition"] for p in found["partitions"])
        if time.monotonic() > until:
            raise TimeoutError(f"no metadata for topic {topic}")
        await asyncio.sleep(0.2)


async def partitions(bootstrap: str, topic: str) -> list[int]:
    """The partition numbers of ``topic``, once the broker reports them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-admin")
    await admin.start()
    try:
        return await partitions_via(admin, topic)
    finally:
        await admin.close()


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """The end offset of every partition of ``topic``."""
    parts = await partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-offsets")
    await consumer.start()
    try:
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return {tp.partition: off for tp, off in ends.items()}
    finally:
        await consumer.stop()


async def commit_group(bootstrap: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    """Set ``group``'s committed offsets on ``topic`` (a fresh group then starts there)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = {TopicPartition(topic, p): off for p, off in offsets.items()}
        consumer.assign(list(tps))
        await consumer.commit(tps)
    finally:
        await consumer.stop()


class GroupProgress:
    """How far a consumer group has committed on a topic (admin OffsetFetch)."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-progress")
        self.group = group
        self.topic = topic
        self.offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-ends")
        self._parts: list[int] = []
        self._last: dict[int, int] = {}

    async def __aenter__(self) -> GroupProgress:
        await self.admin.start()
        await self.offsets.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.admin.close()
        await self.offsets.stop()

    async def ends(self) -> dict[int, int]:
        if not self._parts:
            self._parts = await partitions_via(self.admin, self.topic)
        found = await self.offsets.end_offsets([TopicPartition(self.topic, p) for p in self._parts])
        return {tp.partition: off for tp, off in found.items()}

    async def committed(self) -> dict[int, int]:
        """The group's committed offsets; the last answer again when the broker is slow to
        answer (a loaded machine): progress is sampled often, one miss costs nothing."""
        try:
            found = await self.admin.list_consumer_group_offsets(self.group)
        except KafkaError:
            return self._last
        self._last = {
            tp.partition: meta.offset
            for tp, meta in found.items()
            if tp.topic == self.topic and meta.offset >= 0
        }
        return self._last


def done_count(committed: dict[int, int], start: dict[int, int], end: dict[int, int]) -> int:
    """Records of ``[start, end)`` a group has committed past, summed over partitions."""
    return sum(
        max(0, min(committed.get(p, start[p]), end[p]) - start[p]) for p in end if p in start
    )


async def prefill(
    bootstrap: str, topic: str, keys: list[bytes | None], values: list[bytes], log: Log
) -> float:
    """Produce every record as fast as one idempotent producer goes; returns seconds."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-prefill",
        acks="all",
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=512 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    started = time.perf_counter()
    try:
        chunk = 20_000
        for at in range(0, len(values), chunk):
            futures = [
                await producer.send(topic, value=v, key=k)
                for k, v in zip(keys[at : at + chunk], values[at : at + chunk], strict=True)
            ]
            await asyncio.gather(*futures)
            if at and at % 100_000 == 0:
                log(f"  pre-filled {at:,} records")
        await producer.flush()
    finally:
        await producer.stop()
    return time.perf_counter() - started


@dataclass
class PacedStats:
    sent: int = 0
    seconds: float = 0.0
    behind_max: int = 0
    window_started_ms: float | None = None
    window_sent: int = 0
    window_expected: int = 0
    # (partition, offset, timestamp ms) of every record sent after the warm-up
    positions: list[tuple[int, int, float]] = field(default_factory=list)


async def paced_produce(
    bootstrap: str,
    topic: str,
    source: Iterator[tuple[bytes | None, bytes, str | None, int]],
    rate: int,
    sent_at: dict[str, float],
    window_start: Callable[[], float | None],
    window_s: float,
    give_up_s: float,
    warmup_s: float,
    log: Log,
) -> PacedStats:
    """Produce at ``rate`` records/s with the record timestamp set to the send time, and
    remember it per eventId in ``sent_at``. Runs until ``window_s`` seconds past
    ``window_start()`` (the system's first visible output plus warm-up, decided by the
    caller), or ``give_up_s`` if that never comes. Records sent ``warmup_s`` after the
    start have their positions kept, for the commit latency.

    Every ~2 ms tick sends what is due as one record batch per partition
    (``create_batch``/``send_batch``, partition = crc32 of the key): per-record ``send()``
    tops out near the 20k/s this harness must exceed while sharing two cores."""
    parts = await partitions(bootstrap, topic)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="bench-paced",
        acks="all",
        enable_idempotence=True,
        linger_ms=0,
    )
    await producer.start()
    stats = PacedStats()
    pending: list[tuple[asyncio.Future[Any], float, int]] = []  # (future, sent ms, count)

    async def settle() -> None:
        results = await asyncio.gather(*(f for f, _, _ in pending))
        for meta, (_, ts, count) in zip(results, pending, strict=True):
            if ts >= warm_ms:
                stats.positions.extend((meta.partition, meta.offset + i, ts) for i in range(count))
        pending.clear()

    began = time.monotonic()
    warm_ms = now_ms() + warmup_s * 1000
    spread = 0
    try:
        while True:
            elapsed = time.monotonic() - began
            start = window_start()
            if start is not None and stats.window_started_ms is None:
                stats.window_started_ms = start
            if start is not None and now_ms() >= start + window_s * 1000:
                break
            if start is None and elapsed > give_up_s:
                log(f"  paced producer: no output after {give_up_s:.0f} s, stopping")
                break
            due = int(rate * elapsed) - stats.sent
            stats.behind_max = max(stats.behind_max, due)
            due = min(due, max(rate // 20, 1))
            if due > 0:
                ts = now_ms()
                by_partition: dict[int, list[tuple[bytes | None, bytes]]] = {}
                in_window = start is not None and ts >= start
                for _ in range(due):
                    key, value, eid, commands = next(source)
                    if key is None:
                        spread += 1
                        part = parts[spread % len(parts)]
                    else:
                        part = parts[zlib.crc32(key) % len(parts)]
                    by_partition.setdefault(part, []).append((key, value))
                    if eid is not None:
                        sent_at[eid] = ts
                    if in_window:
                        stats.window_sent += 1
                        stats.window_expected += commands
                stats.sent += due
                for part, records in by_partition.items():
                    at = 0
                    while at < len(records):
                        batch = producer.create_batch()
                        count = 0
                        for key, value in records[at:]:
                            if batch.append(key=key, value=value, timestamp=int(ts)) is None:
                                break
                            count += 1
                        if count == 0:
                            raise ValueError("a record larger than a whole batch")
                        fut = await producer.send_batch(batch, topic, partition=part)
                        pending.append((fut, ts, count))
                        at += count
            if len(pending) > 200:
                await settle()
            await asyncio.sleep(0.002)
        await settle()
        await producer.flush()
    finally:
        stats.seconds = time.monotonic() - began
        await producer.stop()
    return stats


def commit_latencies(
    positions: list[tuple[int, int, float]], samples: list[tuple[float, dict[int, int]]]
) -> list[float]:
    """For each record (partition, offset, sent ms): when its group's committed offset
    first passed it, per the sampled ``(time ms, committed offsets)``, minus when it was
    sent. Records never passed are left out (the caller counts them)."""
    found: list[float] = []
    by_partition: dict[int, list[tuple[float, int]]] = {}
    for at, committed in samples:
        for partition, offset in committed.items():
            by_partition.setdefault(partition, []).append((at, offset))
    for partition, offset, sent in positions:
        series = by_partition.get(partition, [])
        # committed offsets only grow: the first sample whose offset > the record's
        lo, hi = 0, len(series)
        while lo < hi:
            mid = (lo + hi) // 2
            if series[mid][1] > offset:
                hi = mid
            else:
                lo = mid + 1
        if lo < len(series):
            found.append(max(0.0, series[lo][0] - sent))
    return found


@dataclass
class Collector:
    """Reads output topics ``read_committed`` from given offsets and notes, for every
    record, its ``eventgate-event-id`` header (or ``eventId`` field) and when it became
    visible here."""

    bootstrap: str
    topics: list[str]
    seen: list[tuple[str | None, float]] = field(default_factory=list)
    first_ms: float | None = None
    last_ms: float | None = None
    _task: asyncio.Task[None] | None = None
    _consumer: AIOKafkaConsumer | None = None
    _stop: bool = False

    async def start(self, offsets: dict[str, dict[int, int]]) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            client_id="bench-collector",
            isolation_level="read_committed",
            enable_auto_commit=False,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await self._consumer.start()
        tps = [TopicPartition(t, p) for t in self.topics for p in offsets[t]]
        self._consumer.assign(tps)
        for tp in tps:
            self._consumer.seek(tp, offsets[tp.topic][tp.partition])
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        if self._consumer is None:
            raise RuntimeError("collector not started")
        while not self._stop:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=20_000)
            if not batches:
                continue
            at = now_ms()
            for records in batches.values():
                for r in records:
                    eid = None
                    for name, raw in r.headers:
                        if name == EVENT_ID_HEADER:
                            eid = raw.decode(errors="replace")
                    if eid is None:
                        eid = _event_id_of(r.value)
                    self.seen.append((eid, at))
            if self.first_ms is None and self.seen:
                self.first_ms = at
            self.last_ms = at

    @property
    def count(self) -> int:
        return len(self.seen)

    async def wait_for(self, expected: int | None, quiet_s: float, deadline_s: float) -> bool:
        """Until ``expected`` records are seen, or nothing new came for ``quiet_s``, or
        ``deadline_s`` passed; True when the expected count was reached."""
        until = time.monotonic() + deadline_s
        last_count, last_change = self.count, time.monotonic()
        while time.monotonic() < until:
            if expected is not None and self.count >= expected:
                return True
            if self._task is not None and self._task.done():
                self._task.result()
                return False
            if self.count != last_count:
                last_count, last_change = self.count, time.monotonic()
            elif time.monotonic() - last_change > quiet_s:
                return False
            await asyncio.sleep(0.1)
        return expected is not None and self.count >= expected

    async def stop(self) -> None:
        self._stop = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 5)
        if self._consumer is not None:
            await self._consumer.stop()


def _event_id_of(value: bytes | None) -> str | None:
    """The command's ``eventId`` field, when the header is missing (a format not final)."""
    try:
        doc = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return None
    found = doc.get("eventId") if isinstance(doc, dict) else None
    return found if isinstance(found, str) else None


async def topic_ends(bootstrap: str, topics: list[str]) -> dict[str, dict[int, int]]:
    return {t: await end_offsets(bootstrap, t) for t in topics}
