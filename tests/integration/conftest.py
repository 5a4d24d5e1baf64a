"""Fixtures of the integration tests beyond the shared ones in ``tests/conftest.py``.

``counters_redis`` runs a test twice: on the single Redis of the shared ``services`` and on
a local 3-master Redis Cluster (``TEST_REDIS_CLUSTER_URL``, else the launcher on ports
27000-27002, ``TEST_REDIS_CLUSTER_PORT`` to move them). It never flushes: other suites
share these servers, and every key of a test carries the test's unique prefix, so it
deletes exactly its own keys afterwards.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from pydantic import SecretStr

from eventgate.connections import RedisClient, redis_client
from eventgate.settings import Settings


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    env = os.environ.get("TEST_REDIS_CLUSTER_URL")
    if env:
        yield env
        return
    from eventgate.devstack import default_home, ensure_redis

    port = int(os.environ.get("TEST_REDIS_CLUSTER_PORT", "27000"))
    service = ensure_redis(default_home(), port=port, cluster=True)
    yield service.url
    if os.environ.get("TEST_KEEP_SERVICES") != "1":
        service.stop()


async def delete_prefixed(client: RedisClient, prefix: str) -> None:
    keys = [k async for k in client.scan_iter(match=f"{{{prefix}*", count=1000)]
    for key in keys:
        await client.delete(key)


@pytest.fixture(params=["redis", "cluster"])
async def counters_redis(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[tuple[Settings, RedisClient]]:
    """(settings, client) on a single Redis, then on a Redis Cluster."""
    if request.param == "cluster":
        url = request.getfixturevalue("redis_cluster_url")
        settings = settings.model_copy(update={"redis_url": SecretStr(url), "redis_cluster": True})
    client = redis_client(settings)
    yield settings, client
    await delete_prefixed(client, settings.topic_prefix)
    await client.aclose()
