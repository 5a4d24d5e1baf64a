"""Re-apply to Redis what it lost: the ingest records between the position Redis came back
with and the position the processor committed in Kafka.

Redis is applied before each batch's Kafka transaction commits, so Redis is never behind
Kafka — unless Redis itself loses its latest writes (restarted from an AOF whose last
second was never fsynced, or from an older RDB). Its counters, history and dedupe ids of
those records are then missing. The processor notices (``RedisBehind``: the stored
position lies below the batch's start), reads the missing range of its partition again
with a ``read_committed`` consumer of its own, and applies it to Redis only — its
commands were emitted and committed long ago — before the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from eventgate.connections import kafka_common
from eventgate.counters.batch import BatchEntry, BatchStore
from eventgate.settings import Settings

log = logging.getLogger(__name__)

Entries = Callable[[Sequence[ConsumerRecord[bytes, bytes]]], list[BatchEntry]]

CHUNK = 2000
STALL_S = 30.0  # no progress for this long: give up (the range left the topic's retention)


async def reapply_lost_range(
    settings: Settings,
    tp: TopicPartition,
    start: int,
    end: int,
    entries_of: Entries,
    store: BatchStore,
    clock: Callable[[], float] = time.time,
) -> int:
    """Apply ingest positions [start, end) of ``tp`` to ``store`` again; returns where
    Redis is afterwards (``end`` unless the range could not be read back: then the caller
    accepts the gap)."""
    consumer = AIOKafkaConsumer(
        **kafka_common(settings, "eventgate-redis-recovery"),
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    pos = redis_at = start
    try:
        consumer.assign([tp])
        first = (await consumer.beginning_offsets([tp]))[tp]
        if first > pos:
            log.warning(
                "part of the range Redis lost left the topic's retention; its counts are lost",
                extra={"partition": tp.partition, "from": pos, "to": first},
            )
            pos = first
        consumer.seek(tp, pos)
        progressed = time.monotonic()
        while pos < end:
            fetched = await consumer.getmany(tp, timeout_ms=500, max_records=CHUNK)
            records = [r for r in fetched.get(tp, []) if r.offset < end]
            reached = min(await consumer.position(tp), end)
            if reached <= pos:
                if time.monotonic() - progressed > STALL_S:
                    log.error(
                        "could not read back the range Redis lost",
                        extra={"partition": tp.partition, "from": pos, "to": end},
                    )
                    break
                continue
            await store.apply_batch(
                tp.partition,
                pos,
                reached,
                entries_of(records),
                int(clock() * 1000),
                contiguous=pos == redis_at,  # not after a jump over a retention gap
            )
            pos = redis_at = reached
            progressed = time.monotonic()
    finally:
        await consumer.stop()
    return redis_at
