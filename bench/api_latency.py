"""Latency of the HTTP API against a real broker: registry writes and the type list.

What is timed, each request sequentially (one in flight), from the client's send to the
whole answer read:

- ``POST /event-types`` (a new type each time) and ``PUT /workflows/{id}`` (a new
  workflow each time): API -> registry request topic -> the single writer -> registry
  topic + reply (one Kafka transaction) -> this process's reader has applied it -> answer;
- ``GET /event-types`` with ``--types`` types in the registry (default 10,000, registered
  through the writer in batches first): the default page (50, sorted by key), a 500-row
  page, a search (``q``), a sort by name descending, and a status filter.

The API runs in this process (uvicorn on 127.0.0.1, an ephemeral port, ``--transport
http``; or in-memory ASGI, ``--transport asgi``) with its registry as the writer, the
client in the same event loop, so the figures include client overhead on the same cores.

Run (a broker from ``make up`` or the test launcher)::

    .venv/bin/python bench/api_latency.py --bootstrap 127.0.0.1:29092 [--writes 200]
        [--reads 200] [--types 10000] [--transport http|asgi]

Prints one JSON object: p50/p90/p99/max in milliseconds per case.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import orjson
import uvicorn

from eventgate.api.app import create_app
from eventgate.registry.service import Registry
from eventgate.settings import Settings
from eventgate.topics import ensure_topics

TOKEN = secrets.token_urlsafe(16)


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "n": len(ordered),
        "p50": pct(0.50),
        "p90": pct(0.90),
        "p99": pct(0.99),
        "max": round(ordered[-1] * 1000, 2),
        "mean": round(statistics.fmean(ordered) * 1000, 2),
    }


async def timed(n: int, call: Callable[[int], Awaitable[httpx.Response]], ok: int) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        response = await call(i)
        samples.append(time.perf_counter() - start)
        if response.status_code != ok:
            raise SystemExit(f"unexpected {response.status_code}: {response.text[:300]}")
    return samples


@contextlib.asynccontextmanager
async def serve(app: Any, transport: str) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    if transport == "asgi":
        asgi = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=asgi, base_url="http://api", headers=headers) as c:
            yield c
        return
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as c:
            yield c
    finally:
        server.should_exit = True
        await task


async def fill(registry: Registry, count: int, tag: str) -> None:
    keys = [f"{tag}.type{i:06d}" for i in range(count)]
    for start in range(0, count, 1000):
        result = await registry.ensure_types(keys[start : start + 1000])
        if any(v not in ("registered", "exists") for v in result.values()):
            raise SystemExit(f"could not register the list's types: {set(result.values())}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--bootstrap", default=os.environ.get("EVENTGATE_KAFKA_BOOTSTRAP", "127.0.0.1:29092")
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:26379/0")
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--types", type=int, default=10_000)
    parser.add_argument("--transport", choices=("http", "asgi"), default="http")
    args = parser.parse_args()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    settings = Settings(
        kafka_bootstrap=args.bootstrap,
        redis_url=args.redis,
        topic_prefix=prefix,
        topic_replication_factor=1,
        topic_min_insync_replicas=1,
        ingest_partitions=1,
        output_partitions=1,
        admin_tokens=(TOKEN,),
        registration_max_per_minute=args.types + 10_000,
        registration_max_total=args.types + 10 * args.writes + 1000,
    )
    await ensure_topics(settings)
    registry = Registry(settings, name="bench-api")
    await registry.start()
    results: dict[str, Any] = {"transport": args.transport, "prefix": prefix}
    try:
        async with asyncio.timeout(60):
            while not registry.is_writer:  # noqa: ASYNC110 - a flag, no event to wait on
                await asyncio.sleep(0.05)
        app = create_app(settings, registry)
        async with serve(app, args.transport) as client:
            for _ in range(10):  # warm up connections, the writer and the code paths
                await client.get("/api/v1/event-types")
                await client.put(
                    f"/api/v1/workflows/warm-{uuid.uuid4().hex[:6]}",
                    json={"name": "w", "status": "active"},
                )

            async def post_type(i: int) -> httpx.Response:
                body = {"key": f"posted.{i:05d}", "name": f"Posted {i}", "segmentation": True}
                return await client.post("/api/v1/event-types", json=body)

            async def put_workflow(i: int) -> httpx.Response:
                body = {"name": f"W{i}", "status": "active", "launchOn": [f"posted.{i:05d}"]}
                return await client.put(f"/api/v1/workflows/wf-{i:05d}", json=body)

            results["postEventType"] = summary(await timed(args.writes, post_type, 201))
            results["putWorkflow"] = summary(await timed(args.writes, put_workflow, 201))

            started = time.perf_counter()
            await fill(registry, args.types, "filled")
            results["fillSeconds"] = round(time.perf_counter() - started, 2)
            results["typesInRegistry"] = registry.state.type_count()

            reads: dict[str, dict[str, Any]] = {
                "listDefault": {},
                "list500": {"limit": 500},
                "listSearch": {"q": "type0042"},
                "listSortNameDesc": {"sort": "-name"},
                "listInactive": {"status": "inactive", "dependency": "none"},
            }
            for name, params in reads.items():

                async def get(_: int, params: dict[str, Any] = params) -> httpx.Response:
                    return await client.get("/api/v1/event-types", params=params)

                results[name] = summary(await timed(args.reads, get, 200))
    finally:
        await registry.stop()
    print(orjson.dumps(results).decode())


if __name__ == "__main__":
    asyncio.run(main())
