"""The rate test's thresholds are what the false-alarm budget says, at every expected
count and dispersion a key can have: the bank's exact alarm rate at its threshold is
the target (within the search's 5 %), and thresholds move smoothly between buckets.

Two bugs this guards against: the search returned its upper bound (twice Lorden's
threshold, 24.9) whenever its first secant step landed just under the target, so
brands of about 1.3-2.1 negatives a minute needed 2.5 times the evidence of their
neighbours; and the chain cut the count distribution at six standard deviations, so a
bursty key's negative binomial tail was counted as alarms from every state and its
threshold came out several nats too high or at that bound.
"""

from __future__ import annotations

import math

import pytest

from stormwatch.detectors.monitor import RATE_RATIOS, ThresholdTable
from stormwatch.detectors.sequential import (
    MINUTES_PER_MONTH,
    THRESHOLD_FLOOR,
    poisson_cusum_arl,
    poisson_cusum_threshold,
)

STEPS = MINUTES_PER_MONTH / 0.5  # a brand key at the default budget (half of one a month)


def _alarm_rate(h: float, lam: float, dispersion: float) -> float:
    return sum(1.0 / poisson_cusum_arl(h, lam, r, dispersion) for r in RATE_RATIOS)


@pytest.mark.parametrize("dispersion", [1.0, 2.0, 5.0])
@pytest.mark.parametrize("lam", [0.01, 0.1, 1.0, 1.334, 1.778, 7.5, 23.7])
def test_the_threshold_meets_the_budget(lam: float, dispersion: float) -> None:
    h = poisson_cusum_threshold(lam, RATE_RATIOS, steps_per_alarm=STEPS, dispersion=dispersion)
    assert THRESHOLD_FLOOR < h < 2.0 * math.log(len(RATE_RATIOS) * STEPS) - 1.0
    # At the threshold the bank raises about one alarm per STEPS minutes (never more
    # than 5 % over; the search may stop a little on the safe side) ...
    assert -0.15 < math.log(_alarm_rate(h, lam, dispersion) * STEPS) < 0.06
    # ... and a nat lower it would raise clearly more: it is not set needlessly high.
    assert _alarm_rate(h - 1.0, lam, dispersion) * STEPS > 1.2


def test_thresholds_move_smoothly_with_the_expected_count() -> None:
    table = ThresholdTable(false_alarms_per_month=1.0)
    for dispersion in (1.0, 1.5, 2.0, 3.0, 5.0):
        for thread in (False, True):
            # An eighth of a decade apart, from a few negatives a day to ~100 a minute.
            hs = [table.rate(10.0 ** (b / 8.0), dispersion, thread=thread) for b in range(-20, 17)]
            steps = [abs(b - a) for a, b in zip(hs, hs[1:], strict=False)]
            assert max(steps) < 1.5, (dispersion, thread, [round(h, 2) for h in hs])
