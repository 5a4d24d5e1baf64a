"""Scenario 6: a zombie worker. SIGSTOP one worker past its consumer session timeout
(10 s), let the other take its partitions over (its ``init_transactions`` fences the
paused one's transactional ids), then SIGCONT it: whatever it was doing when paused —
a Redis batch call, an open transaction — must not surface as a duplicate command or a
double count."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import FaultRun, Plan, Verdict, play
from suite import Scale
from workload import workload

from eventgate.settings import Settings

SESSION_TIMEOUT_S = 10  # aiokafka's default session_timeout_ms, which the worker keeps
FENCED = "fenced: another processor owns the partition now"  # the processor's log line


async def _pause_past_session_timeout(run: FaultRun) -> None:
    await run.reach(0.3)
    zombie = run.live()[0].process
    zombie.send_signal(signal.SIGSTOP)
    try:
        await asyncio.sleep(SESSION_TIMEOUT_S + 5)
    finally:
        zombie.send_signal(signal.SIGCONT)
    run.healed()


async def _zombie_figures(run: FaultRun) -> dict[str, Any]:
    return {
        "fenced_batches": run.log_tail(10**9).count(FENCED),
        "zombie_alive_after": run.workers[0].process.poll() is None,
    }


@pytest.mark.timeout(1200)
async def test_paused_worker_is_fenced_after_takeover(
    fsettings: Settings, scale: Scale, tmp_path: Path, record: Callable[[Verdict], None]
) -> None:
    records, ledger = workload(scale.events, seed=6)
    plan = Plan(
        "zombie: SIGSTOP 15 s, SIGCONT",
        fsettings,
        records,
        ledger,
        _pause_past_session_timeout,
        scale.rate,
        after=_zombie_figures,
    )
    verdict, run = await play(plan, tmp_path, record)
    assert verdict.extra["zombie_alive_after"]  # the zombie lives on: it rejoins the group
    assert verdict.ok, (verdict, run.log_tail())
