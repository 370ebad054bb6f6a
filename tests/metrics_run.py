"""A small seeded stream (one brand with a firestorm, one quiet brand) run through a
Pipeline with the metrics observer: shared by the metrics, deploy and Prometheus tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from prometheus_client import CollectorRegistry

from stormwatch.alerts.sinks import JsonlAlertSink, MemoryAlertSink
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, Scenario, ScenarioSpec, generate
from stormwatch.metrics import MetricsObserver, StormwatchMetrics
from stormwatch.pipeline import Pipeline

H = 3600.0
SPEC = ScenarioSpec(
    "metrics",
    duration_s=16 * H,
    brands=(
        BrandSpec("acme", 6000, lang="en", negative_share=0.07),
        BrandSpec("kiez", 800, lang="de", negative_share=0.1, domain="rail"),
    ),
    events=(
        EventSpec(
            "firestorm", "acme", 10 * H, 3 * H, name="fire", start_rate_per_min=1.0,
            peak_rate_per_min=40.0, doubling_time_s=600.0, negative_share=0.8,
        ),
    ),
    seed=3,
)  # fmt: skip
BROKEN = [b"{oops", b'{"id": "x1", "text": "no time", "brand": "acme"}', b"\xff\xfe"]


@dataclass
class MetricsRun:
    scenario: Scenario
    registry: CollectorRegistry
    metrics: StormwatchMetrics
    pipeline: Pipeline
    memory: MemoryAlertSink


def run_scenario(alerts_jsonl: Path | None = None, *, stop_at: int | None = None) -> MetricsRun:
    """Feed the stream (with three broken records and one redelivery) and finish."""
    scenario = generate(SPEC)
    registry = CollectorRegistry()
    metrics = StormwatchMetrics(registry)
    memory = MemoryAlertSink()
    sinks = [memory] + ([JsonlAlertSink(alerts_jsonl)] if alerts_jsonl else [])
    pipeline = Pipeline(sinks=sinks, observer=MetricsObserver(metrics))
    lines = [orjson.dumps(c) for c in scenario.comments[:stop_at]]
    pipeline.feed_lines(lines[:100] + BROKEN + lines[100:] + lines[-1:], "metrics")
    if stop_at is None:
        pipeline.finish()
    return MetricsRun(scenario, registry, metrics, pipeline, memory)


def exported_metric_names(registry: CollectorRegistry) -> set[str]:
    """Metric names as they appear in the exposition (counters with `_total`)."""
    names = set()
    for family in registry.collect():
        suffix = {"counter": "_total", "info": "_info"}.get(family.type, "")
        names.add(family.name + suffix)
    return names
