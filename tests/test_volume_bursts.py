"""The volume test takes a brand's bursts as they come: its null is the spread of the
counts as they came (`BrandBaseline.burst_dispersion`), not the winsorised spread the
baseline learns its level by, so a brand whose talk comes in bursts is not surging at
each of them, while a steady brand's surge still is one. Old checkpoints restore."""

from __future__ import annotations

import pickle
import random

import numpy as np

from stormwatch.detectors.baseline import BrandBaseline
from stormwatch.detectors.judge import Judge
from stormwatch.key_window import Bucket, KeyWindow


def _counts(rng: np.random.Generator, days: int, burst_every: int) -> list[int]:
    """Poisson counts of 3 a minute; every `burst_every` minutes a 5-minute burst of
    30 a minute (0: no bursts)."""
    out = []
    for minute in range(days * 1440):
        lam = 3.0
        if burst_every and minute % burst_every < 5:
            lam = 30.0
        out.append(int(rng.poisson(lam)))
    return out


def _volume_signals(counts: list[int], start: int) -> int:
    """Signals of a brand's volume test over `counts`, one closed minute each, through
    the pipeline's `Judge` (as `stormwatch evaluate nab` runs it); from `start` on."""
    judge = Judge()
    judge.lazy = False
    judge.rests = False
    state = judge.brand_state("b")
    window = KeyWindow("b", "b", None, 0)
    windows = {"b": window}
    signals = 0
    for minute, n in enumerate(counts):
        bucket = Bucket()
        bucket.n = n
        window.open[minute] = bucket
        for verdict in judge.judge_brands(minute, windows, {}):
            judge.learn(verdict, minute, disturbed=False)
        if minute >= start and state.volume_evidence >= 1.0:
            signals += 1
    return signals


def test_bursts_that_come_every_two_hours_are_the_brands_normal() -> None:
    rng = np.random.default_rng(7)
    counts = _counts(rng, days=4, burst_every=127)
    # Days 3 and 4: 23 bursts of ten times the brand's level. Against the winsorised
    # spread the test signalled 10 of them (one every other burst: it rearms between).
    signals = _volume_signals(counts, start=2 * 1440)
    assert signals <= 4, signals


def test_a_steady_brands_surge_is_still_one() -> None:
    rng = np.random.default_rng(8)
    counts = _counts(rng, days=3, burst_every=0)
    at = 2 * 1440 + 600
    for minute in range(at, at + 10):
        counts[minute] = int(rng.poisson(30.0))
    assert _volume_signals(counts[: at + 30], start=at - 60) == 1


def test_burst_spread_sees_what_winsorising_hides() -> None:
    rng = np.random.default_rng(9)
    bursty, steady = BrandBaseline(), BrandBaseline()
    for minute, (a, b) in enumerate(zip(_counts(rng, 2, 127), _counts(rng, 2, 0), strict=True)):
        bursty.learn(minute, n=a, neg=0)
        steady.learn(minute, n=b, neg=0)
    assert bursty.burst_dispersion() > 1.2 * bursty.volume_dispersion()
    assert steady.burst_dispersion() < 1.5 and steady.volume_dispersion() < 1.5


def test_a_checkpoint_from_before_the_burst_spread_restores() -> None:
    rng = random.Random(3)
    b = BrandBaseline()
    for minute in range(95):
        b.learn(minute, n=rng.randrange(0, 9), neg=0)
    # What a baseline pickled before the burst spread held: no `burst_spread`, blocks
    # without their counts as they came.
    cls, args, (none, slots) = b.__reduce_ex__(2)[:3]
    del slots["burst_spread"]
    slots["_block"] = slots["_block"][:3]
    slots["_previous_block"] = slots["_previous_block"][:2]
    old = pickle.dumps((none, slots))
    restored = BrandBaseline.__new__(BrandBaseline)
    restored.__setstate__(pickle.loads(old))
    assert restored.burst_dispersion() == restored.volume_dispersion()
    for minute in range(95, 200):
        restored.learn(minute, n=rng.randrange(0, 9), neg=0)
    assert restored.burst_dispersion() >= 1.0
    assert len(restored._block) == 4 and len(restored._previous_block) == 3
