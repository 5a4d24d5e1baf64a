"""Scenario 4: network faults between the workers and Redis, through the repo's TCP
proxy (``eventgate.devstack.proxy``): 200 ms added latency each way for 5 s, a 5 s black
hole (connections accepted, nothing forwarded), and connection resets three times.

Why Redis and not Kafka: a broker tells its clients to connect to its *advertised*
address, so a proxy in front of the bootstrap port is bypassed after the first metadata
answer. Proxying Kafka needs a broker whose advertised listener is the proxy's port
(``devstack/kafka.py`` has no such option yet); the broker faults of scenario 2 cover
the Kafka side with real broker deaths instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from harness import FaultRun, Plan, Verdict, play
from pydantic import SecretStr
from suite import REDIS_PORT, Scale
from workload import workload

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


@pytest.mark.timeout(900)
@pytest.mark.parametrize("fault", list(FAULTS))
async def test_redis_link_faults(
    fsettings: Settings,
    scale: Scale,
    tmp_path: Path,
    record: Callable[[Verdict], None],
    fault: str,
) -> None:
    records, ledger = workload(scale.events, seed=11)
    with TcpProxy("127.0.0.1", REDIS_PORT) as proxy:

        async def play_fault(run: FaultRun) -> dict[str, Any]:
            await FAULTS[fault](run, proxy)
            run.healed()
            return {}

        async def connections(run: FaultRun) -> dict[str, Any]:
            return {"proxied_connections": proxy.connections}

        plan = Plan(
            f"Redis link: {fault}",
            fsettings,
            records,
            ledger,
            play_fault,
            scale.rate,
            worker_settings=fsettings.model_copy(
                update={"redis_url": SecretStr(f"redis://127.0.0.1:{proxy.port}/0")}
            ),
            after=connections,
        )
        verdict, run = await play(plan, tmp_path, record)
    assert proxy.connections > 0  # the workers did talk to Redis through the proxy
    assert verdict.ok, (verdict, run.log_tail())
