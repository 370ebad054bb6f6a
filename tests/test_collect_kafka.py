"""`stormwatch collect ... --to kafka://...` against the real Tansu broker: records keyed by
brand as `stormwatch produce` sends them, the broker from the URL or the environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from stormwatch.cli import app
from stormwatch.exceptions import ConfigError
from stormwatch.ingest.collect_commands import Destination
from tests.kafka_harness import Broker, consume_all

pytest_plugins = ("tests.kafka_harness",)

pytestmark = pytest.mark.integration

RECORDS = [
    {"id": "m1", "text": "acme is down", "created_at": 1772442000, "brand": "acme"},
    {"id": "m2", "text": "globex too", "created_at": 1772442001, "brand": "globex"},
    {"id": "m3", "text": "acme again", "created_at": 1772442002, "brand": "acme"},
]


def test_records_keyed_by_brand_with_the_broker_in_the_url(
    kafka_broker: Broker, create_topic: Callable[..., str], unique: Callable[[str], str]
) -> None:
    topic = create_topic(unique("collected"), partitions=3)
    destination = Destination(f"kafka://{kafka_broker.bootstrap}/{topic}", env={})
    try:
        destination.send(RECORDS)
    finally:
        destination.close()
    got = consume_all(kafka_broker, topic, expect=3)
    assert sorted((r.key, orjson.loads(r.value)["id"]) for r in got) == [
        (b"acme", "m1"),
        (b"acme", "m3"),
        (b"globex", "m2"),
    ]
    acme_partitions = {r.partition for r in got if r.key == b"acme"}
    assert len(acme_partitions) == 1  # one brand, one partition: one worker owns it
    assert orjson.loads(next(r.value for r in got if r.key == b"globex")) == RECORDS[1]


def test_broker_from_the_environment_and_a_missing_topic_created(
    kafka_broker: Broker, unique: Callable[[str], str]
) -> None:
    topic = unique("collected-new")
    destination = Destination(
        f"kafka://{topic}", env={"STORMWATCH_KAFKA_BOOTSTRAP": kafka_broker.bootstrap}
    )
    try:
        destination.send(RECORDS[:1])
    finally:
        destination.close()
    assert [r.key for r in consume_all(kafka_broker, topic, expect=1)] == [b"acme"]
    assert partition_count(kafka_broker, topic) == 6  # created by stormwatch, as configured


def test_broker_from_the_config_file(
    kafka_broker: Broker, unique: Callable[[str], str], tmp_path: Path
) -> None:
    config = tmp_path / "stormwatch.toml"
    config.write_text(f'[kafka]\nbootstrap = "{kafka_broker.bootstrap}"\npartitions = 2\n')
    topic = unique("collected-config")
    destination = Destination(f"kafka://{topic}", env={"STORMWATCH_CONFIG": str(config)})
    try:
        destination.send(RECORDS[1:2])
    finally:
        destination.close()
    got = consume_all(kafka_broker, topic, expect=1)
    assert [r.key for r in got] == [b"globex"]
    assert partition_count(kafka_broker, topic) == 2  # the config file's `partitions`


def partition_count(broker: Broker, topic: str) -> int:
    """How many partitions `topic` has on the broker (a topic the broker made by itself
    would not have the count stormwatch asked for)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=[broker.bootstrap])
    try:
        return len(consumer.partitions_for_topic(topic) or ())
    finally:
        consumer.close()


def test_no_broker_anywhere_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="STORMWATCH_KAFKA_BOOTSTRAP"):
        Destination("kafka://comments", env={})
    with pytest.raises(ConfigError, match="no topic"):
        Destination("kafka://127.0.0.1:9092/", env={})


def test_collect_mastodon_to_kafka(
    kafka_broker: Broker,
    unique: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.fake_mastodon import TOKEN, FakeMastodon

    server = FakeMastodon()
    try:
        ids = [server.post(f"<p>#acme down {n}</p>", tags=("acme",)) for n in range(3)]
        topic = unique("from-mastodon")
        monkeypatch.setenv("STORMWATCH_MASTODON_TOKEN", TOKEN)
        monkeypatch.setenv("STORMWATCH_KAFKA_BOOTSTRAP", kafka_broker.bootstrap)
        cursor = tmp_path / "cursor.json"
        args = ["collect", "mastodon", "--server", server.url, "--tag", "acme", "--brand",
                "acme", "--cursor", str(cursor), "--to", f"kafka://{topic}"]  # fmt: skip
        done = CliRunner().invoke(app, args)
        assert done.exit_code == 0, done.stderr
        got = consume_all(kafka_broker, topic, expect=3)
        assert [orjson.loads(r.value)["id"] for r in got] == ids  # one brand: one partition
        assert {r.key for r in got} == {b"acme"}
        assert cursor.exists()
    finally:
        server.close()


def test_a_broker_gone_mid_run_ends_in_the_error_that_says_so(tmp_path: Path) -> None:
    """`produce` and `collect --to kafka://`: the flush's one-line error was replaced by a
    traceback from `close` in their `finally` (kafka-python's close flushes again and
    raises). Now close gives up on what cannot be delivered."""
    import time

    from stormwatch.kafka.producer import ProduceError, TopicWriter
    from stormwatch.kafka.topics import TopicSpec, ensure_topics
    from tests.kafka_harness import running_broker

    with running_broker(tmp_path / "tansu.log") as broker:
        ensure_topics(broker.client(), [TopicSpec("gone", 1)])
        writer = TopicWriter(broker.client())
        writer.send("gone", key=b"acme", value=b"{}")
        assert writer.flush(timeout_s=30) == 1
        broker.process.kill()
        broker.process.wait(10)
        for _ in range(50):
            writer.send("gone", key=b"acme", value=b"{}")
        with pytest.raises(ProduceError):
            writer.flush(timeout_s=2)
        started = time.monotonic()
        writer.close(timeout_s=2)  # no KafkaTimeoutError
        assert time.monotonic() - started < 10
