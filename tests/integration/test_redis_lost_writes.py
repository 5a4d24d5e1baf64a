"""Redis comes back with older data than Kafka committed (its last writes lost, as after a
restart from an AOF whose tail was never fsynced): the processor re-applies the ingest
records Redis lost, so the 24 h counters end exact and no command is emitted twice."""

from __future__ import annotations

from typing import Any

import pytest
from streams import buy_launches_wf, event, pipeline, produce, read_committed

from eventgate.connections import RedisClient
from eventgate.counters.model import Figures
from eventgate.settings import Settings

pytestmark = pytest.mark.integration


async def _snapshot(redis: RedisClient, prefix: str) -> dict[bytes, tuple[bytes, int]]:
    keys = [k async for k in redis.scan_iter(match=f"*{prefix}*")]
    return {k: (await redis.dump(k), await redis.pttl(k)) for k in keys}


async def _restore(redis: RedisClient, prefix: str, saved: dict[Any, tuple[bytes, int]]) -> None:
    for key in [k async for k in redis.scan_iter(match=f"*{prefix}*")]:
        await redis.delete(key)
    for key, (blob, ttl) in saved.items():
        await redis.restore(key, max(ttl, 0), blob)


async def test_writes_redis_lost_are_applied_again(settings: Settings, redis: RedisClient) -> None:
    settings = settings.model_copy(update={"ingest_partitions": 1})
    batches = [[event("buy", f"c{i}", eventId=f"e{n}-{i}") for i in range(100)] for n in range(3)]
    async with pipeline(settings, buy_launches_wf) as p:
        await produce(settings, batches[0])
        await read_committed(settings, "workflow.launch", expect=100, quiet_ms=300)
        saved = await _snapshot(redis, settings.topic_prefix)  # Redis as it will come back

        await produce(settings, batches[1])
        await read_committed(settings, "workflow.launch", expect=200, quiet_ms=300)
        assert (await p.store.figures(["buy"]))["buy"].volume24h == 200
        await _restore(redis, settings.topic_prefix, saved)  # the second 100 are lost
        assert (await p.store.figures(["buy"]))["buy"].volume24h == 100

        await produce(settings, batches[2])
        launched = await read_committed(settings, "workflow.launch", expect=300)
        assert len(launched) == 300
        assert len({m.headers for m in launched}) == 300  # no command twice
        figures = (await p.store.figures(["buy"]))["buy"]
        assert figures == Figures(volume24h=300, launched24h=300)
        reapplied = p.metrics.redis_reapplied._value.get()
        assert reapplied >= 100
