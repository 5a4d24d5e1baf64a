"""Several registry instances racing on one real broker: one writer, one registry,
identical everywhere, rebuilt from the topic alone, independent of Redis.

Run as a script, this file is one racing OS process: ``python test_registry_race.py
<bootstrap> <prefix> <seed>`` registers the race keys and prints its outcome and a digest
of its whole state.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import orjson
import pytest

from eventgate.connections import RedisClient
from eventgate.registry.records import encode
from eventgate.registry.requests import CreateType, ReplyCode
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics


async def wait_for_writer(registries: Sequence[Registry], timeout: float = 60) -> Registry:
    async with asyncio.timeout(timeout):
        while True:
            writers = [r for r in registries if r.is_writer]
            if writers:
                return writers[0]
            await asyncio.sleep(0.1)


@pytest.fixture
async def four(settings: Settings) -> AsyncIterator[list[Registry]]:
    await ensure_topics(settings)
    registries = [
        Registry(settings, name=f"node{i}", request_timeout_s=60, writer_session_timeout_ms=6000)
        for i in range(4)
    ]
    await asyncio.gather(*(r.start() for r in registries))
    try:
        yield registries
    finally:
        await asyncio.gather(*(r.stop() for r in registries))


async def test_a_single_instance_registers_and_reads_its_own_write(settings: Settings) -> None:
    await ensure_topics(settings)
    async with Registry(settings, name="solo", request_timeout_s=60) as registry:
        assert await registry.ensure_types(["purchase", "bad key"]) == {
            "purchase": "registered",
            "bad key": "invalid",
        }
        assert registry.state.get("purchase") is not None  # read-your-write, no waiting
        reply = await registry.request(CreateType(key="purchase", name="Purchase"))
        assert reply.code is ReplyCode.CONFLICT and "purchase" in reply.message
        assert registry.is_writer


async def test_four_instances_race_to_register_the_same_200_keys(
    settings: Settings, four: list[Registry], redis: RedisClient
) -> None:
    await wait_for_writer(four)
    keys = [f"race.{i:03d}" for i in range(200)]

    async def register(registry: Registry, seed: int) -> dict[str, str]:
        order = keys[:]
        random.Random(seed).shuffle(order)
        chunks = [order[i : i + 25] for i in range(0, len(order), 25)]
        outcome: dict[str, str] = {}
        # each "poll" of a processor: one request for its unknown keys, polls concurrent
        for result in await asyncio.gather(*(registry.ensure_types(c) for c in chunks)):
            outcome.update(result)
        return outcome

    outcomes = await asyncio.gather(*(register(r, seed) for seed, r in enumerate(four)))
    registered = sorted(k for o in outcomes for k, v in o.items() if v == "registered")
    assert registered == keys  # every key registered exactly once, cluster-wide
    assert all(set(o.values()) <= {"registered", "exists"} for o in outcomes)
    assert sum(r.is_writer for r in four) == 1

    # every instance returned only after applying its own writes (all 200 keys) ...
    for registry in four:
        assert sorted(registry.state.snapshot()[0]) == keys
    # ... and, once each has read the log to its end, all hold the same registry
    await asyncio.gather(*(r.reader.catch_up() for r in four))
    snapshots = [r.state.snapshot() for r in four]
    for snapshot in snapshots[1:]:
        assert snapshot == snapshots[0]  # field by field (frozen dataclass equality)

    # a fresh instance rebuilds the identical registry from the topic alone
    async with Registry(settings, is_writer_candidate=False, name="fresh") as fresh:
        assert fresh.state.snapshot() == snapshots[0]
        assert fresh.state.malformed == 0

    # losing Redis loses no configuration: the registry never touched it
    await redis.flushall()
    assert await redis.dbsize() == 0
    for registry in four:
        assert registry.state.snapshot() == snapshots[0]
    async with Registry(settings, is_writer_candidate=False, name="after-flush") as again:
        assert again.state.snapshot() == snapshots[0]


RACE_KEYS = [f"race.{i:03d}" for i in range(200)]


def state_digest(registry: Registry) -> str:
    """sha256 over every type's record bytes, in key order: equal digests, equal states."""
    digest = hashlib.sha256()
    for key in sorted(registry.state.types):
        for part in encode(registry.state.types[key]):
            digest.update(part)
    return digest.hexdigest()


async def test_four_os_processes_race_to_register_the_same_200_keys(settings: Settings) -> None:
    await ensure_topics(settings)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__)),
            settings.kafka_bootstrap,
            settings.topic_prefix,
            str(seed),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        for seed in range(4)
    ]
    async with asyncio.timeout(180):
        outputs = [orjson.loads((await p.communicate())[0].splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    registered = sorted(k for o in outputs for k, v in o["outcome"].items() if v == "registered")
    assert registered == RACE_KEYS
    assert len({o["digest"] for o in outputs}) == 1
    async with Registry(settings, is_writer_candidate=False, name="checker") as checker:
        assert sorted(checker.state.types) == RACE_KEYS
        assert state_digest(checker) == outputs[0]["digest"]


async def _race_process(bootstrap: str, prefix: str, seed: str) -> None:
    settings = Settings(
        kafka_bootstrap=bootstrap,
        topic_prefix=prefix,
        topic_replication_factor=1,
        topic_min_insync_replicas=1,
    )
    async with Registry(settings, name=f"racer{seed}", request_timeout_s=60) as registry:
        order = RACE_KEYS[:]
        random.Random(int(seed)).shuffle(order)
        chunks = [order[i : i + 25] for i in range(0, len(order), 25)]
        outcome: dict[str, str] = {}
        for result in await asyncio.gather(*(registry.ensure_types(c) for c in chunks)):
            outcome.update(result)
        # every racer's writes are in; wait until the others' are too (no writer needed)
        async with asyncio.timeout(60):
            while len(registry.state.types) < len(RACE_KEYS):
                await asyncio.sleep(0.05)
        print(orjson.dumps({"outcome": outcome, "digest": state_digest(registry)}).decode())


if __name__ == "__main__":
    asyncio.run(_race_process(*sys.argv[1:4]))
