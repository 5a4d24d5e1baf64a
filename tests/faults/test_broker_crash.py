"""Scenario 2: kill -9 one broker of the suite's 3-node Kafka (every topic replication 3,
``min.insync.replicas=2``, producers ``acks=all``) while the stream runs, and start it
again: once in the short form, three times (a different node each time) in the full one.
Leaders move, transactions in flight abort or complete, and read_committed still sees
every command once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from harness import FaultRun, Plan, Verdict, play
from suite import CLUSTER_PORT, Scale
from workload import workload

from eventgate.devstack import default_cache, ensure_kafka
from eventgate.devstack.kafka import KafkaCluster
from eventgate.settings import Settings


def _kill_brokers(cluster: KafkaCluster, home: Path, kills: int) -> Callable[[FaultRun], Any]:
    async def fault(run: FaultRun) -> dict[str, Any]:
        restarts: list[float] = []
        for k in range(kills):
            await run.reach((k + 1) / (kills + 1))
            os.kill(cluster.broker_processes()[k % 3].pid, signal.SIGKILL)
            await asyncio.sleep(5)
            started = time.monotonic()
            await asyncio.to_thread(ensure_kafka, home, default_cache(), CLUSTER_PORT, 3)
            restarts.append(round(time.monotonic() - started, 1))
            run.healed()
        return {"broker_restart_s": restarts}

    return fault


@pytest.mark.timeout(1800)
async def test_broker_kill_9_and_restart(
    fsettings: Settings,
    scale: Scale,
    fault_cluster: KafkaCluster,
    fault_home: Path,
    tmp_path: Path,
    record: Callable[[Verdict], None],
) -> None:
    settings = fsettings.model_copy(
        update={
            "kafka_bootstrap": fault_cluster.bootstrap,
            "topic_replication_factor": 3,
            "topic_min_insync_replicas": 2,
        }
    )
    kills = scale.broker_kills
    records, ledger = workload(scale.broker_events, seed=2)
    plan = Plan(
        f"broker kill -9 x{kills} (3 nodes, RF 3, min ISR 2)",
        settings,
        records,
        ledger,
        _kill_brokers(fault_cluster, fault_home, kills),
        rate=scale.broker_events / (20 * kills),  # ~20 s of stream per kill
        settle_timeout=900,
    )
    verdict, run = await play(plan, tmp_path, record)
    assert verdict.ok, (verdict, run.log_tail())
