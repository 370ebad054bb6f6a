"""`stormwatch evaluate scenarios` end to end on a small generated suite."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from stormwatch.evaluation.scenario import (
    BrandSpec,
    EventSpec,
    ScenarioSpec,
    generate,
    write_brands,
    write_jsonl,
)
from stormwatch.evaluation.scenario_scoring import evaluate_scenarios_dir
from stormwatch.evaluation.suite import build_suite

_H = 3600.0


def _small_suite(directory: Path) -> None:
    storm = ScenarioSpec(
        name="storm",
        duration_s=30 * _H,
        seed=3,
        brands=(BrandSpec("acme", 3000, threads_per_day=10),),
        events=(
            EventSpec("firestorm", "acme", 24 * _H, 4 * _H, name="acme-storm",
                      peak_rate_per_min=30, start_rate_per_min=0.4, doubling_time_s=480),
        ),
    )  # fmt: skip
    bots = ScenarioSpec(
        name="bots",
        duration_s=30 * _H,
        seed=4,
        brands=(BrandSpec("shop", 2000, threads_per_day=8),),
        events=(
            EventSpec("bot_burst", "shop", 22 * _H, 900, name="shop-bots", n_comments=250,
                      n_accounts=4),
        ),
    )  # fmt: skip
    for spec in (storm, bots):
        write_jsonl(
            generate(spec), directory / f"{spec.name}.jsonl", directory / f"{spec.name}.labels.json"
        )
    write_brands(storm, directory / "storm.brands.json")  # bots: sizes measured instead


def test_small_suite_end_to_end(tmp_path: Path) -> None:
    data, report = tmp_path / "data", tmp_path / "report"
    data.mkdir()
    _small_suite(data)
    (data / "unlabelled.jsonl").write_text("")
    out = io.StringIO()
    figures = evaluate_scenarios_dir(data, console=Console(file=out, width=160), out_dir=report)
    assert figures["scenarios"] == 2
    assert figures["must_alert"] == 1
    for key in ("recall", "lead_minutes_median", "lead_minutes_worst", "false_alarms_per_brand_day",
                "benign_incidents", "bot_bursts_as_firestorm", "seconds"):  # fmt: skip
        assert key in figures
    assert figures["recall"] == 1.0
    assert figures["bot_bursts_as_firestorm"] == 0
    assert figures["brand_days"] > 2
    # Nominal size from the brands file (acme 3,000/day), measured for shop (~2,000/day).
    assert {b["brand"]: b["band"] for b in figures["per_brand"]} == {
        "acme": "500-5,000", "shop": "500-5,000"
    }  # fmt: skip
    acme = next(b for b in figures["per_brand"] if b["brand"] == "acme")
    assert acme["days"] == 30 / 24
    band = figures["by_band"]["500-5,000"]
    assert band["must_alert"] == 1 and band["recall"] == 1.0 and band["brands"] == 2
    assert figures["by_band"]["<500"]["recall"] is None
    assert set(figures["lead_minutes"]) == {"p10", "median", "p90", "worst"}
    assert figures["lead_minutes"]["median"] == figures["lead_minutes_median"]
    assert figures["incidents_per_crisis"] == 1.0
    # The lead the storm allowed (its tenth negative before its breakout) is the lead
    # plus the minutes the alert came after that tenth negative.
    storm = next(e for e in figures["per_event"] if e["event"] == "acme-storm")
    allowed, after = storm["evidence_lead_minutes"], storm["after_evidence_minutes"]
    assert allowed is not None and allowed > 0 and after is not None
    assert abs(allowed - after - storm["lead_minutes"]) <= 0.15
    assert band["evidence_lead_minutes_median"] == allowed
    assert band["after_evidence_minutes_median"] == after
    bots = next(e for e in figures["per_event"] if e["event"] == "shop-bots")
    assert bots["evidence_lead_minutes"] is None and bots["after_evidence_minutes"] is None
    assert "10th negative before breakout" in out.getvalue()
    assert figures["benign_incidents_by_kind"] == {"bot_burst": 0}
    assert figures["campaigns"] == 0
    # A firestorm's alerts do not call it a campaign (its texts are a crowd's).
    assert (figures["others_caught"], figures["others_said_campaign"]) == (1, 0)
    assert 'alerts saying "campaign"' in out.getvalue()
    assert figures["by_kind"]["firestorm"] == {
        "events": 1, "must_alert": True, "with_incidents": 1, "incidents": 1
    }  # fmt: skip
    json.dumps(figures)  # the CLI's --json line
    pngs = sorted(p.name for p in report.glob("*.png"))
    assert pngs == ["bots__shop-bots.png", "storm__acme-storm.png"]
    assert all(p.stat().st_size > 10_000 for p in report.glob("*.png"))
    assert "skipped" in out.getvalue()


def test_suite_is_seeded_and_varied() -> None:
    a, b = build_suite(1), build_suite(2)
    assert [s.name for s in a] == [s.name for s in b]
    assert a == build_suite(1)
    assert a != b
    kinds = {e.kind for s in a for e in s.events}
    assert kinds == {"firestorm", "spreading_firestorm", "viral_positive", "product_launch",
                     "bot_burst", "angry_customer"}  # fmt: skip
    rates = [b.comments_per_day for s in a for b in s.brands]
    assert min(rates) <= 100 and max(rates) >= 50_000
    assert any(b.history_days == 0 for s in a for b in s.brands)
    langs = {e.lang for s in a for e in s.events if e.kind == "firestorm"}
    assert {"en", "de"} <= langs


def test_the_classic_suite_writes_its_brands_nominal_sizes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Without a brands file a brand was banded by its measured size, its own storm's
    comments in it: newco, 2,000 a day, came out at 6,665 and its storm in >5,000."""
    import stormwatch.evaluation.suite as suite

    short = [replace(spec, duration_s=3600.0, events=()) for spec in build_suite(7)]
    monkeypatch.setattr(suite, "build_suite", lambda seed: short)
    written = suite.write_suite(tmp_path, 7)
    assert len(written) == len(short)
    for spec in short:
        rows = [json.loads(line) for line in (tmp_path / f"{spec.name}.brands.json").open()]
        assert {r["name"]: r["comments_per_day"] for r in rows} == {
            b.name: b.comments_per_day for b in spec.brands
        }
