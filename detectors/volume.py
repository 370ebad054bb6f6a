"""The volume test of a brand: more comments than its normal at this hour.

A Poisson CUSUM (`sequential.PoissonCusum`) on comments per minute against the
seasonal expectation (with the same tolerance as the negativity tests), its counts'
dispersion learned by the baseline, its threshold from the same false-alarm budget
(`monitor.ThresholdTable`). Volume alone never pages: it is what a positive viral post
or a launch looks like. It explains (a driver in alerts), and it names the surges that
the share test rightly leaves alone, for the run report. `stormwatch evaluate nab`
scores exactly this test on NAB's realTweets.

After it crosses its threshold it restarts (Page's CUSUM after a signal): the surge is
reported once, and a second surge must build its own evidence.
"""

from __future__ import annotations

from stormwatch.detectors.monitor import RATE_RATIOS, TOLERANCE, ThresholdTable
from stormwatch.detectors.sequential import PoissonCusum

MIN_VOLUME = 1e-3  # comments per step: the expectation of a brand that says nothing


class VolumeTest:
    """
    >>> t, table = VolumeTest(), ThresholdTable()
    >>> [round(t.step(n, expected=10.0, dispersion=1.0, table=table), 2) for n in (9, 12, 10)]
    [0.0, 0.0, 0.0]
    >>> [round(t.step(n, expected=10.0, dispersion=1.0, table=table), 2) for n in (30, 45)]
    [0.8, 1.0]
    >>> t.statistic  # restarted after the signal
    0.0
    """

    __slots__ = ("cusum",)

    def __init__(self) -> None:
        self.cusum = PoissonCusum(RATE_RATIOS)

    def step(self, n: float, *, expected: float, dispersion: float, table: ThresholdTable) -> float:
        """Learns one step; returns its evidence (statistic over threshold, at most 1)."""
        lam = max(expected, MIN_VOLUME) * (1.0 + TOLERANCE)
        self.cusum.learn_one({"count": n, "expected": lam, "dispersion": dispersion})
        h = table.rate(lam, dispersion, thread=False)
        evidence = self.cusum.statistic / h
        if evidence >= 1.0:
            self.cusum.reset()
            return 1.0
        return evidence

    @property
    def statistic(self) -> float:
        return self.cusum.statistic
