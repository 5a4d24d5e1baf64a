"""Auto-registration caps hold cluster-wide: several instances, one writer counting,
and a new writer after a takeover counts the same minute from the log."""

from __future__ import annotations

import asyncio
from collections import Counter

from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics


async def wait_for_writer(registries: list[Registry], timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not any(r.is_writer for r in registries):
            await asyncio.sleep(0.1)


async def _race(registries: list[Registry], keys_per_instance: int, tag: str) -> Counter[str]:
    async def flood(i: int, registry: Registry) -> dict[str, str]:
        keys = [f"{tag}.{i}.{n:03d}" for n in range(keys_per_instance)]
        chunks = [keys[j : j + 10] for j in range(0, len(keys), 10)]
        outcome: dict[str, str] = {}
        for result in await asyncio.gather(*(registry.ensure_types(c) for c in chunks)):
            outcome.update(result)
        return outcome

    outcomes = await asyncio.gather(*(flood(i, r) for i, r in enumerate(registries)))
    return Counter(v for o in outcomes for v in o.values())


async def _cluster(settings: Settings, n: int = 3) -> list[Registry]:
    await ensure_topics(settings)
    registries = [
        Registry(settings, name=f"cap{i}", request_timeout_s=60, writer_session_timeout_ms=6000)
        for i in range(n)
    ]
    await asyncio.gather(*(r.start() for r in registries))
    await wait_for_writer(registries)
    return registries


async def test_per_minute_cap_holds_across_instances_and_takeovers(settings: Settings) -> None:
    capped = settings.model_copy(update={"registration_max_per_minute": 50})
    registries = await _cluster(capped)
    try:
        counts = await _race(registries, 40, "minute")
        assert counts == {"registered": 50, "limited": 70}
        # the writer steps down; the next one rebuilds the window from the log
        writer = next(r for r in registries if r.is_writer)
        await writer.stop()
        rest = [r for r in registries if r is not writer]
        await wait_for_writer(rest)
        again = await _race(rest, 10, "minute-after")
        assert again == {"limited": 20}
        assert all(len(r.state.types) == 50 for r in rest)
    finally:
        await asyncio.gather(*(r.stop() for r in registries))


async def test_total_cap_holds_across_instances(settings: Settings) -> None:
    capped = settings.model_copy(update={"registration_max_total": 75})
    registries = await _cluster(capped)
    try:
        counts = await _race(registries, 40, "total")
        assert counts == {"registered": 75, "limited": 45}
        # A reply reaches its requester once its own state holds the change; the other
        # instances read the registry log at their own pace: compare them caught up.
        await asyncio.gather(*(r.reader.catch_up() for r in registries))
        snapshots = [r.state.snapshot() for r in registries]
        assert all(s == snapshots[0] for s in snapshots) and len(snapshots[0][0]) == 75
    finally:
        await asyncio.gather(*(r.stop() for r in registries))
