"""`stormwatch collect ... --to kafka://[HOST:PORT[,HOST:PORT]/]TOPIC`: collected records
onto a Kafka topic, keyed by brand as `stormwatch produce` sends them (one partition, and
so one worker, owns a brand's windows).

The broker list comes from the URL, else from `STORMWATCH_KAFKA_BOOTSTRAP` or `bootstrap`
in the `[kafka]` section of the config file; security settings (SASL, TLS) from the same
`STORMWATCH_KAFKA_*` environment and `[kafka]` section as the workers. `send()` returns
only once the broker acknowledged every record (acks=all), so a collector commits its
cursor after records are safe, never before.

>>> split_kafka_url("kafka://comments")
(None, 'comments')
>>> split_kafka_url("kafka://k1:9092,k2:9092/comments")
('k1:9092,k2:9092', 'comments')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stormwatch.exceptions import ConfigError
from stormwatch.ingest.decode import record_json

SCHEME = "kafka://"


def split_kafka_url(to: str) -> tuple[str | None, str]:
    """(bootstrap servers if the URL names them, topic) of a `kafka://` destination."""
    bootstrap, _, topic = to.removeprefix(SCHEME).rpartition("/")
    if not topic:
        raise ConfigError(f"--to {to}: no topic (kafka://TOPIC or kafka://HOST:PORT/TOPIC)")
    return bootstrap or None, topic


class KafkaDestination:
    """Records as JSON values keyed by brand; the topic is created when missing (as
    `stormwatch produce` does, with the `[kafka]` partitions and replication)."""

    def __init__(self, to: str, *, env: Mapping[str, str]) -> None:
        from stormwatch.kafka.producer import TopicWriter
        from stormwatch.kafka.settings import load_kafka_settings
        from stormwatch.kafka.topics import TopicSpec, ensure_topics

        bootstrap, topic = split_kafka_url(to)
        settings = load_kafka_settings(
            None, env=env, overrides={"bootstrap": bootstrap, "topic": topic}
        )
        if not settings.bootstrap:
            raise ConfigError(
                f"--to {to}: no broker: use kafka://HOST:PORT/{topic}, "
                "STORMWATCH_KAFKA_BOOTSTRAP or `bootstrap` in the [kafka] section"
            )
        client = settings.client_options()
        if settings.create_topics:
            ensure_topics(
                client, [TopicSpec(topic, settings.partitions, settings.replication_factor)]
            )
        self.topic = topic
        self.writer = TopicWriter(client)

    def send(self, records: Sequence[dict[str, Any]]) -> None:
        """Send and wait for the broker's acknowledgement (ProduceError if it fails)."""
        for record in records:
            brand = record.get("brand")
            key = brand.encode("utf-8") if isinstance(brand, str) else None
            self.writer.send(self.topic, key=key, value=record_json(record))
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
