"""``RegistryClient``: send a request to the registry writer and wait for its reply.

One per process. Requests go to ``{prefix}registry.requests`` through an idempotent
producer (key = request id); replies are read from ``{prefix}registry.replies`` by one
consumer assigned its single partition and positioned at its end *before* the first
request is sent, which dispatches each reply to the future waiting on its request id.
A request returns once the process's own registry reader has applied the registry
offset the reply carries, so the caller reads its own write.

A timeout raises :class:`eventgate.errors.RegistryTimeout` (retriable). Retrying with
the *same* request is safe: the writer answers a repeated request id with its first
reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from eventgate.connections import kafka_common
from eventgate.errors import RegistryTimeout
from eventgate.registry.log import RegistryReader
from eventgate.registry.requests import EnsureTypes, Reply, Request, decode_reply, encode_request
from eventgate.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 15.0


class RegistryClient:
    """Request/reply with the registry writer; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        reader: RegistryReader,
        *,
        client_id: str = "eventgate-registry-client",
        request_timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self.request_timeout_s = request_timeout_s
        self.reader = reader
        self._client_id = client_id
        self._requests_topic = settings.topic("registry.requests")
        self._replies_tp = TopicPartition(settings.topic("registry.replies"), 0)
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[Reply]] = {}
        self.unreadable_replies = 0

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            **kafka_common(self.settings, self._client_id),
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
        )
        consumer = AIOKafkaConsumer(
            **kafka_common(self.settings, f"{self._client_id}-replies"),
            group_id=None,
            enable_auto_commit=False,
            isolation_level="read_committed",
            fetch_max_wait_ms=100,
        )
        await producer.start()
        try:
            await consumer.start()
            consumer.assign([self._replies_tp])
            await consumer.seek_to_end(self._replies_tp)
            await consumer.position(self._replies_tp)  # resolve it before any request
        except BaseException:
            await producer.stop()
            await consumer.stop()
            raise
        self._producer, self._consumer = producer, consumer
        self._task = asyncio.create_task(self._dispatch(consumer), name="registry-replies")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def request(self, request: Request) -> Reply:
        """Send ``request``; its reply once this process's state includes its effect.

        Refusals come back as replies (``reply.ok`` is false; ``raise_for_code()``).
        Past ``request_timeout_s`` it raises ``RegistryTimeout``; wrap the call in
        ``asyncio.timeout`` for a shorter deadline.
        """
        timeout = self.request_timeout_s
        if self._producer is None:
            raise RuntimeError("the registry client is not started")
        rid = request.request_id
        future = self._pending.get(rid)
        if future is None:  # the same id retried while still waiting shares the wait
            future = asyncio.get_running_loop().create_future()
            self._pending[rid] = future
        try:
            async with asyncio.timeout(timeout):
                await self._producer.send_and_wait(
                    self._requests_topic, encode_request(request), key=rid.encode()
                )
                reply = await asyncio.shield(future)
                await self.reader.applied(reply.registry_offset)
        except TimeoutError:
            raise RegistryTimeout(
                f"no answer from the registry writer within {timeout:g} s "
                f"(request {rid}, {request.op}); retry the same request"
            ) from None
        finally:
            self._pending.pop(rid, None)
        return reply

    async def ensure_types(
        self, keys: list[str] | tuple[str, ...], *, seen_at_ms: int | None = None
    ) -> dict[str, str]:
        """Auto-register a poll's unknown keys in one request: ``{key: registered |
        exists | limited | invalid}``."""
        seen = int(time.time() * 1000) if seen_at_ms is None else seen_at_ms
        reply = await self.request(EnsureTypes(keys=tuple(keys), seen_at_ms=seen))
        reply.raise_for_code()
        result: dict[str, str] = reply.result.get("keys", {})
        return result

    async def _dispatch(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batch = await consumer.getmany(self._replies_tp, timeout_ms=1000, max_records=5000)
            for message in batch.get(self._replies_tp, ()):
                reply = decode_reply(message.value)
                if reply is None:
                    self.unreadable_replies += 1
                    continue
                future = self._pending.get(reply.request_id)
                if future is not None and not future.done():
                    future.set_result(reply)
