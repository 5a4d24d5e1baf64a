"""The ingest processor: consumes ``{prefix}ingest`` a poll at a time.

This first version decodes every record and auto-registers unknown well-formed keys
through the registry (one request per poll for all unknown keys); it commits the
consumer offsets after the registry has acknowledged. Registration is idempotent, so
re-processing a poll after a crash registers nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from eventgate.connections import kafka_common
from eventgate.errors import EventgateError
from eventgate.ingest.decode import Event, RawRecord, decode_batch
from eventgate.metrics import Metrics
from eventgate.registry.service import Registry
from eventgate.settings import Settings

log = logging.getLogger(__name__)

MAX_POLL_RECORDS = 5000


def raw_records(records: Iterable[ConsumerRecord[bytes, bytes]]) -> list[RawRecord]:
    return [
        RawRecord(
            r.topic,
            r.partition,
            r.offset,
            r.timestamp,
            r.key,
            r.value,
            tuple((k, v) for k, v in r.headers),
        )
        for r in records
    ]


class IngestProcessor:
    """One consumer of the processors' group on the ingest topic."""

    def __init__(self, settings: Settings, registry: Registry, metrics: Metrics) -> None:
        self.settings = settings
        self.registry = registry
        self.metrics = metrics
        self.consumer = AIOKafkaConsumer(
            settings.topic("ingest"),
            **kafka_common(settings, "eventgate-ingest"),
            group_id=settings.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=MAX_POLL_RECORDS,
        )
        self._running = False

    @property
    def assigned(self) -> set[TopicPartition]:
        return set(self.consumer.assignment())

    async def start(self) -> None:
        await self.consumer.start()

    async def stop(self) -> None:
        self._running = False
        await self.consumer.stop()

    async def run(self) -> None:
        self._running = True
        while self._running:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=MAX_POLL_RECORDS)
            for tp, records in batches.items():
                if records:
                    await self._process(tp, records)

    async def _process(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        started = time.perf_counter()
        decoded = decode_batch(raw_records(records), self.settings.max_record_bytes)
        self.metrics.events_in.inc(len(records))
        events = [d for d in decoded if isinstance(d, Event)]
        for d in decoded:
            if not isinstance(d, Event):
                self.metrics.events_rejected.labels(d.reason.value).inc()
        unknown = sorted({e.event_type_key for e in events} - self._known(events))
        while unknown:
            try:
                outcome = await self.registry.ensure_types(unknown)
            except EventgateError as exc:
                if not exc.retriable:
                    raise
                log.warning("registry unavailable, retrying", extra={"error": str(exc)})
                await asyncio.sleep(1)
                continue
            registered = sum(1 for status in outcome.values() if status == "registered")
            limited = sum(1 for status in outcome.values() if status == "limited")
            self.metrics.types_registered.inc(registered)
            self.metrics.registration_limited.inc(limited)
            if registered:
                log.info("auto-registered event types", extra={"count": registered})
            break
        await self.consumer.commit({tp: records[-1].offset + 1})
        self.metrics.batch_size.observe(len(records))
        self.metrics.batch_seconds.observe(time.perf_counter() - started)

    def _known(self, events: list[Event]) -> set[str]:
        state = self.registry.state
        return {e.event_type_key for e in events if state.get(e.event_type_key) is not None}
