"""Alerts between closes: a key whose tests the minutes still open push over their
thresholds opens its incident then (`Pipeline.check_early`), not when the watermark
closes its minute two minutes later; a key that does not fire is judged at its close as
if never looked at."""

from __future__ import annotations

import math
import pickle
import time

import orjson
import pytest

import stormwatch.pipeline as pipeline_module
from stormwatch.alerts.event import AlertEvent
from stormwatch.detectors.judge import Judge
from stormwatch.evaluation.demo import demo_scenario
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.kafka.checkpoint import restore, snapshot
from stormwatch.pipeline import EARLY_SECONDS, Pipeline
from stormwatch.service.live import LivePipeline

H = 3600.0


class StreamClock:
    """Records each opening with the stream's newest event time when it was emitted."""

    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None
        self.opened: list[tuple[AlertEvent, float]] = []
        self.fed = 0  # lines fed so far
        self.fed_at_first = 0  # ... when the first incident opened

    def emit(self, event: AlertEvent) -> None:
        assert self.pipeline is not None
        if event.event == "opened":
            if not self.opened:
                self.fed_at_first = self.fed
            self.opened.append((event, self.pipeline.windows.max_event_time))

    def close(self) -> None:
        pass


def run(lines: list[bytes]) -> tuple[Pipeline, StreamClock]:
    clock = StreamClock()
    pipeline = Pipeline(sinks=[clock])
    clock.pipeline = pipeline
    for n, line in enumerate(lines, 1):
        clock.fed = n
        pipeline.feed(line)
    pipeline.finish()
    return pipeline, clock


@pytest.fixture(scope="module")
def demo_lines() -> list[bytes]:
    # The demo without its viral brand, which opens nothing (the suite's time budget).
    return [orjson.dumps(c) for c in demo_scenario(seed=7).comments if c["brand"] != "starbrew"]


@pytest.fixture(scope="module")
def early_run(demo_lines) -> tuple[Pipeline, StreamClock]:  # type: ignore[no-untyped-def]
    return run(demo_lines)


@pytest.fixture(scope="module")
def tipped(demo_lines) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return tipping_times(demo_lines)


def tipping_times(lines: list[bytes]) -> dict[str, float]:
    """Per brand, the event time of the comment after which an incident first opens
    when the pipeline looks after every comment: the earliest it can decide."""
    pipeline = Pipeline()
    tipped: dict[str, float] = {}
    for line in lines:
        pipeline.feed(line)
        if pipeline.check_early():
            for incident in pipeline.tracker.open.values():
                tipped.setdefault(incident.brand, pipeline.windows.max_event_time)
        for incident in pipeline.tracker.history:
            tipped.setdefault(incident.brand, pipeline.windows.max_event_time)
    return tipped


def test_a_storm_opens_within_a_second_of_the_comment_that_tips_it(early_run, tipped) -> None:  # type: ignore[no-untyped-def]
    pipeline, clock = early_run
    assert clock.opened, "the demo's crises open incidents"
    for incident in pipeline.tracker.history:
        # At the close of its minute the stream would be lateness (120 s) and more on.
        assert incident.opened_at is not None
        assert incident.opened_at - tipped[incident.brand] <= EARLY_SECONDS, incident.key
    # Each incident keeps when it opened: the stream's event time then.
    assert [i.opened_at for i in pipeline.tracker.history] == [t for _, t in clock.opened]
    for event, stream_time in clock.opened:  # and says which comment it saw last
        assert event.at <= stream_time


def test_without_early_looks_the_same_storms_open_later(  # type: ignore[no-untyped-def]
    demo_lines, early_run, tipped, monkeypatch
) -> None:
    early, _ = early_run
    monkeypatch.setattr(pipeline_module, "EARLY_SECONDS", math.inf)
    late, _ = run(demo_lines)
    assert [i.brand for i in early.tracker.history] == [i.brand for i in late.tracker.history]
    for e, c in zip(early.tracker.history, late.tracker.history, strict=True):
        assert e.opened_at is not None and c.opened_at is not None
        assert e.opened_at < c.opened_at, (e.key, c.opened_at - e.opened_at)
        # At a close: the watermark passes a minute lateness after its end.
        assert c.opened_at - tipped[c.brand] > EARLY_SECONDS


