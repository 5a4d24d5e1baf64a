"""Replay dead letters from ``{prefix}rejected`` back into ``{prefix}ingest`` after a fix.

A replayed record carries the original's effective ``eventId`` and ``occurredAt`` (set
into the body when the original had none) and a header ``eventgate-replay-of`` naming the
original ingest position; its key is the original record key, so it lands on the same
partition. The explicit ``eventId`` makes replays idempotent: replaying a dead letter
twice launches once (the second is a duplicate, SPEC §2/§6).

Only dead letters whose payload is a whole JSON object can be replayed; the others (not
UTF-8, not JSON, truncated) are reported as skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from eventgate.connections import kafka_common
from eventgate.ingest.outputs import H_REPLAY_OF
from eventgate.ingest.rfc3339 import parse_rfc3339_ms
from eventgate.settings import Settings
from eventgate.topics import topic_partitions


@dataclass(frozen=True)
class Selection:
    """Which dead letters to replay; empty tuples select everything."""

    reasons: tuple[str, ...] = ()
    type_keys: tuple[str, ...] = ()
    since_ms: int | None = None
    until_ms: int | None = None
    limit: int | None = None

    def matches(self, letter: dict[str, Any], timestamp_ms: int) -> bool:
        if self.reasons and letter.get("reason") not in self.reasons:
            return False
        if self.type_keys and letter.get("eventTypeKey") not in self.type_keys:
            return False
        if self.since_ms is not None and timestamp_ms < self.since_ms:
            return False
        return self.until_ms is None or timestamp_ms < self.until_ms


@dataclass
class ReplayReport:
    scanned: int = 0
    replayed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def replay_value(letter: dict[str, Any]) -> tuple[bytes, str] | str:
    """The record value to re-ingest and the replay-of position, or why it cannot be."""
    if letter.get("truncated"):
        return "truncated"
    if letter.get("payloadEncoding") != "utf-8":
        return "not_utf8"
    try:
        body = orjson.loads(letter.get("payload", ""))
    except orjson.JSONDecodeError:
        return "not_json"
    if not isinstance(body, dict):
        return "not_object"
    if body.get("eventId") is None and isinstance(letter.get("eventId"), str):
        body["eventId"] = letter["eventId"]
    if body.get("occurredAt") is None and isinstance(letter.get("occurredAt"), str):
        body["occurredAt"] = letter["occurredAt"]
    source = letter.get("source") or {}
    position = f"{source.get('topic')}/{source.get('partition')}/{source.get('offset')}"
    return orjson.dumps(body), position


def parse_time(text: str) -> int:
    ms = parse_rfc3339_ms(text)
    if ms is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    return ms


async def replay(
    settings: Settings,
    selection: Selection,
    dry_run: bool = False,
    progress: Callable[[ReplayReport, int], None] | None = None,
) -> ReplayReport:
    """Replay the selected dead letters present when the call starts; returns a report."""
    report = ReplayReport()
    topic = settings.topic("rejected")
    consumer = AIOKafkaConsumer(
        **kafka_common(settings, "eventgate-dlq-replay"),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(
        **kafka_common(settings, "eventgate-dlq-replay"), enable_idempotence=True, acks="all"
    )
    await consumer.start()
    await producer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in (await topic_partitions(settings, [topic]))[topic]
        ]
        if not partitions:
            return report
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await _seek_start(consumer, partitions, selection.since_ms)
        total = sum(ends.values())
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, messages in batch.items():
                for message in messages:
                    if message.offset >= ends[tp]:
                        break
                    await _one(producer, settings, selection, message, report, dry_run)
                    if selection.limit is not None and report.replayed >= selection.limit:
                        remaining.clear()
                        break
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
            if progress is not None:
                progress(report, total)
        await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()
    return report


async def _seek_start(
    consumer: AIOKafkaConsumer, partitions: Iterable[TopicPartition], since_ms: int | None
) -> None:
    tps = list(partitions)
    if since_ms is None:
        await consumer.seek_to_beginning(*tps)
        return
    found = await consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
    for tp in tps:
        at = found.get(tp)
        if at is None:
            await consumer.seek_to_end(tp)
        else:
            consumer.seek(tp, at.offset)


async def _one(
    producer: AIOKafkaProducer,
    settings: Settings,
    selection: Selection,
    message: Any,
    report: ReplayReport,
    dry_run: bool,
) -> None:
    report.scanned += 1
    try:
        letter = orjson.loads(message.value)
    except (orjson.JSONDecodeError, TypeError):
        report.skip("unreadable_dead_letter")
        return
    if not isinstance(letter, dict) or not selection.matches(letter, message.timestamp):
        return
    made = replay_value(letter)
    if isinstance(made, str):
        report.skip(made)
        return
    value, position = made
    if not dry_run:
        await producer.send(
            settings.topic("ingest"),
            value,
            key=message.key,
            headers=[(H_REPLAY_OF, position.encode())],
        )
    report.replayed += 1


def print_progress(report: ReplayReport, total: int) -> None:
    width = 30
    done = min(report.scanned, total)
    filled = int(width * done / total) if total else width
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] scanned {report.scanned}/{total}"
        f"  replayed {report.replayed}  skipped {sum(report.skipped.values())}"
    )
    sys.stderr.flush()
