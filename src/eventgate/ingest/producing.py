"""Write a batch's output records into the open transaction, a record batch per partition.

``AIOKafkaProducer.send`` costs ~10 µs of Python per record (a future, the partitioner,
the accumulator); a poll of 5,000 events makes ~3,000 records, so per-record sends were
~12 % of a worker's CPU (py-spy over ``make bench``). Here records are appended to one
``BatchBuilder`` per (topic, partition) — the append itself is aiokafka's C record
builder — and each builder goes out with one ``send_batch``. Partitions are the default
partitioner's (``ingest.partitioner``), so keyed records land where any Kafka client
would put them; unkeyed ones (dead letters without a record key) rotate.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

from eventgate.ingest.outputs import Headers
from eventgate.ingest.partitioner import KeyPartitioner


class BatchSender:
    """Groups records by partition for one producer's transactions."""

    def __init__(self, partitioner: KeyPartitioner | None = None) -> None:
        self.partitioner = partitioner or KeyPartitioner()
        self._rotation = itertools.count()

    async def send(
        self,
        producer: AIOKafkaProducer,
        records: Iterable[tuple[str, bytes | None, bytes, Headers]],
        prefix: str = "",
    ) -> int:
        """Queue ``(topic, key, value, headers)`` records (``prefix + topic`` is the topic's
        name); returns the number of batches. The caller's transaction commit (or
        ``flush``) waits for their delivery."""
        topics: dict[str, tuple[str, int]] = {}
        builders: dict[tuple[str, int], Any] = {}
        sent = 0
        for short, key, value, headers in records:
            known = topics.get(short)
            if known is None:
                name = prefix + short
                known = topics[short] = (name, len(await producer.partitions_for(name)))
            topic, n = known
            if key is None:
                partition = next(self._rotation) % n
            else:
                partition = self.partitioner.partition(key, n)
            slot = (topic, partition)
            builder = builders.get(slot)
            if builder is None:
                builder = builders[slot] = producer.create_batch()
            if builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
                # Full: send it and start another (a lone record always fits an empty
                # builder: aiokafka lets the first record exceed the batch size).
                builder.close()
                await producer.send_batch(builder, topic, partition=partition)
                sent += 1
                builder = builders[slot] = producer.create_batch()
                builder.append(timestamp=None, key=key, value=value, headers=headers)
        for (topic, partition), builder in builders.items():
            builder.close()  # complete: the sender need not wait out linger_ms for more
            await producer.send_batch(builder, topic, partition=partition)
            sent += 1
        return sent
