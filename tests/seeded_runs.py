"""Running generated scenarios through the pipeline over many seeds, for tests that
assert statistical behaviour (never one chosen seed).

Each run is reduced to a small picklable `RunResult` (per label: incidents, lead,
whether its alerts said "campaign"), so runs can go to a process pool on two cores.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

from stormwatch.alerts.sinks import MemoryAlertSink
from stormwatch.evaluation.label_matching import match_labels
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, Scenario, ScenarioSpec, generate
from stormwatch.pipeline import Pipeline

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class LabelResult:
    name: str
    kind: str
    must_alert: bool
    incidents: int
    lead_seconds: float | None  # breakout minus the moment a live run would alert
    campaign: bool  # an event of its incidents said "campaign" in its drivers


@dataclass(frozen=True, slots=True)
class RunResult:
    seed: int
    scenario: str
    comments: int
    labels: tuple[LabelResult, ...]
    unexplained: tuple[str, ...]  # incidents no label explains
    cpu_seconds: float

    def label(self, name: str) -> LabelResult:
        return next(lab for lab in self.labels if lab.name == name)


def strip_threads(comment: dict[str, Any]) -> dict[str, Any]:
    """The comment as a platform without posts or conversations delivers it."""
    return {k: v for k, v in comment.items() if k not in ("thread_id", "parent_id")}


def replay(
    comments: Iterable[dict[str, Any]],
    *,
    pipeline: Pipeline | None = None,
    threads: bool = True,
    finish: bool = True,
) -> Pipeline:
    pipeline = pipeline or Pipeline(sinks=[MemoryAlertSink()])
    feed = pipeline.feed
    for c in comments:
        feed(orjson.dumps(c if threads else strip_threads(c)))
    if finish:
        pipeline.finish()
    return pipeline


def result_of(pipeline: Pipeline, scenario: Scenario, cpu_seconds: float = 0.0) -> RunResult:
    outcomes, unexplained = match_labels(
        pipeline.tracker.history, scenario.labels, lateness=pipeline.settings.lateness_seconds
    )
    memory = next((s for s in pipeline.sinks if isinstance(s, MemoryAlertSink)), None)
    campaign: dict[str, bool] = {}
    for e in memory.events if memory is not None else ():
        campaign[e.incident] = campaign.get(e.incident, False) or bool(e.drivers.get("campaign"))
    labels = tuple(
        LabelResult(
            o.label.name,
            o.label.kind,
            o.label.must_alert,
            len(o.incidents),
            o.lead_seconds,
            any(campaign.get(i.key, False) for i in o.incidents),
        )
        for o in outcomes
    )
    return RunResult(
        scenario.spec.seed,
        scenario.spec.name,
        len(scenario.comments),
        labels,
        tuple(i.key for i in unexplained),
        cpu_seconds,
    )


def one_brand_stream(
    name: str, brand: BrandSpec, event: EventSpec, *, hours: float, seed: int
) -> ScenarioSpec:
    """A battery's draw: one brand with one event, `hours` long."""
    return ScenarioSpec(
        name, duration_s=hours * 3600.0, brands=(brand,), events=(event,), seed=seed
    )


def run_spec(spec: ScenarioSpec, threads: bool = True) -> RunResult:
    """Generate one scenario, replay it, score it against its labels."""
    started = time.process_time()
    scenario = generate(spec)
    pipeline = replay(scenario.comments, threads=threads)
    return result_of(pipeline, scenario, time.process_time() - started)


def run_specs(specs: Sequence[ScenarioSpec], *, threads: bool = True) -> list[RunResult]:
    return in_parallel(_run_spec_with, [(s, threads) for s in specs])


def _run_spec_with(item: tuple[ScenarioSpec, bool]) -> RunResult:
    return run_spec(*item)


def in_parallel(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`fn` over `items` on up to two processes (CI has two cores), in order."""
    workers = min(2, os.cpu_count() or 1, len(items))
    if workers <= 1:
        return [fn(x) for x in items]
    _warm_up()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(fn, items))


def _warm_up() -> None:
    """Load in this process what every run loads on first use, so that the forked
    workers inherit it instead of each paying for it: the negativity model and word
    caches (`Pipeline()`), and the text features explanations import (about 2 s of CPU
    per worker on this machine, for each pool of each test file)."""
    from stormwatch.detectors.explain import stop_words

    Pipeline()
    stop_words()


def spread(values: Sequence[float | None], scale: float = 1.0) -> str:
    """min / median / max, for assertion messages."""
    present = sorted(v / scale for v in values if v is not None)
    if not present:
        return "none"
    return f"{present[0]:.1f} / {statistics.median(present):.1f} / {present[-1]:.1f}"


def background_comments(
    brand: str, per_day: float, hours: float, *, lang: str = "en", seed: int = 1
) -> list[dict[str, Any]]:
    """A brand's everyday comments from the scenario generator, with numeric event
    times, for a test to add its own storm, burst or campaign to."""
    from stormwatch.ingest.decode import parse_event_time

    spec = ScenarioSpec(
        "background", duration_s=hours * 3600, brands=(BrandSpec(brand, per_day, lang=lang),),
        seed=seed,
    )  # fmt: skip
    comments = list(generate(spec).comments)
    for c in comments:
        c["created_at"] = parse_event_time(c["created_at"])
    return comments


def crowd_on_a_post(
    texts: Sequence[str],
    brand: str,
    *,
    per_day: float,
    lang: str,
    seed: int,
    n: int = 900,
    every_s: float = 3.0,
) -> tuple[list[dict[str, Any]], float]:
    """A day of a brand's everyday comments and, from hour 20, a crowd of `n` comments
    on one post (`texts` in turn, one account each, `every_s` apart): a match day, a
    halftime show, a storm. Returns the stream in time order and the crowd's start."""
    comments = background_comments(brand, per_day, 30, lang=lang, seed=seed)
    start = comments[0]["created_at"] + 20 * 3600
    crowd = [
        {"id": f"crowd{i}", "brand": brand, "thread_id": f"{brand}-post", "lang": lang,
         "text": texts[i % len(texts)], "created_at": start + i * every_s,
         "author_id": f"fan{i}"}
        for i in range(n)
    ]  # fmt: skip
    return sorted(comments + crowd, key=lambda c: c["created_at"]), start


def opened_after(comments: Iterable[dict[str, Any]], start: float) -> list[Any]:
    """The `opened` alert events of a replay of `comments` decided at `start` or later."""
    memory = MemoryAlertSink()
    pipeline = Pipeline(sinks=[memory])
    for c in comments:
        pipeline.feed(orjson.dumps(c))
    pipeline.finish()
    return [e for e in memory.events if e.event == "opened" and e.at >= start]
