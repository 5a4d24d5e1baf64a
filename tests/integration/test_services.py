"""The real services answer, and the Kafka features eventgate stands on work on this broker:
transactions with consumer offsets, read_committed, and fencing of a zombie producer."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import ProducerFenced

from eventgate.connections import RedisClient, kafka_common
from eventgate.settings import Settings
from eventgate.topics import ensure_topics, topic_specs


async def _read_committed(settings: Settings, topic: str, expect: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_common(settings, "test-reader"),
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < expect:
                batch = await consumer.getmany(timeout_ms=500)
                values += [m.value for msgs in batch.values() for m in msgs]
        # Anything beyond ``expect`` would be a duplicate: read a little longer.
        extra = await consumer.getmany(timeout_ms=1000)
        values += [m.value for msgs in extra.values() for m in msgs]
    finally:
        await consumer.stop()
    return values


async def test_topics_are_created_once_with_their_config(settings: Settings) -> None:
    created = await ensure_topics(settings)
    assert sorted(created) == sorted(spec.name for spec in topic_specs(settings))
    assert await ensure_topics(settings) == []
    admin = AIOKafkaAdminClient(**kafka_common(settings, "test-admin"))
    await admin.start()
    try:
        partitions: list[object] = []
        async with asyncio.timeout(15):  # a fresh broker's metadata catches up shortly
            while not partitions:
                described = await admin.describe_topics([settings.topic("registry")])
                partitions = described[0]["partitions"]
                await asyncio.sleep(0.1)
        assert len(partitions) == 1
    finally:
        await admin.close()


async def test_transaction_commits_outputs_and_offsets_atomically(settings: Settings) -> None:
    await ensure_topics(settings)
    ingest, out = settings.topic("ingest"), settings.topic("workflow.launch")
    plain = AIOKafkaProducer(**kafka_common(settings, "test"), acks="all", enable_idempotence=True)
    await plain.start()
    for i in range(100):
        await plain.send(ingest, f"e{i}".encode(), partition=i % 4)
    await plain.stop()

    group = settings.consumer_group
    consumer = AIOKafkaConsumer(
        ingest,
        **kafka_common(settings, "test"),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    producer = AIOKafkaProducer(
        **kafka_common(settings, "test"),
        transactional_id=f"{settings.topic_prefix}tx-{uuid.uuid4().hex}",
        enable_idempotence=True,
        acks="all",
        transaction_timeout_ms=10_000,
    )
    await producer.start()
    seen = 0
    try:
        async with asyncio.timeout(30):
            while seen < 100:
                for tp, msgs in (await consumer.getmany(timeout_ms=500)).items():
                    async with producer.transaction():
                        for m in msgs:
                            await producer.send(out, m.value)
                        await producer.send_offsets_to_transaction({tp: msgs[-1].offset + 1}, group)
                    seen += len(msgs)
        # Offsets committed in a transaction become visible once its markers are written.
        total = 0
        async with asyncio.timeout(15):
            while total != 100:
                offsets = [await consumer.committed(TopicPartition(ingest, p)) for p in range(4)]
                total = sum(o or 0 for o in offsets)
                await asyncio.sleep(0.1)
    finally:
        await producer.stop()
        await consumer.stop()
    values = await _read_committed(settings, out, 100)
    assert sorted(values) == sorted(f"e{i}".encode() for i in range(100))


async def test_new_owner_fences_zombie_and_aborts_its_open_transaction(settings: Settings) -> None:
    await ensure_topics(settings)
    out = settings.topic("workflow.stop")
    txid = f"{settings.topic_prefix}tx-fence"
    common = kafka_common(settings, "test")
    zombie = AIOKafkaProducer(**common, transactional_id=txid, enable_idempotence=True, acks="all")
    await zombie.start()
    await zombie.begin_transaction()
    await zombie.send_and_wait(out, b"from-the-zombie")

    owner = AIOKafkaProducer(**common, transactional_id=txid, enable_idempotence=True, acks="all")
    await owner.start()  # init_transactions bumps the epoch: the zombie's transaction aborts
    async with owner.transaction():
        await owner.send(out, b"from-the-owner")

    with pytest.raises(ProducerFenced):
        await zombie.send_and_wait(out, b"late")
        await zombie.commit_transaction()
    await zombie.stop()
    await owner.stop()
    assert await _read_committed(settings, out, 1) == [b"from-the-owner"]


async def test_redis_answers_lua(redis: RedisClient) -> None:
    script = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
    assert await redis.eval(script, 1, "{t}:n", 5) == 5  # type: ignore[misc]
    assert await redis.eval(script, 1, "{t}:n", 2) == 7  # type: ignore[misc]
