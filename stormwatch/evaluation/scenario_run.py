"""One labelled stream through the production pipeline, recorded for scoring and charts.

`TrafficRecorder` watches the run as a `PipelineObserver`; `ScenarioRun` is what came out:
the incidents matched to the labels and the per-minute traffic the charts draw.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from stormwatch.alerts.decisions import SuppressedSurge
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.incidents import Incident
from stormwatch.config import Settings
from stormwatch.detectors.crisis import Assessment
from stormwatch.detectors.enrich import Enricher
from stormwatch.evaluation.label_matching import LabelOutcome, match_labels
from stormwatch.evaluation.scenario import EventLabel
from stormwatch.model import Comment, DeadLetter
from stormwatch.pipeline import Pipeline, RunStats
from stormwatch.ports import AlertSink, PipelineObserver
from stormwatch.runtime import negativity_scorer

__all__ = ["ScenarioRun", "TrafficRecorder", "replay", "run_scenario"]


@dataclass(slots=True)
class TrafficRecorder:
    """A `PipelineObserver` that keeps per-minute volume and negatives per brand (and per
    labelled thread) and the alert events, for the report's charts."""

    negative_threshold: float
    threads: frozenset[tuple[str, str]] = frozenset()
    volume: dict[str, dict[int, list[int]]] = field(default_factory=dict)
    thread_volume: dict[tuple[str, str], dict[int, list[int]]] = field(default_factory=dict)
    alerts: list[AlertEvent] = field(default_factory=list)
    brand_minutes: dict[str, list[tuple[int, float, float, float, str | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def comment(self, c: Comment, *, duplicate: bool, late: bool) -> None:
        if duplicate:
            return
        minute = int(c.created_at // 60)
        negative = int((c.negativity or 0.0) >= self.negative_threshold)
        per_brand = self.volume.setdefault(c.brand, {})
        slot = per_brand.get(minute)
        if slot is None:
            per_brand[minute] = [1, negative]
        else:
            slot[0] += 1
            slot[1] += negative
        if c.thread_id is not None and (c.brand, c.thread_id) in self.threads:
            per_thread = self.thread_volume.setdefault((c.brand, c.thread_id), {})
            tslot = per_thread.setdefault(minute, [0, 0])
            tslot[0] += 1
            tslot[1] += negative

    def dead_letter(self, letter: DeadLetter) -> None:
        pass

    def minute_closed(self, brand: str, minute: int, x: dict[str, float], a: Assessment) -> None:
        self.brand_minutes[brand].append((minute, a.score, a.ratio, a.volume, a.benign))

    def alert(self, event: AlertEvent) -> None:
        self.alerts.append(event)

    def keys(self, *, brands: int, threads: int, evicted: int) -> None:
        pass


@dataclass(slots=True)
class ScenarioRun:
    """One stream through the pipeline, with what is needed to judge and draw it."""

    name: str
    labels: list[EventLabel]
    incidents: list[Incident]
    outcomes: list[LabelOutcome]
    unexplained: list[Incident]
    suppressed: list[SuppressedSurge]
    recorder: TrafficRecorder
    comments: int
    seconds: float
    brand_days: float


def replay(
    lines: Iterable[bytes],
    settings: Settings,
    observer: PipelineObserver | None = None,
    source: str = "",
    sinks: Sequence[AlertSink] = (),
) -> tuple[Pipeline, RunStats, float]:
    """Feed `lines` through a fresh pipeline wired as `stormwatch run` wires it: the
    pipeline, its stats and the seconds it took. Without an observer the judge stays
    lazy, as in `run`."""
    # The negativity backends the settings name, as `run` wires them (a bare
    # `Enricher()` takes the default backends whatever the settings say).
    enricher = Enricher(negativity_scorer(settings))
    pipeline = Pipeline(settings, enricher=enricher, observer=observer, sinks=sinks)
    started = time.perf_counter()
    pipeline.feed_lines(lines, source)
    stats = pipeline.finish()
    return pipeline, stats, time.perf_counter() - started


def run_scenario(comments_path: Path, labels: list[EventLabel], settings: Settings) -> ScenarioRun:
    """Feed one JSONL stream through a fresh pipeline and match its incidents to labels."""
    threads = frozenset((lab.brand, lab.thread_id) for lab in labels if lab.thread_id)
    recorder = TrafficRecorder(settings.negative_threshold, threads)
    with comments_path.open("rb") as fh:
        pipeline, stats, seconds = replay(fh, settings, recorder, comments_path.name)
    incidents = list(pipeline.tracker.history)
    outcomes, unexplained = match_labels(incidents, labels, lateness=settings.lateness_seconds)
    brand_days = sum((max(v) - min(v) + 1) / 1440.0 for v in recorder.volume.values() if v)
    return ScenarioRun(
        name=comments_path.stem,
        labels=labels,
        incidents=incidents,
        outcomes=outcomes,
        unexplained=unexplained,
        suppressed=list(pipeline.decisions.suppressed),
        recorder=recorder,
        comments=stats.processed,
        seconds=seconds,
        brand_days=brand_days,
    )
