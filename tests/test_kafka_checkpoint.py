"""Checkpoint encoding and Kafka settings, without a broker."""

from __future__ import annotations

import copyreg
import pickle
import zlib

import orjson
import pytest

from stormwatch.alerts.decisions import SuppressedSurge
from stormwatch.config import Settings
from stormwatch.detectors.crisis import Assessment
from stormwatch.exceptions import ConfigError
from stormwatch.far_ahead import HeldRecord
from stormwatch.kafka import checkpoint
from stormwatch.kafka.settings import KafkaSettings, load_kafka_settings
from stormwatch.key_window import Bucket, KeyWindow, MinuteSummary, NegativeMention
from stormwatch.pipeline import Pipeline


def _fed_pipeline(n: int = 400) -> Pipeline:
    pipeline = Pipeline(Settings())
    for i in range(n):
        comment = {
            "id": f"c{i}",
            "text": "this is terrible, worst service ever" if i % 3 else "lovely coffee",
            "created_at": 1_772_409_600 + i * 7,
            "brand": "acme",
            "thread_id": f"t{i % 5}",
            "author_id": f"a{i % 40}",
        }
        pipeline.feed(orjson.dumps(comment))
    return pipeline


def _latest(
    records: list[checkpoint.Record],
) -> dict[bytes, tuple[bytes | None, dict[str, bytes]]]:
    """What a compacted topic keeps: the latest value per key."""
    return {r.key: (r.value, dict(r.headers)) for r in records}


def test_round_trip_in_chunks_restores_the_state() -> None:
    source = _fed_pipeline()
    records = checkpoint.encode(
        3, seq=1, next_offset=400, state=checkpoint.snapshot(source), chunk_bytes=1000
    )
    assert len(records) > 3  # several chunks, then the manifest
    assert records[-1].key == b"3"
    saved = checkpoint.decode(3, _latest(records))
    assert saved is not None and (saved.seq, saved.next_offset) == (1, 400)
    target = Pipeline(Settings())
    checkpoint.restore(target, saved.state)
    assert target.stats.read == source.stats.read == 400
    assert target.seen_ids == source.seen_ids
    assert sorted(target.windows.threads) == sorted(source.windows.threads)
    # Detection resumes where it was: the brand's baseline and tests, the thread tests.
    assert target.brands is target.judge.brands
    assert target.decisions.judge is target.judge  # incidents decided on the restored state
    before, after = source.judge.brands["acme"], target.judge.brands["acme"]
    assert after.baseline.minutes == before.baseline.minutes > 0
    assert after.monitor.rate.sums == before.monitor.rate.sums
    assert sorted(target.judge.threads) == sorted(source.judge.threads)
    # The restored pipeline carries on: a redelivered comment is a duplicate there too.
    target.feed(b'{"id": "c1", "text": "x", "created_at": 1772409607, "brand": "acme"}')
    assert target.stats.duplicates == 1


def _assessment(ratio: float, alerting: bool) -> Assessment:
    return Assessment(
        score=2.0 if alerting else 0.0, raw_score=0.0, ratio=ratio, key_ratio=ratio,
        growth=0.0, volume=0.0, benign=None, alerting=alerting, normal_rate=10.0,
        volume_ratio=1.0,
    )  # fmt: skip


