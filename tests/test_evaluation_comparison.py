"""`stormwatch evaluate compare`: two runs of the same seeds, event by event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stormwatch.cli import app
from stormwatch.evaluation.comparison import ComparisonError, compare


def _event(event: str, *, lead: float | None, incidents: int = 1, must: bool = True,
           seed: int = 7, band: str = "500-5,000") -> dict[str, Any]:  # fmt: skip
    return {"seed": seed, "scenario": "family-7-0", "event": event, "kind": "firestorm",
            "band": band, "must_alert": must, "caught": incidents > 0, "lead_minutes": lead,
            "incidents": incidents}  # fmt: skip


def _suite(events: list[dict[str, Any]], *, false_alarms: int, from_500: float) -> dict:
    """What `evaluate suite --evaluate --json` prints, as far as the comparison reads."""
    return {
        "per_event": events,
        "pooled_by_band": {"<500": {"false_alarms": 0}, ">5,000": {"false_alarms": false_alarms}},
        "pooled_from_500": {"lead_minutes": {"median": from_500}},
    }


BEFORE = _suite(
    [
        _event("b01-fast-storm", lead=2.0),
        _event("b02-slow-storm", lead=10.0),
        _event("b03-campaign", lead=None, incidents=0),
        _event("b04-swell", lead=30.0),
        _event("b05-product", lead=None, incidents=0, must=False),
        _event("b06-bot", lead=None, incidents=1, must=False),
        _event("b07-spreading", lead=5.0),
    ],
    false_alarms=1,
    from_500=5.0,
)
AFTER = _suite(
    [
        _event("b01-fast-storm", lead=6.5),  # earlier
        _event("b02-slow-storm", lead=8.0),  # later
        _event("b03-campaign", lead=-3.0),  # newly caught
        _event("b04-swell", lead=None, incidents=0),  # newly missed
        _event("b05-product", lead=None, incidents=2, must=False),  # a launch opened
        _event("b06-bot", lead=None, incidents=0, must=False),  # a bot burst quiet now
        _event("b07-spreading", lead=5.0, incidents=2),  # the same lead, two incidents
    ],
    false_alarms=3,
    from_500=6.5,
)


def test_a_suite_comparison_counts_what_moved() -> None:
    result = compare(BEFORE, AFTER)
    assert result["kind"] == "suite" and result["events"] == 7
    assert [r["event"] for r in result["changed"]] == [
        "b01-fast-storm", "b02-slow-storm", "b03-campaign", "b04-swell", "b05-product",
        "b06-bot", "b07-spreading",
    ]  # fmt: skip
    counts = {k: result[k] for k in ("earlier", "later", "newly_caught", "newly_missed",
                                       "benign_opened", "benign_quiet")}  # fmt: skip
    assert counts == {"earlier": 1, "later": 1, "newly_caught": 1, "newly_missed": 1,
                      "benign_opened": 1, "benign_quiet": 1}  # fmt: skip
    leads = {r["event"]: r["lead_change_minutes"] for r in result["changed"]}
    assert leads["b01-fast-storm"] == 4.5 and leads["b02-slow-storm"] == -2.0
    assert leads["b07-spreading"] == 0.0 and leads["b03-campaign"] is None
    assert result["false_alarms"] == [1, 3]
    assert result["lead_median_from_500"] == [5.0, 6.5]
    assert compare(BEFORE, BEFORE)["changed"] == []


def _real_volume(storm_lead: float | None, launch_incidents: int, *, seed: int = 52) -> dict:
    """What `evaluate real-volume --json` prints, as far as the comparison reads."""
    return {
        "seed": seed,
        "lead_median_from_500": -4.1,
        "per_brand": [
            {
                "brand": "UPS",
                "per_day": 1571.4,
                "storms": [
                    {
                        "name": "UPS-storm1",
                        "caught": storm_lead is not None,
                        "lead_minutes": storm_lead,
                        "incidents": int(storm_lead is not None),
                    }
                ],  # fmt: skip
                "campaigns": [
                    {"name": "UPS-campaign2", "caught": True, "lead_minutes": 1.0, "incidents": 1}
                ],  # fmt: skip
                "benign": [
                    {"name": "UPS-launch3", "kind": "product_launch", "incidents": launch_incidents}
                ],  # fmt: skip
                "false_alarms": [{"key": "UPS/*/x"}] * launch_incidents,
            }
        ],
    }


def test_a_real_volume_comparison_reads_storms_campaigns_and_look_alikes() -> None:
    result = compare(_real_volume(-17.9, 0), _real_volume(-13.0, 1))
    assert result["kind"] == "real-volume" and result["events"] == 3
    launch, storm = result["changed"]  # in the order of their names
    assert (storm["event"], storm["band"], storm["lead_change_minutes"]) == (
        "UPS-storm1", "500-5,000", 4.9,
    )  # fmt: skip
    assert launch["event"] == "UPS-launch3" and not launch["must_alert"]
    assert result["earlier"] == 1 and result["benign_opened"] == 1
    assert result["false_alarms"] == [0, 1]
    missed = compare(_real_volume(-17.9, 0), _real_volume(None, 0))
    assert missed["newly_missed"] == 1 and missed["earlier"] == missed["later"] == 0


def test_runs_of_different_kinds_or_seeds_are_not_compared() -> None:
    with pytest.raises(ComparisonError, match="suite run against a real-volume"):
        compare(BEFORE, _real_volume(1.0, 0))
    with pytest.raises(ComparisonError, match="not the same seeds"):
        compare(_real_volume(1.0, 0), _real_volume(1.0, 0, seed=53))
    with pytest.raises(ComparisonError, match="per_event"):
        compare({"pooled_by_band": {}}, BEFORE)  # a suite run from before per_event rows


def test_the_command_prints_the_changes_and_fails_in_one_line(tmp_path: Path) -> None:
    before, after = tmp_path / "before.json", tmp_path / "after.json"
    # A run's whole stdout reads as well as its JSON line alone.
    before.write_text("progress\n" + json.dumps(BEFORE) + "\n")
    after.write_text(json.dumps(AFTER))
    runner = CliRunner()
    result = runner.invoke(app, ["evaluate", "compare", str(before), str(after), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["newly_missed"] == 1 and figures["benign_opened"] == 1
    shown = runner.invoke(app, ["evaluate", "compare", str(before), str(after)])
    assert "b04-swell" in shown.stdout and "missed" in shown.stdout
    assert "crises earlier 1, later 1, newly caught 1, newly missed 1" in shown.stdout
    for bad, said in (
        (tmp_path / "missing.json", "cannot read"),
        (tmp_path / "empty.json", "is empty"),
        (tmp_path / "text.json", "is not JSON"),
    ):
        if said != "cannot read":
            bad.write_text("" if said == "is empty" else "not json\n")
        failed = runner.invoke(app, ["evaluate", "compare", str(bad), str(after)])
        assert failed.exit_code == 2
        assert said in failed.output and "Traceback" not in failed.output
        assert len(failed.output.strip().splitlines()) == 1
