"""An observer that reads a brand's last ten minutes (the metrics observer) is shown a
resting brand only when that window changes: its figures are what an observer of every
brand's every minute would read (but for late comments, which leave its window with the
minute they were counted at), the alerts are the same, and far fewer brand-minutes are
looked at."""

from __future__ import annotations

import random

import orjson
from prometheus_client import CollectorRegistry

from stormwatch.alerts.event import AlertEvent
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.metrics import MetricsObserver, StormwatchMetrics
from stormwatch.pipeline import Pipeline

FIGURES = ("n_10", "neg_10", "neg_share_10", "expected_volume_per_min")


class _Figures:
    """Records each brand-minute it is shown; `window_minutes` as the metrics' own."""

    def __init__(self, window_minutes: int | None) -> None:
        if window_minutes is not None:
            self.window_minutes = window_minutes
        self.seen: dict[str, dict[int, tuple[float, ...]]] = {}
        self.done: list[int] = []

    def comment(self, c, *, duplicate: bool, late: bool) -> None:  # type: ignore[no-untyped-def]
        pass

    def dead_letter(self, letter) -> None:  # type: ignore[no-untyped-def]
        pass

    def minute_closed(self, brand: str, minute: int, x: dict[str, float], a) -> None:  # type: ignore[no-untyped-def]
        self.seen.setdefault(brand, {})[minute] = tuple(x[k] for k in FIGURES)

    def minute_done(self, minute: int) -> None:
        self.done.append(minute)

    def alert(self, event: AlertEvent) -> None:
        pass

    def keys(self, *, brands: int, threads: int, evicted: int) -> None:
        pass


class _Events:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, event: AlertEvent) -> None:
        d = event.to_json_dict()
        d.pop("emitted_at", None)
        self.events.append(d)

    def close(self) -> None:
        pass


def _stream() -> list[bytes]:
    rng = random.Random(5)
    sizes = [40, 150, 600, 2500, 8000] + [int(40 * 10 ** rng.uniform(0, 2)) for _ in range(25)]
    spec = ScenarioSpec(
        "observed",
        brands=tuple(BrandSpec(f"b{i}", size, lang="en") for i, size in enumerate(sizes)),
        events=(
            EventSpec("firestorm", "b2", start=5 * 3600, duration_s=2 * 3600),
            EventSpec("viral_positive", "b3", start=4 * 3600, duration_s=2 * 3600),
        ),
        duration_s=10 * 3600,
        seed=21,
    )
    return [orjson.dumps(c) for c in generate(spec).comments]


def _run(lines: list[bytes], observer: _Figures | None) -> tuple[list[dict], Pipeline]:
    sink = _Events()
    pipeline = Pipeline(sinks=[sink], observer=observer)  # type: ignore[arg-type]
    pipeline.feed_lines(lines)
    pipeline.finish()
    return sink.events, pipeline


def test_a_windowed_observer_reads_what_every_minute_shows_and_changes_no_alert() -> None:
    lines = _stream()
    every, windowed = _Figures(None), _Figures(10)
    alone, _ = _run(lines, None)
    events_every, pipeline = _run(lines, every)
    events_windowed, _ = _run(lines, windowed)
    assert events_every == events_windowed == alone
    assert any(e["event"] == "opened" and e["brand"] == "b2" for e in alone)
    minutes = pipeline.stats.minutes_closed
    assert len(windowed.done) == len(every.done) == minutes  # once per close, in order
    assert windowed.done == sorted(windowed.done)

    shown_every = sum(len(v) for v in every.seen.values())
    shown_windowed = sum(len(v) for v in windowed.seen.values())
    last_close = every.done[-1]
    for seen in every.seen.values():  # every brand, every minute from its first on
        assert sorted(seen) == list(range(min(seen), last_close + 1))
    assert shown_windowed < 0.6 * shown_every  # small brands rest, and are not shown

    # What a gauge holds at each minute (the brand's last figures shown) is what the
    # observer of every minute read then: comments, negatives and share of the last ten
    # minutes, and the expected volume while the brand spoke within the last 70 minutes
    # (the metrics drop its series after an idle hour and an emptied window).
    for brand, every_minute in every.seen.items():
        shown = windowed.seen.get(brand, {})
        last: tuple[float, ...] | None = None
        spoke = -1_000
        for minute in sorted(every_minute):
            last = shown.get(minute, last)
            truth = every_minute[minute]
            if truth[0] and truth[0] != every_minute.get(minute - 1, (0,))[0]:
                spoke = minute
            if last is None:
                assert truth[:3] == (0, 0, 0.0), (brand, minute)
                continue
            assert last[:3] == truth[:3], (brand, minute)
            if minute - spoke <= 60:
                assert last[3] == truth[3], (brand, minute)


def _comments(brand: str, minutes: range, day: str = "2026-03-02") -> list[bytes]:
    """A comment a minute from a different account, every fifth negative."""
    out = []
    for m in minutes:
        text = "This is a scam, never again" if m % 5 == 0 else "Nice one, thanks"
        out.append(
            orjson.dumps(
                {
                    "id": f"{brand}-{m}",
                    "brand": brand,
                    "text": text,
                    "created_at": f"{day}T{m // 60:02d}:{m % 60:02d}:10Z",
                    "author_id": f"{brand}-u{m}",
                    "thread_id": f"{brand}-post",
                    "platform": "facebook",
                    "lang": "en",
                }
            )
        )
    return out


def _rate(registry: CollectorRegistry, brand: str) -> float | None:
    return registry.get_sample_value("stormwatch_brand_comments_per_second", {"brand": brand})


def test_a_brand_that_stops_loses_its_series_an_idle_hour_later() -> None:
    """acme speaks for two hours and stops; kiez goes on. acme is not shown while it
    rests, but once more an hour after its window emptied, and its series go then."""
    registry = CollectorRegistry()
    pipeline = Pipeline(observer=MetricsObserver(StormwatchMetrics(registry)))
    acme = _comments("acme", range(0, 120))
    kiez = _comments("kiez", range(0, 300))
    lines = sorted(acme + kiez, key=lambda line: orjson.loads(line)["created_at"])
    cut = {orjson.loads(line)["created_at"]: i for i, line in enumerate(lines)}
    at = cut["2026-03-02T02:50:10Z"]  # acme's last comment was at 01:59
    pipeline.feed_lines(lines[:at])
    assert _rate(registry, "acme") == 0.0  # its window emptied, its series still there
    pipeline.feed_lines(lines[at:])
    pipeline.finish()
    assert _rate(registry, "acme") is None
    assert _rate(registry, "kiez") is not None
    closed = registry.get_sample_value("stormwatch_windows_closed_total")
    assert closed == pipeline.stats.minutes_closed  # each close once


def test_partitions_sharing_an_observer_keep_each_others_series() -> None:
    """Kafka workers share one observer between their partitions' pipelines, whose
    clocks differ by hours: a partition far ahead drops no series of one behind."""
    registry = CollectorRegistry()
    observer = MetricsObserver(StormwatchMetrics(registry))
    ahead, behind = Pipeline(observer=observer), Pipeline(observer=observer)
    early = _comments("kiez", range(0, 600))
    late = _comments("acme", range(0, 600), day="2026-03-03")
    for i in range(0, 600, 20):
        behind.feed_lines(early[i : i + 20])
        ahead.feed_lines(late[i : i + 20])
        if i >= 60:
            assert _rate(registry, "kiez") is not None, i
            assert _rate(registry, "acme") is not None, i