def test_a_storm_back_after_a_restart_reopens_its_incident() -> None:
    """The tracker's recent resolutions are part of the checkpoint: without them a
    storm that came back within half a day after a restart opened a second incident,
    and a resolved storm's tail could open one too."""

    def explain(*_: object) -> tuple[str, dict, list, None]:
        return "s", {}, [], None

    source = Pipeline(Settings())
    source.tracker.explain = explain
    tracker = source.tracker
    first = tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1000, evidence=lambda: (0.0, {}),
        a=_assessment(20.0, True),
    )  # fmt: skip
    assert first is not None and first.event == "opened"
    minute = 1000
    while "acme" in tracker.open:
        minute += 1
        tracker.observe(
            "acme", brand="acme", thread_id=None, minute=minute, evidence=lambda: (0.0, {}),
            a=_assessment(0.5, False),
        )  # fmt: skip
    saved = checkpoint.decode(
        3, _latest(checkpoint.encode(3, seq=1, next_offset=0, state=checkpoint.snapshot(source)))
    )
    assert saved is not None
    target = Pipeline(Settings())
    target.tracker.explain = explain
    checkpoint.restore(target, saved.state)
    back = target.tracker.observe(
        "acme", brand="acme", thread_id=None, minute=minute + 180,
        evidence=lambda: (0.0, {}), a=_assessment(20.0, True),
    )  # fmt: skip
    assert back is not None and back.event == "escalated"
    assert back.incident == first.incident  # the same incident, reopened
    # A checkpoint from before resolutions were saved restores with none remembered.
    del saved.state["resolved"], saved.state["returning"]
    older = Pipeline(Settings())
    checkpoint.restore(older, saved.state)
    assert older.tracker.resolved == {} and older.tracker.returning == {}


def test_a_checkpoint_cut_short_leaves_the_previous_one_readable() -> None:
    pipeline = _fed_pipeline()
    state = checkpoint.snapshot(pipeline)
    first = checkpoint.encode(0, seq=1, next_offset=100, state=state, chunk_bytes=500)
    second = checkpoint.encode(0, seq=2, next_offset=200, state=state, chunk_bytes=500)
    crashed = first + second[:-1]  # every chunk of seq 2 written, its manifest not
    saved = checkpoint.decode(0, _latest(crashed))
    assert saved is not None and (saved.seq, saved.next_offset) == (1, 100)
    assert checkpoint.decode(0, _latest(first + second)).seq == 2


def test_a_smaller_checkpoint_leaves_no_older_chunks_behind() -> None:
    """A storm's checkpoint takes more chunks than the quiet one two checkpoints later in
    the same slot: the chunks past the new one's get tombstones, else compaction would
    keep them (and the comments in them) for good."""
    big = checkpoint.snapshot(_fed_pipeline(400))
    small = checkpoint.snapshot(_fed_pipeline(40))
    first = checkpoint.encode(2, seq=2, next_offset=400, state=big, chunk_bytes=1000)
    held = checkpoint.chunks_held(2, _latest(first))
    assert held[0] == checkpoint.chunks_written(first) > 3 and held[1] == 0  # seq 2: slot 0
    between = checkpoint.encode(2, seq=3, next_offset=410, state=small, chunk_bytes=1000)
    later = checkpoint.encode(
        2, seq=4, next_offset=420, state=small, chunk_bytes=1000, chunks_before=held[0]
    )
    written = checkpoint.chunks_written(later)
    assert 0 < written < held[0]
    tombstones = [r for r in later if r.value is None]
    assert len(tombstones) == held[0] - written
    latest = _latest(first + between + later)
    assert checkpoint.chunks_held(2, latest) == [written, checkpoint.chunks_written(between)]
    saved = checkpoint.decode(2, latest)
    assert saved is not None and (saved.seq, saved.next_offset) == (4, 420)
    assert saved.stats.read == 40
    # Without the count of what the slot held, nothing is tombstoned: the old chunks stay.
    unaware = checkpoint.encode(2, seq=4, next_offset=420, state=small, chunk_bytes=1000)
    assert checkpoint.chunks_held(2, _latest(first + between + unaware))[0] == held[0]


def test_no_checkpoint_and_a_damaged_one() -> None:
    assert checkpoint.decode(0, {}) is None
    records = checkpoint.encode(
        0, seq=1, next_offset=1, state=checkpoint.snapshot(_fed_pipeline(20))
    )
    latest = _latest(records)
    chunk = next(k for k in latest if k != b"0")
    latest[chunk] = (b"garbage", latest[chunk][1])
    with pytest.raises(checkpoint.CheckpointError, match="checksum"):
        checkpoint.decode(0, latest)