def benign_lines(seed: int) -> list[bytes]:
    spec = ScenarioSpec(
        "benign",
        duration_s=30 * H,
        brands=(
            BrandSpec("shop", 600, lang="en", threads_per_day=6),
            BrandSpec("bank", 3000, lang="de", threads_per_day=12),
        ),
        events=(
            EventSpec("product_launch", "shop", 12 * H, 6 * H, name="launch"),
            EventSpec("bot_burst", "bank", 14 * H, 1 * H, name="bots"),
            EventSpec("viral_positive", "bank", 20 * H, 4 * H, name="viral"),
            EventSpec("angry_customer", "shop", 24 * H, 2 * H, name="angry"),
        ),
        seed=seed,
    )
    return [orjson.dumps(c) for c in generate(spec).comments]


def test_looking_early_changes_nothing_where_nothing_fires(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lines = benign_lines(3)
    looks: list[str] = []
    assess = Judge._assess

    def spy(self, monitor, window, *args, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("provisional"):
            looks.append(window.key)
        return assess(self, monitor, window, *args, **kwargs)

    monkeypatch.setattr(Judge, "_assess", spy)
    early, _ = run(lines)
    monkeypatch.undo()
    assert len(set(looks)) >= 2, "keys were looked at on their open minutes"
    looked = early.stats.events
    monkeypatch.setattr(pipeline_module, "EARLY_SECONDS", math.inf)
    late, _ = run(lines)
    assert not early.tracker.history and not late.tracker.history
    assert looked == late.stats.events
    assert early.decisions.suppressed == late.decisions.suppressed
    for brand, state in early.brands.items():
        other = late.brands[brand]
        assert state.monitor.rate.sums == other.monitor.rate.sums
        assert state.monitor.share.sums == other.monitor.share.sums
        assert state.baseline.expected(10**8) == other.baseline.expected(10**8)
    assert {k: m.rate.sums for k, m in early.judge.threads.items()} == {
        k: m.rate.sums for k, m in late.judge.threads.items()
    }


def test_a_checkpoint_keeps_the_keys_waiting_for_an_early_look(demo_lines) -> None:  # type: ignore[no-untyped-def]
    pipeline = Pipeline()
    for line in demo_lines[:5000]:
        pipeline.feed(line)
    waiting = (dict(pipeline.early_brands), dict(pipeline.early_threads), pipeline.early_at)
    restored = Pipeline()
    restore(restored, pickle.loads(pickle.dumps(snapshot(pipeline))))
    assert (restored.early_brands, restored.early_threads, restored.early_at) == waiting
    old = snapshot(pipeline)
    del old["early"]  # a checkpoint from before early looks: nothing waits
    fresh = Pipeline()
    restore(fresh, pickle.loads(pickle.dumps(old)))
    assert not fresh.early_brands and fresh.early_at == -math.inf


def test_a_live_stream_that_pauses_on_its_tipping_comment_alerts_at_once(
    demo_lines, early_run, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """`stormwatch serve` looks when its input pauses: the comment that tips a storm
    may be the last for a while, and no later one comes to pass the next tick."""
    _, clock = early_run
    first = clock.opened[0][0]
    cut = clock.fed_at_first  # the stream up to the first decision, and nothing after
    monkeypatch.setattr(pipeline_module, "EARLY_SECONDS", math.inf)  # no tick looks
    live = LivePipeline(Pipeline(), tick=0.05).start()
    try:
        assert live.offer(demo_lines[:cut], "test")
        deadline = time.monotonic() + 30
        while not live.pipeline.tracker.history and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        live.stop()
    opened = live.pipeline.tracker.history
    assert opened and opened[0].brand == first.brand and opened[0].opened_at is not None
