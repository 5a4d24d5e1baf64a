"""The local broker's JVM flags: the launcher's own, then the operator's."""

from __future__ import annotations

import pytest

from eventgate.devstack.coordinators import java_hash, keys_for_every_partition, partition_of
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


def test_coordinator_keys_hash_as_kafka_does() -> None:
    """Kafka places a group or transactional id at ``abs(id.hashCode()) % partitions``:
    the warm-up's keys must land on every partition, or one stays cold."""
    assert java_hash("hello") == 99162322  # Java's "hello".hashCode()
    assert java_hash("polygenelubricants") == -(2**31)  # Integer.MIN_VALUE
    assert partition_of("polygenelubricants") == 0  # Utils.abs(MIN_VALUE) is 0
    assert java_hash("é😀") == 31 * (31 * 0xE9 + 0xD83D) + 0xDE00  # UTF-16 code units
    keys = keys_for_every_partition("warm", 10)
    assert [partition_of(k, 10) for k in keys] == list(range(10))
