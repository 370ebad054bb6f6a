"""Volume anomaly of a brand: how far the comment volume runs above the seasonal
expectation, on three time scales at once.

Per scale (the last 5, 10 and 30 minutes, when the window features carry them) the
residual is the log of the observed rate over the expected one (so the daily rhythm is
taken out first, and a doubling means the same for a tiny and a large brand). Each scale
keeps an exponentially weighted mean and variance of its residual (river `EWMean`,
`EWVar`), learned only from steps that did not look anomalous, so a surge is never
learned as normal while the baseline's own slow learning still absorbs a lasting change
of level. The score is the largest one-sided z over the scales: a sharp spike shows on
the short scale first, a slow swell on the long one.

It does not page on its own: volume alone is what a positive viral post or a launch
looks like. It explains (a driver in alerts), and it finds the surges that the crisis
guards rightly ignore, for the run report. On NAB's realTweets it is what
`stormwatch evaluate nab` measures.
"""

from __future__ import annotations

import math

from river import stats

SCALES = (5, 10, 30)  # minutes: the pipeline's window lengths
STD_FLOOR = 0.05  # a residual spread below ~5% is measurement luck, not a real calm


class VolumeAnomalyDetector:
    """
    >>> d = VolumeAnomalyDetector()
    >>> for i in range(200):
    ...     d.learn_one({"n_10": 100 + (i % 7), "expected_volume_per_min": 10.0})
    >>> d.score_one({"n_10": 104, "expected_volume_per_min": 10.0}) < 2
    True
    >>> d.score_one({"n_10": 1000, "expected_volume_per_min": 10.0}) > 10
    True
    """

    def __init__(
        self,
        threshold: float = 4.0,
        grace: int = 60,
        half_life_minutes: float = 1000.0,
        step_minutes: float = 1.0,
    ) -> None:
        """`half_life_minutes` is in event time (about 17 hours: a launch ramping up over
        an afternoon must stay anomalous); `step_minutes` is how much time one
        `learn_one` covers (1 in the pipeline, 5 for NAB's 5-minute rows)."""
        self.threshold = threshold
        self.grace = grace
        self.half_life_minutes = half_life_minutes
        self.step_minutes = step_minutes
        self.seen = 0
        fading = 1.0 - 0.5 ** (step_minutes / half_life_minutes)
        self.means = {w: stats.EWMean(fading) for w in SCALES}
        self.variances = {w: stats.EWVar(fading) for w in SCALES}
        self.learned = dict.fromkeys(SCALES, 0)

    @staticmethod
    def _residual(x: dict[str, float], w: int) -> float | None:
        n = x.get(f"n_{w}")
        if n is None:
            return None
        return math.log1p(n / w) - math.log1p(x["expected_volume_per_min"])

    def _z(self, x: dict[str, float]) -> float:
        best = 0.0
        for w in SCALES:
            r = self._residual(x, w)
            if r is None or not self.learned[w]:
                continue
            std = math.sqrt(max(self.variances[w].get(), 0.0))
            best = max(best, (r - self.means[w].get()) / (std + STD_FLOOR))
        return best

    def learn_one(self, x: dict[str, float]) -> None:
        protect = self.seen >= self.grace and self._z(x) >= self.threshold
        self.seen += 1
        if protect:
            return  # never learn an anomaly as normal
        for w in SCALES:
            r = self._residual(x, w)
            if r is not None:
                self.means[w].update(r)
                self.variances[w].update(r)
                self.learned[w] += 1

    def score_one(self, x: dict[str, float]) -> float:
        """Largest one-sided z over the scales; 0 while warming up and for lulls."""
        if self.seen < self.grace:
            return 0.0
        return self._z(x)
