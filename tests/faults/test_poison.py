"""Scenario 7: 10 % of the stream is malformed, cycling through every reject reason that
ingest can produce (SPEC §2; ``registration_limit`` is the flood scenario's). Each lands
on ``rejected`` with its reason, counted on its type when it names one, and no worker
crashes; the good 90 % launch exactly as without poison."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import FaultRun, Plan, Verdict, no_fault, play
from suite import Scale
from workload import POISON_REASONS, workload

from eventgate.settings import Settings


async def _alive(run: FaultRun) -> dict[str, Any]:
    return {"workers_alive": len(run.live())}


@pytest.mark.timeout(1200)
async def test_ten_percent_poison_of_every_kind(
    fsettings: Settings, scale: Scale, tmp_path: Path, record: Callable[[Verdict], None]
) -> None:
    records, ledger = workload(scale.poison_events, seed=7, poison=0.10)
    assert set(ledger.reasons) == set(POISON_REASONS)
    rate = scale.poison_events / 10
    plan = Plan("poison 10 %", fsettings, records, ledger, no_fault, rate, after=_alive)
    verdict, run = await play(plan, tmp_path, record)
    assert verdict.extra["workers_alive"] == 2
    assert verdict.ok, (verdict, run.verifier.reasons, run.log_tail())
