"""A record that fails in processing does not stop a Kafka worker (issue 11): it goes to
the dead-letter topic as `processing_error` and the worker moves on to the next one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from stormwatch.alerts.store import IncidentStore
from stormwatch.config import Settings
from stormwatch.ingest.dead_letters import JsonlDeadLetters
from stormwatch.kafka.settings import KafkaSettings
from stormwatch.kafka.worker import Worker, pipeline_factory
from tests.kafka_harness import HEARTBEAT_MS, SESSION_TIMEOUT_MS, Broker, consume_all
from tests.test_hostile_input import PoisonEnricher, storm_rows

pytest_plugins = ("tests.kafka_harness", "tests.postgres_harness")

pytestmark = pytest.mark.integration

POISON = "this text breaks enrichment"


def test_worker_dead_letters_a_poison_record_and_moves_on(
    kafka_broker: Broker,
    create_topic: Callable[..., str],
    producer,  # type: ignore[no-untyped-def]
    unique: Callable[[str], str],
    pg_url: str,
    tmp_path: Path,
) -> None:
    topic = create_topic(unique("comments"), partitions=1)
    rows = list(storm_rows()[:600])
    rows[100] = {**rows[100], "text": POISON}
    rows[400] = {**rows[400], "text": POISON}
    for row in rows:
        producer.send(topic, key=b"acme", value=orjson.dumps(row))
    producer.flush()
    kafka = KafkaSettings(
        bootstrap=kafka_broker.bootstrap,
        topic=topic,
        group=unique("group"),
        alerts_topic=f"{topic}-alerts",
        checkpoint_seconds=1.0,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_MS,
    )
    factory = pipeline_factory(Settings(database_url=pg_url))

    def new_pipeline(sinks, dead_letters):  # type: ignore[no-untyped-def]
        pipeline = factory(sinks, dead_letters)
        pipeline.enricher = PoisonEnricher(pipeline.enricher, POISON)
        return pipeline

    letters = JsonlDeadLetters(tmp_path / "dead.jsonl")
    in_file_at_checkpoints: list[tuple[int, int]] = []

    class CheckedWorker(Worker):
        def checkpoint(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().checkpoint(*args, **kwargs)
            lines = len((tmp_path / "dead.jsonl").read_bytes().splitlines())
            in_file_at_checkpoints.append((letters.count, lines))

    with IncidentStore.open(pg_url) as store:
        worker = CheckedWorker(
            kafka, store=store, new_pipeline=new_pipeline, local_dead_letters=letters
        )
        summary = worker.run(stop_when_idle=2.0)
    stats = summary.partitions[0]
    assert (stats.read, stats.processed, stats.dead_lettered) == (600, 598, 2)
    # `--dead-letter FILE`: every letter counted is in the file when its records'
    # offsets are committed (it sat in the buffer: a crash lost it for good).
    assert (2, 2) in in_file_at_checkpoints
    assert all(count == lines for count, lines in in_file_at_checkpoints)
    dead = consume_all(kafka_broker, f"{topic}-dlq", expect=2)
    assert [r.headers["reason"] for r in dead] == [b"processing_error"] * 2
    # Keyed by their source, so a repeat after a crash's replay is recognisable.
    assert [r.key for r in dead] == [r.headers["source"] for r in dead]
    assert sorted(r.key for r in dead) == [f"{topic}:0:100".encode(), f"{topic}:0:400".encode()]
    assert sorted(orjson.loads(r.value)["id"] for r in dead) == sorted(
        (rows[100]["id"], rows[400]["id"])
    )
