"""`stormwatch run --db` resumes after a crash: a real process, SIGKILLed in the middle of
a storm after a checkpoint, then run again over the whole file with the same store.

Without a checkpoint the second run would start fresh: warm up again, open the storm a
second time, and count every comment of the first run once more."""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from stormwatch.alerts.store import IncidentStore
from stormwatch.evaluation.scenario import generate
from stormwatch.ingest.decode import parse_event_time
from stormwatch.stored_checkpoint import CHECKPOINT_NAME
from tests.metrics_run import SPEC


def stormwatch_run(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORMWATCH_", "SLACK_"))}
    env["STORMWATCH_CHECKPOINT_SECONDS"] = "0.2"
    return subprocess.Popen(
        [sys.executable, "-m", "stormwatch.cli", "run", *args, "-q"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def checkpoint(db: str) -> tuple[int, dict[str, Any]] | None:
    with IncidentStore.open(db) as store:
        found = store.load_checkpoint(CHECKPOINT_NAME)
    if found is None:
        return None
    return found[0], pickle.loads(zlib.decompress(found[1]))["state"]


def open_keys(state: dict[str, Any]) -> set[str]:
    return {incident.key for incident in state["open"].values()}


def opened(alerts: Path) -> list[str]:
    if not alerts.exists():
        return []
    return [
        e["incident"]
        for e in map(orjson.loads, alerts.read_bytes().splitlines())
        if e["event"] == "opened"
    ]


def resume_over(lines: list[bytes], settings: Any, alerts: Path) -> None:
    """A run resumed from the store's checkpoint over the whole input, to its end."""
    from stormwatch.runtime import build_pipeline
    from stormwatch.stored_checkpoint import StoredCheckpoint

    second = build_pipeline(settings, alerts_jsonl=alerts, env={})
    with IncidentStore.open(settings.database_url) as store:
        assert StoredCheckpoint(store).restore(second)
    for n, line in enumerate(lines, 1):
        second.feed(line, f"storm.jsonl:{n}")
    second.finish()
    for sink in second.sinks:
        sink.close()


def test_a_run_killed_mid_storm_resumes_the_same_incident(tmp_path: Path) -> None:
    comments = tmp_path / "storm.jsonl"
    stream = generate(SPEC).comments
    lines = [orjson.dumps(c) for c in stream]
    times = [parse_event_time(c["created_at"]) for c in stream]
    comments.write_bytes(b"".join(line + b"\n" for line in lines))
    db = f"sqlite:///{tmp_path / 'incidents.sqlite3'}"
    alerts = tmp_path / "alerts.jsonl"  # both runs write here: the second appends

    # the first part of the stream on stdin, up to the storm's first half hour, then a
    # trickle: the run checkpoints as it reads, and is killed while the stream goes on
    first = stormwatch_run("-", "--db", db, "--alerts-jsonl", str(alerts))
    assert first.stdin is not None
    try:
        half_hour_in = SPEC.start + SPEC.events[0].start + 1800
        part = next(n for n, t in enumerate(times) if t >= half_hour_in)
        first.stdin.write(b"".join(line + b"\n" for line in lines[:part]).decode())
        first.stdin.flush()
        deadline = time.monotonic() + 60
        while not opened(alerts):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the storm never opened"
            time.sleep(0.05)
        storm = opened(alerts)[0]
        # a checkpoint written after the storm opened: it holds the incident open
        while (found := checkpoint(db)) is None or storm not in open_keys(found[1]):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "no checkpoint with the storm open"
            first.stdin.write(lines[part].decode() + "\n")
            first.stdin.flush()
            part += 1
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    _, saved = checkpoint(db)  # type: ignore[misc]
    seen_before = saved["stats"].processed
    assert storm in open_keys(saved) and 0 < seen_before < len(lines)  # killed mid-storm

    written_before = alerts.read_bytes()
    second = stormwatch_run(str(comments), "--db", db, "--alerts-jsonl", str(alerts))
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert "resumed from the checkpoint" in err and "Traceback" not in err

    # one storm, one incident: resumed, not opened again under another key or the same
    with IncidentStore.open(db) as store:
        incidents = [i.key for i in store.list_incidents() if i.brand == "acme"]
    assert incidents == [storm]
    assert alerts.read_bytes().startswith(written_before)  # appended, not overwritten
    events = [orjson.loads(e) for e in alerts.read_bytes()[len(written_before) :].splitlines()]
    assert events, "the resumed run went on with the incident"
    assert {e["incident"] for e in events} == {storm}
    assert not [e for e in events if e["event"] == "opened"]
    # nothing counted twice: ids of the checkpoint are duplicates, every other id counted once
    _, final = checkpoint(db)  # type: ignore[misc]
    stats = final["stats"]
    assert stats.duplicates == seen_before
    assert stats.processed - stats.duplicates == len(lines)
    assert stats.read == saved["stats"].read + len(lines)
    assert f"read={stats.read} processed={stats.processed} dead_lettered=0" in out


def test_a_resumed_run_appends_to_the_dead_letter_file(tmp_path: Path) -> None:
    """The counts go on from the checkpoint's, so the dead-letter file must too: after
    the second run it still holds the first run's letters, one line per letter counted."""
    from typer.testing import CliRunner

    from stormwatch.cli import app

    def comment(n: int) -> bytes:
        row = {"id": f"c{n}", "text": "fine", "created_at": 1_700_000_000 + n, "brand": "acme"}
        return orjson.dumps(row) + b"\n"

    first_part = tmp_path / "first.jsonl"
    first_part.write_bytes(comment(1) + b"not json\n" + comment(2) + b"{}\n")
    rest = tmp_path / "rest.jsonl"
    rest.write_bytes(comment(3) + b"[1]\n")
    db = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    dead = tmp_path / "dead.jsonl"
    env = {k: None for k in os.environ if k.startswith(("STORMWATCH_", "SLACK_"))}
    for part in (first_part, rest):
        args = ["run", str(part), "--db", db, "--dead-letter", str(dead), "-q"]
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    assert "read=6 processed=3 dead_lettered=3" in result.output
    letters = [orjson.loads(line) for line in dead.read_bytes().splitlines()]
    assert [letter["reason"] for letter in letters] == [
        "invalid_json",
        "missing_field",
        "not_an_object",
    ]


def test_a_resumed_run_writes_no_alert_event_twice(tmp_path: Path) -> None:
    """Killed after an alert event but before the next checkpoint, the run emits that
    event again when it resumes over the same input: the store recognises it, and the
    appended alerts file must not hold it twice (it did: the file heard every event)."""
    from stormwatch.config import Settings
    from stormwatch.runtime import build_pipeline
    from stormwatch.stored_checkpoint import StoredCheckpoint
    from tests.small_storm import small_storm_lines

    lines = small_storm_lines()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'incidents.sqlite3'}")
    alerts = tmp_path / "alerts.jsonl"

    def events() -> list[tuple[str, str, float]]:
        if not alerts.exists():
            return []
        rows = map(orjson.loads, alerts.read_bytes().splitlines())
        return [(e["incident"], e["event"], e["at"]) for e in rows]

    first = build_pipeline(settings, alerts_jsonl=alerts, env={})
    with IncidentStore.open(settings.database_url) as store:
        saver = StoredCheckpoint(store)
        for n, line in enumerate(lines, 1):
            first.feed(line, f"storm.jsonl:{n}")
            if events():
                break  # killed: its first event is written, the checkpoint is older
            if n % 50 == 0:
                saver.save(first)
    for sink in first.sinks:
        sink.close()
    written = events()
    assert written and written[0][1] == "opened"

    resume_over(lines, settings, alerts)
    after = events()
    assert after[: len(written)] == written
    assert len(after) == len(set(after)) > len(written)  # it went on, nothing twice
    with IncidentStore.open(settings.database_url) as store:
        stored = [
            (e.incident, e.event) for i in store.list_incidents() for e in store.events(i.key)
        ]
    assert sorted(stored) == sorted((key, event) for key, event, _ in after)


def test_an_alert_event_the_file_could_not_take_is_written_when_the_run_resumes(
    tmp_path: Path,
) -> None:
    """The store records an event, then the write to the alerts file fails (a full
    disk) and the run stops. Resumed over the same input, the run emits the event
    again: the store knows it, and the file, which never got it, must get it now (it
    never did: the file heard only what the store recorded for the first time)."""
    import errno

    from stormwatch.alerts.sinks import JsonlAlertSink
    from stormwatch.config import Settings
    from stormwatch.runtime import build_pipeline
    from stormwatch.stored_checkpoint import StoredCheckpoint
    from tests.small_storm import small_storm_lines

    lines = small_storm_lines()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'incidents.sqlite3'}")
    alerts = tmp_path / "alerts.jsonl"

    class FullDisk:
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    first = build_pipeline(settings, alerts_jsonl=alerts, env={})
    (sink,) = [s for s in first.sinks if isinstance(getattr(s, "sink", s), JsonlAlertSink)]
    file = getattr(sink, "sink", sink)
    file._file.close()
    file._file = FullDisk()  # type: ignore[assignment]
    with IncidentStore.open(settings.database_url) as store:
        saver = StoredCheckpoint(store)
        with pytest.raises(OSError, match="No space"):
            for n, line in enumerate(lines, 1):
                first.feed(line, f"storm.jsonl:{n}")
                if n % 50 == 0:
                    saver.save(first)
        recorded = [
            (e.incident, e.event) for i in store.list_incidents() for e in store.events(i.key)
        ]
    assert recorded and alerts.read_bytes() == b""

    resume_over(lines, settings, alerts)
    rows = [orjson.loads(line) for line in alerts.read_bytes().splitlines()]
    assert len({(e["incident"], e["event"], e["at"]) for e in rows}) == len(rows)  # none twice
    written = [(e["incident"], e["event"]) for e in rows]
    assert written[: len(recorded)] == recorded
    with IncidentStore.open(settings.database_url) as store:
        stored = [
            (e.incident, e.event) for i in store.list_incidents() for e in store.events(i.key)
        ]
    assert sorted(written) == sorted(stored)


def test_a_run_resumed_over_the_continued_input_opens_no_incident_twice(tmp_path: Path) -> None:
    """`run PART1 --db` checkpoints before its end closes the minutes in progress, which
    may open an incident; `run PART2 --db` judges those minutes again with their later
    comments and opened the same incident a second time, at another second (the store,
    the alerts file, the console and Slack each had two `opened`)."""
    from stormwatch.config import Settings
    from stormwatch.runtime import build_pipeline
    from stormwatch.stored_checkpoint import StoredCheckpoint
    from tests.demo_storms import storms_spec

    comments = [c for c in generate(storms_spec()).comments if c["brand"] == "nestor"]
    cut = next(
        i for i, c in enumerate(comments) if parse_event_time(c["created_at"]) >= 1772439450
    )  # 2026-03-02T08:17:30Z: the storm's first comments came a minute before
    lines = [orjson.dumps(c) for c in comments]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'incidents.sqlite3'}")
    alerts = tmp_path / "alerts.jsonl"
    first = build_pipeline(settings, alerts_jsonl=alerts, env={})
    for n, line in enumerate(lines[:cut], 1):
        first.feed(line, f"part1.jsonl:{n}")
    with IncidentStore.open(settings.database_url) as store:
        StoredCheckpoint(store).save(first)  # as `run` does, before `finish()`
    first.finish()
    assert opened(alerts), "the end of part 1 opens the storm"
    resume_over(lines[cut:], settings, alerts)
    keys = opened(alerts)
    assert len(keys) == len(set(keys)) >= 1, keys
    with IncidentStore.open(settings.database_url) as store:
        events = [(i.key, e.event) for i in store.list_incidents() for e in store.events(i.key)]
    stored = [key for key, event in events if event == "opened"]
    assert sorted(stored) == sorted(keys)


