"""The ingest processor: ``{prefix}ingest`` → launch/stop commands, segmentation, dead
letters — a poll at a time, effectively once (DESIGN-NOTES decisions 1 and 3).

Why batches on aiokafka rather than a faust agent: on this machine a faust agent doing
the job per event ran ~2,000 events/s, a batched aiokafka loop ~40 times that (DESIGN-NOTES
figures; ``make bench`` measures both side by side).

Unit of work: one (partition, poll). For each:
1. decode every record (pure), auto-register unknown keys in one registry request;
2. decide each record against the registry snapshot (pure): type, validation, launches;
3. apply counters, history and dedupe to Redis in one Lua call fenced by the ingest
   positions [from, to) it covers; Redis answers which explicit eventIds are duplicates;
4. produce the outputs, the registry requests (structure merges, activity) and the
   consumer offset in ONE Kafka transaction of the partition's own transactional
   producer (``transactional_id = {prefix}{group}.{topic}.{partition}``).
A crash anywhere replays the batch: Redis says "already applied" (no double count), and
the same decisions produce the same outputs; a zombie owner is fenced by the new owner's
``init_transactions``, done before the new owner reads the committed offset.

Each partition has its own runner task: the poll loop only queues what it fetched, so one
partition's Redis call or transaction commit never holds back another partition's batch
or the next poll, and whatever a partition's queue gathered while its previous batch was
in flight becomes its next batch (small batches at low rates, big ones under load). A
partition whose queue holds more than a poll's worth is paused at the consumer until its
runner catches up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import IllegalOperation, KafkaError, ProducerFenced
from redis.exceptions import RedisError

from eventgate.connections import kafka_common, transactional_producer
from eventgate.counters.batch import BatchEntry, BatchStore, Outcome
from eventgate.errors import DependencyUnavailable, EventgateError, RedisBehind
from eventgate.ingest.decide import Decision, batch_entries, decide_batch
from eventgate.ingest.decode import Event, Rejection, decode_batch
from eventgate.ingest.outputs import OutputRecord, build_outputs
from eventgate.ingest.producing import BatchSender
from eventgate.ingest.reasons import RejectReason
from eventgate.ingest.redis_recovery import reapply_lost_range
from eventgate.ingest.registry_requests import RegistryFeedback
from eventgate.ingest.validators import TypeValidators
from eventgate.logs import RejectLog
from eventgate.metrics import Metrics
from eventgate.registry.requests import EnsureTypes
from eventgate.registry.service import Registry
from eventgate.settings import Settings

log = logging.getLogger(__name__)

MAX_POLL_RECORDS = 2000  # per poll, all partitions together
MAX_BATCH = 3000  # records of one partition in one batch (one transaction)
# A partition whose queue reaches this is paused at the consumer until its runner takes
# the queue. Records in flight cost ~3 KB each once decoded, so this bounds a worker's
# memory: about (MAX_BATCH + QUEUE_PAUSE + MAX_POLL_RECORDS) records per partition.
# Chosen by drains of 300,000 events (make bench BENCH_ARGS='--skip floor,quix,faust,latency
# [--extra-types 100000]'), events/s and peak RSS without / with 100,000 types registered:
#   polls 1,000, pause 1,000, batches 2,000: 24,016/s 150 MiB / 17,128/s 233 MiB
#   polls 2,000, pause 2,000, batches 5,000: 32,391/s 172 MiB / 20,204/s 292 MiB
#   polls 2,000, pause 1,500, batches 3,000: 32,626/s 175 MiB / 25,341/s 270 MiB (this)
QUEUE_PAUSE = 1500
RETRY_BACKOFF_S = 0.5
RECLAIM_DELAY_S = 5.0  # past a heartbeat (3 s): a zombie has lost its partitions by then


@dataclass
class PartitionWork:
    """One assigned ingest partition: its producer and where its next batch starts."""

    tp: TopicPartition
    producer: AIOKafkaProducer
    next_pos: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closing: bool = False
    queue: list[ConsumerRecord[bytes, bytes]] = field(default_factory=list)
    runner: asyncio.Task[None] | None = None
    paused: bool = False


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, processor: IngestProcessor) -> None:
        self.processor = processor

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.processor.release(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self.processor.claim(assigned)


class IngestProcessor:
    """One member of the processors' consumer group on the ingest topic."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        store: BatchStore,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.topic = settings.topic("ingest")
        self.validators = TypeValidators()
        self.feedback = RegistryFeedback(settings)
        self.sender = BatchSender()
        self.consumer = AIOKafkaConsumer(
            **kafka_common(settings, "eventgate-ingest"),
            group_id=settings.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=MAX_POLL_RECORDS,
            max_partition_fetch_bytes=1024 * 1024,
        )
        self.work: dict[TopicPartition, PartitionWork] = {}
        self.redis_ok = True
        self.rejects = RejectLog(settings)
        self._running = False
        self._stopping = False
        self._failure: BaseException | None = None
        # Partitions whose producer was fenced while the group still gives them to us: a
        # new producer takes them back after RECLAIM_DELAY_S (tp -> when).
        self._reclaim: dict[TopicPartition, float] = {}

    @property
    def assigned(self) -> set[TopicPartition]:
        return set(self.work)

    # -- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([self.topic], listener=_Rebalance(self))

    async def stop(self) -> None:
        self._running = False
        self._stopping = True
        with contextlib.suppress(Exception):
            await self.release(list(self.work))
        await self.consumer.stop()

    async def run(self) -> None:
        self._running = True
        try:
            while self._running:
                if self._failure is not None:
                    raise self._failure
                if self._reclaim:
                    await self._reclaim_due()
                # Registry changes committed before this poll apply to it (SPEC §3).
                try:
                    await self.registry.reader.catch_up()
                except KafkaError as exc:  # e.g. a leader moving: no poll until caught up
                    log.warning("registry catch-up failed; retrying", extra={"error": repr(exc)})
                    await asyncio.sleep(RETRY_BACKOFF_S)
                    continue
                batches = await self.consumer.getmany(timeout_ms=200, max_records=MAX_POLL_RECORDS)
                for tp, records in batches.items():
                    work = self.work.get(tp)
                    if records and work is not None and not work.closing:
                        self._enqueue(work, records)
        finally:
            # Cancelled (shutdown) or failed: stop the runners too. A batch cut short aborts
            # its transaction; what it applied to Redis is "already applied" on replay. Not
            # waiting them out: one may be retrying an unreachable Redis for as long as it
            # stays away.
            runners = [w.runner for w in self.work.values() if w.runner is not None]
            for runner in runners:
                runner.cancel()
            await asyncio.gather(*runners, return_exceptions=True)

    def _enqueue(self, work: PartitionWork, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        work.queue += records
        if len(work.queue) >= QUEUE_PAUSE and not work.paused:
            self.consumer.pause(work.tp)  # its runner is behind: fetch other partitions
            work.paused = True
        if work.runner is None:
            work.runner = asyncio.create_task(self._drain(work))

    async def _drain(self, work: PartitionWork) -> None:
        """A partition's runner: process its queue, a batch at a time, until it is empty."""
        try:
            while work.queue and not work.closing:
                records = work.queue[:MAX_BATCH]
                del work.queue[:MAX_BATCH]
                self._resume_if_caught_up(work)
                await self._process(work.tp, records)
                self._resume_if_caught_up(work)  # an aborted batch empties the queue
        except Exception as exc:  # noqa: BLE001 - handed to run(), which raises it
            self._failure = exc
        finally:
            work.runner = None

    def _resume_if_caught_up(self, work: PartitionWork) -> None:
        if work.paused and len(work.queue) < QUEUE_PAUSE:
            work.paused = False
            if self.work.get(work.tp) is work:  # still ours
                self.consumer.resume(work.tp)

    # -- partition ownership --------------------------------------------------------------

    async def claim(self, assigned: list[TopicPartition]) -> None:
        """Fence the previous owner of each partition, then start from its committed offset."""
        new = [tp for tp in assigned if tp not in self.work]
        producers = await asyncio.gather(*(self._producer_for(tp) for tp in new))
        if self._stopping:  # stop() ran while the producers started: close them, claim nothing
            for producer in producers:
                with contextlib.suppress(Exception):
                    await producer.stop()
            return
        for tp, producer in zip(new, producers, strict=True):
            committed = await self.consumer.committed(tp)
            if committed is None:
                committed = (await self.consumer.beginning_offsets([tp]))[tp]
            self.consumer.seek(tp, committed)
            if tp in self.consumer.paused():  # paused by a previous owner's queue
                self.consumer.resume(tp)
            self.work[tp] = PartitionWork(tp, producer, committed)
        if new:
            log.info("partitions claimed", extra={"partitions": sorted(tp.partition for tp in new)})

    async def release(self, revoked: Iterable[TopicPartition]) -> None:
        """Let in-flight batches finish, then close the partitions' producers."""
        for tp in list(revoked):
            work = self.work.get(tp)
            if work is None:
                continue
            work.closing = True
            work.queue.clear()
            async with work.lock:
                self.work.pop(tp, None)
                with contextlib.suppress(KeyError):
                    self.metrics.consumer_lag.remove(str(tp.partition))
                with contextlib.suppress(Exception):
                    await work.producer.stop()

    async def _reclaim_due(self) -> None:
        """Take back the fenced partitions the group still assigns to this processor.

        A transactional producer is also "fenced" when its coordinator moves (a broker
        dies) and the epoch it held is gone; then no one else owns the partition, and it
        would sit idle for good. A zombie's partitions, by contrast, have been revoked by
        the time the delay has passed (its first heartbeat fails), so it takes nothing."""
        now = time.monotonic()
        due = [tp for tp, when in self._reclaim.items() if when <= now]
        for tp in due:
            del self._reclaim[tp]
        owned = [tp for tp in due if tp in self.consumer.assignment()]
        if not owned:
            return
        log.warning(
            "taking fenced partitions back with a new producer",
            extra={"partitions": sorted(tp.partition for tp in owned)},
        )
        await self.release([tp for tp in owned if tp in self.work])
        try:
            await self.claim(owned)
        except (KafkaError, OSError) as exc:  # e.g. the coordinator still moving: later
            log.warning("could not take partitions back yet", extra={"error": repr(exc)})
            for tp in owned:
                self._reclaim[tp] = time.monotonic() + RECLAIM_DELAY_S

    async def _producer_for(self, tp: TopicPartition) -> AIOKafkaProducer:
        producer = transactional_producer(
            self.settings,
            f"eventgate-ingest-{tp.partition}",
            f"{self.settings.topic_prefix}{self.settings.consumer_group}.{tp.topic}.{tp.partition}",
            transaction_timeout_ms=10_000,
            linger_ms=5,
            max_batch_size=256 * 1024,
            compression_type=None,
        )
        await producer.start()  # init_transactions: fences and aborts the previous owner
        return producer

    async def refresh_lag(self) -> None:
        """Publish each owned partition's lag: its end offset (``read_committed``: the last
        stable offset), asked of the leaders, minus the position committed by this
        processor. Asked rather than read from the fetcher's highwater, which stops moving
        while a batch waits (Redis away): then the lag must keep growing."""
        owned = {tp: work.next_pos for tp, work in self.work.items()}
        if not owned:
            return
        ends = await self.consumer.end_offsets(list(owned))
        for tp, end in ends.items():
            work = self.work.get(tp)
            if work is not None:  # still ours after the round trip
                lag = max(0, end - work.next_pos)
                self.metrics.consumer_lag.labels(str(tp.partition)).set(lag)

    # -- one batch ----------------------------------------------------------------------

    async def _process(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        work = self.work.get(tp)
        if work is None or work.closing:
            return  # revoked meanwhile: the next owner processes these records
        async with work.lock:
            if work.closing or self.work.get(tp) is not work:
                return
            if records and records[0].offset < work.next_pos:  # in offset order: drop a head
                records = [r for r in records if r.offset >= work.next_pos]
            if not records:
                return
            started = time.perf_counter()
            try:
                await self._process_locked(work, records)
            except (ProducerFenced, IllegalOperation):  # the latter once fencing made it fatal
                log.warning(
                    "fenced: another processor owns the partition now",
                    extra={"partition": tp.partition},
                )
                self.metrics.transactions.labels("fenced").inc()
                self.feedback.forget()
                work.closing = True
                self._reclaim[tp] = time.monotonic() + RECLAIM_DELAY_S
            self.metrics.batch_size.observe(len(records))
            self.metrics.batch_seconds.observe(time.perf_counter() - started)

    async def _process_locked(
        self, work: PartitionWork, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        from_pos, to_pos = work.next_pos, records[-1].offset + 1
        decoded = decode_batch(records, self.settings.max_record_bytes)
        limited = await self._register_unknown(work, decoded)
        if limited is None:
            return  # partition released while the registry was unavailable
        decisions = decide_batch(decoded, self.registry.state, self.validators, limited)
        result = await self._apply_to_redis(work, from_pos, to_pos, decisions)
        if result is None:
            return
        now_ms = int(self.clock() * 1000)
        outputs = build_outputs(decisions, result, now_ms)
        requests = self.feedback.requests(decisions, result, self.registry.state, work.tp, to_pos)
        try:
            await self._commit(work, outputs, requests, to_pos)
        except (ProducerFenced, IllegalOperation):
            raise
        except KafkaError as exc:
            log.warning(
                "transaction failed; the batch will be read again",
                extra={"partition": work.tp.partition, "error": repr(exc)},
            )
            self.metrics.transactions.labels("aborted").inc()
            self.feedback.forget()  # its registry requests were not sent
            work.queue.clear()  # fetched after the failed batch: read again after the seek
            self.consumer.seek(work.tp, from_pos)
            return
        work.next_pos = to_pos
        self._count(decisions, result, int(self.clock() * 1000))  # launches committed

    async def _register_unknown(
        self, work: PartitionWork, decoded: list[Event | Rejection]
    ) -> frozenset[str] | None:
        """Auto-register the batch's unknown keys; the keys refused by a cap."""
        state = self.registry.state
        unknown = sorted(
            {
                item.event_type_key
                for item in decoded
                if isinstance(item, Event) and state.get(item.event_type_key) is None
            }
        )
        if not unknown:
            return frozenset()
        # One request, retried with the same id: the writer answers a retry with its first
        # reply, so keys registered before a lost reply still count as registered here.
        request = EnsureTypes(keys=tuple(unknown), seen_at_ms=int(self.clock() * 1000))
        while True:
            try:
                reply = (await self.registry.request(request)).raise_for_code()
            except EventgateError as exc:
                if work.closing:
                    return None
                if not exc.retriable:
                    raise
                log.warning("registry unavailable; retrying", extra={"error": str(exc)})
                await asyncio.sleep(RETRY_BACKOFF_S)
                continue
            outcome: dict[str, str] = reply.result.get("keys", {})
            registered = sum(1 for s in outcome.values() if s == "registered")
            self.metrics.types_registered.inc(registered)
            return frozenset(k for k, s in outcome.items() if s == "limited")

    async def _apply_to_redis(
        self, work: PartitionWork, from_pos: int, to_pos: int, decisions: list[Decision]
    ) -> frozenset[int] | None:
        entries = batch_entries(decisions)
        contiguous = True
        while True:
            try:
                started = time.perf_counter()
                try:
                    result = await self.store.apply_batch(
                        work.tp.partition,
                        from_pos,
                        to_pos,
                        entries,
                        int(self.clock() * 1000),
                        contiguous=contiguous,
                    )
                except RedisBehind as behind:  # the outer handlers cover the re-read too
                    contiguous = await self._reapply_lost(work, behind) >= from_pos
                    continue
            except (DependencyUnavailable, RedisError, OSError, KafkaError) as exc:
                # Nothing is committed while Redis (or the range to re-read) is away: lag
                # grows, nothing is lost.
                self.redis_ok = False
                self.metrics.redis_errors.inc()
                self.metrics.redis_up.set(0)
                if work.closing:
                    return None
                log.warning("redis unavailable; retrying the batch", extra={"error": repr(exc)})
                await asyncio.sleep(RETRY_BACKOFF_S)
            else:
                self.metrics.redis_seconds.observe(time.perf_counter() - started)
                self.metrics.redis_up.set(1)
                self.redis_ok = True
                return result.duplicates

    async def _reapply_lost(self, work: PartitionWork, behind: RedisBehind) -> int:
        """Redis lost its latest writes: apply ingest [stored, batch start) again (Redis
        only; their outputs were committed). Returns where Redis is now."""
        log.warning(
            "Redis came back with older data; re-applying what it lost",
            extra={"partition": work.tp.partition, "from": behind.stored, "to": behind.from_pos},
        )
        self.metrics.redis_reapplied.inc(behind.from_pos - behind.stored)

        def entries_of(records: Sequence[ConsumerRecord[bytes, bytes]]) -> list[BatchEntry]:
            decoded = decode_batch(records, self.settings.max_record_bytes)
            return batch_entries(decide_batch(decoded, self.registry.state, self.validators))

        return await reapply_lost_range(
            self.settings,
            work.tp,
            behind.stored,
            behind.from_pos,
            entries_of,
            self.store,
            self.clock,
        )

    async def _commit(
        self,
        work: PartitionWork,
        outputs: list[OutputRecord],
        requests: list[tuple[bytes, bytes]],
        to_pos: int,
    ) -> None:
        producer = work.producer
        records = outputs + [OutputRecord("registry.requests", k, v, []) for k, v in requests]
        started = time.perf_counter()
        async with producer.transaction():
            await self.sender.send(producer, records, self.settings.topic_prefix)
            await producer.send_offsets_to_transaction(
                {work.tp: to_pos}, self.settings.consumer_group
            )
        self.metrics.transaction_seconds.observe(time.perf_counter() - started)
        self.metrics.transactions.labels("committed").inc()

    def _count(
        self,
        decisions: list[Decision],
        duplicates: frozenset[int],
        now_ms: int,
    ) -> None:
        """Metrics of a committed batch, aggregated first (one update per series)."""
        m = self.metrics
        m.events_in.inc(len(decisions))
        m.duplicates.inc(len(duplicates))
        reasons: Counter[str] = Counter()
        accepted = launches = stops = 0
        for d in decisions:
            if duplicates and d.position in duplicates:
                continue
            if d.outcome is Outcome.ACCEPTED:
                accepted += 1
                stops += len(d.stops)
                if d.launches:
                    launches += len(d.launches)
                    m.end_to_end.observe(max(0.0, (now_ms - d.item.record.timestamp) / 1000))
            elif d.reason is not None:
                reasons[d.reason.value] += 1
                self.rejects.note(d)
        m.events_accepted.inc(accepted)
        for reason, count in reasons.items():
            m.events_rejected.labels(reason).inc(count)
        m.registration_limited.inc(reasons[RejectReason.REGISTRATION_LIMIT.value])
        m.commands.labels("launch").inc(launches)
        m.commands.labels("stop").inc(stops)
