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
