"""The processor's batched producing (``ingest.producing``) against a real broker: every
record of a transaction arrives once, on the partition Kafka's default partitioner picks,
in order within its partition — also when builders fill up and go out mid-batch; an
aborted transaction leaves nothing visible."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from streams import read_committed

from eventgate.connections import kafka_common
from eventgate.ingest.producing import BatchSender
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

pytestmark = pytest.mark.integration


async def _producer(settings: Settings, name: str) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(
        **kafka_common(settings, name),
        transactional_id=f"{settings.topic_prefix}{name}",
        enable_idempotence=True,
        acks="all",
        max_batch_size=4096,  # small builders: most of them fill up and go out early
    )
    await producer.start()
    return producer


async def test_records_land_once_in_order_on_the_default_partition(settings: Settings) -> None:
    settings = settings.model_copy(update={"output_partitions": 4})
    await ensure_topics(settings)
    launch, rejected = settings.topic("workflow.launch"), settings.topic("rejected")
    records = [
        (launch, f"contact-{i % 37}".encode(), f"launch-{i}".encode() * 20, [("n", b"%d" % i)])
        for i in range(600)
    ] + [(rejected, None, f"dead-{i}".encode(), []) for i in range(40)]
    producer = await _producer(settings, "sender-test")
    try:
        async with producer.transaction():
            batches = await BatchSender().send(producer, records)
    finally:
        await producer.stop()
    assert batches > 8  # the 4 KiB builders filled up along the way

    launched = await read_committed(settings, "workflow.launch", expect=600)
    assert sorted(m.value for m in launched) == sorted(r[2] for r in records[:600])
    every = list(range(4))
    for m in launched:
        assert m.key is not None
        assert m.partition == DefaultPartitioner()(m.key, every, every)
        assert m.headers == (("n", m.value.split(b"-")[1].split(b"l")[0]),)
    for partition in every:
        numbers = [
            int(m.value.split(b"-")[1].split(b"l")[0]) for m in launched if m.partition == partition
        ]
        assert numbers == sorted(numbers)
    dead = await read_committed(settings, "rejected", expect=40)
    assert sorted(m.value for m in dead) == sorted(r[2] for r in records[600:])
    assert len({m.partition for m in dead}) > 1  # unkeyed records are spread


async def test_an_aborted_transaction_shows_nothing(settings: Settings) -> None:
    await ensure_topics(settings)
    producer = await _producer(settings, "sender-abort")
    try:
        await producer.begin_transaction()
        await BatchSender().send(
            producer, [(settings.topic("workflow.launch"), b"c1", b"never", [])]
        )
        await producer.abort_transaction()
    finally:
        await producer.stop()
    assert await read_committed(settings, "workflow.launch", quiet_ms=1000) == []