# Classes that moved out of the module that checkpoints pickled before the move name.
MOVED = [
    (Bucket, "stormwatch.windows"),
    (MinuteSummary, "stormwatch.windows"),
    (NegativeMention, "stormwatch.windows"),
    (KeyWindow, "stormwatch.windows"),
    (HeldRecord, "stormwatch.windows"),
    (SuppressedSurge, "stormwatch.pipeline"),
]


def test_a_checkpoint_pickled_before_classes_moved_still_restores(monkeypatch) -> None:
    source = _fed_pipeline()
    far_ahead = {"id": "far", "text": "x", "created_at": 1_772_409_600 + 86_400, "brand": "acme"}
    source.feed(orjson.dumps(far_ahead))
    assert source.windows.held  # a HeldRecord in the state
    surge = SuppressedSurge("acme", "acme", None, "viral_positive", 1, 2, 5.0, 4.0)
    source.decisions.suppressed.append(surge)
    for cls, old_module in MOVED:
        monkeypatch.setattr(cls, "__module__", old_module)  # pickled as before the move
    records = checkpoint.encode(0, seq=1, next_offset=1, state=checkpoint.snapshot(source))
    monkeypatch.undo()
    blob = zlib.decompress(b"".join(r.value for r in records[:-1]))
    assert all(cls.__module__.encode() not in blob for cls, _ in MOVED)
    saved = checkpoint.decode(0, _latest(records))
    assert saved is not None
    target = Pipeline(Settings())
    checkpoint.restore(target, saved.state)
    window = target.windows.brands["acme"]
    assert type(window) is KeyWindow and type(window.closed[-1]) is MinuteSummary
    assert type(window.negatives[-1]) is NegativeMention
    assert all(type(b) is Bucket for b in window.open.values())
    assert type(target.windows.held[0][2]) is HeldRecord
    assert target.decisions.suppressed[-1] == surge
    target.feed(b'{"id": "c1", "text": "x", "created_at": 1772409607, "brand": "acme"}')
    assert target.stats.duplicates == 1


def _pickled_before_pseudonyms(record: HeldRecord, protocol: int):  # type: ignore[no-untyped-def]
    """How a `HeldRecord` pickled before it had `pseudonymized`: its seven slots."""
    slots = {name: getattr(record, name) for name in HeldRecord.__slots__}
    del slots["pseudonymized"]
    return copyreg.__newobj__, (HeldRecord,), (None, slots)


def test_a_record_held_before_pseudonyms_restores_pseudonymised(monkeypatch) -> None:
    """An older checkpoint held the raw author; restored with privacy on, it is
    pseudonymised once (its comment and its dead letter's bytes)."""
    from stormwatch.ingest.pseudonym import Pseudonymizer

    source = _fed_pipeline()
    far = {
        "id": "far",
        "text": "x",
        "created_at": 1_772_409_600 + 86_400,
        "brand": "acme",
        "author_id": "mallory",
    }
    source.feed(orjson.dumps(far))
    monkeypatch.setattr(HeldRecord, "__reduce_ex__", _pickled_before_pseudonyms)
    blob = pickle.dumps(checkpoint.snapshot(source))
    monkeypatch.undo()
    state = pickle.loads(blob)
    del state["pseudonymized"]  # a checkpoint from before it said whether it is private
    old = state["windows"].held[0][2]
    assert type(old) is HeldRecord and not old.pseudonymized and old.comment.author_id == "mallory"
    pseudonym = Pseudonymizer(b"0123456789abcdefghij")
    target = Pipeline(Settings(), pseudonymize=pseudonym)
    checkpoint.restore(target, state)
    assert b"mallory" not in pickle.dumps(checkpoint.snapshot(target))
    assert old.pseudonymized and old.comment.author_id == pseudonym("mallory")
    assert orjson.loads(old.raw)["author_id"] == pseudonym("mallory")


