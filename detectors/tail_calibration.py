"""A CUSUM's threshold checked against the key's own record (peaks over threshold).

The exact thresholds (`monitor.ThresholdTable`) hold the false-alarm budget when the
key's counts follow the model: negative-binomial with the learned dispersion around the
seasonal expectation. Real mention counts have heavier tails: on NAB's realTweets
(Twitter mentions of ten companies, 5-minute counts) the volume test at a budget of one
false alarm a month signalled about six times a month outside the labelled windows.

So each excursion of the statistic (from zero back to zero) leaves its peak, in units of
the exact threshold, and the largest `KEEP` peaks of the key's record are kept. Their
excess over the smallest of them is fitted with an exponential tail (the
peaks-over-threshold method of extreme value theory, shape zero: the peak of a CUSUM
excursion has an exponential tail when the counts are light-tailed, and what is fitted
here is how much wider it is), which says how high a threshold the record would have
crossed `budget` times a month. The threshold is never lowered below the exact one.

Hand-written: `river.anomaly.QuantileFilter` keeps a quantile of every score, but what
must be counted is excursions per month, not scored minutes (one surge is hundreds of
high minutes), and a budget of one a month sits beyond any quantile a month's minutes
can estimate; the tail fit extrapolates to it.
"""

from __future__ import annotations

import bisect
import math

from stormwatch.detectors.sequential import MINUTES_PER_MONTH

__all__ = ["KEEP", "TailCalibration"]

KEEP = 12  # peaks kept: the fit's sample (the smallest is where the tail starts)
MIN_PEAK = 0.25  # smaller excursions (in thresholds) say nothing about the tail
# Before a day of record (one turn of the daily rhythm, so the peaks are not those of
# one hour of the day) the exact threshold stands alone. A short record only
# extrapolates further (a higher factor for the same peaks), so the wait is not what
# keeps the fit honest; it was a week until the exact thresholds were exact, and a
# brand whose talk bursts every two hours got volume signals for its whole first week
# (`tests/test_volume_bursts.py`).
MIN_MONTHS = 1.0 / 30.0


class TailCalibration:
    """Excursion peaks of one key's statistic and the threshold factor they imply.

    >>> c = TailCalibration()
    >>> c.factor(0.5)
    1.0
    >>> for day in range(30):  # a month with an excursion past the threshold every day
    ...     for i, evidence in enumerate((0.5, 1.0 + day / 30, 0.8, 0.0)):
    ...         c.observe(evidence, 1440 * day + i)
    >>> round(c.factor(0.5), 2)  # half a false alarm a month: 2.2 exact thresholds
    2.22
    """

    __slots__ = ("first", "last", "peak", "peaks", "level", "fitted_for")

    def __init__(self) -> None:
        self.first = self.last = -1  # the record's first and latest minute
        self.peak = 0.0  # of the excursion running now (0.0: none)
        self.peaks: list[float] = []  # the largest KEEP, ascending
        # The factor of the last fit and the budget it was fitted for (-1.0: to refit).
        # Public so a test's step reads them without a call while nothing changed.
        self.level = 1.0
        self.fitted_for = -1.0

    def observe(self, evidence: float, minute: int) -> None:
        """The statistic at `minute` (event time), in exact thresholds. Counted in event
        time, not in steps: a resting key skips its quiet minutes, and the budget is a
        number of false alarms a month."""
        if self.first < 0:
            self.first = minute
        self.last = minute
        if evidence > 0.0:
            if evidence > self.peak:
                self.peak = evidence
        elif self.peak:
            peak, self.peak = self.peak, 0.0
            if peak >= MIN_PEAK and (len(self.peaks) < KEEP or peak > self.peaks[0]):
                bisect.insort(self.peaks, peak)
                if len(self.peaks) > KEEP:
                    del self.peaks[0]
            self.fitted_for = -1.0  # refitted at the next look: the record grew

    def factor(self, budget: float, minute: int = -1) -> float:
        """How many exact thresholds the statistic must reach to signal at `minute`: at
        least 1, more when the record's tail says the exact threshold is crossed more
        often than `budget` times a month. Refitted at the first look after an
        excursion ended, so the record's span counts the quiet time up to it."""
        if budget == self.fitted_for:
            return self.level
        self.fitted_for = budget
        self.level = 1.0
        if self.first < 0:
            return 1.0
        months = (max(self.last, minute) - self.first + 1) / MINUTES_PER_MONTH
        peaks = self.peaks
        if len(peaks) < KEEP or months < MIN_MONTHS:
            return 1.0
        start = peaks[0]
        scale = sum(p - start for p in peaks[1:]) / (KEEP - 1)
        # KEEP - 1 peaks a record of `months` above `start`, each beyond it by an
        # exponential excess of mean `scale`: budget a month above start + scale * ln(...).
        level = start + scale * math.log((KEEP - 1) / (months * budget))
        # (All at one value: the statistic's cap, which rises with the factor, so the
        # record shows more of the tail as it grows.)
        self.level = max(1.0, level)
        return self.level
