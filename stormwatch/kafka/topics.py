"""Create the topics stormwatch needs when they are missing.

Partitions and replication are configurable and only apply to topics created here;
existing topics are left as they are. The changelog topic is compacted (the broker keeps
the latest record per key), and must have the same partition count as the input topic:
changelog partition p holds the state of input partition p, the Kafka Streams layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

from stormwatch.kafka.exceptions import BrokerUnavailable, TopicError

COMPACTED = {"cleanup.policy": "compact"}


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


def _admin(client_options: Mapping[str, Any]) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(**client_options)
    except KafkaError as exc:
        servers = ",".join(client_options.get("bootstrap_servers", []))
        raise BrokerUnavailable(f"no Kafka broker answered at {servers}") from exc


def partition_counts(client_options: Mapping[str, Any], names: Sequence[str]) -> dict[str, int]:
    """Partitions of each of `names` that exists (missing topics are left out)."""
    admin = _admin(client_options)
    try:
        existing = set(admin.list_topics())
        wanted = [n for n in names if n in existing]
        if not wanted:
            return {}
        described = admin.describe_topics(wanted)
    finally:
        admin.close()
    return {t["name"]: len(t["partitions"]) for t in described}


def default_partition(key: bytes, partitions: int) -> int:
    """The partition the default partitioner (Java's and kafka-python's) picks for `key`
    among `partitions`."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def partition_for_key(client_options: Mapping[str, Any], topic: str, key: bytes) -> int:
    """The partition the default partitioner picks for `key` on `topic` as it is now."""
    n = partition_counts(client_options, [topic]).get(topic)
    if n is None:
        raise TopicError(f"topic {topic} does not exist")
    return default_partition(key, n)


def ensure_topics(client_options: Mapping[str, Any], specs: Sequence[TopicSpec]) -> list[str]:
    """Create the topics of `specs` that do not exist; returns the names created. Two
    workers starting together may race: a topic created by the other one is fine."""
    admin = _admin(client_options)
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        created = []
        for spec in missing:
            topic = NewTopic(
                spec.name,
                spec.partitions,
                spec.replication_factor,
                topic_configs=dict(spec.config),
            )
            try:
                admin.create_topics([topic])
            except TopicAlreadyExistsError:
                continue
            except KafkaError as exc:
                raise TopicError(f"cannot create topic {spec.name}: {exc}") from exc
            created.append(spec.name)
        return created
    finally:
        admin.close()


def worker_topics(
    client_options: Mapping[str, Any],
    *,
    topic: str,
    alerts_topic: str,
    dead_letter_topic: str,
    changelog_topic: str,
    partitions: int,
    replication_factor: int,
    create: bool = True,
) -> int:
    """Make sure the worker's topics exist; returns the input topic's partition count.

    The changelog gets the input topic's partition count, whatever `partitions` says,
    because its partition p must exist for every input partition p."""
    names = [topic, changelog_topic, alerts_topic, dead_letter_topic]
    counts = partition_counts(client_options, names)
    if not create:
        # All four at start-up: a missing alerts or dead-letter topic would otherwise
        # stop the worker at its first alert or dead letter, and again after a restart.
        missing = [name for name in names if name not in counts]
        if missing:  # all of them at once: one restart per missing topic otherwise
            topics = "topic " if len(missing) == 1 else "topics "
            verb = " does not exist" if len(missing) == 1 else " do not exist"
            raise TopicError(f"{topics}{', '.join(missing)}{verb} (topic creation is off)")
    if topic not in counts:
        ensure_topics(client_options, [TopicSpec(topic, partitions, replication_factor)])
        counts[topic] = partition_counts(client_options, [topic])[topic]
    n = counts[topic]
    if changelog_topic in counts and counts[changelog_topic] < n:
        raise TopicError(
            f"changelog topic {changelog_topic} has {counts[changelog_topic]} partitions but "
            f"{topic} has {n}: give it as many (or delete it while no worker runs)"
        )
    if create:
        ensure_topics(
            client_options,
            [
                TopicSpec(alerts_topic, partitions, replication_factor),
                TopicSpec(dead_letter_topic, partitions, replication_factor),
                TopicSpec(changelog_topic, n, replication_factor, COMPACTED),
            ],
        )
    return n
