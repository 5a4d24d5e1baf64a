"""Ctrl-C while the launcher waits for a service it started (``make up`` on a fresh
machine spends ~10 s there) stops that service: the caller never got a handle to stop it
with, and the next ``make up`` would otherwise find an orphan "reusing" the port.

Each test interrupts a real start on ports of its own at the launcher's wait."""

from __future__ import annotations

from collections.abc import Callable
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


STARTS: dict[str, tuple[Any, Callable[[Path], object]]] = {
    "kafka": (kafka, lambda home: kafka.ensure_kafka(home, default_cache(), 28092, log=_quiet)),
    "redis": (redis, lambda home: redis.ensure_redis(home, port=26679, log=_quiet)),
}


def _quiet(_: str) -> None:
    """The launcher's progress lines are noise here."""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("service", list(STARTS))
def test_an_interrupted_start_stops_what_it_started(
    service: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, start = STARTS[service]
    interrupt = Interrupter()
    monkeypatch.setattr(module, "wait_until", interrupt)
    with pytest.raises(KeyboardInterrupt):
        start(tmp_path)
    _assert_stopped(tmp_path, interrupt.processes)
