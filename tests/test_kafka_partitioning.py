"""Where a brand's comments land: the partition Java's and kafka-python's default
partitioner pick for a key, without a broker (`benchmarks/partition_balance.py` counts
the load of a group of workers with it)."""

from __future__ import annotations

import pytest

from stormwatch.kafka.topics import default_partition


@pytest.mark.parametrize(
    ("key", "java_murmur2"),
    # Utils.murmur2 of these keys in Apache Kafka's own tests (signed 32-bit).
    [(b"21", -973932308), (b"foobar", -790332482)],
)
def test_the_partition_is_javas(key: bytes, java_murmur2: int) -> None:
    for partitions in (1, 4, 12, 2**31 - 1):
        assert default_partition(key, partitions) == (java_murmur2 & 0x7FFFFFFF) % partitions


def test_every_partition_is_in_range() -> None:
    seen = {default_partition(f"brand-{i}".encode(), 8) for i in range(1000)}
    assert seen == set(range(8))