def test_kafka_settings_from_file_environment_and_options(tmp_path) -> None:
    path = tmp_path / "stormwatch.toml"
    path.write_text(
        '[stormwatch]\nfalse_alarms_per_month = 2\n[kafka]\nbootstrap = "file:9092"\ntopic = "c"\n'
        'partitions = 12\nsecurity_protocol = "SASL_SSL"\nsasl_mechanism = "SCRAM-SHA-512"\n'
    )
    env = {"STORMWATCH_KAFKA_GROUP": "g", "STORMWATCH_KAFKA_SASL_PLAIN_PASSWORD": "pw"}
    s = load_kafka_settings(path, env=env, overrides={"bootstrap": "opt:9092", "topic": None})
    assert (s.bootstrap, s.topic, s.group, s.partitions) == ("opt:9092", "c", "g", 12)
    assert (s.dead_letter_topic, s.changelog_topic) == ("c-dlq", "g-c-changelog")
    options = s.client_options()
    assert options["sasl_plain_password"] == "pw"
    assert options["security_protocol"] == "SASL_SSL"


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"topic": "bad topic!"}, "kafka topic 'bad topic!'"),
        ({"group": "team a"}, "changelog_topic 'team a-comments-changelog' (made from the group)"),
        ({"topic": "x" * 250}, "not a legal topic name"),
        ({"topic": "c", "dead_letter_topic": "c"}, "dead_letter_topic must differ from topic"),
        ({"topic": "c", "alerts_topic": "c"}, "alerts_topic must differ from topic"),
        ({"changelog_topic": "stormwatch-alerts"}, "changelog_topic must differ from alerts"),
    ],
)
def test_kafka_topic_names_must_be_legal_and_distinct(values: dict, words: str) -> None:
    """A dead-letter topic equal to the input read each bad record back and dead-lettered
    it again, for ever; an illegal name (or one made from an illegal group) ended the
    worker in kafka-python's ValueError traceback."""
    with pytest.raises(ConfigError) as caught:
        KafkaSettings(**values)
    assert words in str(caught.value)


def test_kafka_settings_refuse_secrets_in_files_and_bad_values(tmp_path) -> None:
    path = tmp_path / "stormwatch.toml"
    path.write_text('[kafka]\nsasl_plain_password = "oops"\n')
    with pytest.raises(ConfigError, match="environment"):
        load_kafka_settings(path, env={})
    with pytest.raises(ConfigError, match="STORMWATCH_KAFKA_PARTITIONS"):
        load_kafka_settings(env={"STORMWATCH_KAFKA_PARTITIONS": "many"})
    with pytest.raises(ConfigError, match="bootstrap"):
        load_kafka_settings(env={}).client_options()


