"""Micro-benchmark of back-to-back Kafka transactions, as one ingest partition's producer
runs them: where a transaction's time goes, with aiokafka's fixed wait after
CONCURRENT_TRANSACTIONS at its default (20 ms) and at shorter values.

A processor's partition starts its next transaction right after the previous commit,
while the coordinator still writes that commit's markers; the first AddPartitionsToTxn
then meets CONCURRENT_TRANSACTIONS and aiokafka waits ``BACKOFF_OVERRIDE`` before trying
again (``eventgate.connections.TXN_RESTART_BACKOFF_S`` shortens it).

Run: ``.venv/bin/python bench/txn_micro.py [--bootstrap HOST:PORT] [--rounds N]``; without
``--bootstrap`` it starts (or reuses) the bench's own Kafka (127.0.0.1:19292).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

import aiokafka.producer.sender as aiokafka_sender
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from eventgate.devstack import ensure_kafka
from eventgate.devstack.process import default_cache

TOPICS = ("txn-micro.a", "txn-micro.b")


async def rounds(bootstrap: str, backoff_s: float, count: int) -> dict[str, float]:
    """Median ms of each step of ``count`` back-to-back transactions."""
    aiokafka_sender.BACKOFF_OVERRIDE = backoff_s
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        transactional_id=f"txn-micro-{backoff_s}",
        enable_idempotence=True,
        acks="all",
        retry_backoff_ms=10,
        linger_ms=0,
    )
    await producer.start()
    steps: dict[str, list[float]] = {"first send": [], "same partition": [], "new partition": []}
    steps["commit"] = []
    try:
        for i in range(count + 3):
            await producer.begin_transaction()
            marks = [time.perf_counter()]
            for topic in (TOPICS[0], TOPICS[0], TOPICS[1]):
                await (await producer.send(topic, b"x" * 300, partition=0))
                marks.append(time.perf_counter())
            await producer.commit_transaction()
            marks.append(time.perf_counter())
            if i >= 3:  # warmed up
                for name, start, end in zip(steps, marks, marks[1:], strict=False):
                    steps[name].append(end - start)
    finally:
        await producer.stop()
    return {name: statistics.median(values) * 1000 for name, values in steps.items()}


async def main(bootstrap: str, count: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, 1, 1) for t in TOPICS])
    except TopicAlreadyExistsError:
        pass
    finally:
        await admin.close()
    print(f"back-to-back transactions on {bootstrap}, median ms of {count} rounds")
    print(
        f"{'wait after CONCURRENT_TRANSACTIONS':<36}{'first send':>11}{'same tp':>9}"
        f"{'new tp':>9}{'commit':>9}"
    )
    for backoff in (0.02, 0.005, 0.002, 0.001):
        got = await rounds(bootstrap, backoff, count)
        print(f"{backoff * 1000:>6.0f} ms{'':<30}" + "".join(f"{v:>9.1f}" for v in got.values()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap", help="a running Kafka (default: the bench's own)")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    bootstrap = args.bootstrap
    if bootstrap is None:
        home = Path(__file__).parent / ".work" / "devstack"
        bootstrap = ensure_kafka(home, default_cache(), port=19292).bootstrap
    asyncio.run(main(bootstrap, args.rounds))
