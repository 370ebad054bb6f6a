"""The dispersions a brand's baseline reads: every minute pairs the last ten learned
minutes' counts with the ten before, whatever minute the brand's stream began at, and a
skipped minute starts the readings afresh."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from stormwatch.detectors.baseline import (
    DISPERSION_BLOCK,
    MAX_DISPERSION,
    MAX_VOLUME_DISPERSION,
    BrandBaseline,
)

# A learned minute's (negatives, comments winsorised, comments as they came), or a skip.
_MINUTE = st.one_of(
    st.tuples(st.integers(0, 6), st.integers(0, 40), st.integers(0, 60)),
    st.just("skip"),
)


def _reference(steps: list) -> list[tuple[float, float]]:
    """(weighted sum, weight) of each spread, read from scratch: every run of twenty
    consecutive learned minutes gives one reading per count, a tenth of one each."""
    decay = BrandBaseline().neg.decay
    caps = (MAX_DISPERSION, MAX_VOLUME_DISPERSION, MAX_VOLUME_DISPERSION)
    spreads = [[0.0, 0.0] for _ in caps]
    run: list[tuple[int, int, int]] = []
    for step in steps:
        if step == "skip":
            run = []
            continue
        run.append(step)
        if len(run) < 2 * DISPERSION_BLOCK:
            continue
        pair = run[-2 * DISPERSION_BLOCK :]
        for k, cap in enumerate(caps):
            before = sum(x[k] for x in pair[:DISPERSION_BLOCK])
            now = sum(x[k] for x in pair[DISPERSION_BLOCK:])
            mean = (before + now) / 2.0
            if mean >= 1.0:
                reading = min((now - before) ** 2 / (2.0 * mean), cap)
                spreads[k][0] = spreads[k][0] * decay + reading / DISPERSION_BLOCK
                spreads[k][1] = spreads[k][1] * decay + 1.0 / DISPERSION_BLOCK
    return [(a, b) for a, b in spreads]


@settings(max_examples=200, deadline=None)
@given(st.lists(_MINUTE, max_size=150))
def test_readings_are_every_pair_of_ten_minute_counts(steps: list) -> None:
    baseline = BrandBaseline()
    for minute, step in enumerate(steps):
        if step == "skip":
            baseline.skip(minute)
        else:
            baseline._block_step(*step)
    got = [
        (s.weighted, s.weight)
        for s in (baseline.dispersion, baseline.volume_spread, baseline.burst_spread)
    ]
    for (a, b), (x, y) in zip(got, _reference(steps), strict=True):
        assert math.isclose(a, x, rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(b, y, rel_tol=1e-9, abs_tol=1e-9)


def test_where_the_stream_began_does_not_move_the_dispersion() -> None:
    """The same minutes learned after a start seven minutes earlier (one calm comment,
    then quiet) read the same dispersion once twenty minutes have passed: no block edge
    counts from the first minute. With blocks from the first minute, two negatives three
    minutes apart fell in one block one way (read 2.0, twice) and in two the other."""
    negatives = [0] * 68 + [1, 0, 0, 1] + [0] * 28
    early, late = BrandBaseline(), BrandBaseline()
    early.learn(0, n=1, neg=0)
    early.learn_quiet(1, 6)
    for minute, neg in enumerate(negatives):
        early.learn(7 + minute, n=10, neg=neg)
        late.learn(7 + minute, n=10, neg=neg)
    assert early.minutes >= 60 and late.minutes >= 60
    assert math.isclose(early.current_dispersion(), late.current_dispersion(), rel_tol=1e-9)