def test_a_surge_like_a_dismissed_one_keeps_its_bar_across_a_restart() -> None:
    """Recognised once, a surge keeps the bar of the dismissed surge it resembles while
    it lasts. A restored pipeline must hold the same bar: recomputed from the surge as
    it has drifted by then, the bar fell to 0 and the look-alike paged."""
    from stormwatch.detectors.feedback import FeedbackMemory, SurgeSignature

    source = _fed_pipeline()
    memory = FeedbackMemory()
    memory.record(
        SurgeSignature.of("acme", thread_level=False, topics=["price"], terms=["patch"]),
        "false_alarm",
        14.0,
    )
    source.decisions.feedback_memory = memory
    window = source.windows.brands["acme"]
    minute = int(source.windows.max_event_time // 60)
    # What the surge looks like now is nothing like the dismissed one: no bar of its own.
    assert not source.decisions._dismissed(window, minute, _assessment(15.0, True))
    source.decisions._dismissed_bars["acme"] = (21.0, minute - 5)  # recognised earlier
    assert source.decisions._dismissed(window, minute, _assessment(15.0, True))

    saved = checkpoint.decode(
        3, _latest(checkpoint.encode(3, seq=1, next_offset=0, state=checkpoint.snapshot(source)))
    )
    assert saved is not None
    target = Pipeline(Settings())
    checkpoint.restore(target, saved.state)
    target.decisions.feedback_memory = memory  # verdicts are re-read at start-up
    window = target.windows.brands["acme"]
    assert target.decisions._dismissed(window, minute, _assessment(15.0, True))
    assert not target.decisions._dismissed(window, minute, _assessment(22.0, True))
    # A checkpoint from before the bars were saved restores with none held.
    del saved.state["dismissed_bars"]
    older = Pipeline(Settings())
    checkpoint.restore(older, saved.state)
    assert older.decisions._dismissed_bars == {}


def test_the_open_incident_gauge_counts_restored_incidents_until_let_go() -> None:
    """A resumed run, a restarted service or a worker taking over a partition has the
    restored open incidents open: the gauge showed none of them (no `opened` event in
    this process), and a worker giving a partition up kept counting them."""
    from prometheus_client import CollectorRegistry

    from stormwatch.metrics import MetricsObserver, StormwatchMetrics

    def explain(*_: object) -> tuple[str, dict, list, None]:
        return "s", {}, [], None

    source = Pipeline(Settings())
    source.tracker.explain = explain
    opened = source.tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1000, evidence=lambda: (0.0, {}),
        a=_assessment(20.0, True),
    )  # fmt: skip
    assert opened is not None
    saved = checkpoint.decode(
        3, _latest(checkpoint.encode(3, seq=1, next_offset=0, state=checkpoint.snapshot(source)))
    )
    assert saved is not None
    registry = CollectorRegistry()
    target = Pipeline(Settings(), observer=MetricsObserver(StormwatchMetrics(registry)))

    def gauge() -> float | None:
        return registry.get_sample_value(
            "stormwatch_incidents_open", {"brand": "acme", "severity": opened.severity}
        )

    checkpoint.restore(target, saved.state)
    assert gauge() == 1.0
    checkpoint.hold(target)  # the same partition back: counted once
    assert gauge() == 1.0
    checkpoint.let_go(target)
    assert gauge() == 0.0


def _erratic_stream(seed: int) -> list[bytes]:
    """Records with gaps of seconds to days, some far ahead, some behind, a few copies,
    over platforms (a fuzzer's stream that found the difference below)."""
    import random

    rng = random.Random(seed)
    n = rng.randint(1, 400)
    t = 1_700_000_000.0
    platforms = [None, "fb", "yt", "rss"][: rng.randint(1, 4)]
    records = []
    for i in range(n):
        x = rng.random()
        if rng.random() < 0.1:
            t += rng.choice([0, 1, 5, 30, 120, 600, 3600, 4 * 3600, 86400])
        else:
            t += rng.expovariate(1 / 10)
        ts = t
        if x < 0.05:
            ts = t + rng.choice([300, 3600, 5 * 3600, 86400, 7 * 86400])
        elif x < 0.10:
            ts = t - rng.choice([30, 200, 3600, 4 * 3600, 86400])
        record = {
            "id": str(rng.randint(0, n)) if rng.random() < 0.1 else f"u{i}",
            "text": rng.choice(["great", "terrible awful scam", "ok"]),
            "created_at": round(ts, rng.choice([0, 3])),
            "brand": rng.choice(["a", "b"]),
            "thread_id": rng.choice([None, "t1", "t2", "t3", "t4"]),
        }
        platform = rng.choice(platforms)
        if platform:
            record["platform"] = platform
        records.append(orjson.dumps(record))
    return records


