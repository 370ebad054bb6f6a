"""Workers in a consumer group against a real broker: nothing lost, nothing doubled.

Each test gets fresh topics and a fresh consumer group on the session's Tansu broker,
and a fresh PostgreSQL database (`tests/postgres_harness.py`) as the incident store its
worker processes share, as the README tells users to run them.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from kafka.partitioner.default import murmur2

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.store import IncidentStore
from stormwatch.ingest.decode import parse_event_time
from stormwatch.kafka.settings import KafkaSettings
from stormwatch.kafka.worker import read_checkpoints
from tests.kafka_harness import (
    Broker,
    WorkerProcess,
    Workload,
    consume_all,
    produce_lines,
    wait_until,
)

# fixtures: kafka_broker, producer, workload, ... and pg_url
pytest_plugins = ("tests.kafka_harness", "tests.postgres_harness")

pytestmark = pytest.mark.integration

FIRESTORM_AT = 6 * 3600.0  # seconds after the scenario start (see scenario_spec)


def partition_of(key: str, partitions: int) -> int:
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def worker_settings(
    kafka_broker: Broker, create_topic, unique, *, partitions: int, checkpoint_s: float
) -> KafkaSettings:  # type: ignore[no-untyped-def]
    """Settings of a worker run in this process, on a fresh topic and group."""
    from tests.kafka_harness import HEARTBEAT_MS, SESSION_TIMEOUT_MS

    topic = create_topic(unique("comments"), partitions=partitions)
    return KafkaSettings(
        bootstrap=kafka_broker.bootstrap,
        topic=topic,
        group=unique("group"),
        alerts_topic=f"{topic}-alerts",
        checkpoint_seconds=checkpoint_s,
        session_timeout_ms=SESSION_TIMEOUT_MS,
        heartbeat_interval_ms=HEARTBEAT_MS,
    )


def worker_args(
    broker: Broker, *, topic: str, group: str, db: str, idle: float, checkpoint_s: float
) -> list[str]:
    return [
        "--bootstrap",
        broker.bootstrap,
        "--topic",
        topic,
        "--group",
        group,
        "--alerts-topic",
        f"{topic}-alerts",
        "--db",
        db,
        "--stop-when-idle",
        str(idle),
        "--checkpoint-seconds",
        str(checkpoint_s),
    ]


def alert_identities(broker: Broker, topic: str) -> list[tuple[str, str, str, str]]:
    events = [orjson.loads(r.value) for r in consume_all(broker, topic)]
    return [(e["incident"], e["event"], e["at"], e["severity"]) for e in events]


def opened_in_store(db: str) -> Counter[str]:
    with IncidentStore.open(db) as store:
        return Counter(
            e.incident
            for i in store.list_incidents()
            for e in store.events(i.key)
            if e.event == "opened"
        )


def dismiss_an_incident(url: str, brand: str = "acme") -> None:
    """An old incident of `brand` in the store, marked a false alarm by a person."""
    key = f"{brand}/t-old/2026-01-01T00:00Z"
    opened = AlertEvent(
        incident=key,
        event="opened",
        brand=brand,
        thread_id="t-old",
        severity="high",
        score=12.0,
        at=1_767_225_600.0,
        emitted_at=1_767_225_660.0,
        summary="an old storm",
        drivers={"topics": ["price"], "top_terms": ["patch day"], "peak_ratio_to_baseline": 30.0},
    )
    with IncidentStore.open(url) as store:
        assert store.record(opened)
        store.add_feedback(key, "false_alarm", who="test")


def split_at(workload: Workload, seconds_after_start: float) -> int:
    """Index of the first line whose event time is `seconds_after_start` or later."""
    times = [parse_event_time(orjson.loads(line)["created_at"]) for line in workload.lines]
    return next((n for n, t in enumerate(times) if t - times[0] >= seconds_after_start), len(times))


def assert_same_storms(actual: Counter, expected: list[str], minutes: int = 10) -> None:
    """The same storms, each opened exactly once: same brand and thread, opening minutes
    within `minutes`. Decisions count the comments already in for minutes still open
    (firing early), and a worker's per-partition watermark sees a different amount of
    them than an embedded run's, so a storm may open a few minutes apart."""
    assert set(actual.values()) <= {1}, actual

    def parts(key: str) -> tuple[str, int]:
        where, _, when = key.rpartition("/")
        hours, mins = when[11:16].split(":")
        return where, int(when[8:10]) * 1440 + int(hours) * 60 + int(mins)

    got = sorted(parts(k) for k in actual)
    want = sorted(parts(k) for k in expected)
    assert [w for w, _ in got] == [w for w, _ in want], (sorted(actual), sorted(expected))
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert abs(a - b) <= minutes, (sorted(actual), sorted(expected))