def test_a_part_that_ends_mid_storm_leaves_its_last_minutes_to_the_next_run(
    tmp_path: Path,
) -> None:
    """`run PART1 --db` judged its last minutes on what had come so far and opened the
    storm at 18:48 (its checkpoint, saved before, never knew); `run PART2 --db` opened it
    at 18:45 with all the comments: two `opened` for one storm, and the first stayed open
    in the store for good (the classic suite's slow-german stream, cut at line 35,760).
    The minutes in progress now stay open in the checkpoint, as a stop leaves them."""
    from stormwatch.config import Settings
    from stormwatch.evaluation.commands import DEFAULT_SEED
    from stormwatch.evaluation.suite import build_suite
    from stormwatch.runtime import build_pipeline
    from stormwatch.stored_checkpoint import StoredCheckpoint

    (spec,) = [s for s in build_suite(DEFAULT_SEED) if s.name == "slow-german"]
    lines = [orjson.dumps(c) for c in generate(spec).comments]
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'incidents.sqlite3'}")
    alerts = tmp_path / "alerts.jsonl"
    first = build_pipeline(settings, alerts_jsonl=alerts, env={})
    first.clock = None
    for n, line in enumerate(lines[:35759], 1):
        first.feed(line, f"part1.jsonl:{n}")
    with IncidentStore.open(settings.database_url) as store:
        StoredCheckpoint(store).save(first)  # as `run` does, before `finish()`
    first.finish(carry_held=True)
    resume_over(lines[35759:], settings, alerts)
    keys = opened(alerts)
    assert sorted(k.split("/")[0] for k in keys) == ["bahnhof", "nordkost"], keys
    with IncidentStore.open(settings.database_url) as store:
        assert [i.key for i in store.list_incidents() if i.status != "resolved"] == []


