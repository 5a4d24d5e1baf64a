"""``RegistryReader``: follows ``{prefix}registry`` and keeps a ``RegistryState`` current.

It assigns itself the topic's single partition (no consumer group: every process reads
everything), reads from the beginning with ``read_committed`` (an aborted writer
transaction is never seen), and applies each poll as one batch. ``loaded()`` resolves
once the state has caught up with the end offset seen at start; ``applied(offset)`` once
it includes ``offset``. Listeners get each poll's changes after they are applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from eventgate.connections import kafka_common
from eventgate.registry.state import Change, RegistryState
from eventgate.settings import Settings

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[Change]], None]
_MAX_RECORDS = 10_000


class RegistryReader:
    """Materialises the registry log into ``state``; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        state: RegistryState | None = None,
        *,
        client_id: str = "eventgate-registry-reader",
        consumer_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.state = state if state is not None else RegistryState()
        self.topic = settings.topic("registry")
        self._tp = TopicPartition(self.topic, 0)
        self._client_id = client_id
        self._options = consumer_options or {}
        self._consumer: AIOKafkaConsumer | None = None
        # End offsets are asked on a connection of their own: on the reader's connection a
        # ListOffsets waits behind the long-polling fetch (Kafka answers a connection's
        # requests in order), which cost ~80 ms per catch_up() here.
        self._offsets: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._position = 0  # next offset to read: the state includes every offset below
        self._load_target: int | None = None
        self._loaded = asyncio.Event()
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._listeners: list[Listener] = []
        self._failure: BaseException | None = None
        self.records_applied = 0

    @property
    def position(self) -> int:
        """The next registry offset to read; the state includes all offsets below it."""
        return self._position

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener(changes)`` after each applied poll (in the reader's task)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    async def start(self) -> None:
        consumer = AIOKafkaConsumer(
            **kafka_common(self.settings, self._client_id),
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            **self._options,
        )
        await consumer.start()
        try:
            consumer.assign([self._tp])
            await consumer.seek_to_beginning(self._tp)
            self._load_target = (await consumer.end_offsets([self._tp]))[self._tp]
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._offsets = AIOKafkaConsumer(
            **kafka_common(self.settings, f"{self._client_id}-offsets"),
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await self._offsets.start()
        self._check_loaded()
        self._task = asyncio.create_task(self._run(consumer), name=f"registry-reader:{self.topic}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        if self._offsets is not None:
            await self._offsets.stop()
            self._offsets = None
        for _, _, waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()

    async def loaded(self) -> None:
        """Wait until the state includes everything committed when the reader started."""
        await self._wait(self._loaded.wait())

    async def applied(self, offset: int) -> None:
        """Wait until the state includes registry offset ``offset`` (no-op if negative)."""
        if offset < self._position:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (offset, next(self._seq), waiter))
        await self._wait(waiter)

    async def end_offset(self) -> int:
        """The registry's current last stable offset (end of committed data)."""
        if self._offsets is None:
            raise RuntimeError("the registry reader is not started")
        return int((await self._offsets.end_offsets([self._tp]))[self._tp])

    async def catch_up(self) -> None:
        """Wait until the state includes everything committed before this call."""
        end = await self.end_offset()
        if self._position < end and self._consumer is not None:
            # The end offset counts the commit marker after the last record; the fetcher
            # moves the position past such control records without returning anything, so
            # getmany() would only report it on its next records or timeout. The consumer's
            # position moves only when the reader's task takes records, which it applies
            # before its next await: a position at or past the end means all is applied.
            position = await self._consumer.position(self._tp)
            if position >= end:
                self._position = max(self._position, position)
                self._release()
        await self.applied(end - 1)

    async def _wait(self, awaitable: Any) -> None:
        if self._failure is not None:
            raise RuntimeError("the registry reader has failed") from self._failure
        await awaitable

    def _check_loaded(self) -> None:
        if self._load_target is not None and self._position >= self._load_target:
            self._loaded.set()

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            while True:
                batch = await consumer.getmany(self._tp, timeout_ms=1000, max_records=_MAX_RECORDS)
                changes: list[Change] = []
                apply = self.state.apply_raw
                for message in batch.get(self._tp, ()):
                    change = apply(message.key, message.value, message.offset)
                    if change is not None:
                        changes.append(change)
                self.records_applied += len(changes)
                # The position moves past control records (transaction markers) too.
                self._position = await consumer.position(self._tp)
                self._check_loaded()
                self._release()
                if changes:
                    self._notify(changes)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("registry reader stopped")
            self._failure = exc
            for _, _, waiter in self._waiters:
                if not waiter.done():
                    waiter.set_exception(RuntimeError("the registry reader has failed"))
            raise

    def _release(self) -> None:
        waiters = self._waiters
        while waiters and waiters[0][0] < self._position:
            _, _, waiter = heapq.heappop(waiters)
            if not waiter.done():
                waiter.set_result(None)

    def _notify(self, changes: Sequence[Change]) -> None:
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:
                log.exception("registry change listener failed")
