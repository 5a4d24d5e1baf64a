"""The hot path's murmur2 partitioner picks the partitions Kafka's default partitioner
picks (aiokafka's reference implementation, the same as the Java client's)."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as reference_murmur2
from hypothesis import given
from hypothesis import strategies as st

from eventgate.ingest.partitioner import KeyPartitioner, murmur2

pytestmark = pytest.mark.unit


@given(st.binary(max_size=300))
def test_murmur2_matches_the_reference(data: bytes) -> None:
    assert murmur2(data) == reference_murmur2(data)


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=1, max_value=500))
def test_partition_matches_the_default_partitioner(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    assert KeyPartitioner().partition(key, partitions) == DefaultPartitioner()(key, every, every)


@pytest.mark.parametrize(
    ("data", "signed"),
    [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_values_of_the_java_client(data: bytes, signed: int) -> None:
    # Kafka's UtilsTest.testMurmur2 (Java ints, signed).
    assert murmur2(data) == signed & 0xFFFFFFFF


def test_remembered_keys_are_bounded() -> None:
    partitioner = KeyPartitioner(max_keys=10)
    for i in range(25):
        partitioner.partition(f"contact-{i}".encode(), 6)
    assert len(partitioner._hashes) <= 10
    assert partitioner.partition(b"contact-3", 6) == KeyPartitioner().partition(b"contact-3", 6)
