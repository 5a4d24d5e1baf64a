"""Scenario 8: a flood of random event-type keys (each seen once) mixed into legitimate
traffic. The registration cap holds exactly, cluster-wide: the registry ends with
``registration_max_total`` types, every other flood record is rejected
``registration_limit``, nothing crashes, and the legitimate events launch and count as
without the flood. Memory stays bounded: the registry is capped, and the worker's
resident size and Redis's memory are reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import FaultRun, Plan, Verdict, no_fault, play, registry_state_size, rss_kib
from suite import Scale
from workload import workload

from eventgate.connections import redis_client
from eventgate.settings import Settings

CONFIGURED = 12  # the ten workload types, the poison target and the strict type


async def _memory(run: FaultRun) -> dict[str, Any]:
    redis = redis_client(run.settings)
    try:
        used = int((await redis.info("memory"))["used_memory"])
    finally:
        await redis.aclose()
    return {
        "registered_types": await registry_state_size(run.settings),
        "limited": run.verifier.reasons["registration_limit"],
        "worker_rss_mib": max(rss_kib(w.process.pid) for w in run.live()) // 1024,
        "redis_used_mib": used // (1024 * 1024),
    }


@pytest.mark.timeout(1800)
async def test_random_key_flood_hits_the_registration_cap(
    fsettings: Settings, scale: Scale, tmp_path: Path, record: Callable[[Verdict], None]
) -> None:
    records, ledger = workload(scale.events, seed=8, flood=scale.flood_keys)
    cap = CONFIGURED + scale.flood_keys // 20  # room for 5 % of the flood
    settings = fsettings.model_copy(
        update={"registration_max_total": cap, "registration_max_per_minute": 1_000_000}
    )
    plan = Plan(
        f"flood of {scale.flood_keys:,} random keys (cap {cap:,} types)",
        settings,
        records,
        ledger,
        no_fault,
        rate=max(scale.rate, len(records) / 60),
        settle_timeout=1500,
        after=_memory,
    )
    verdict, run = await play(plan, tmp_path, record)
    assert verdict.extra["registered_types"] == cap
    assert verdict.extra["limited"] == ledger.flood_keys - (cap - CONFIGURED)
    assert verdict.ok, (verdict, run.log_tail())