def test_malformed_messages_go_to_the_dead_letter_topic(
    kafka_broker: Broker,
    create_topic: Callable[..., str],
    producer,
    spawn_worker: Callable[..., WorkerProcess],
    unique: Callable[[str], str],
    workload: Workload,
    pg_url: str,
) -> None:
    topic = create_topic(unique("comments"), partitions=2)
    good = workload.lines[:300]
    bad = {
        b"{not json": "invalid_json",
        b"\xff\xfe\x00garbage": "invalid_encoding",
        b'{"id": "x1", "created_at": 1700000000, "brand": "acme"}': "missing_field",
        b"[1, 2, 3]": "not_an_object",
        b'{"id": "x2", "text": "hi", "created_at": "yesterday", "brand": "acme"}': (
            "invalid_timestamp"
        ),
    }
    dismiss_an_incident(pg_url)
    produce_lines(producer, topic, good[:150], ["acme"] * 150)
    for raw in bad:
        producer.send(topic, key=b"acme", value=raw)
    produce_lines(producer, topic, good[150:], ["acme"] * 150)
    w = spawn_worker(
        "dlq",
        worker_args(
            kafka_broker,
            topic=topic,
            group=unique("group"),
            db=pg_url,
            idle=2.0,
            checkpoint_s=1.0,
        ),
    )
    summary = w.wait(timeout=120)  # group assignment took over 40 s in full runs
    assert w.events("started")[0]["verdicts"] == 1  # read from the store at start-up
    dead = consume_all(kafka_broker, f"{topic}-dlq", expect=len(bad))
    assert {r.value: r.headers["reason"].decode() for r in dead} == bad
    assert all(r.headers["source"].startswith(f"{topic}:".encode()) for r in dead)
    assert all(r.headers["detail"] for r in dead)
    # The worker kept going: every good line after the bad ones was processed too.
    stats = summary["partitions"][str(partition_of("acme", 2))]
    assert stats == {"read": 305, "processed": 300, "dead_lettered": 5}
    assert summary["dead_letters"] == 5


