"""The crisis score: surge, growth, guards and volume combined into one decision per key
and minute, with a severity band.

Severity says how far the negative stream runs above the brand's normal negative rate:
`low` from 3x, `medium` from 5x, `high` from 10x (the breakout of a firestorm) and
`critical` from 30x. Opening needs a surprise of `open_score` (-log10 p), a growing or
already large stream, and no guard objecting.
"""

from __future__ import annotations

from dataclasses import dataclass

from stormwatch.detectors.guards import benign_reason
from stormwatch.detectors.surge import (
    GrowthDetector,
    NegativeShareDetector,
    NegativeSurgeDetector,
)

SEVERITY_BANDS: tuple[tuple[float, str], ...] = (
    (30.0, "critical"),
    (10.0, "high"),
    (5.0, "medium"),
    (0.0, "low"),
)


def severity_for(ratio: float) -> str:
    """
    >>> severity_for(3.2), severity_for(12), severity_for(45)
    ('low', 'high', 'critical')
    """
    for floor, name in SEVERITY_BANDS:
        if ratio >= floor:
            return name
    return "low"


@dataclass(slots=True, frozen=True)
class Assessment:
    score: float  # surprise of the effective negative count, -log10 p
    raw_score: float  # the same on raw counts: what a naive detector would see
    ratio: float  # recent negative rate / the brand's normal negative rate (severity)
    key_ratio: float  # recent negative rate / this key's normal (brand, or one thread)
    growth: float
    volume: float  # river volume anomaly score
    benign: str | None  # guard reason when the surge is benign
    alerting: bool

    @property
    def severity(self) -> str:
        return severity_for(self.ratio)


class CrisisDetector:
    def __init__(
        self,
        *,
        open_score: float = 8.0,
        min_ratio: float = 3.0,
        min_authors: int = 5,
    ) -> None:
        self.open_score = open_score
        self.min_ratio = min_ratio
        self.min_authors = min_authors
        self.surge = NegativeSurgeDetector("eff")
        self.share = NegativeShareDetector("eff")
        self.naive = NegativeSurgeDetector("neg")
        self.growth = GrowthDetector()

    def assess(self, x: dict[str, float], volume_score: float = 0.0) -> Assessment:
        # Rate and share are two views of one storm; their surprises add (Fisher-style).
        score = self.surge.score_one(x) + self.share.score_one(x)
        raw = self.naive.score_one(x)  # a plain negative-count detector, for the report
        key_ratio = max(self.surge.ratio(x, 5), self.surge.ratio(x, 10))
        ratio = key_ratio * x["expected_neg_per_min"] / x["brand_neg_per_min"]
        growth = self.growth.score_one(x)
        benign = None
        if score >= self.open_score or raw >= self.open_score or volume_score >= 6.0:
            benign = benign_reason(x, min_authors=self.min_authors)
        alerting = (
            benign is None
            and score >= self.open_score
            and key_ratio >= self.min_ratio
            and (growth >= 0.0 or key_ratio >= 10.0)
        )
        return Assessment(score, raw, ratio, key_ratio, growth, volume_score, benign, alerting)