def test_a_restored_pipeline_closes_its_minutes_as_the_uninterrupted_one() -> None:
    """Where the next minute closes was not in the checkpoint: the first record after a
    restore ran one closing step more than an uninterrupted run, the far-ahead tolerance
    learned an extra gap, and a record that ran in its own minute came late (seed 60,
    restored at record 73: one more late)."""
    records = _erratic_stream(60)

    def late_ids(cut: int) -> list[str]:
        late: list[str] = []

        class Watch:
            def comment(self, c, *, duplicate, late: bool) -> None:  # type: ignore[no-untyped-def]
                if late and not duplicate:
                    late_seen.append(c.id)

            def dead_letter(self, letter) -> None:  # type: ignore[no-untyped-def]
                pass

            def minute_closed(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

            def alert(self, event) -> None:  # type: ignore[no-untyped-def]
                pass

            def keys(self, **counts) -> None:  # type: ignore[no-untyped-def]
                pass

        late_seen = late
        pipeline = Pipeline(observer=Watch())  # type: ignore[arg-type]
        pipeline.clock = None
        for n, record in enumerate(records):
            if n == cut:
                state = pickle.loads(pickle.dumps(checkpoint.snapshot(pipeline)))
                pipeline = Pipeline(observer=Watch())  # type: ignore[arg-type]
                pipeline.clock = None
                checkpoint.restore(pipeline, state)
            pipeline.feed(record)
        pipeline.finish()
        return late

    whole = late_ids(-1)
    assert whole and late_ids(73) == whole


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        ("not-json", "manifest is not JSON"),
        ("list", "manifest is not an object"),
        ("no-sha256", "manifest has no sha256"),
        ("not-zlib", "cannot be read"),
        ("other-version", "cannot be read by this stormwatch: AttributeError"),
        ("offset-text", "its next_offset is not a count"),
    ],
)
def test_a_damaged_checkpoint_is_one_clear_error(damage: str, says: str) -> None:
    """A manifest that is not JSON, lacks its checksum, or chunks that are not zlib ended
    the worker in a traceback (JSONDecodeError, KeyError, zlib.error), not one line."""
    import hashlib

    records = checkpoint.encode(
        0, seq=1, next_offset=9, state=checkpoint.snapshot(_fed_pipeline(20)), chunk_bytes=1000
    )
    latest = _latest(records)
    manifest = orjson.loads(latest[b"0"][0])
    headers = latest[b"0"][1]
    if damage == "not-json":
        latest[b"0"] = (b"\x00garbage", headers)
    elif damage == "list":
        latest[b"0"] = (b"[1, 2]", headers)
    elif damage == "no-sha256":
        del manifest["sha256"]
        latest[b"0"] = (orjson.dumps(manifest), headers)
    elif damage == "offset-text":
        manifest["next_offset"] = "ten"
        latest[b"0"] = (orjson.dumps(manifest), headers)
    elif damage == "other-version":  # a class this stormwatch does not have
        blob = zlib.compress(pickle.dumps(checkpoint.snapshot(_fed_pipeline(5))).replace(
            b"BrandState", b"BrandStatX"))  # fmt: skip
        chunk = f"0/{manifest['slot']}/0".encode()
        latest[chunk] = (blob, latest[chunk][1])
        manifest.update(chunks=1, sha256=hashlib.sha256(blob).hexdigest())
        latest[b"0"] = (orjson.dumps(manifest), headers)
    else:
        blob = b"not zlib at all"
        chunk = f"0/{manifest['slot']}/0".encode()
        latest[chunk] = (blob, latest[chunk][1])
        manifest.update(chunks=1, sha256=hashlib.sha256(blob).hexdigest())
        latest[b"0"] = (orjson.dumps(manifest), headers)
    with pytest.raises(checkpoint.CheckpointError, match=says):
        checkpoint.decode(0, latest)


def test_a_restore_runs_on_this_processs_settings() -> None:
    """Raising `min_accounts`, `lateness_seconds` or the false-alarm budget and
    restarting the workers changed nothing: every restored partition brought back its
    judge and windows with the settings they were built with."""
    source = _fed_pipeline()
    state = pickle.loads(pickle.dumps(checkpoint.snapshot(source)))
    settings = Settings(
        min_accounts=9, lateness_seconds=300, false_alarms_per_month=0.5,
        thread_idle_seconds=7200,
    )  # fmt: skip
    target = Pipeline(settings)
    checkpoint.restore(target, state)
    assert target.judge.min_accounts == 9
    assert target.judge.table.budget == 0.5
    assert target.windows.lateness == 300 and target.windows.idle_eviction == 7200
    assert target.decisions.judge is target.judge
    again = pickle.loads(pickle.dumps(checkpoint.snapshot(target)))
    assert again["judge"].min_accounts == 9 and again["windows"].lateness == 300
