"""Volume anomaly of a brand: how far the comment volume runs above the seasonal
expectation, on three time scales at once.

Per scale (the last 5, 10 and 30 minutes, when the window features carry them) the
residual is the log of the observed rate over the expected one (so the daily rhythm is
taken out first, and a doubling means the same for a tiny and a large brand). Each scale
keeps an exponentially weighted mean and variance of its residual, learned only from
steps that did not look anomalous, so a surge is never learned as normal while the
baseline's own slow learning still absorbs a lasting change of level. The mean follows
the level within a day (half-life ~17 hours); the spread has a much longer memory (a
week): a swell ramping up over an afternoon must not widen the yardstick it is measured
with, or it never looks anomalous. Both are bias-corrected, so a young key is measured
against the spread of what it has seen, not against a spread that starts at zero. The
score is the largest one-sided z over the scales: a sharp spike shows on the short scale
first, a slow swell on the long one.

`VolumeLikelihood` is the decision layer over that score, Numenta's anomaly likelihood:
a key whose z often runs high (a brand with recurring bursts) is judged against its own
history of z, and a lasting run of high z counts more than a single noisy step.

It does not page on its own: volume alone is what a positive viral post or a launch
looks like. It explains (a driver in alerts), and it finds the surges that the crisis
guards rightly ignore, for the run report. On NAB's realTweets it is what
`stormwatch evaluate nab` measures.
"""

from __future__ import annotations

import math
from collections import deque

SCALES = (5, 10, 30)  # minutes: the pipeline's window lengths
STD_FLOOR = 0.05  # a residual spread below ~5% is measurement luck, not a real calm


class DecayingStats:
    """Exponentially weighted mean and variance with bias correction (West's weighted
    update on decayed weights): early values are not pulled towards 0 as a plain EWMA
    starting at 0 would do, so a long half-life is usable from the first steps.

    >>> s = DecayingStats(half_life=10)
    >>> for x in (4.0, 6.0):
    ...     s.update(x)
    >>> round(s.mean, 3), round(s.variance, 3)
    (5.035, 0.999)
    """

    __slots__ = ("decay", "weight", "mean", "_sq")

    def __init__(self, half_life: float) -> None:
        self.decay = 0.5 ** (1.0 / half_life)
        self.weight = 0.0
        self.mean = 0.0
        self._sq = 0.0  # weighted sum of squared deviations

    def update(self, x: float) -> None:
        self.weight = self.weight * self.decay + 1.0
        self._sq *= self.decay
        delta = x - self.mean
        self.mean += delta / self.weight
        self._sq += delta * (x - self.mean)

    @property
    def variance(self) -> float:
        return max(self._sq / self.weight, 0.0) if self.weight > 0 else 0.0


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
        spread_half_life_minutes: float = 7 * 1440.0,
    ) -> None:
        """`half_life_minutes` (of the residual's mean) and `spread_half_life_minutes`
        (of its variance) are in event time: about 17 hours and a week; `step_minutes`
        is how much time one `learn_one` covers (1 in the pipeline, 5 for NAB's
        5-minute rows)."""
        self.threshold = threshold
        self.grace = grace
        self.half_life_minutes = half_life_minutes
        self.spread_half_life_minutes = spread_half_life_minutes
        self.step_minutes = step_minutes
        self.seen = 0
        self.means = {w: DecayingStats(half_life_minutes / step_minutes) for w in SCALES}
        self.spreads = {w: DecayingStats(spread_half_life_minutes / step_minutes) for w in SCALES}

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
            if r is None or not self.means[w].weight:
                continue
            std = math.sqrt(self.spreads[w].variance)
            best = max(best, (r - self.means[w].mean) / (std + STD_FLOOR))
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
                self.spreads[w].update(r)

    def score_one(self, x: dict[str, float]) -> float:
        """Largest one-sided z over the scales; 0 while warming up and for lulls."""
        if self.seen < self.grace:
            return 0.0
        return self._z(x)


class VolumeLikelihood:
    """Anomaly likelihood of a stream of volume z scores (Numenta-style), as a z.

    The z scores of the last `history_minutes` are summarised by a Gaussian (their mean
    and standard deviation); the average z of the last `average_minutes` is placed on
    it. The result, (short average - mean) / std, is a monotone form of the Gaussian
    tail probability, so a threshold on it is a threshold on the likelihood. 0 until
    `min_history_minutes` of scores are in.

    >>> lk = VolumeLikelihood(step_minutes=5)
    >>> quiet = [lk.update(0.5 + 0.1 * (i % 5)) for i in range(600)]
    >>> lk.update(6.0) > lk.update(0.7)
    True
    """

    def __init__(
        self,
        step_minutes: float = 1.0,
        history_minutes: float = 30 * 1440.0,
        average_minutes: float = 30.0,
        min_history_minutes: float = 1440.0,
        std_floor: float = 0.05,
    ) -> None:
        self.history: deque[float] = deque(maxlen=max(1, round(history_minutes / step_minutes)))
        self.recent: deque[float] = deque(maxlen=max(1, round(average_minutes / step_minutes)))
        self.min_history = max(1, round(min_history_minutes / step_minutes))
        self.std_floor = std_floor
        self._sum = 0.0
        self._sq = 0.0

    def update(self, z: float) -> float:
        """Score `z` against the history before it, then add it to the history."""
        self.recent.append(z)
        n = len(self.history)
        out = 0.0
        if n >= self.min_history:
            mean = self._sum / n
            std = math.sqrt(max(self._sq / n - mean * mean, 0.0))
            average = sum(self.recent) / len(self.recent)
            out = (average - mean) / (std + self.std_floor)
        if n == self.history.maxlen:
            old = self.history[0]
            self._sum -= old
            self._sq -= old * old
        self.history.append(z)
        self._sum += z
        self._sq += z * z
        return out
