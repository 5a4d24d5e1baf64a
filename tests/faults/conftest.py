"""Fault suite fixtures: the scale (``--faults-scale=short|full``), the suite's own
services, and the results file.

Services: the shared single-node test broker (``services`` fixture; never killed here),
the suite's own Redis on 26479 with the append-only file on (killed, paused, proxied),
for the broker scenario only, its own 3-node Kafka on 29292-29294 (controllers
29392-29394), and for the Kafka-link scenarios a one-node Kafka on 29892 (controller 29992)
whose second listener, 29893, is reached through a TCP proxy on 29894. They live under
``{DEVSTACK_HOME}/faults`` and are stopped when the session ends, the Kafka-link broker when
its module does (``FAULTS_KEEP_SERVICES=1`` keeps them for the next run).

Results: every scenario's verdict goes to ``tests/faults/results/latest-{scale}.json``;
the full run also renders ``docs/faults.md`` (``tests/faults/render.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import Verdict
from pydantic import SecretStr
from render import render_doc
from suite import (
    APPENDFSYNC,
    CLUSTER_PORT,
    LINK_KAFKA_PORT,
    LINK_PROXIED_PORT,
    LINK_PROXY_PORT,
    REDIS_PORT,
    SCALES,
    Scale,
)

from eventgate.devstack import default_cache, default_home, ensure_kafka, ensure_redis
from eventgate.devstack.kafka import KafkaCluster, ProxiedListener
from eventgate.devstack.process import stop
from eventgate.devstack.proxy import TcpProxy
from eventgate.devstack.redis import RedisService
from eventgate.settings import Settings

HERE = Path(__file__).parent
RESULTS = HERE / "results"
DOC = HERE.parent.parent / "docs" / "faults.md"
_VERDICTS: list[dict[str, Any]] = []
_SCALE: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--faults-scale",
        choices=sorted(SCALES),
        default="short",
        help="fault suite size: short (inside make test) or full (make faults)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> Scale:
    # The option exists only when this conftest loads at start-up (``pytest tests/faults``);
    # from ``pytest`` (all of tests/) it is the short form.
    chosen = str(request.config.getoption("--faults-scale", default="short"))
    _SCALE[:] = [chosen]
    return SCALES[chosen]


def _keep() -> bool:
    return os.environ.get("FAULTS_KEEP_SERVICES") == "1"


@pytest.fixture(scope="session")
def fault_home() -> Path:
    return default_home() / "faults"


@pytest.fixture(scope="session")
def fault_redis(fault_home: Path) -> Iterator[RedisService]:
    service = ensure_redis(fault_home, port=REDIS_PORT, aof=APPENDFSYNC)
    yield service
    if not _keep():
        for proc in service.processes():  # restarted instances included
            stop(fault_home, proc)


@pytest.fixture(scope="session")
def fault_cluster(fault_home: Path) -> Iterator[KafkaCluster]:
    cluster = ensure_kafka(fault_home, default_cache(), port=CLUSTER_PORT, nodes=3)
    yield cluster
    if not _keep():
        for node in cluster.broker_processes():  # restarted nodes included
            stop(fault_home, node)


@pytest.fixture(scope="module")
def link_kafka(fault_home: Path) -> Iterator[tuple[KafkaCluster, TcpProxy]]:
    """A one-node Kafka whose second listener is reached through a TCP proxy: workers
    bootstrapped at the proxy talk to the broker only through it; the harness uses the
    plain listener. (The proxy starts first: the broker advertises its port.)"""
    with TcpProxy("127.0.0.1", LINK_PROXIED_PORT, port=LINK_PROXY_PORT) as proxy:
        cluster = ensure_kafka(
            fault_home,
            default_cache(),
            port=LINK_KAFKA_PORT,
            proxied=ProxiedListener(LINK_PROXIED_PORT, LINK_PROXY_PORT),
        )
        yield cluster, proxy
        if not _keep():
            cluster.stop()


@pytest.fixture
def fsettings(settings: Settings, fault_redis: RedisService) -> Settings:
    """The suite's settings: the shared broker, the suite's Redis, 6 ingest partitions."""
    return settings.model_copy(
        update={
            "redis_url": SecretStr(fault_redis.url),
            "ingest_partitions": 6,
            "output_partitions": 3,
        }
    )


@pytest.fixture
def record() -> Callable[[Verdict], None]:
    """Keep a scenario's verdict for the results file."""

    def keep(verdict: Verdict) -> None:
        _VERDICTS.append(asdict(verdict) | {"ok": verdict.ok})

    return keep


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _VERDICTS:
        return
    chosen = _SCALE[0] if _SCALE else "short"
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"latest-{chosen}.json"
    # A run of some scenarios replaces their rows and keeps the others' (each row says
    # when it ran).
    now = datetime.now(UTC).isoformat(timespec="seconds")
    fresh = [{**v, "finished": now} for v in _VERDICTS]
    ran = {v["scenario"] for v in fresh}
    kept: list[dict[str, Any]] = []
    if path.exists():
        with contextlib.suppress(ValueError, KeyError):
            earlier = json.loads(path.read_text())["scenarios"]
            kept = [v for v in earlier if v["scenario"] not in ran]
    payload = {"scale": chosen, "finished": now, "scenarios": kept + fresh}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    if chosen == "full":
        render_doc(payload, DOC)