def test_records_held_far_ahead_at_the_end_of_a_part_are_carried_to_the_next(
    tmp_path: Path,
) -> None:
    """`run PART1 --db` settled at its end the records it held ahead of the stream,
    after its checkpoint: the run over the continued input, which still held them, then
    dead-lettered them a second time (4 hours ahead); walked to and processed before
    the checkpoint instead (1 hour ahead) they moved the stream on, and the next part's
    first hour came late. Carried in the checkpoint, they are settled once, as in one
    run over the whole input."""
    from typer.testing import CliRunner

    from stormwatch.cli import app

    t0 = 1_772_400_000
    env = {k: None for k in os.environ if k.startswith(("STORMWATCH_", "SLACK_"))}

    def comment(n: int, at: float) -> bytes:
        row = {"id": f"c{n}", "text": "fine thanks", "created_at": at, "brand": "acme",
               "thread_id": "p1", "author_id": f"u{n % 50}"}  # fmt: skip
        return orjson.dumps(row) + b"\n"

    end = t0 + 20 * 299
    for hours in (4, 1):
        first = [comment(n, t0 + 20 * n) for n in range(300)]
        first += [comment(10_000 + n, end + hours * 3600 + n) for n in range(2)]
        rest = [comment(300 + n, end + 20 * (n + 1)) for n in range(900)]  # 5 hours on
        work = tmp_path / f"{hours}h"
        work.mkdir()
        (work / "first.jsonl").write_bytes(b"".join(first))
        (work / "rest.jsonl").write_bytes(b"".join(rest))
        (work / "all.jsonl").write_bytes(b"".join(first + rest))
        db, dead = f"sqlite:///{work / 'store.sqlite3'}", work / "dead.jsonl"
        outputs = []
        for part in ("first.jsonl", "rest.jsonl"):
            args = ["run", str(work / part), "--db", db, "--dead-letter", str(dead), "-q"]
            result = CliRunner().invoke(app, args, env=env)
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
        assert "held=2 " in outputs[0], outputs[0]
        whole = CliRunner().invoke(app, ["run", str(work / "all.jsonl"), "-q"], env=env)
        counts = whole.output.split(" incidents=")[0]  # read, processed, dead-lettered
        assert counts in outputs[1], (hours, whole.output, outputs[1])
        letters = dead.read_bytes().splitlines() if dead.exists() else []
        assert len(letters) == int(counts.split("dead_lettered=")[1]), letters  # once each
        with IncidentStore.open(db) as store:
            _, blob = store.load_checkpoint(CHECKPOINT_NAME)
        stats = pickle.loads(zlib.decompress(blob))["state"]["stats"]
        assert stats.late <= 1, (hours, stats)  # the first hour was late in two parts


def test_a_checkpoint_writes_the_dead_letters_it_counts_to_their_file(tmp_path: Path) -> None:
    """`run --db` and `serve` with `--dead-letter FILE`: the letters sat in the file's
    buffer while the checkpoint counted their records as read; a crash lost them, and
    the restart resumed after their records."""
    from stormwatch.ingest.dead_letters import JsonlDeadLetters
    from stormwatch.pipeline import Pipeline
    from stormwatch.stored_checkpoint import StoredCheckpoint

    path = tmp_path / "dead.jsonl"
    pipeline = Pipeline(dead_letters=JsonlDeadLetters(path))
    pipeline.feed(b"{not json")
    pipeline.feed(b'{"id": "1", "text": "hi", "created_at": 1772442000, "brand": "acme"}')
    with IncidentStore.open(tmp_path / "store.sqlite3") as store:
        assert StoredCheckpoint(store).save(pipeline)
    assert len(path.read_bytes().splitlines()) == 1
