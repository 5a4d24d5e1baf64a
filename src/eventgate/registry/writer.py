"""The single registry writer (DESIGN-NOTES decision 2).

Every candidate process joins consumer group ``{prefix}registry-writer`` on
``{prefix}registry.requests`` (one partition); the member assigned partition 0 is the
writer. On assignment it starts a transactional producer with the one fixed
``transactional_id`` ``{prefix}registry-writer`` — ``init_transactions`` fences any
paused ex-writer and completes or aborts its open transaction — then waits until the
process's registry state includes everything committed, and loads the replies of the
last minutes (so a retried request id gets its first answer again, not a new decision).

Then, per poll of requests: decide each in order against a
:class:`~eventgate.registry.staged.StagedView` of the state (so requests of one batch see
each other), and in ONE transaction append the records to ``{prefix}registry``, one
reply per request to ``{prefix}registry.replies`` (carrying the registry offset the
answer depends on), and the request offsets. On revocation or fencing it drops the
producer; after fencing it waits for a fresh assignment before taking over again, so two
members never fence each other in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import IllegalOperation, KafkaError, ProducerFenced

from eventgate.connections import kafka_common, transactional_producer
from eventgate.registry import records as rec
from eventgate.registry.commands import Decision, Limits, decide
from eventgate.registry.log import RegistryReader
from eventgate.registry.requests import (
    BadRequest,
    Reply,
    ReplyCode,
    decode_reply,
    decode_request,
    encode_reply,
)
from eventgate.registry.staged import StagedView
from eventgate.settings import Settings

log = logging.getLogger(__name__)

TRANSACTION_TIMEOUT_MS = 10_000
REPLY_WINDOW_MS = 15 * 60_000
REPLY_CACHE_MAX = 100_000
BATCH_MAX = 500


def writer_group(settings: Settings) -> str:
    return f"{settings.topic_prefix}registry-writer"


def writer_transactional_id(settings: Settings) -> str:
    return f"{settings.topic_prefix}registry-writer"


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, writer: RegistryWriter) -> None:
        self._writer = writer

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        await self._writer._on_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        self._writer._on_assigned(assigned)


class RegistryWriter:
    """A writer candidate; ``is_writer`` is true while it serves requests."""

    def __init__(
        self,
        settings: Settings,
        reader: RegistryReader,
        *,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
        client_id: str = "eventgate-registry-writer",
        session_timeout_ms: int = 10_000,
        reply_window_ms: int = REPLY_WINDOW_MS,
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.limits = limits or Limits.from_settings(settings)
        self._clock = clock
        self._client_id = client_id
        self._session_timeout_ms = session_timeout_ms
        self._reply_window_ms = reply_window_ms
        self._group = writer_group(settings)
        self._requests_tp = TopicPartition(settings.topic("registry.requests"), 0)
        self._registry_topic = settings.topic("registry")
        self._replies_topic = settings.topic("registry.replies")
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._assignments = 0  # how many times partition 0 was assigned to us
        self._blocked_until_assignment = -1  # fenced at this assignment: wait for a new one
        self._owns = False
        self._assigned_event = asyncio.Event()
        self._last_offset = -1
        self.replies: OrderedDict[str, Reply] = OrderedDict()
        # figures for metrics
        self.requests_served = 0
        self.requests_replayed = 0
        self.requests_unreadable = 0
        self.takeovers = 0
        self.fenced = 0

    @property
    def is_writer(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **kafka_common(self.settings, self._client_id),
            group_id=self._group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(500, self._session_timeout_ms // 10),
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        consumer.subscribe([self._requests_tp.topic], listener=_Listener(self))
        self._consumer = consumer
        self._task = asyncio.create_task(self._run(consumer), name=f"registry-writer:{self._group}")

    async def stop(self) -> None:
        """Stop serving and leave the group (a crash is the other way to stop)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._lock:
            await self._drop_producer()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    # -- group membership ----------------------------------------------------------------

    def _on_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        if self._requests_tp in assigned:
            self._assignments += 1
            self._owns = True
            self._assigned_event.set()

    async def _on_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        if self._requests_tp in revoked:
            self._owns = False
            self._assigned_event.clear()
            async with self._lock:  # let the batch in flight finish first
                await self._drop_producer()

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            log.info("registry writer: stepping down")
            with contextlib.suppress(Exception):
                await producer.stop()

    # -- takeover ------------------------------------------------------------------------

    async def _takeover(self) -> None:
        producer = transactional_producer(
            self.settings,
            self._client_id,
            writer_transactional_id(self.settings),
            transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
            linger_ms=0,
        )
        await producer.start()  # init_transactions: fences the ex-writer, ends its transaction
        try:
            await self.reader.catch_up()
            await self._load_replies()
        except BaseException:
            await producer.stop()
            raise
        self._last_offset = self.reader.position - 1
        self._producer = producer
        self.takeovers += 1
        log.info("registry writer: serving (registry position %d)", self.reader.position)

    async def _load_replies(self) -> None:
        """Remember the replies of the last minutes: a retried request id is answered
        with its first reply, even when a previous writer gave it."""
        tp = TopicPartition(self._replies_topic, 0)
        consumer = AIOKafkaConsumer(
            **kafka_common(self.settings, f"{self._client_id}-replies"),
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            consumer.assign([tp])
            since = int(self._clock() * 1000) - self._reply_window_ms
            found = (await consumer.offsets_for_times({tp: since})).get(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            if found is None:
                consumer.seek(tp, end)
            else:
                consumer.seek(tp, found.offset)
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=500, max_records=10_000)
                for message in batch.get(tp, ()):
                    reply = decode_reply(message.value)
                    if reply is not None:
                        self._remember(reply)
        finally:
            await consumer.stop()

    def _remember(self, reply: Reply) -> None:
        self.replies[reply.request_id] = reply
        self.replies.move_to_end(reply.request_id)
        while len(self.replies) > REPLY_CACHE_MAX:
            self.replies.popitem(last=False)

    # -- serving -------------------------------------------------------------------------

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        tp = self._requests_tp
        while True:
            if not self._owns:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(1):
                        await self._assigned_event.wait()
                continue
            if self._producer is None:
                if self._assignments <= self._blocked_until_assignment:
                    await asyncio.sleep(0.2)  # fenced: wait for the group to reassign
                    continue
                try:
                    async with self._lock:
                        if self._owns and self._producer is None:
                            await self._takeover()
                except (KafkaError, RuntimeError, OSError):
                    log.exception("registry writer: takeover failed; retrying")
                    await asyncio.sleep(1)
                continue
            try:
                await self._poll(consumer, tp)
            except (KafkaError, OSError):
                log.exception("registry writer: polling requests failed; retrying")
                await asyncio.sleep(1)
            except Exception:
                # Whatever it is, the writer must not end while its process lives on (the
                # group would keep the requests partition assigned to a dead writer).
                log.exception("registry writer: unexpected error; stepping down to retry")
                async with self._lock:
                    await self._drop_producer()
                await asyncio.sleep(1)

    async def _poll(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> None:
        batch = await consumer.getmany(tp, timeout_ms=200, max_records=BATCH_MAX)
        messages = batch.get(tp, [])
        if not messages:
            return
        async with self._lock:
            producer = self._producer
            if producer is None or not self._owns:
                if self._owns:  # reassigned while polling: serve these after the takeover
                    consumer.seek(tp, messages[0].offset)
                return
            try:
                await self._serve(consumer, producer, messages)
            except Exception:
                consumer.seek(tp, messages[0].offset)  # served again after the step-down
                raise

    async def _serve(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, messages: Sequence[Any]
    ) -> None:
        # Every record of our previous transactions must be in the state we decide on.
        await self.reader.applied(self._last_offset)
        now_ms = int(self._clock() * 1000)
        view = StagedView(self.reader.state)
        plans: list[tuple[str, Reply | None, Decision | None]] = []
        batch_replies: dict[str, int] = {}
        for message in messages:
            try:
                request = decode_request(message.value)
            except BadRequest as exc:
                self.requests_unreadable += 1
                if exc.request_id is not None:
                    bad = Decision(code=ReplyCode.INVALID, message=str(exc), details=exc.details)
                    plans.append((exc.request_id, None, bad))
                continue
            rid = request.request_id
            if rid in batch_replies:
                plans.append((rid, None, None))  # the same id twice in one batch
                continue
            batch_replies[rid] = len(plans)
            cached = self.replies.get(rid)
            if cached is not None:
                plans.append((rid, cached, None))
                continue
            try:
                decision = decide(view, request, now_ms, self.limits)
            except Exception as exc:
                log.exception("registry writer: cannot decide %s", request.op)
                decision = Decision(code=ReplyCode.INVALID, message=f"cannot apply: {exc}")
            for record in decision.records:
                view.stage(record)
            plans.append((rid, None, decision))
        try:
            replies = await self._commit(producer, consumer, messages, plans)
        except (ProducerFenced, IllegalOperation):
            # IllegalOperation: aiokafka's answer once a fenced producer's transaction state
            # is fatal ("Can't send messages while not in transaction"); fenced all the same.
            self.fenced += 1
            log.warning("registry writer: fenced by a newer writer")
            self._blocked_until_assignment = self._assignments
            await self._drop_producer()
            consumer.seek(self._requests_tp, messages[0].offset)
            return
        except KafkaError:
            log.exception("registry writer: transaction failed; stepping down to retry")
            await self._drop_producer()
            consumer.seek(self._requests_tp, messages[0].offset)
            return
        for reply in replies:
            self._remember(reply)

    async def _commit(
        self,
        producer: AIOKafkaProducer,
        consumer: AIOKafkaConsumer,
        messages: Sequence[Any],
        plans: list[tuple[str, Reply | None, Decision | None]],
    ) -> list[Reply]:
        await producer.begin_transaction()
        try:
            sent: list[list[asyncio.Future[Any]]] = []
            for _, _, decision in plans:
                futures = []
                for record in decision.records if decision is not None else ():
                    if record.value is None:
                        key, value = rec.tombstone(record.kind, record.id)
                    else:
                        key, value = rec.encode(record.value, record.request_id)
                    futures.append(await producer.send(self._registry_topic, value, key=key))
                sent.append(futures)
            replies: list[Reply] = []
            by_id: dict[str, Reply] = {}
            position = self._last_offset
            for (rid, cached, decision), futures in zip(plans, sent, strict=True):
                if cached is not None:
                    reply = cached
                    self.requests_replayed += 1
                elif decision is None:
                    reply = by_id[rid]  # repeated in this batch: same answer
                else:
                    for metadata in await asyncio.gather(*futures):
                        position = max(position, metadata.offset)
                    reply = Reply(
                        request_id=rid,
                        code=decision.code,
                        message=decision.message,
                        details=decision.details,
                        result=decision.result,
                        registry_offset=position,
                    )
                    replies.append(reply)
                by_id[rid] = reply
                await producer.send(self._replies_topic, encode_reply(reply), key=rid.encode())
            offsets = {self._requests_tp: messages[-1].offset + 1}
            await producer.send_offsets_to_transaction(offsets, self._group)
        except BaseException:
            with contextlib.suppress(Exception):
                await producer.abort_transaction()
            raise
        await producer.commit_transaction()
        self._last_offset = position
        self.requests_served += len(plans)
        return replies
