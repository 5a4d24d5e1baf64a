"""Readiness reasons and the reachability probe behind ``eventgate_redis_up``."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from prometheus_client import generate_latest

from eventgate.health import Readiness, probe, watch
from eventgate.metrics import Metrics
from eventgate.ops_http import ops_app


async def test_probe_says_whether_the_dependency_answers_in_time() -> None:
    async def fine() -> bool:
        return True

    async def refused() -> None:
        raise ConnectionRefusedError("Redis: connection refused")

    async def hangs() -> None:
        await asyncio.sleep(60)

    assert await probe(fine, 1)
    assert not await probe(refused, 1)
    assert not await probe(hangs, 0.05)


async def test_watch_reports_every_probe() -> None:
    answers = [True, False, True]
    seen: list[bool] = []

    async def ping() -> None:
        if not answers.pop(0):
            raise OSError("down")

    task = asyncio.create_task(watch(ping, seen.append, interval_s=0))
    while len(seen) < 3:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen[:3] == [True, False, True]


async def test_readyz_names_each_failing_check_and_metrics_serves_the_registry() -> None:
    readiness = Readiness(timeout_s=1)

    async def ok() -> None:
        return None

    async def no_partitions() -> str:
        return "no ingest partitions assigned yet"

    async def kafka_down() -> None:
        raise ConnectionError("Unable to bootstrap from localhost:9092")

    async def hangs() -> None:
        await asyncio.sleep(60)

    readiness.add("registry", ok)
    readiness.add("partitions", no_partitions)
    readiness.add("kafka", kafka_down)
    readiness.add("redis", hangs)
    metrics = Metrics()
    metrics.redis_up.set(1)
    transport = httpx.ASGITransport(app=ops_app(metrics, readiness))
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        assert (await client.get("/healthz")).json() == {"status": "alive"}
        answer = await client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json() == {
            "status": "not ready",
            "failing": {
                "partitions": "no ingest partitions assigned yet",
                "kafka": "ConnectionError: Unable to bootstrap from localhost:9092",
                "redis": "no answer within 1 s",
            },
        }
        scraped = await client.get("/metrics")
        assert scraped.text == generate_latest(metrics.registry).decode()
        assert "eventgate_redis_up 1.0" in scraped.text
