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


def test_at_the_cap_only_a_busier_brand_takes_a_place(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Brands as busy as those with series wait for a place instead of taking the
    place of the one quiet the longest (a brand that speaks once an hour would otherwise
    make and drop series at nearly every comment); one expecting twice that one's
    comments takes it; an idle brand's place goes to the next that speaks."""
    monkeypatch.setattr(metrics_module, "MAX_BRAND_SERIES", 50)
    registry = CollectorRegistry()
    metrics = StormwatchMetrics(registry)
    observer = MetricsObserver(metrics)
    for minute in range(3):
        for b in range(120):
            observer.minute_closed(f"b{b}", minute, features(1), ASSESSMENT)  # type: ignore[arg-type]
    assert brands_with_series(registry) == {f"b{b}" for b in range(50)}
    busy = features(40) | {"expected_volume_per_min": 2.5}
    observer.minute_closed("busy", 3, busy, ASSESSMENT)  # type: ignore[arg-type]
    held = brands_with_series(registry)
    assert len(held) == 50 and "busy" in held and "b0" not in held
    # b1 quiet from now on: an hour later its place goes to the next brand that speaks
    for minute in range(4, 66):
        for b in range(2, 50):
            observer.minute_closed(f"b{b}", minute, features(1), ASSESSMENT)  # type: ignore[arg-type]
        observer.minute_closed("b1", minute, features(0), ASSESSMENT)  # type: ignore[arg-type]
        observer.minute_closed("busy", minute, busy, ASSESSMENT)  # type: ignore[arg-type]
    observer.minute_closed("b99", 66, features(1), ASSESSMENT)  # type: ignore[arg-type]
    held = brands_with_series(registry)
    assert "b1" not in held and "b99" in held and len(held) == 50
    # late comments are counted per brand only where the brand has series
    for brand in ("b99", "b100"):
        observer.comment(
            SimpleNamespace(brand=brand, platform="x", created_at=66 * 60.0),
            duplicate=False,
            late=True,
        )  # type: ignore[arg-type]
    late = {
        s.labels["brand"]
        for m in registry.collect()
        if m.name == "stormwatch_late_comments"
        for s in m.samples
    }
    assert late == {"b99"}


def test_incident_counters_start_at_zero_while_a_brand_has_series() -> None:
    """A counter series born at 1 has no increase() to see: the dashboards missed every
    brand's first incident. Zero while the brand has series; the zeros go with them."""
    from stormwatch.alerts.event import SEVERITIES, AlertEvent

    registry = CollectorRegistry()
    observer = MetricsObserver(StormwatchMetrics(registry))
    opened = "stormwatch_incidents_opened_total"
    observer.minute_closed("acme", 0, features(30), ASSESSMENT)  # type: ignore[arg-type]
    observer.minute_closed("beta", 0, features(30), ASSESSMENT)  # type: ignore[arg-type]
    for brand in ("acme", "beta"):
        for severity in SEVERITIES:
            assert registry.get_sample_value(opened, {"brand": brand, "severity": severity}) == 0
    event = AlertEvent(
        incident="acme/p1/2026-03-02T09:15Z", event="opened", brand="acme", thread_id="p1",
        severity="high", score=12.0, at=60.0, emitted_at=60.0, summary="", drivers={},
    )  # fmt: skip
    observer.alert(event)
    assert registry.get_sample_value(opened, {"brand": "acme", "severity": "high"}) == 1
    for minute in range(1, 62):  # both go idle and lose their series
        observer.minute_closed("acme", minute, features(0), ASSESSMENT)  # type: ignore[arg-type]
        observer.minute_closed("beta", minute, features(0), ASSESSMENT)  # type: ignore[arg-type]
    assert registry.get_sample_value(opened, {"brand": "acme", "severity": "high"}) == 1
    assert registry.get_sample_value(opened, {"brand": "beta", "severity": "high"}) is None


def test_a_partition_let_go_takes_its_brands_series_and_workers_sum_their_keys() -> None:
    """A worker kept exporting, frozen, the brands of a partition it gave up (a second
    line per brand beside the new owner's, a storm that never ended), and its tracked
    brands were whichever partition's pipeline closed a minute last."""
    from stormwatch.kafka import checkpoint
    from stormwatch.kafka.worker import Worker

    registry = CollectorRegistry()
    metrics = StormwatchMetrics(registry)
    observer = MetricsObserver(metrics, key_gauges=False)
    observer.minute_closed("acme", 0, features(30), ASSESSMENT)  # type: ignore[arg-type]
    observer.minute_closed("beta", 0, features(30), ASSESSMENT)  # type: ignore[arg-type]
    observer.keys(brands=1, threads=3, evicted=0)
    assert registry.get_sample_value("stormwatch_tracked_brands") == 0  # the worker's to set
    pipeline = SimpleNamespace(
        observer=observer,
        tracker=SimpleNamespace(open={}),
        windows=SimpleNamespace(brands={"acme": None}, threads={}),
    )
    checkpoint.let_go(pipeline)  # type: ignore[arg-type]
    assert brands_with_series(registry) == {"beta"}

    def task(brands: int, threads: int) -> SimpleNamespace:
        windows = SimpleNamespace(brands=dict.fromkeys(range(brands)), threads=range(threads))
        return SimpleNamespace(pipeline=SimpleNamespace(windows=windows))

    worker = SimpleNamespace(
        source=SimpleNamespace(lag=lambda p: 0), metrics=metrics,
        tasks={0: task(2, 5), 3: task(4, 1)},
    )  # fmt: skip
    Worker._report_lag(worker)  # type: ignore[arg-type]
    assert registry.get_sample_value("stormwatch_tracked_brands") == 6
    assert registry.get_sample_value("stormwatch_tracked_threads") == 6