def test_restart_after_sigkill_resumes_without_duplicate_alerts(
    kafka_broker: Broker,
    create_topic: Callable[..., str],
    producer,
    spawn_worker: Callable[..., WorkerProcess],
    unique: Callable[[str], str],
    workload: Workload,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORMWATCH_KAFKA_OUTBOX_LEASE_SECONDS", "2")
    topic = create_topic(unique("comments"), partitions=3)
    group = unique("group")
    db = pg_url
    half = split_at(workload, FIRESTORM_AT)

    # 1. A first incarnation reads the calm half and stops cleanly: checkpoint + commit.
    produce_lines(producer, topic, workload.lines[:half], workload.brands[:half])
    first = spawn_worker(
        "first", worker_args(kafka_broker, topic=topic, group=group, db=db, idle=2, checkpoint_s=1)
    )
    first.wait(timeout=60)
    committed = {int(p): o for e in first.events("checkpoint") for p, o in e["offsets"].items()}
    assert sum(committed.values()) == half

    # 2. A second one resumes there, sees the storm open, and is killed before it
    #    checkpoints again (its interval is long): its progress is lost, not its alerts.
    second = spawn_worker(
        "second",
        worker_args(kafka_broker, topic=topic, group=group, db=db, idle=60, checkpoint_s=600),
    )
    produce_lines(producer, topic, workload.lines[half:], workload.brands[half:])
    wait_until(lambda: second.events("alert"), timeout=60, what="the first alert")
    second.kill()
    restored = {e["partition"]: e["offset"] for e in second.events("restored")}
    assert restored == {p: o for p, o in committed.items() if o > 0}
    assert not second.events("checkpoint")

    # 3. The restarted worker restores the same checkpoint, replays the storm, and
    #    recognises the alerts it re-emits as already recorded.
    third = spawn_worker(
        "third", worker_args(kafka_broker, topic=topic, group=group, db=db, idle=3, checkpoint_s=1)
    )
    summary = third.wait(timeout=90)
    assert {e["partition"]: e["offset"] for e in third.events("restored")} == restored
    assert summary["alerts_repeated"] >= 1
    read_by_third = sum(p["read"] for p in summary["partitions"].values())
    assert read_by_third == len(workload.lines)  # restored counts + the replayed rest

    identities = alert_identities(kafka_broker, f"{topic}-alerts")
    assert identities, "no alert reached the alerts topic"
    assert len(identities) == len(set(identities)), Counter(identities).most_common(3)
    opened = Counter(i[0] for i in identities if i[1] == "opened")
    assert_same_storms(opened, workload.opened)
    assert opened_in_store(db) == opened


def test_two_workers_split_partitions_and_survive_a_sigkill(
    kafka_broker: Broker,
    create_topic: Callable[..., str],
    producer,
    spawn_worker: Callable[..., WorkerProcess],
    unique: Callable[[str], str],
    workload: Workload,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STORMWATCH_KAFKA_OUTBOX_LEASE_SECONDS", "2")
    # The group notices the killed worker after its session timeout, and how soon the
    # broker then rebalances varies: the survivor is stopped by the test once it owns
    # every partition and has checkpointed every comment (never by an idle timer that
    # could run out before the rebalance).
    monkeypatch.setenv("STORMWATCH_KAFKA_SESSION_TIMEOUT_MS", "6000")
    partitions = 4
    topic = create_topic(unique("comments"), partitions=partitions)
    group = unique("group")
    db = pg_url
    args = worker_args(kafka_broker, topic=topic, group=group, db=db, idle=300, checkpoint_s=1)
    a = spawn_worker("a", args)
    b = spawn_worker("b", args)

    def split() -> bool:
        pa, pb = set(a.assigned()), set(b.assigned())
        return bool(pa and pb) and not pa & pb and pa | pb == set(range(partitions))

    # A join can take a full rebalance round on a broker busy with the rest of the suite
    # (this waited past 40 s once in CI, the test unchanged; 4-12 s usually).
    try:
        wait_until(split, timeout=90, what="two workers to split the partitions")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: a has {a.assigned()}, b has {b.assigned()}") from None
    acme = partition_of("acme", partitions)
    doomed, survivor = (a, b) if acme in a.assigned() else (b, a)
    assert set(doomed.assigned()).isdisjoint(survivor.assigned())

    # Up to the storm's onset, checkpointed by acme's owner; it dies while the storm
    # streams in, and the survivor must carry the storm on from the saved state.
    half = split_at(workload, FIRESTORM_AT)
    produce_lines(producer, topic, workload.lines[:half], workload.brands[:half])
    acme_half = sum(1 for b in workload.brands[:half] if partition_of(b, partitions) == acme)

    def checkpointed(offset: int) -> bool:
        return any(e["offsets"].get(str(acme), -1) >= offset for e in doomed.events("checkpoint"))

    wait_until(lambda: checkpointed(acme_half), timeout=60, what="the calm part checkpointed")
    rest = threading.Thread(
        target=produce_lines,
        args=(producer, topic, workload.lines[half:], workload.brands[half:]),
    )
    rest.start()
    time.sleep(0.3)
    doomed.kill()
    rest.join(timeout=60)

    wait_until(
        lambda: set(survivor.assigned()) == set(range(partitions)),
        timeout=120,
        what="the survivor to take over every partition",
    )
    per_partition = Counter(partition_of(b, partitions) for b in workload.brands)

    def caught_up() -> bool:
        done: dict[int, int] = {}
        for e in survivor.events("checkpoint"):
            for p, o in e["offsets"].items():
                done[int(p)] = max(done.get(int(p), 0), o)
        return all(done.get(p, 0) >= n for p, n in per_partition.items())

    wait_until(caught_up, timeout=120, what="the survivor to checkpoint every comment")
    survivor.terminate()
    summary = survivor.wait(timeout=60)
    assert set(survivor.assigned()) == set(range(partitions))
    taken_over = [e for e in survivor.events("restored") if e["partition"] == acme]
    assert taken_over and taken_over[0]["offset"] >= acme_half

    # Every comment accounted for, summed over the latest checkpoint of each partition.
    kafka = KafkaSettings(bootstrap=kafka_broker.bootstrap, topic=topic, group=group)
    saved = read_checkpoints(kafka, range(partitions))
    read = sum(c.stats.read for c in saved.values() if c is not None)
    processed = sum(c.stats.processed for c in saved.values() if c is not None)
    dead = sum(c.stats.dead_lettered for c in saved.values() if c is not None)
    assert read == processed + dead == len(workload.lines)
    assert summary["partitions"][str(acme)]["read"] == saved[acme].stats.read

    # The incidents of an embedded run over the same input, each opened exactly once.
    stored = opened_in_store(db)
    assert_same_storms(stored, workload.opened)
    identities = alert_identities(kafka_broker, f"{topic}-alerts")
    assert len(identities) == len(set(identities))
    assert Counter(i[0] for i in identities if i[1] == "opened") == stored


def test_produce_sends_valid_comments_keyed_by_brand_and_reports_the_rest(
    kafka_broker: Broker,
    create_topic: Callable[..., str],
    producer: object,
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    from stormwatch.kafka.producer import publish_comments

    topic = create_topic(unique("produce"), partitions=3)
    good = [
        orjson.dumps({"id": f"c{i}", "text": "hi", "created_at": 1772442902 + i, "brand": b})
        for i, b in enumerate(["acme", "globex", "acme", "initech"] * 5)
    ]
    bad = [b"{broken", b'{"id": "x", "text": "no time", "brand": "acme"}']
    path = tmp_path / "comments.jsonl"
    path.write_bytes(b"\n".join(good[:7] + bad + good[7:]) + b"\n")

    report = publish_comments(path, topic=topic, writer=producer)  # type: ignore[arg-type]

    assert report.sent == len(good)
    assert dict(report.invalid) == {"invalid_json": 1, "missing_field": 1}
    records = consume_all(kafka_broker, topic, expect=len(good))
    assert sorted(r.value for r in records) == sorted(good)  # bytes untouched
    by_brand: dict[bytes, set[int]] = {}
    for r in records:
        assert r.key is not None
        by_brand.setdefault(r.key, set()).add(r.partition)
    assert set(by_brand) == {b"acme", b"globex", b"initech"}
    assert all(len(partitions) == 1 for partitions in by_brand.values())  # one owner each


def test_worker_pipelines_learn_the_verdicts_that_run_learns(pg_url: str) -> None:
    """Every partition's pipeline knows what people said, as `stormwatch run --db` does,
    and keeps it when its state is restored from a checkpoint."""
    from stormwatch.config import Settings
    from stormwatch.detectors.feedback import MARGIN, SurgeSignature
    from stormwatch.kafka import checkpoint
    from stormwatch.kafka.worker import pipeline_factory
    from stormwatch.runtime import build_pipeline

    dismiss_an_incident(pg_url)
    settings = Settings(database_url=pg_url)
    embedded = build_pipeline(settings, env={})
    factory = pipeline_factory(settings)
    first, second = (factory([], None) for _ in range(2))  # type: ignore[arg-type]

    like_it = SurgeSignature.of("acme", thread_level=True, topics=["price"], terms=["patch day"])
    for pipeline in (embedded, first, second):
        assert pipeline.decisions.feedback_memory.knows("acme")
        assert pipeline.decisions.feedback_memory.ratio_bar(like_it) == pytest.approx(MARGIN * 30)
    assert first.decisions.feedback_memory.verdicts == embedded.decisions.feedback_memory.verdicts
    checkpoint.restore(second, checkpoint.snapshot(factory([], None)))  # type: ignore[arg-type]
    assert second.decisions.feedback_memory.ratio_bar(like_it) == pytest.approx(MARGIN * 30)


def test_worker_health_and_readiness_on_its_endpoint(
    kafka_broker: Broker,
    create_topic: Callable[..., str],
    producer,
    unique: Callable[[str], str],
    workload: Workload,
    pg_url: str,
) -> None:
    """The worker's own checks behind /healthz and /readyz: not ready before partitions
    are assigned, ready once they are and the store answers, not ready when the store
    goes away; unhealthy once its loop stops turning."""
    import urllib.error
    import urllib.request

    from prometheus_client import CollectorRegistry

    from stormwatch.config import Settings
    from stormwatch.kafka.worker import Worker, pipeline_factory
    from stormwatch.service.exporter import start_metrics_server
    from tests.postgres_harness import drop_database

    def get(path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(server.url + path, timeout=5) as r:
                return r.status, r.read().decode().strip()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode().strip()

    kafka = worker_settings(kafka_broker, create_topic, unique, partitions=2, checkpoint_s=1.0)
    topic = kafka.topic
    skew = [0.0]  # how far the worker's clock is pushed ahead

    def clock() -> float:
        return time.monotonic() + skew[0]

    store = IncidentStore.open(pg_url)
    factory = pipeline_factory(Settings(database_url=pg_url))
    # What readiness says while each partition's pipeline is being set up: not ready
    # until all of them are (it once said "ready: partitions [0]" between the two).
    while_restoring: list[str] = []

    def new_pipeline(*args, **kwargs):  # type: ignore[no-untyped-def]
        while_restoring.append(worker.ready()[1])
        return factory(*args, **kwargs)

    worker = Worker(kafka, store=store, new_pipeline=new_pipeline, clock=clock)
    server = start_metrics_server(0, CollectorRegistry(), health=worker.healthy, ready=worker.ready)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except BaseException as exc:  # noqa: BLE001 - the store is dropped under it
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    try:
        assert get("/readyz") == (503, "no partitions assigned")
        assert get("/healthz")[0] == 200
        thread.start()
        produce_lines(producer, topic, workload.lines[:200], workload.brands[:200])
        status, body = wait_until(
            lambda: (got := get("/readyz"))[0] == 200 and got,
            timeout=90,  # the broker's group assignment took over 40 s once in a full run
            what="the worker to be ready",
        )
        assert body == "ready: partitions [0, 1]"
        assert while_restoring == ["no partitions assigned"] * 2, while_restoring
        assert get("/healthz") == (200, "ok")

        drop_database(pg_url)  # the incident store goes away under the running worker
        status, body = wait_until(
            lambda: (got := get("/readyz"))[0] == 503 and got,
            timeout=20,
            what="readiness to notice the store is gone",
        )
        # The worker names the store while it holds its partitions; its loop, failing to
        # write to the store at its next checkpoint, may have stopped and let them go
        # before this look (a race: once in a CI run the first 503 read "no partitions
        # assigned").
        stopped_on_store = body == "no partitions assigned"
        assert body.startswith("incident store unreachable:") or stopped_on_store, body

        worker.stop()
        thread.join(timeout=30)
        assert not thread.is_alive()
        if stopped_on_store:
            assert failures and "incident store" in str(failures[0]), failures
        assert get("/healthz")[0] == 200  # stopped just now: the loop turned recently
        skew[0] = max(60.0, 10 * kafka.checkpoint_seconds) + 1
        assert get("/healthz") == (503, "unhealthy")
    finally:
        worker.stop()
        thread.join(timeout=30)
        server.close()
        store.close()


# --- a quiet input: early looks on a pause, minutes closed on the wall clock -------------


def in_process_worker(
    kafka_broker: Broker, create_topic, unique, pg_url: str, partitions: int = 1, **options: float
):  # type: ignore[no-untyped-def]
    from stormwatch.config import Settings
    from stormwatch.kafka.worker import Worker, pipeline_factory

    # Only the checkpoints a quiet input calls for: the periodic one is an hour away.
    kafka = worker_settings(
        kafka_broker, create_topic, unique, partitions=partitions, checkpoint_s=3600
    )
    worker = Worker(
        kafka,
        store=IncidentStore.open(pg_url),
        new_pipeline=pipeline_factory(Settings(database_url=pg_url)),
        **options,
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return kafka.topic, worker, thread


def stop_worker(worker, thread: threading.Thread) -> None:  # type: ignore[no-untyped-def]
    worker.stop()
    thread.join(timeout=60)
    assert not thread.is_alive()


def test_a_worker_whose_input_pauses_on_the_tipping_comment_alerts_at_once(
    kafka_broker, create_topic, unique, producer, pg_url, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Without a later comment to pass the next look's tick, the pause is the look."""
    import math

    import stormwatch.pipeline as pipeline_module
    from stormwatch.pipeline import Pipeline
    from tests.small_storm import small_storm_lines

    monkeypatch.setattr(pipeline_module, "EARLY_SECONDS", math.inf)  # no looks on ticks

    def cut_at_tipping_look(lines: list[bytes]) -> tuple[int, Pipeline] | None:
        """How many comments a stream needs until a look after the last one opens its
        storm; None when a close opens it first (the stream cannot show a look)."""
        looking = Pipeline()
        for n, line in enumerate(lines, 1):
            looking.feed(line)
            if looking.tracker.history:
                return None
            if looking.check_early():
                return n, looking
        return None

    # Which stream shows it depends on the detectors; the first of ten seeds that does.
    found = next(
        (lines, cut)
        for seed in range(1, 11)
        if (cut := cut_at_tipping_look(lines := small_storm_lines(seed))) is not None
    )
    lines, (tip, looking) = found

    topic, worker, thread = in_process_worker(kafka_broker, create_topic, unique, pg_url)
    try:
        produce_lines(producer, topic, lines[:tip], ["shop"] * tip)
        wait_until(lambda: opened_in_store(pg_url), timeout=120, what="the storm to open")
        task = worker.tasks[0]
        assert task.pipeline.stats.read == tip
        (incident,) = task.pipeline.tracker.open.values()
        assert incident.brand == "shop" and incident.opened_at == looking.windows.max_event_time
        # Checkpointed at once, although the next periodic checkpoint is an hour away.
        wait_until(lambda: worker.summary.checkpoints >= 1, timeout=30, what="a checkpoint")
    finally:
        stop_worker(worker, thread)


def test_a_quiet_partition_closes_its_minutes_on_the_wall_clock_while_another_is_busy(
    kafka_broker, create_topic, unique, producer, pg_url
) -> None:  # type: ignore[no-untyped-def]
    """Every poll brings records of the busy partition; the quiet one still counts as
    paused, and once it has nothing waiting its minutes close on the wall clock. A
    trickle of late records on the quiet partition does not move it on either: it kept
    the partition's idle timer fresh, and its minutes never closed."""
    start = time.time()
    quiet = partition_of("shop", 2)
    busy_brand = next(b for b in (f"other{i}" for i in range(50)) if partition_of(b, 2) != quiet)

    def line(i: int, brand: str, at: float) -> bytes:
        return orjson.dumps(
            {"id": f"{brand}{i}", "text": "works fine", "brand": brand, "created_at": at}
        )

    lines = [line(i, "shop", start - 900 + 30 * i) for i in range(10)]
    topic, worker, thread = in_process_worker(
        kafka_broker, create_topic, unique, pg_url, partitions=2, idle_seconds=1.0
    )
    stop = threading.Event()

    def keep_busy() -> None:  # a comment of the other partition every 0.1 s
        n = 0
        while not stop.is_set():
            n += 1
            producer.send(topic, key=busy_brand.encode(), value=line(n, busy_brand, time.time()))
            if n % 3 == 0:  # a late reply on the quiet partition every 0.3 s
                producer.send(topic, key=b"shop", value=line(1000 + n, "shop", start - 3000))
            producer.flush()
            time.sleep(0.1)

    busy = threading.Thread(target=keep_busy, daemon=True)
    try:
        produce_lines(producer, topic, lines, ["shop"] * len(lines))
        busy.start()
        wait_until(
            lambda: quiet in worker.tasks and worker.tasks[quiet].pipeline.stats.read > len(lines),
            timeout=120,
            what="the comments to be read",
        )
        # The watermark stops lateness (120 s) behind the newest comment; the wall
        # clock takes the minutes on to its own time minus the lateness.
        wait_until(
            lambda: worker.tasks[quiet].pipeline.windows.next_minute >= (start - 120) // 60,
            timeout=30,
            what="the quiet minutes to close",
        )
        wait_until(lambda: worker.summary.checkpoints >= 1, timeout=30, what="a checkpoint")
    finally:
        stop.set()
        busy.join(timeout=10)
        stop_worker(worker, thread)


def test_a_restored_partition_is_not_looked_at_before_it_is_read_to_its_end(
    kafka_broker, create_topic, unique, producer, pg_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """A crash between an alert and the next checkpoint: the successor restores the
    checkpoint before the alert, and its first loop turn, before any record is fetched,
    must not count the partition as paused. A look there would open the storm at a point
    the first run never looked at: a second `opened` event (another second, another
    severity) for the storm already alerted."""
    from stormwatch.config import Settings
    from stormwatch.kafka.sinks import StatusLog
    from stormwatch.kafka.worker import Worker, pipeline_factory
    from tests.small_storm import small_storm_lines

    # Small storm seed 1 edited around its tipping comment (line 242): another brand's
    # negative comes first in that second, so the once-a-second look happens on it; the
    # tipping comment waits for the next look, which one more negative a second later
    # brings. Read straight through, the storm opens on that last record.
    lines = small_storm_lines(1)
    tipping = orjson.loads(lines[241])
    at = parse_event_time(tipping["created_at"])
    other = {"id": "other-1", "brand": "zeta", "text": tipping["text"], "created_at": at}
    follow = dict(tipping, id=tipping["id"] + "-b", created_at=at + 1.5)
    tipping["created_at"] = at + 0.5
    lines = lines[:241] + [orjson.dumps(r) for r in (other, tipping, follow)]

    kafka = worker_settings(kafka_broker, create_topic, unique, partitions=1, checkpoint_s=0.001)
    produce_lines(producer, kafka.topic, lines, ["shop"] * len(lines))
    settings = Settings(database_url=pg_url)

    class CrashBeforeCheckpointingTheAlert(Worker):
        def checkpoint(self, partitions, **options):  # type: ignore[no-untyped-def]
            if self.gate.recorded and not self._aborted:
                raise RuntimeError("crash")
            return super().checkpoint(partitions, **options)

    # The first worker reads all but the last record, checkpoints, then alerts on it.
    first = CrashBeforeCheckpointingTheAlert(
        replace(kafka, max_poll_records=len(lines) - 1),
        store=IncidentStore.open(pg_url),
        new_pipeline=pipeline_factory(settings),
        status=StatusLog(tmp_path / "first.jsonl"),
    )
    with pytest.raises(RuntimeError, match="crash"):
        first.run(stop_when_idle=30)
    first.store.close()
    (incident,) = opened_in_store(pg_url)
    (saved,) = read_checkpoints(kafka, [0]).values()
    assert saved is not None and saved.next_offset == len(lines) - 1

    second = Worker(
        kafka,
        store=IncidentStore.open(pg_url),
        new_pipeline=pipeline_factory(settings),
        status=StatusLog(tmp_path / "second.jsonl"),
    )
    assert second.run(stop_when_idle=3).records_fed == 1
    second.store.close()
    assert opened_in_store(pg_url) == Counter({incident: 1})


def test_a_changelog_read_waits_out_a_broker_that_stalls(
    kafka_broker, create_topic, unique, producer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A broker that answers a second and a half late (a GC pause, a busy host) while a
    worker restores must be waited for: taken for an empty changelog, the partition
    restored cold and its next checkpoint overwrote the saved state for good."""
    import signal

    from stormwatch.kafka import source

    topic = create_topic(unique("changelog"), partitions=1)
    for i in range(20):
        producer.send(topic, key=f"k{i % 5}".encode(), value=f"v{i}".encode())
    producer.flush()

    connect = source._connect

    def stalling_connect(*args, **kwargs):  # type: ignore[no-untyped-def]
        consumer = connect(*args, **kwargs)
        kafka_broker.process.send_signal(signal.SIGSTOP)
        # A stop takes effect when the broker's threads are next scheduled: wait until
        # the kernel shows it stopped, so the stall is a full second and a half (once in
        # five CI runs on this busy machine the read came back 8 ms after the signal).
        stat = Path(f"/proc/{kafka_broker.process.pid}/stat")
        until = time.monotonic() + 5.0
        while stat.read_text().rsplit(")", 1)[1].split()[0] != "T":
            assert time.monotonic() < until, "the broker did not stop"
            time.sleep(0.001)
        threading.Timer(1.5, kafka_broker.process.send_signal, (signal.SIGCONT,)).start()
        return consumer

    monkeypatch.setattr(source, "_connect", stalling_connect)
    started = time.monotonic()
    latest = source.read_latest(kafka_broker.client(), topic=topic, partitions=[0])
    assert time.monotonic() - started >= 1.5
    assert {k: v.value for k, v in latest[0].items()} == {
        f"k{k}".encode(): f"v{15 + k}".encode() for k in range(5)
    }
    # The scan of a partition (the outbox's check for alerts already published) too.
    monkeypatch.setattr(source, "_connect", stalling_connect)
    scanned = source.scan(kafka_broker.client(), topic=topic, partition=0, start=10)
    assert [offset for offset, _, _ in scanned] == list(range(10, 20))


def test_without_topic_creation_every_missing_topic_stops_start_up(
    kafka_broker, create_topic, unique
) -> None:  # type: ignore[no-untyped-def]
    """A missing alerts or dead-letter topic stopped the worker only at its first alert
    or dead letter (about a minute of retries), and again after every restart. All the
    missing ones in one line: naming the first alone cost one restart per topic."""
    from stormwatch.kafka.exceptions import TopicError
    from stormwatch.kafka.topics import worker_topics

    names = {
        "topic": create_topic(unique("comments"), partitions=2),
        "changelog_topic": create_topic(unique("changelog"), partitions=2),
        "alerts_topic": unique("alerts"),
        "dead_letter_topic": unique("dlq"),
    }

    def start() -> int:
        return worker_topics(
            kafka_broker.client(), **names, partitions=2, replication_factor=1, create=False
        )

    both = f"topics {names['alerts_topic']}, {names['dead_letter_topic']} do not exist"
    with pytest.raises(TopicError, match=both):
        start()
    create_topic(names["alerts_topic"], partitions=2)
    with pytest.raises(TopicError, match=f"topic {names['dead_letter_topic']} does not exist"):
        start()
    create_topic(names["dead_letter_topic"], partitions=2)
    assert start() == 2


def test_produce_reports_an_invalid_line_as_it_reads(
    kafka_broker: Broker, create_topic: Callable[..., str], unique: Callable[[str], str], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The report of an invalid line quotes the input: `[/b]` in it was read as console
    markup, and the command ended in a traceback after sending every valid line."""
    from typer.testing import CliRunner

    from stormwatch.cli import app

    topic = create_topic(unique("produce"), partitions=1)
    good = {"id": "c1", "text": "hi", "created_at": 1772442902, "brand": "acme"}
    path = tmp_path / "comments.jsonl"
    path.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps({**good, "created_at": "[/b]"}))
    result = CliRunner().invoke(
        app, ["produce", str(path), "--bootstrap", kafka_broker.bootstrap, "--topic", topic]
    )
    assert result.exit_code == 0, result.output
    assert "'[/b]'" in result.output and "sent=1 invalid=1" in result.output


def test_a_partition_whose_checkpoint_is_gone_stops_the_worker_unless_told(
    kafka_broker, create_topic, unique, producer, pg_url
) -> None:  # type: ignore[no-untyped-def]
    """Offsets committed and the changelog entry gone (deleted, or a topic recreated):
    the worker resumed cold with one log line, and a storm under way opened a second
    incident while its first stayed open in the store for good."""
    from stormwatch.config import Settings
    from stormwatch.kafka.checkpoint import CheckpointError
    from stormwatch.kafka.worker import Worker, pipeline_factory
    from tests.small_storm import small_storm_lines

    lines = small_storm_lines(1)[:100]
    kafka = worker_settings(kafka_broker, create_topic, unique, partitions=1, checkpoint_s=1.0)
    produce_lines(producer, kafka.topic, lines, ["shop"] * len(lines))
    settings = Settings(database_url=pg_url)

    def run(**options) -> int:  # type: ignore[no-untyped-def]
        with IncidentStore.open(pg_url) as store:
            worker = Worker(kafka, store=store, new_pipeline=pipeline_factory(settings), **options)
            return worker.run(stop_when_idle=2).records_fed

    assert run() == 100
    producer.send(kafka.changelog_topic, key=b"0", value=None, partition=0)  # manifest gone
    producer.flush()
    with pytest.raises(CheckpointError, match="--resume-cold"):
        run()
    produce_lines(producer, kafka.topic, lines[:5], ["shop"] * 5)
    assert run(resume_cold=True) == 5  # from the committed offset, without state


def test_input_not_keyed_by_brand_is_named_once(
    kafka_broker, create_topic, unique, producer, pg_url, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """Records keyed by comment id (a third-party producer) spread a brand over
    partitions, and one storm opened three incidents, without a word in the log."""
    from stormwatch.config import Settings
    from stormwatch.kafka.sinks import StatusLog
    from stormwatch.kafka.worker import Worker, pipeline_factory
    from tests.test_hostile_input import storm_rows

    kafka = worker_settings(kafka_broker, create_topic, unique, partitions=1, checkpoint_s=1.0)
    # The first record keyed right, the next ones by comment id, fetched one at a time:
    # the first batch alone said nothing.
    for n, row in enumerate(storm_rows()[:50]):
        key = row["brand"] if n == 0 else str(row["id"])
        producer.send(kafka.topic, key=key.encode(), value=orjson.dumps(row))
    producer.flush()
    kafka = replace(kafka, max_poll_records=1)
    status = tmp_path / "status.jsonl"
    with IncidentStore.open(pg_url) as store:
        Worker(
            kafka, store=store, new_pipeline=pipeline_factory(Settings(database_url=pg_url)),
            status=StatusLog(status),
        ).run(stop_when_idle=2.0)  # fmt: skip
    events = [orjson.loads(line) for line in status.read_bytes().splitlines()]
    [wrong] = [e for e in events if e["event"] == "misrouted"]
    assert wrong["partition"] == 0 and wrong["brand"] == storm_rows()[0]["brand"]
