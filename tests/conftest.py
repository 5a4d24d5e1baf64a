"""Shared fixtures: real Kafka and Redis for the integration tests.

Services come from, in this order:
1. ``TEST_KAFKA_BOOTSTRAP`` / ``TEST_REDIS_URL`` (CI, compose, a user's own cluster);
2. testcontainers, where a Docker engine answers;
3. the repo's own launcher (``eventgate.devstack``): Apache Kafka from Maven Central and
   Debian's redis-server, on ports 29092 / 26379 so they never meet ``make up``'s.
Each test gets its own topic prefix and consumer group; Redis is flushed before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from eventgate.connections import RedisClient, redis_client
from eventgate.settings import Settings

UNIT_DIR = Path(__file__).parent / "unit"
INTEGRATION_DIR = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if INTEGRATION_DIR in path.parents:
            item.add_marker(pytest.mark.integration)
        elif UNIT_DIR in path.parents:
            item.add_marker(pytest.mark.unit)


@dataclass
class Services:
    kafka_bootstrap: str
    redis_url: str
    redis_cluster: bool
    kafka_source: str
    redis_source: str
    stoppers: list[Any] = field(default_factory=list)


_SERVICES: Services | None = None


def _docker_answers() -> bool:
    if not (os.environ.get("DOCKER_HOST") or Path("/var/run/docker.sock").exists()):
        return False
    import docker  # type: ignore[import-untyped]

    try:
        client = docker.from_env(timeout=2)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def _from_testcontainers() -> Services:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    kafka = (
        KafkaContainer("apache/kafka:4.1.1")
        .with_kraft()
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
    )
    kafka.start()
    redis = RedisContainer("redis:7.4").start()
    url = f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(6379)}/0"
    return Services(
        kafka.get_bootstrap_server(),
        url,
        False,
        "testcontainers apache/kafka:4.1.1",
        "testcontainers redis:7.4",
        [kafka.stop, redis.stop],
    )


def _from_launcher() -> Services:
    from eventgate.devstack import default_cache, default_home, ensure_kafka, ensure_redis
    from eventgate.devstack.kafka import reported_version
    from eventgate.devstack.redis import ensure_redis_installed, redis_version

    home, cache = default_home(), default_cache()
    kafka = ensure_kafka(home, cache, port=int(os.environ.get("TEST_KAFKA_PORT", "29092")))
    redis = ensure_redis(home, port=int(os.environ.get("TEST_REDIS_PORT", "26379")))
    nodes = kafka.broker_processes()
    version = reported_version(nodes[0].log) if nodes else "unknown"
    _, cli = ensure_redis_installed()
    return Services(
        kafka.bootstrap,
        redis.url,
        False,
        f"Apache Kafka {version} (local launcher)",
        f"Redis {redis_version(cli, redis.ports[0])} (local launcher)",
        [kafka.stop, redis.stop],
    )


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    global _SERVICES
    kafka_env, redis_env = os.environ.get("TEST_KAFKA_BOOTSTRAP"), os.environ.get("TEST_REDIS_URL")
    if kafka_env and redis_env:
        found = Services(
            kafka_env,
            redis_env,
            os.environ.get("TEST_REDIS_CLUSTER", "") == "true",
            f"Kafka at {kafka_env} (TEST_KAFKA_BOOTSTRAP)",
            f"Redis at {redis_env} (TEST_REDIS_URL)",
        )
    elif _docker_answers():
        found = _from_testcontainers()
    else:
        found = _from_launcher()
    _SERVICES = found
    yield found
    if os.environ.get("TEST_KEEP_SERVICES") != "1":
        for stop in found.stoppers:
            stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SERVICES is not None:
        terminalreporter.write_sep("-", "integration services")
        terminalreporter.write_line(
            f"kafka: {_SERVICES.kafka_source} at {_SERVICES.kafka_bootstrap}"
        )
        terminalreporter.write_line(f"redis: {_SERVICES.redis_source} at {_SERVICES.redis_url}")


@pytest.fixture
def prefix() -> str:
    """A topic prefix (and consumer-group stem) of this test alone."""
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def settings(services: Services, prefix: str) -> Settings:
    return Settings(
        kafka_bootstrap=services.kafka_bootstrap,
        redis_url=services.redis_url,  # type: ignore[arg-type]
        redis_cluster=services.redis_cluster,
        topic_prefix=prefix,
        consumer_group=f"{prefix}processors",
        topic_replication_factor=1,
        topic_min_insync_replicas=1,
        ingest_partitions=4,
        output_partitions=2,
        api_port=0,
        worker_http_port=0,
        admin_tokens=("test-admin-token",),
        read_tokens=("test-read-token",),
    )


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[RedisClient]:
    """A Redis client on a flushed database."""
    client = redis_client(settings)
    await client.flushall()
    yield client
    await client.aclose()
