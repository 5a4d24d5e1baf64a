"""Scenario 1: kill -9 a worker process at 20 %, 50 % and 80 % of the stream's commands
and start it again each time (two workers, six partitions). The new owner of a
partition fences the dead one's transactional producer and resumes from the committed
offset; Redis answers "already applied" for what the dead one had applied."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from harness import FaultRun, Plan, Verdict, play
from suite import Scale
from workload import workload

from eventgate.settings import Settings


async def _kill_at_20_50_80(run: FaultRun) -> None:
    for fraction in (0.2, 0.5, 0.8):
        await run.reach(fraction)
        await run.kill_worker(run.live()[0])
        run.start_worker()
    run.healed()


@pytest.mark.timeout(1200)
async def test_worker_kill_9_at_20_50_80_percent(
    fsettings: Settings, scale: Scale, tmp_path: Path, record: Callable[[Verdict], None]
) -> None:
    records, ledger = workload(scale.crash_events, seed=1)
    rate = scale.crash_events / 10  # the stream lasts about 10 s
    plan = Plan("worker kill -9 x3", fsettings, records, ledger, _kill_at_20_50_80, rate)
    verdict, run = await play(plan, tmp_path, record)
    assert verdict.ok, (verdict, run.log_tail())
