"""The local broker's JVM flags: the launcher's own, then the operator's."""

from __future__ import annotations

import pytest

from eventgate.devstack.kafka import JVM_FLAGS, jvm_flags


def test_the_broker_runs_c1_only_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEVSTACK_KAFKA_JVM_OPTS", raising=False)
    assert jvm_flags() == list(JVM_FLAGS)
    assert "-XX:TieredStopAtLevel=1" in jvm_flags()


def test_operator_flags_come_last_so_they_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVSTACK_KAFKA_JVM_OPTS", " -XX:TieredStopAtLevel=4  -Xss1m ")
    flags = jvm_flags()
    assert flags[: len(JVM_FLAGS)] == list(JVM_FLAGS)
    assert flags[len(JVM_FLAGS) :] == ["-XX:TieredStopAtLevel=4", "-Xss1m"]
