"""People's verdicts feed back into detection: a recurring surge that was marked a false
alarm no longer pages; a confirmed one keeps paging."""

from __future__ import annotations

import orjson
import pytest

from stormwatch.detectors.feedback import FeedbackMemory, SurgeSignature
from stormwatch.evaluation.scenario import (
    DEFAULT_START,
    BrandSpec,
    EventSpec,
    ScenarioSpec,
    generate,
)
from stormwatch.ingest.decode import parse_event_time
from stormwatch.pipeline import Pipeline

DAY = 86400.0


def release_days(second_peak: float = 20.0):  # type: ignore[no-untyped-def]
    """A brand whose players rage about prices every release day, two days running."""
    brand = BrandSpec("gamerly", 6000, lang="en", threads_per_day=12)
    rage = dict(
        kind="firestorm",
        brand="gamerly",
        duration_s=3 * 3600,
        peak_rate_per_min=20,
        start_rate_per_min=0.5,
        doubling_time_s=600,
        topics=("prices", "boycott"),
    )
    spec = ScenarioSpec(
        "recurring",
        duration_s=2 * DAY,
        brands=(brand,),
        events=(
            EventSpec(start=14 * 3600, name="release-1", **rage),  # type: ignore[arg-type]
            EventSpec(
                start=DAY + 14 * 3600,
                name="release-2",
                **{**rage, "peak_rate_per_min": second_peak},  # type: ignore[arg-type]
            ),
        ),
        seed=5,
    )
    return generate(spec)


@pytest.fixture(scope="module")
def recurring():  # type: ignore[no-untyped-def]
    return release_days()


def replay(scenario, verdict: str | None) -> Pipeline:  # type: ignore[no-untyped-def]
    """Day one, then (optionally) a person's verdict on its incident, then day two."""
    pipeline = Pipeline()
    split = DEFAULT_START + DAY
    day_two = []
    for c in scenario.comments:
        if parse_event_time(c["created_at"]) < split:
            pipeline.feed(orjson.dumps(c))
        else:
            day_two.append(c)
    first = list(pipeline.tracker.history)
    assert len(first) == 1, [i.key for i in first]
    if verdict is not None:
        assert pipeline.feedback(first[0].key, verdict)
    for c in day_two:
        pipeline.feed(orjson.dumps(c))
    pipeline.finish()
    return pipeline


def test_without_feedback_both_surges_page(recurring) -> None:  # type: ignore[no-untyped-def]
    assert len(replay(recurring, None).tracker.history) == 2


def test_false_alarm_stops_the_recurrence_from_paging(recurring) -> None:  # type: ignore[no-untyped-def]
    pipeline = replay(recurring, "false_alarm")
    assert len(pipeline.tracker.history) == 1
    reasons = {s.reason for s in pipeline.suppressed}
    assert "dismissed_before" in reasons


def test_confirmed_keeps_its_sensitivity(recurring) -> None:  # type: ignore[no-untyped-def]
    assert len(replay(recurring, "confirmed").tracker.history) == 2


def test_a_much_bigger_recurrence_still_pages() -> None:
    pipeline = replay(release_days(second_peak=120.0), "false_alarm")
    assert len(pipeline.tracker.history) == 2


def test_unknown_incident_is_reported() -> None:
    assert Pipeline().feedback("nope/*/2026-01-01T00:00Z", "false_alarm") is False


def test_a_different_kind_of_surge_is_not_penalised() -> None:
    memory = FeedbackMemory()
    dismissed = SurgeSignature.of("b", thread_level=True, topics=["price"], terms=["patch day"])
    memory.record(dismissed, "false_alarm", 30.0)
    assert memory.ratio_bar(dismissed) == pytest.approx(36.0)
    other = SurgeSignature.of("b", thread_level=True, topics=["safety"], terms=["recall", "burn"])
    assert memory.ratio_bar(other) == 0.0
    elsewhere = SurgeSignature.of("c", thread_level=True, topics=["price"], terms=["patch day"])
    assert memory.ratio_bar(elsewhere) == 0.0
    brand_wide = SurgeSignature.of("b", thread_level=False, topics=["price"], terms=["patch day"])
    assert memory.ratio_bar(brand_wide) == 0.0
    with pytest.raises(ValueError):
        memory.record(dismissed, "maybe", 1.0)


def test_verdict_through_the_store_and_the_cli(recurring, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Run day one with a store, mark its incident a false alarm with `stormwatch feedback`,
    then a run over both days pages on neither."""
    from typer.testing import CliRunner

    from stormwatch.cli import app

    split = DEFAULT_START + DAY
    day_one = tmp_path / "day1.jsonl"
    both = tmp_path / "both.jsonl"
    lines = [(parse_event_time(c["created_at"]), orjson.dumps(c)) for c in recurring.comments]
    day_one.write_bytes(b"".join(line + b"\n" for t, line in lines if t < split))
    both.write_bytes(b"".join(line + b"\n" for _, line in lines))
    db = str(tmp_path / "incidents.sqlite3")
    runner = CliRunner()

    first = runner.invoke(
        app, ["run", str(day_one), "--db", db, "--alerts-jsonl", str(tmp_path / "a1.jsonl"), "-q"]
    )
    assert first.exit_code == 0, first.output
    opened = [
        e["incident"]
        for e in map(orjson.loads, (tmp_path / "a1.jsonl").read_bytes().splitlines())
        if e["event"] == "opened"
    ]
    assert len(opened) == 1
    verdict = runner.invoke(app, ["feedback", opened[0], "--false-alarm", "--db", db])
    assert verdict.exit_code == 0, verdict.output

    second = runner.invoke(
        app, ["run", str(both), "--db", db, "--alerts-jsonl", str(tmp_path / "a2.jsonl"), "-q"]
    )
    assert second.exit_code == 0, second.output
    events = [orjson.loads(x) for x in (tmp_path / "a2.jsonl").read_bytes().splitlines()]
    assert not [e for e in events if e["event"] == "opened"]
