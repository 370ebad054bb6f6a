"""Id dedupe over a configurable horizon in bounded memory (issue 11)."""

from __future__ import annotations

import orjson

import stormwatch.pipeline as pipeline_module
from stormwatch.config import Settings, load_settings
from stormwatch.ingest.decode import Decoder
from stormwatch.pipeline import Pipeline

T0 = 1_772_438_400.0
MINUTE = 60.0


def line(i: str, t: float) -> bytes:
    return orjson.dumps(
        {"id": i, "text": "nice", "created_at": t, "brand": "acme", "author_id": f"u{i}"}
    )


def six_hours(pipeline: Pipeline) -> list[bytes]:
    first = [line(f"early-{n}", T0 + n) for n in range(100)]
    for raw in first:
        pipeline.feed(raw)
    for m in range(1, 6 * 60 + 10):  # six hours of other comments: minutes close, evictions
        for k in range(3):
            pipeline.feed(line(f"m{m}-{k}", T0 + m * MINUTE + k))
    return first


def test_ids_redelivered_six_hours_later_are_duplicates() -> None:
    pipeline = Pipeline(decoder=Decoder(clock=lambda: T0 + 86400))
    first = six_hours(pipeline)
    before = pipeline.stats.duplicates
    for raw in first:
        pipeline.feed(raw)
    stats = pipeline.finish()
    assert stats.duplicates - before == 100
    assert stats.read == stats.processed + stats.dead_lettered + stats.held


def test_the_horizon_is_a_setting() -> None:
    assert Settings().dedupe_hours == 168
    assert load_settings(env={"STORMWATCH_DEDUPE_HOURS": "2"}).dedupe_hours == 2
    pipeline = Pipeline(Settings(dedupe_hours=2), decoder=Decoder(clock=lambda: T0 + 86400))
    first = six_hours(pipeline)
    before = pipeline.stats.duplicates
    for raw in first:
        pipeline.feed(raw)
    assert pipeline.stats.duplicates == before  # forgotten after 2 hours


def test_memory_is_capped_oldest_first(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pipeline_module, "DEDUPE_MAX_IDS", 1000)
    pipeline = Pipeline(decoder=Decoder(clock=lambda: T0 + 86400))
    for n in range(5000):
        pipeline.feed(line(f"c{n}", T0 + n * 0.5))
    assert len(pipeline.seen_ids) <= 1000
    assert "c4999" in pipeline.seen_ids and "c0" not in pipeline.seen_ids
