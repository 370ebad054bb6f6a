"""The whole pipeline on generated scenarios: every input record is accounted for, alerts
follow the contract, and - over ten seeds, never one chosen seed - each crisis of the
demo opens one incident before its breakout and no benign look-alike opens any.

The contract tests run on the demo as `stormwatch run` shows it (seed 7, three days).
The statistical tests run the demo's seven events on seeds 1-10, each event in its own
stream with eight hours of its brand's normal traffic before it (the brand's history
in the demo is longer, so these are at least as hard) and an hour after it, which keeps
ten seeds to about a minute on two cores.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from stormwatch.alerts.sinks import JsonlAlertSink, MemoryAlertSink
from stormwatch.detectors.judge import KEY_MIN_RATIO
from stormwatch.evaluation.demo import demo_scenario, demo_spec
from stormwatch.evaluation.scenario import ScenarioSpec, generate
from stormwatch.ingest.dead_letters import JsonlDeadLetters
from stormwatch.pipeline import Pipeline
from tests.seeded_runs import RunResult, replay, run_specs, spread

SEEDS = range(1, 11)
HISTORY_S = 8 * 3600.0
TAIL_S = 3600.0


def demo_events(seed: int) -> list[ScenarioSpec]:
    """The demo's events, each in a stream of its own brand (same names, same seed)."""
    spec = demo_spec(seed)
    brands = {b.name: b for b in spec.brands}
    out = []
    for ev in spec.events:
        begin = max(0.0, ev.start - HISTORY_S)
        end = min(spec.duration_s, ev.start + ev.duration_s + TAIL_S)
        out.append(
            ScenarioSpec(
                f"demo-{ev.name}",
                start=spec.start + begin,
                duration_s=end - begin,
                brands=(brands[ev.brand],),
                events=(replace(ev, start=ev.start - begin),),
                seed=seed,
            )
        )
    return out


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


@pytest.fixture(scope="module")
def seeded() -> list[RunResult]:
    return run_specs([s for seed in SEEDS for s in demo_events(seed)])


@pytest.fixture(scope="module")
def seeded_without_threads() -> list[RunResult]:
    return run_specs([s for seed in SEEDS for s in demo_events(seed)], threads=False)


def test_every_record_is_accounted_for(demo, demo_run) -> None:  # type: ignore[no-untyped-def]
    pipeline, _, out = demo_run
    stats = pipeline.stats
    assert stats.read == len(demo.comments) + 3
    assert stats.read == stats.processed + stats.dead_lettered
    assert stats.dead_lettered == 3
    bad = [orjson.loads(line) for line in (out / "bad.jsonl").read_bytes().splitlines()]
    assert [b["reason"] for b in bad] == ["invalid_json", "missing_field", "invalid_encoding"]
    assert bad[0]["line"] == "{oops" and bad[2]["line_base64"] == "//4="


def _by_event(runs: list[RunResult]) -> dict[str, list[tuple[int, int, float | None]]]:
    """Event name (without brand) -> [(seed, incidents, lead seconds)] over the seeds."""
    out: dict[str, list[tuple[int, int, float | None]]] = {}
    for run in runs:
        for lab in run.labels:
            out.setdefault(lab.name, []).append((run.seed, lab.incidents, lab.lead_seconds))
    return out


def _check_seeded(runs: list[RunResult], *, lead_bar_s: float | None) -> None:
    """Checks every event over the seeds and reports all of them, not the first miss."""
    must = {lab.name: lab.must_alert for r in runs for lab in r.labels}
    per_event = _by_event(runs)
    report = {
        name: f"caught {sum(n > 0 for _, n, _ in rows)}/{len(rows)}, incidents "
        f"{[n for _, n, _ in rows]}, lead min/median/max in minutes "
        f"{spread([lead for _, n, lead in rows if n], 60.0)}"
        for name, rows in per_event.items()
    }
    problems = [f"incidents no label explains: {(r.seed, k)}" for r in runs for k in r.unexplained]
    for name, rows in per_event.items():
        if not must[name]:
            if any(n for _, n, _ in rows):
                problems.append(f"{name} (benign) opened incidents")
            continue
        caught = [n for _, n, _ in rows if n > 0]
        if len(caught) < 0.9 * len(rows):
            problems.append(f"{name} caught in fewer than 9 of 10 seeds")
        if caught and statistics.mean(caught) > 1.2:
            problems.append(f"{name}: more than 1.2 incidents per caught crisis")
        if lead_bar_s is not None:
            leads = [lead for _, n, lead in rows if n > 0 and lead is not None]
            if sum(lead > 0 for lead in leads) < 0.9 * len(rows):
                problems.append(f"{name} caught before its breakout in fewer than 9 of 10")
            if leads and statistics.median(leads) < lead_bar_s:
                problems.append(f"{name}: median lead under {lead_bar_s / 60:.0f} minutes")
    table = "\n".join(f"  {name}: {line}" for name, line in report.items())
    assert not problems, "\n".join(problems) + "\nover seeds 1-10:\n" + table


