"""How a stream establishes its event time: a small brand's sparse stream starts without
waiting for the end of the input, a live stream starts with its first comment, and a
mis-stamped first record starts neither."""

from __future__ import annotations

import time

import orjson
import pytest

from stormwatch.config import Settings
from stormwatch.ingest.decode import Decoder
from stormwatch.pipeline import Pipeline

T0 = 1_772_438_400.0


def line(i: str, t: float, brand: str = "small") -> bytes:
    return orjson.dumps({"id": i, "text": "nice", "created_at": t, "brand": brand})


@pytest.mark.parametrize("gap", [60.0, 600.0, 2160.0])  # 1,440 to 40 comments a day
def test_a_sparse_backtest_starts_after_a_few_records_not_at_the_end(gap: float) -> None:
    pipeline = Pipeline(Settings(), decoder=Decoder(clock=lambda: T0 + 400 * 86400))
    pipeline.feed(line("wrong-clock", T0 + 54 * 3600))  # first record: 54 hours ahead
    for k in range(40):
        pipeline.feed(line(f"c{k}", T0 + k * gap))
    # the stream started at its own records, after a handful, not at the bad clock
    assert pipeline.stats.processed >= 30
    assert pipeline.windows.max_event_time <= T0 + 40 * gap
    assert pipeline.stats.minutes_closed > 0
    stats = pipeline.finish()
    assert stats.dead_letter_reasons["timestamp_outlier"] == 1
    assert stats.processed == 40


def test_a_live_stream_starts_with_its_first_comment() -> None:
    now = time.time()
    pipeline = Pipeline(Settings(), decoder=Decoder(clock=lambda: now + 86400))
    pipeline.feed(line("first", now - 3))
    assert pipeline.stats.processed == 1 and not pipeline.windows.held
    pipeline.feed(line("second", now + 2 * 3600))  # then a comment two hours ahead: held
    assert len(pipeline.windows.held) == 1


def test_a_live_first_record_with_a_wrong_clock_does_not_start_the_stream() -> None:
    now = time.time()
    pipeline = Pipeline(Settings(), decoder=Decoder(clock=lambda: now + 86400 * 3))
    pipeline.feed(line("ahead", now + 54 * 3600))
    assert pipeline.stats.processed == 0 and len(pipeline.windows.held) == 1
    pipeline.feed(line("now", now))
    assert pipeline.windows.max_event_time == now  # the stream starts at the right time
    assert len(pipeline.windows.held) == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_monitoring_started_during_a_storm_opens_one_incident_that_resolves(seed: int) -> None:
    """A brand added while a firestorm runs (its comments from the storm's second hour
    on): the storm opens an incident at once, and once it is over the incident resolves.
    The brand learns no minute while its incident is open, so before its calm was
    measured against the usual share of the comments it shows, it was measured against
    the floor of one negative a day, and the incident stayed open for good (still open
    24 hours after the storm ended)."""
    from datetime import datetime

    from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
    from tests.seeded_runs import replay

    hour = 3600.0
    spec = ScenarioSpec(
        "added-mid-storm", duration_s=30 * hour, seed=seed,
        brands=(BrandSpec("acme", 3000, lang="en", threads_per_day=20),),
        events=(EventSpec("firestorm", "acme", 2 * hour, 4 * hour, name="storm",
                          peak_rate_per_min=20.8, start_rate_per_min=0.5, doubling_time_s=600,
                          plateau_s=3600, decay_half_life_s=1800),),
    )  # fmt: skip
    added = spec.start + 3 * hour

    def stamp(value: float | str) -> float:
        if isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        return float(value)

    comments = [c for c in generate(spec).comments if stamp(c["created_at"]) >= added]
    pipeline = replay(comments)
    history = pipeline.tracker.history
    assert len(history) == 1, [i.key for i in history]
    assert history[0].opened_minute * 60 < added + 10 * 60  # at once
    assert not pipeline.tracker.open  # and resolved after the storm
