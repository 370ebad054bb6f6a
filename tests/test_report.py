"""`stormwatch report` without the comments file: the chart is drawn from the per-minute
curves the alerts carry, with hours of context before the opening and the brand's usual
rate as it was when the incident opened. Asserts on the data the chart is drawn from."""

from __future__ import annotations

import statistics
from pathlib import Path

import orjson
import pytest

from stormwatch.alerts.sinks import JsonlAlertSink
from stormwatch.evaluation.report import ReportData, render_report, report_data
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.pipeline import Pipeline
from tests.seeded_runs import replay

H = 3600.0
STORM = ScenarioSpec(
    "report",
    duration_s=14 * H,
    brands=(BrandSpec("acme", 8000, lang="en", negative_share=0.07),),
    events=(
        EventSpec(
            "firestorm", "acme", 9 * H, 3 * H, name="fire", start_rate_per_min=1.0,
            peak_rate_per_min=30.0, doubling_time_s=600.0, negative_share=0.8,
        ),
    ),
    seed=5,
)  # fmt: skip


@pytest.fixture(scope="module", params=["brand-wide", "thread"])
def alerts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Alert events of one generated storm, run with threads or as a platform without."""
    path = tmp_path_factory.mktemp("report") / f"{request.param}.jsonl"
    replay(
        generate(STORM).comments,
        pipeline=Pipeline(sinks=[JsonlAlertSink(path)]),
        threads=request.param == "thread",
    )
    return path


def _events(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_context_before_the_opening_minute_by_minute(alerts: Path, tmp_path: Path) -> None:
    data = report_data(alerts)
    assert len(data.spans) == 1
    opened = data.spans[0].opened
    before = [t for t in data.times if t < opened]
    assert len(before) >= 170  # three hours of the alert curves, not one point per alert
    assert {b - a for a, b in zip(data.times, data.times[1:], strict=False)} == {60.0}
    covered = [v for t, v in zip(data.times, data.negative, strict=True) if t < opened]
    assert all(v is not None for v in covered)
    assert len(data.times) > 300  # the whole incident, minute by minute
    assert "3 h before" in data.source
    assert render_report(alerts, tmp_path / "r.png").stat().st_size > 30_000


def test_usual_rate_is_the_brands_before_the_storm(alerts: Path) -> None:
    data = report_data(alerts)
    span = data.spans[0]
    events = _events(alerts)
    opening = events[0]["drivers"]
    assert span.usual_negative_per_min == opening["negative_per_min_brand_baseline"]
    peak = max(v for v in data.negative if v is not None)
    at_peak = data.usual_negative[data.negative.index(peak)]
    assert at_peak == span.usual_negative_per_min
    # The storm stands out from the usual line by at least the ratio its alerts reported.
    ratio = max(e["drivers"]["peak_ratio_to_baseline"] for e in events)
    assert ratio >= 10
    assert peak / at_peak >= 0.9 * ratio
    if span.where == "brand-wide":
        # The usual line is what the brand's negatives were before the storm, not the
        # storm's level: compare with its own quiet hours.
        quiet = [
            v
            for t, v in zip(data.times, data.negative, strict=True)
            if t < span.opened - 1800 and v is not None
        ]
        assert 0.5 <= span.usual_negative_per_min / statistics.mean(quiet) <= 2.0
        assert span.usual_volume_per_min in data.usual_volume
    else:
        # A thread's volume is not drawn against the whole brand's usual volume.
        assert all(v is None for v in data.usual_volume)


def test_alerts_without_curves_say_what_they_cannot_show(alerts: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.jsonl"
    lines = []
    for e in _events(alerts):
        e["drivers"].pop("negative_per_min_curve")
        e["drivers"].pop("volume_per_min_curve")
        lines.append(orjson.dumps(e))
    old.write_bytes(b"\n".join(lines) + b"\n")
    data: ReportData = report_data(old)
    assert data.sparse
    assert len(data.times) == len(lines)
    assert "no per-minute curves" in data.source


def test_a_baseline_the_storm_moved_is_not_the_usual(alerts: Path, tmp_path: Path) -> None:
    """Later events carry a baseline ten times higher (a storm learned as normal): the
    usual line stays at what was normal when the incident opened."""
    moved = tmp_path / "moved.jsonl"
    events = _events(alerts)
    for e in events[1:]:
        e["drivers"]["negative_per_min_brand_baseline"] *= 10
        e["drivers"]["volume_per_min_baseline"] *= 10
    moved.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    data = report_data(moved)
    opening = events[0]["drivers"]
    assert {u for u in data.usual_negative if u is not None} == {
        opening["negative_per_min_brand_baseline"]
    }


def test_with_the_comments_file_the_brands_volume_has_its_usual(
    alerts: Path, tmp_path: Path
) -> None:
    """With the comments file every series is the whole brand's, so its usual volume is a
    fair yardstick even under a thread incident."""
    from stormwatch.evaluation.scenario import write_jsonl

    comments = tmp_path / "comments.jsonl"
    write_jsonl(generate(STORM), comments)
    data = report_data(alerts, comments_path=comments)
    span = data.spans[0]
    assert span.usual_volume_per_min in data.usual_volume
    assert span.usual_negative_per_min in data.usual_negative


def test_a_reopened_incident_stays_open_and_odd_names_draw(alerts: Path, tmp_path: Path) -> None:
    """An incident an `escalated` event reopened after `resolved` was drawn as closed at
    its resolution; a brand like "Ca$$h Store" (TeX to matplotlib) stopped the report
    in a traceback; `-o report` without a suffix printed a path that was not written."""
    events = [{**e, "brand": "Ca$$h Store"} for e in _events(alerts)]
    assert [e["event"] for e in events][-1] == "resolved"
    resolved_at = events[-1]["at"]
    last = _epoch_of(resolved_at) + 2 * H
    reopened = {**events[-1], "event": "escalated", "severity": "high", "at": _iso(last)}
    path = tmp_path / "reopened.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in [*events, reopened]))
    data = report_data(path)
    [span] = data.spans
    assert span.closed >= last > _epoch_of(resolved_at)
    out = render_report(path, tmp_path / "report")
    assert out == tmp_path / "report" and out.read_bytes().startswith(b"\x89PNG")


def test_alert_lines_outside_the_contract_are_one_error(alerts: Path, tmp_path: Path) -> None:
    from stormwatch.evaluation.report import ReportError

    good = _events(alerts)[0]
    for bad in ({"at": 1772442060}, {"drivers": [1, 2]}, {"severity": "extreme"},
                {"event": "closed"}):  # fmt: skip
        path = tmp_path / "bad.jsonl"
        path.write_bytes(orjson.dumps({**good, **bad}) + b"\n")
        with pytest.raises(ReportError, match=r"bad.jsonl:1: not an alert event"):
            report_data(path)


def test_a_last_line_cut_by_a_crash_or_a_byte_order_mark_still_make_a_report(
    alerts: Path, tmp_path: Path
) -> None:
    """A run killed while writing leaves its last alert line cut short (the README says
    so), and Windows tools save with a byte order mark: the whole file was refused."""
    from stormwatch.evaluation.report import ReportError

    whole = report_data(alerts)
    data = alerts.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"\xef\xbb\xbf" + data + data.splitlines()[-1][:-40])
    assert len(report_data(cut).events) == len(whole.events)
    # A bad line that ends with its newline is no cut: still an error.
    cut.write_bytes(data + data.splitlines()[-1][:-40] + b"\n")
    with pytest.raises(ReportError, match="not an alert event"):
        report_data(cut)


def _epoch_of(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