@pytest.mark.slow
def test_each_crisis_is_caught_once_and_early_and_benign_surges_never(seeded) -> None:  # type: ignore[no-untyped-def]
    """Over seeds 1-10: every crisis caught in at least 9 of 10 seeds, before its
    breakout in at least 9, with a median lead of 10 minutes (the issue's bar); at most
    1.2 incidents per caught crisis; no incident on a launch, a viral post, a bot burst
    or an angry customer in any seed, and none that no label explains."""
    _check_seeded(seeded, lead_bar_s=10 * 60)


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
            # an alert needs the key's rate up now (KEY_MIN_RATIO x its normal)
            assert e["drivers"]["ratio_to_key_baseline"] >= KEY_MIN_RATIO
            assert e["drivers"]["top_terms"]
        else:
            assert e["incident"] in opened  # nothing before its opening
    # every incident ends resolved or is still open at the end of the stream
    resolved = {e["incident"] for e in events if e["event"] == "resolved"}
    still_open = {i.key for i in pipeline.tracker.open.values()}
    assert set(opened) == resolved | still_open


def test_replaying_the_same_input_gives_the_same_incidents() -> None:
    scenario = generate(demo_events(7)[3])  # the palm-oil firestorm
    first = replay(scenario.comments)
    again = Pipeline()
    lines = [orjson.dumps(c) for c in scenario.comments]
    redelivered = 0
    # As after a consumer crash: every chunk is delivered, then its tail once more.
    for start in range(0, len(lines), 1000):
        chunk = lines[start : start + 1000]
        again.feed_lines(chunk)
        again.feed_lines(chunk[-200:])
        redelivered += len(chunk[-200:])
    again.finish()
    assert first.tracker.history
    assert [i.key for i in again.tracker.history] == [i.key for i in first.tracker.history]
    assert again.stats.duplicates == redelivered


def test_a_run_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Two processes with different hash seeds open the same incidents with the same
    events: nothing the judgement depends on iterates in hash order. (A storm spread
    over 29 threads once opened 2 to 7 incidents depending on the process.)"""
    spec = next(s for s in demo_events(6) if s.name == "demo-valuemart-wages")
    comments = tmp_path / "comments.jsonl"
    comments.write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in generate(spec).comments))
    runs = []
    for hash_seed in ("1", "2"):
        alerts = tmp_path / f"alerts-{hash_seed}.jsonl"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        env.pop("STORMWATCH_CONFIG", None)
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from stormwatch.cli import main; main()",
                "run",
                str(comments),
                "--alerts-jsonl",
                str(alerts),
                "-q",
            ],
            env=env,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        events = [orjson.loads(line) for line in alerts.read_bytes().splitlines()]
        runs.append([(e["incident"], e["event"], e["at"], e["drivers"]) for e in events])
    assert runs[0], "the storm opened no incident"
    assert runs[0] == runs[1]
    assert len({incident for incident, event, _, _ in runs[0] if event == "opened"}) == 1


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


@pytest.mark.slow
def test_streams_without_threads_are_judged_per_brand(seeded_without_threads) -> None:  # type: ignore[no-untyped-def]
    """Platforms without posts or conversations (mentions) still get every crisis, once,
    brand-wide, and no benign surge: the same bars over seeds 1-10, lead aside."""
    _check_seeded(seeded_without_threads, lead_bar_s=None)
