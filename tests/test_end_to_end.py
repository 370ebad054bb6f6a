"""The whole pipeline on a seeded scenario: each crisis opens exactly one incident, no
benign surge opens any, and every input record is accounted for."""

from __future__ import annotations

import statistics
from pathlib import Path

import orjson
import pytest

from stormwatch.alerts.sinks import JsonlAlertSink, MemoryAlertSink
from stormwatch.evaluation.demo import demo_scenario
from stormwatch.evaluation.label_matching import match_labels
from stormwatch.ingest.dead_letters import JsonlDeadLetters
from stormwatch.pipeline import Pipeline


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return demo_scenario(seed=7)


@pytest.fixture(scope="module")
def demo_run(demo, tmp_path_factory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("run")
    memory = MemoryAlertSink()
    pipeline = Pipeline(
        sinks=[memory, JsonlAlertSink(out / "alerts.jsonl")],
        dead_letters=JsonlDeadLetters(out / "bad.jsonl"),
    )
    lines = [orjson.dumps(c) for c in demo.comments]
    broken = [b"{oops", b'{"id": "x1", "text": "no time", "brand": "b"}', b"\xff\xfe"]
    pipeline.feed_lines(lines[:1000] + broken + lines[1000:], "demo")
    pipeline.finish()
    return pipeline, memory, out


def test_every_record_is_accounted_for(demo, demo_run) -> None:  # type: ignore[no-untyped-def]
    pipeline, _, out = demo_run
    stats = pipeline.stats
    assert stats.read == len(demo.comments) + 3
    assert stats.read == stats.processed + stats.dead_lettered
    assert stats.dead_lettered == 3
    bad = [orjson.loads(line) for line in (out / "bad.jsonl").read_bytes().splitlines()]
    assert [b["reason"] for b in bad] == ["invalid_json", "missing_field", "invalid_encoding"]
    assert bad[0]["line"] == "{oops" and bad[2]["line_base64"] == "//4="


def test_each_crisis_opens_exactly_one_incident_and_benign_surges_none(demo, demo_run) -> None:  # type: ignore[no-untyped-def]
    pipeline, _, _ = demo_run
    outcomes, unexplained = match_labels(pipeline.tracker.history, demo.labels)
    for o in outcomes:
        if o.label.must_alert:
            assert len(o.incidents) == 1, (o.label.name, [i.key for i in o.incidents])
        else:
            assert not o.incidents, (o.label.name, [i.key for i in o.incidents])
    assert not unexplained, [i.key for i in unexplained]


def test_crises_are_caught_before_breakout(demo, demo_run) -> None:  # type: ignore[no-untyped-def]
    pipeline, _, _ = demo_run
    outcomes, _ = match_labels(
        pipeline.tracker.history, demo.labels, lateness=pipeline.settings.lateness_seconds
    )
    leads = [o.lead_seconds for o in outcomes if o.label.must_alert and o.label.breakout]
    assert leads and all(lead is not None and lead > 0 for lead in leads), leads
    assert statistics.median(leads) >= 10 * 60, leads  # the bar: 10 minutes early


def test_alert_events_follow_the_contract(demo_run) -> None:  # type: ignore[no-untyped-def]
    pipeline, memory, out = demo_run
    events = [orjson.loads(line) for line in (out / "alerts.jsonl").read_bytes().splitlines()]
    assert len(events) == len(memory.events) > 0
    required = {
        "incident",
        "event",
        "brand",
        "thread_id",
        "severity",
        "score",
        "at",
        "emitted_at",
        "summary",
        "drivers",
        "samples",
        "playbook",
    }
    opened = {}
    for e in events:
        assert required <= e.keys()
        assert e["event"] in {"opened", "escalated", "updated", "resolved"}
        assert e["severity"] in {"low", "medium", "high", "critical"}
        assert e["at"].endswith("Z") and e["summary"]
        if e["event"] == "opened":
            assert e["incident"] not in opened  # opened once
            opened[e["incident"]] = e
            assert e["samples"] and e["drivers"]["top_accounts"]
            assert e["drivers"]["ratio_to_key_baseline"] >= 3
            assert e["drivers"]["top_terms"]
        else:
            assert e["incident"] in opened  # nothing before its opening
    # every incident ends resolved or is still open at the end of the stream
    resolved = {e["incident"] for e in events if e["event"] == "resolved"}
    still_open = {i.key for i in pipeline.tracker.open.values()}
    assert set(opened) == resolved | still_open


def test_replaying_the_same_input_gives_the_same_incidents(demo, demo_run) -> None:  # type: ignore[no-untyped-def]
    first, _, _ = demo_run
    again = Pipeline()
    lines = [orjson.dumps(c) for c in demo.comments]
    redelivered = 0
    # As after a consumer crash: every chunk is delivered, then its tail once more.
    for start in range(0, len(lines), 1000):
        chunk = lines[start : start + 1000]
        again.feed_lines(chunk)
        again.feed_lines(chunk[-200:])
        redelivered += len(chunk[-200:])
    again.finish()
    assert [i.key for i in again.tracker.history] == [i.key for i in first.tracker.history]
    assert again.stats.duplicates == redelivered


def test_cli_run_on_a_file(tmp_path: Path, demo) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from stormwatch.cli import app

    comments = tmp_path / "comments.jsonl"
    comments.write_bytes(
        b"".join(orjson.dumps(c) + b"\n" for c in demo.comments[:30000]) + b"nope\n"
    )
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(comments),
            "--alerts-jsonl",
            str(tmp_path / "a.jsonl"),
            "--dead-letter",
            str(tmp_path / "d.jsonl"),
            "--db",
            str(tmp_path / "i.sqlite3"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "read=30001 processed=30000 dead_lettered=1" in result.output
    assert (tmp_path / "d.jsonl").read_bytes().count(b"\n") == 1


def test_streams_without_threads_are_judged_per_brand(demo) -> None:  # type: ignore[no-untyped-def]
    """Platforms without posts or conversations (mentions) still get every crisis, once,
    brand-wide, and no benign surge."""
    pipeline = Pipeline()
    for c in demo.comments:
        mention = {k: v for k, v in c.items() if k not in ("thread_id", "parent_id")}
        pipeline.feed(orjson.dumps(mention))
    pipeline.finish()
    assert all(i.thread_id is None for i in pipeline.tracker.history)
    outcomes, unexplained = match_labels(pipeline.tracker.history, demo.labels)
    assert not unexplained
    for o in outcomes:
        assert len(o.incidents) == (1 if o.label.must_alert else 0), o.label.name
