"""Volume anomaly of a brand, with river: a standard-absolute-deviation scorer on the
log ratio of the last 10 minutes' volume to the seasonal expectation (so the daily rhythm
is taken out first), behind a `ThresholdFilter` that stops it from learning anomalies.

It does not page on its own: volume alone is what a positive viral post or a launch
looks like. It explains (a driver in alerts) and it finds the surges that the crisis
guards rightly ignore, for the run report.
"""

from __future__ import annotations

import math

from river import anomaly, stats


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

    def __init__(self, threshold: float = 4.0, grace: int = 60) -> None:
        self.threshold = threshold
        self.grace = grace
        self.seen = 0
        self.model = anomaly.ThresholdFilter(
            anomaly.StandardAbsoluteDeviation(sub_stat=stats.Mean()),
            threshold=threshold,
            protect_anomaly_detector=True,
        )

    @staticmethod
    def _residual(x: dict[str, float]) -> float:
        return math.log1p(x["n_10"] / 10.0) - math.log1p(x["expected_volume_per_min"])

    def learn_one(self, x: dict[str, float]) -> None:
        y = self._residual(x)
        if self.seen < self.grace:
            self.model.anomaly_detector.learn_one(None, y)  # no filter before it knows
        else:
            self.model.learn_one(None, y)
        self.seen += 1

    def score_one(self, x: dict[str, float]) -> float:
        if self.seen < self.grace:
            return 0.0
        y = self._residual(x)
        score = self.model.score_one(None, y)
        return score if y > 0 else 0.0  # only surges, not lulls
