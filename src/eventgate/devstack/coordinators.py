"""Warm a fresh broker's group and transaction coordinators before anyone uses them.

A new broker creates ``__consumer_offsets`` and ``__transaction_state`` on the first
request that needs them, then loads each of their partitions. Clients that come first
meet ``COORDINATOR_NOT_AVAILABLE`` / ``NOT_COORDINATOR`` / ``COORDINATOR_LOAD_IN_PROGRESS``
while that happens; aiokafka retries, but logs each ``NOT_COORDINATOR`` as a warning
("Marking the coordinator dead (node 1) for group …": three of them on every first
``make up``). The launcher, which just started the broker, asks instead: for a key that
hashes to each partition of both topics (Kafka's ``abs(key.hashCode()) % partitions``),
a FindCoordinator and, for groups, a DescribeGroups, until they answer without error.
Then every partition of both topics has a loaded coordinator, and the first worker, API
or test starts on a broker that is ready for groups and transactions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

GROUP, TRANSACTION = 0, 1
PARTITIONS = 10
"""``offsets.topic.num.partitions`` and ``transaction.state.log.num.partitions`` of the
launcher's brokers (``kafka._server_properties``)."""


def java_hash(text: str) -> int:
    """Java's ``String.hashCode`` (UTF-16 code units, 32-bit wrap-around)."""
    h = 0
    for unit in text.encode("utf-16-be").hex(" ", 2).split():
        h = (31 * h + int(unit, 16)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def partition_of(key: str, partitions: int = PARTITIONS) -> int:
    """The coordinator partition of a group or transactional id (Kafka's ``Utils.abs``
    maps ``Integer.MIN_VALUE`` to 0)."""
    h = java_hash(key)
    return (0 if h == -(1 << 31) else abs(h)) % partitions


def keys_for_every_partition(stem: str, partitions: int = PARTITIONS) -> list[str]:
    """One key per coordinator partition, ``{stem}-{n}``, in partition order."""
    found: dict[int, str] = {}
    n = 0
    while len(found) < partitions:
        key = f"{stem}-{n}"
        found.setdefault(partition_of(key, partitions), key)
        n += 1
    return [found[p] for p in range(partitions)]


async def _ready(admin: AIOKafkaAdminClient, key: str, kind: int) -> bool:
    try:
        node = await admin.find_coordinator(key, kind)
        if kind == GROUP:
            (answer,) = await admin.describe_consumer_groups([key], node)
            return all(group[0] == 0 for group in answer.groups)
    except KafkaError:  # not available / loading / not coordinator yet: ask again
        return False
    return True


async def warm_coordinators(bootstrap: str, client: Mapping[str, Any] | None = None) -> None:
    """Return once every group and transaction coordinator partition answers (the caller
    bounds the time)."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="devstack-warm-up", **(client or {})
    )
    await admin.start()
    try:
        for kind, stem in ((GROUP, "devstack-warm-group"), (TRANSACTION, "devstack-warm-txn")):
            for key in keys_for_every_partition(stem):
                while True:  # polls the broker: there is no event to wait on
                    if await _ready(admin, key, kind):
                        break
                    await asyncio.sleep(0.05)
    finally:
        await admin.close()


async def warm_within(bootstrap: str, client: Mapping[str, Any] | None, seconds: float) -> None:
    """:func:`warm_coordinators`, or ``TimeoutError`` after ``seconds``."""
    async with asyncio.timeout(seconds):
        await warm_coordinators(bootstrap, client)
