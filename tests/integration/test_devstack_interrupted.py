"""Ctrl-C while the launcher waits for a service it started (``make up`` on a fresh
machine spends ~10 s there) stops that service: the caller never got a handle to stop it
with, and the next ``make up`` would otherwise find an orphan "reusing" the port.

Each test interrupts a real start on ports of its own at the launcher's wait."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import pytest

from eventgate.devstack import kafka, redis
from eventgate.devstack.process import ServiceProcess, default_cache, load_state

pytestmark = pytest.mark.integration


class Interrupter:
    """Stands in for ``wait_until``: notes the processes being waited for, then raises
    KeyboardInterrupt as Ctrl-C would."""

    def __init__(self) -> None:
        self.processes: list[ServiceProcess] = []

    def __call__(self, *args: Any, **kwargs: Any) -> NoReturn:
        self.processes = list(args[3])
        raise KeyboardInterrupt


def _assert_stopped(home: Path, processes: list[ServiceProcess]) -> None:
    assert processes, "the launcher started nothing to wait for"
    for process in processes:
        assert not process.alive(), f"{process.name} (pid {process.pid}) still runs"
        assert load_state(home, process.name) is None  # forgotten, not reused next time


@pytest.mark.timeout(120)
def test_interrupted_kafka_start_stops_the_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt = Interrupter()
    monkeypatch.setattr(kafka, "wait_until", interrupt)
    with pytest.raises(KeyboardInterrupt):
        kafka.ensure_kafka(tmp_path, default_cache(), port=28092, log=lambda _: None)
    _assert_stopped(tmp_path, interrupt.processes)


@pytest.mark.timeout(60)
def test_interrupted_redis_start_stops_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt = Interrupter()
    monkeypatch.setattr(redis, "wait_until", interrupt)
    with pytest.raises(KeyboardInterrupt):
        redis.ensure_redis(tmp_path, port=26679, log=lambda _: None)
    _assert_stopped(tmp_path, interrupt.processes)
