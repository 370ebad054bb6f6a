"""What is normal for a brand: expected comments per minute at this time of day, and the
usual share of negative comments.

The level follows the daily rhythm through 24 hour-of-day slots that each learn across
days; until a slot has seen enough of its hour, a 60-minute moving level stands in. The
negative share moves slowly (half-life of a day), because a storm must not become normal
within the hour. Learning is the caller's decision: it stops while a key is surging.
"""

from __future__ import annotations

from dataclasses import dataclass

MINUTES_PER_DAY = 1440
MIN_SHARE = 0.02
MIN_NEG_PER_MIN = 1.0 / MINUTES_PER_DAY  # one negative comment a day, the quietest brand
MIN_THREAD_SHARE = 0.1
MAX_DISPERSION = 5.0


class DecayingMean:
    """Exponentially weighted mean with bias correction, so that early values are not
    pulled towards zero as a plain EWMA starting at 0 would do.

    >>> m = DecayingMean(half_life=10)
    >>> m.update(4.0); m.update(6.0)
    >>> round(m.get(), 3)
    5.035
    """

    __slots__ = ("decay", "weighted", "weight")

    def __init__(self, half_life: float) -> None:
        self.decay = 0.5 ** (1.0 / half_life)
        self.weighted = 0.0
        self.weight = 0.0

    def update(self, x: float, w: float = 1.0) -> None:
        self.weighted = self.weighted * self.decay + x * w
        self.weight = self.weight * self.decay + w

    def get(self, default: float = 0.0) -> float:
        return self.weighted / self.weight if self.weight > 1e-12 else default

    @property
    def samples(self) -> float:
        return self.weight


@dataclass(slots=True, frozen=True)
class Expectation:
    """Normal traffic of a brand at one minute."""

    volume_per_min: float
    neg_share: float
    dispersion: float  # variance / mean of 10-minute negative counts (>= 1)
    minutes_seen: float

    @property
    def neg_per_min(self) -> float:
        return max(self.volume_per_min * self.neg_share, MIN_NEG_PER_MIN)


class BrandBaseline:
    """Seasonal level, negative share and count dispersion of one brand."""

    __slots__ = ("level", "slots", "neg", "total", "dispersion", "thread_share", "minutes")

    def __init__(self, *, level_half_life: float = 60.0, share_half_life: float = 1440.0) -> None:
        self.level = DecayingMean(level_half_life)
        # A slot is visited 60 times a day; half-life of two days of that hour.
        self.slots = [DecayingMean(120.0) for _ in range(24)]
        self.neg = DecayingMean(share_half_life)
        self.total = DecayingMean(share_half_life)
        self.dispersion = DecayingMean(share_half_life)
        self.thread_share = DecayingMean(share_half_life)
        self.minutes = 0

    def expected(self, minute: int) -> Expectation:
        slot = self.slots[(minute // 60) % 24]
        volume = slot.get() if slot.samples >= 30 else self.level.get()
        total = self.total.get()
        share = self.neg.get() / total if total > 0 else 0.1
        return Expectation(
            volume_per_min=volume,
            neg_share=max(share, MIN_SHARE),
            dispersion=min(MAX_DISPERSION, max(1.0, self.dispersion.get(1.0))),
            minutes_seen=self.minutes,
        )

    def typical_thread_share(self) -> float:
        """The share of the brand's negative comments that its busiest thread usually
        draws in 30 minutes: what a single thread's normal is, relative to the brand."""
        return min(1.0, max(MIN_THREAD_SHARE, self.thread_share.get(0.5)))

    def learn(
        self,
        minute: int,
        x: dict[str, float],
        n: int,
        neg: int,
        *,
        volume_weight: float = 1.0,
    ) -> None:
        """Learns one closed, non-surging minute. `volume_weight` < 1 while the volume is
        anomalous: a launch or a viral post must not become the new normal in one day,
        but a lasting change of level is still absorbed in the end."""
        self.minutes += 1
        self.level.update(n, volume_weight)
        self.slots[(minute // 60) % 24].update(n, volume_weight)
        self.neg.update(neg)
        self.total.update(n)
        current, previous = x["neg_10"], x["neg_prev_10"]
        mean = max((current + previous) / 2.0, x["expected_neg_per_min"] * 10.0)
        if mean >= 1.0 and self.minutes > 20:
            # Quasi-Poisson dispersion from two consecutive 10-minute counts: their
            # difference has twice the variance, and a slow daily trend cancels out.
            self.dispersion.update(min((current - previous) ** 2 / (2.0 * mean), MAX_DISPERSION))
        if x["neg_30"] >= 5:
            self.thread_share.update(x["top_thread_share_30"])
