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


def test_forgetting_keeps_exactly_the_horizon() -> None:
    """The hourly forgetting drops the ids that arrived before the horizon and keeps
    every one after it (it walks the oldest at the front, without a rebuild)."""
    pipeline = Pipeline(Settings(dedupe_hours=2), decoder=Decoder(clock=lambda: T0 + 86400))
    six_hours(pipeline)
    evicted_at = pipeline._next_eviction_minute - 60  # the last hourly eviction
    horizon = evicted_at - 2 * 60
    arrived = list(pipeline.seen_ids.values())
    assert arrived == sorted(arrived)  # remembered in arrival order
    assert min(arrived) == horizon  # nothing older kept, the horizon's minute itself is
    assert sum(1 for m in arrived if m < evicted_at) == 3 * 2 * 60  # 3 a minute, 2 hours


def test_memory_is_capped_oldest_first(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pipeline_module, "DEDUPE_MAX_IDS", 1000)
    pipeline = Pipeline(decoder=Decoder(clock=lambda: T0 + 86400))
    for n in range(5000):
        pipeline.feed(line(f"c{n}", T0 + n * 0.5))
    assert len(pipeline.seen_ids) <= 1000
    assert "c4999" in pipeline.seen_ids and "c0" not in pipeline.seen_ids


def on(platform: str | None, i: str, t: float) -> bytes:
    row = {"id": i, "text": "nice", "created_at": t, "brand": "acme", "platform": platform}
    return orjson.dumps(row)


def started(settings: Settings | None = None) -> Pipeline:
    """A pipeline whose stream has established its time (its first records are held)."""
    pipeline = Pipeline(settings, decoder=Decoder(clock=lambda: T0 + 86400))
    for n in range(20):
        pipeline.feed(on("youtube", f"warm-{n}", T0 - 100 + n))
    assert pipeline.stats.held == 0
    return pipeline


def test_an_id_is_unique_per_platform() -> None:
    pipeline = started()
    processed = pipeline.stats.processed
    for platform in ("youtube", "reddit", None):
        pipeline.feed(on(platform, "42", T0))
    assert pipeline.stats.duplicates == 0 and pipeline.stats.processed == processed + 3
    for platform in ("youtube", "reddit", None):
        pipeline.feed(on(platform, "42", T0 + 1))
    assert pipeline.stats.duplicates == 3
    # held far ahead of the stream: recognised by platform and id there too
    pipeline.feed(on("youtube", "far", T0 + 86000))
    pipeline.feed(on("reddit", "far", T0 + 86000))
    pipeline.feed(on("youtube", "far", T0 + 86000))
    assert pipeline.stats.held == 2 and pipeline.stats.duplicates == 4


def test_a_redelivery_whose_platform_differs_in_case_is_a_duplicate() -> None:
    pipeline = started()
    pipeline.feed(on("facebook", "7", T0))
    pipeline.feed(on("Facebook", "7", T0 + 1))
    pipeline.feed(on(" FACEBOOK ", "7", T0 + 2))
    assert pipeline.stats.duplicates == 2


def test_ids_of_a_checkpoint_from_before_platforms_counted_still_dedupe() -> None:
    """Such a checkpoint remembered bare ids, whatever the platform: they match an id on
    any platform, as they did, until they age out of `dedupe_hours`."""
    import pickle

    from stormwatch.kafka import checkpoint

    source = started(Settings(dedupe_hours=2))
    source.feed(on("youtube", "old", T0))
    source.feed(on("youtube", "held", T0 + 86000))
    state = pickle.loads(pickle.dumps(checkpoint.snapshot(source)))
    del state["bare_ids_until"]  # as such a checkpoint was
    state["seen_ids"] = {"old": state["seen_ids"]["youtube\x00old"]}
    state["windows"].held_ids = {"held"}
    target = Pipeline(Settings(dedupe_hours=2), decoder=Decoder(clock=lambda: T0 + 86400))
    checkpoint.restore(target, state)
    target.feed(on("youtube", "old", T0 + 1))
    target.feed(on("youtube", "held", T0 + 86000))
    assert target.stats.duplicates == 2
    target.feed(on("reddit", "held", T0 + 86000))  # held ids are keyed anew
    assert target.stats.duplicates == 2 and target.stats.held == 2
    for m in range(1, 4 * 60):  # four hours on: the bare ids are forgotten
        target.feed(on("youtube", f"m{m}", T0 + m * MINUTE))
    assert target.bare_ids_until is None and "old" not in target.seen_ids
    target.feed(on("youtube", "old", T0 + 4 * 60 * MINUTE))
    assert target.stats.duplicates == 2


def test_a_checkpoint_from_before_platforms_were_lower_case_still_dedupes() -> None:
    """Its ids and held comments kept "Facebook": after the upgrade a redelivery as
    "facebook" was not recognised for the week an id is remembered."""
    import pickle

    from stormwatch.kafka import checkpoint

    source = started()
    source.feed(on("youtube", "old", T0))
    source.feed(on("youtube", "held", T0 + 86000))
    state = pickle.loads(pickle.dumps(checkpoint.snapshot(source)))
    # as such a checkpoint was: the platform as it came, and no mark of its folding
    del state["platforms_folded"]
    state["seen_ids"] = {k.replace("youtube", "YouTube"): v for k, v in state["seen_ids"].items()}
    windows = state["windows"]
    windows.held_ids = {k.replace("youtube", "YouTube") for k in windows.held_ids}
    for _, _, record in windows.held:
        record.comment.platform = "YouTube"
    target = Pipeline(Settings(), decoder=Decoder(clock=lambda: T0 + 86400))
    checkpoint.restore(target, state)
    target.feed(on("youtube", "old", T0 + 1))
    target.feed(on("YouTube", "held", T0 + 86000))
    assert target.stats.duplicates == 2
