"""Scenario 5: a rebalance storm — every few seconds a worker joins or one leaves
(SIGTERM, a graceful leave), alternately, for the length of the stream. Partitions move
at every step; each move fences the previous owner's transactional producer."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import FaultRun, Plan, Verdict, play
from suite import Scale
from workload import workload

from eventgate.settings import Settings


def _storm(every_s: float, for_s: float) -> Callable[[FaultRun], Any]:
    async def storm(run: FaultRun) -> dict[str, Any]:
        joins = leaves = 0
        bad_exits: list[int | None] = []
        until = time.monotonic() + for_s
        join = True
        while time.monotonic() < until:
            await asyncio.sleep(every_s)
            live = run.live()
            if join or len(live) <= 1:
                run.start_worker()
                joins += 1
            else:
                code = await run.kill_worker(live[0], signal.SIGTERM)
                leaves += 1
                if code != 0:  # a leaving worker stops cleanly
                    bad_exits.append(code)
            join = not join
        run.healed()
        return {"joins": joins, "leaves": leaves, "bad_exits": bad_exits}

    return storm


@pytest.mark.timeout(1200)
async def test_workers_join_and_leave_every_few_seconds(
    fsettings: Settings, scale: Scale, tmp_path: Path, record: Callable[[Verdict], None]
) -> None:
    records, ledger = workload(scale.events, seed=5)
    plan = Plan(
        f"rebalance storm: join/leave every {scale.storm_every_s:g} s",
        fsettings,
        records,
        ledger,
        _storm(scale.storm_every_s, scale.storm_for_s),
        rate=scale.events / scale.storm_for_s,
    )
    verdict, run = await play(plan, tmp_path, record)
    assert verdict.extra["bad_exits"] == []
    assert verdict.ok, (verdict, run.log_tail())
