"""The volume test of a brand: more comments than its normal at this hour.

A Poisson CUSUM (`sequential.PoissonCusum`) on comments per minute against the
seasonal expectation (with the same tolerance as the negativity tests), its counts'
dispersion as they came, bursts included (`BrandBaseline.burst_dispersion`: a brand
whose talk comes in bursts is not surging at each), its threshold from the same
false-alarm budget (`monitor.ThresholdTable`). Volume alone never pages: it is what a
positive viral post or a launch looks like. It explains (`volume_anomaly` among an
alert's drivers). `stormwatch evaluate nab` scores exactly this test on NAB's
realTweets.

It signals once per surge: at the crossing it answers 1.0, then stays silent (0.0) until
its statistic has fallen back under half the threshold, so a launch or a level shift
that lasts hours is one signal, not one a minute. The statistic itself stops at twice
the threshold, so a past surge fades in bounded time.
"""

from __future__ import annotations

from stormwatch.detectors.monitor import CEILING, RATE_RATIOS, TOLERANCE, ThresholdTable
from stormwatch.detectors.sequential import PoissonCusum

MIN_VOLUME = 1e-3  # comments per step: the expectation of a brand that says nothing
REARM = 0.5  # after a signal, silent until the statistic is back under half the threshold


class VolumeTest:
    """
    >>> t, table = VolumeTest(), ThresholdTable()
    >>> [round(t.step(n, expected=10.0, dispersion=1.0, table=table), 2) for n in (9, 12, 10)]
    [0.0, 0.0, 0.0]
    >>> [round(t.step(n, expected=10.0, dispersion=1.0, table=table), 2) for n in (30, 45)]
    [0.8, 1.0]
    >>> t.step(45, expected=10.0, dispersion=1.0, table=table)  # the same surge: silent
    0.0
    """

    __slots__ = ("cusum", "armed")

    def __init__(self) -> None:
        self.cusum = PoissonCusum(RATE_RATIOS)
        self.armed = True

    def step(self, n: float, *, expected: float, dispersion: float, table: ThresholdTable) -> float:
        """Learns one step; returns its evidence (statistic over threshold), 1.0 at the
        signal, 0.0 while the surge it signalled lasts."""
        lam = max(expected, MIN_VOLUME) * (1.0 + TOLERANCE)
        cusum = self.cusum
        cusum.learn_count(n, lam, dispersion)
        statistic = cusum.statistic
        evidence = 0.0  # at zero: no threshold needed, nothing to cap
        if statistic:
            h = table.rate(lam, dispersion, thread=False)
            if statistic > CEILING * h:
                cusum.sums[:] = [min(s, CEILING * h) for s in cusum.sums]
                statistic = cusum.statistic
            evidence = statistic / h
        if not self.armed:
            if evidence < REARM:
                self.armed = True
            return 0.0
        if evidence >= 1.0:
            self.armed = False
            return 1.0
        return evidence

    @property
    def statistic(self) -> float:
        return self.cusum.statistic
