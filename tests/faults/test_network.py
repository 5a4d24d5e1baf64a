"""Scenario 4: network faults on the workers' links, through the repo's TCP proxy
(``eventgate.devstack.proxy``): 200 ms added latency each way for 5 s, a 5 s black hole
(connections accepted, bytes held), and connection resets three times — once on the link
to Redis, once on the link to Kafka.

A broker tells its clients to connect to its *advertised* address, so the Kafka link is
proxied through a broker of its own (``link_kafka``): its second listener advertises the
proxy's port, so workers bootstrapped there reach the broker only through the proxy, while
the harness (feeding, checking) uses the plain listener.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from harness import FaultRun, Plan, Verdict, play
from pydantic import SecretStr
from suite import LINK_PROXY_PORT, REDIS_PORT, Scale
from workload import workload

from eventgate.devstack.kafka import KafkaCluster
from eventgate.devstack.proxy import TcpProxy
from eventgate.settings import Settings


async def _latency(run: FaultRun, proxy: TcpProxy) -> None:
    await run.reach(0.3)
    proxy.latency_s = 0.2
    await asyncio.sleep(5)
    proxy.latency_s = 0.0


async def _blackhole(run: FaultRun, proxy: TcpProxy) -> None:
    await run.reach(0.3)
    proxy.blackhole = True
    await asyncio.sleep(5)
    proxy.blackhole = False


async def _resets(run: FaultRun, proxy: TcpProxy) -> None:
    for fraction in (0.3, 0.5, 0.7):
        await run.reach(fraction)
        proxy.reset()


FAULTS: dict[str, Callable[[FaultRun, TcpProxy], Awaitable[None]]] = {
    "latency 200 ms": _latency,
    "blackhole 5 s": _blackhole,
    "resets x3": _resets,
}

# A reset matters under uvloop (the worker's loop): a write on a connection the peer
# reset raises RuntimeError("unable to perform operation on <TCPTransport closed=True>")
# out of redis-py, which the counters store now maps to a retriable Redis outage. (This
# scenario found it: before, the processor task failed and the worker exited.)


async def _play_link(
    link: str,
    fault: str,
    proxy: TcpProxy,
    settings: Settings,
    worker_settings: Settings,
    scale: Scale,
    tmp_path: Path,
    record: Callable[[Verdict], None],
) -> None:
    records, ledger = workload(scale.events, seed=11)
    before = proxy.connections

    async def play_fault(run: FaultRun) -> dict[str, Any]:
        await FAULTS[fault](run, proxy)
        run.healed()
        return {}

    async def connections(run: FaultRun) -> dict[str, Any]:
        return {"proxied_connections": proxy.connections - before}

    plan = Plan(
        f"{link} link: {fault}",
        settings,
        records,
        ledger,
        play_fault,
        scale.rate,
        worker_settings=worker_settings,
        after=connections,
    )
    verdict, run = await play(plan, tmp_path, record)
    assert proxy.connections > before  # the workers did talk through the proxy
    assert verdict.ok, (verdict, run.log_tail())


@pytest.mark.timeout(900)
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_redis_link_faults(
    fsettings: Settings,
    scale: Scale,
    tmp_path: Path,
    record: Callable[[Verdict], None],
    fault: str,
) -> None:
    with TcpProxy("127.0.0.1", REDIS_PORT) as proxy:
        proxied = fsettings.model_copy(
            update={"redis_url": SecretStr(f"redis://127.0.0.1:{proxy.port}/0")}
        )
        await _play_link("Redis", fault, proxy, fsettings, proxied, scale, tmp_path, record)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_kafka_link_faults(
    fsettings: Settings,
    link_kafka: tuple[KafkaCluster, TcpProxy],
    scale: Scale,
    tmp_path: Path,
    record: Callable[[Verdict], None],
    fault: str,
) -> None:
    cluster, proxy = link_kafka
    direct = fsettings.model_copy(update={"kafka_bootstrap": cluster.bootstrap})
    proxied = direct.model_copy(update={"kafka_bootstrap": f"127.0.0.1:{LINK_PROXY_PORT}"})
    await _play_link("Kafka", fault, proxy, direct, proxied, scale, tmp_path, record)
