"""Per-brand metric series are removed when a brand goes idle and capped in number
(issue 11), read back from a fresh registry."""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import CollectorRegistry

import stormwatch.metrics as metrics_module
from stormwatch.metrics import MetricsObserver, StormwatchMetrics

RATE = "stormwatch_brand_comments_per_second"


def features(n_10: float) -> dict[str, float]:
    return {
        "n_10": n_10,
        "expected_volume_per_min": 1.0,
        "neg_10": 0.0,
        "expected_neg_per_min": 0.1,
        "neg_share_10": 0.0,
        "base_neg_share": 0.1,
    }


ASSESSMENT = SimpleNamespace(score=0.1, ratio=1.0)


def brands_with_series(registry: CollectorRegistry) -> set[str]:
    return {
        s.labels["brand"]
        for metric in registry.collect()
        if metric.name == RATE
        for s in metric.samples
    }


def test_an_idle_brand_loses_its_series_and_gets_them_back() -> None:
    registry = CollectorRegistry()
    observer = MetricsObserver(StormwatchMetrics(registry))
    observer.minute_closed("acme", 0, features(30), ASSESSMENT)  # type: ignore[arg-type]
    observer.minute_closed("beta", 0, features(5), ASSESSMENT)  # type: ignore[arg-type]
    assert registry.get_sample_value(RATE, {"brand": "acme"}) == 30 / 600
    for minute in range(1, 62):
        observer.minute_closed("acme", minute, features(0), ASSESSMENT)  # type: ignore[arg-type]
        observer.minute_closed("beta", minute, features(5), ASSESSMENT)  # type: ignore[arg-type]
    assert registry.get_sample_value(RATE, {"brand": "acme"}) is None
    assert brands_with_series(registry) == {"beta"}
    observer.minute_closed("acme", 62, features(3), ASSESSMENT)  # type: ignore[arg-type]
    assert registry.get_sample_value(RATE, {"brand": "acme"}) == 3 / 600


def test_series_are_capped_quietest_brand_first(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(metrics_module, "MAX_BRAND_SERIES", 50)
    registry = CollectorRegistry()
    observer = MetricsObserver(StormwatchMetrics(registry))
    for minute in range(3):
        for b in range(120):
            observer.minute_closed(f"b{b}", minute, features(1), ASSESSMENT)  # type: ignore[arg-type]
    held = brands_with_series(registry)
    assert len(held) == 50 and held == {f"b{b}" for b in range(70, 120)}
