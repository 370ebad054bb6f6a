"""Surprise of negative comments against what is normal for the brand at this hour.

Counts are compared with a quasi-Poisson model: the expected count over the window is
`expected_neg_per_min * w`, or what the window's own volume explains at the usual
negative share when that is more (busy is not angry), and both sides are divided by the
brand's learned dispersion so that bursty brands need more to surprise. The score is the
Chernoff bound on the tail, `-log10 P(X >= k)`, a lower bound on the true surprise
(conservative), taken over the 5/10/30-minute windows and corrected for looking three
times. Slow storms show in the 30-minute window, fast ones in the 5-minute window first.
"""

from __future__ import annotations

import math

from stormwatch.detectors.features import WINDOWS

_LN10 = math.log(10.0)
LOOKS = math.log10(len(WINDOWS))  # correction for testing three windows


def poisson_surprise(k: float, lam: float) -> float:
    """-log10 of the Chernoff bound on P(Poisson(lam) >= k); 0 when k <= lam.

    >>> round(poisson_surprise(30, 3), 2)
    18.27
    >>> poisson_surprise(2, 3)
    0.0
    """
    if k <= lam or lam <= 0:
        return 0.0
    return (k * math.log(k / lam) - (k - lam)) / _LN10


class NegativeSurgeDetector:
    """Scores how unlikely the recent negative comments are under the key's normal.

    `prefix` chooses the count: `eff` (capped per account and per text, the default) or
    `neg` (raw), which shows what a naive detector would have paged on.

    >>> x = {"expected_neg_per_min": 0.5, "dispersion": 1.0,
    ...      "eff_5": 20, "eff_10": 22, "eff_30": 30}
    >>> round(NegativeSurgeDetector().score_one(x), 2)
    9.98
    """

    def __init__(self, prefix: str = "eff") -> None:
        self.prefix = prefix
        self._keys = tuple((w, f"{prefix}_{w}") for w in WINDOWS)

    def learn_one(self, x: dict[str, float]) -> None:
        """Stateless: what is normal is learned by the brand baseline."""

    def score_one(self, x: dict[str, float]) -> float:
        lam = x["expected_neg_per_min"]
        phi = x["dispersion"]
        share = x.get("base_neg_share", 0.0)
        best = 0.0
        for w, key in self._keys:
            # What the key's own volume explains at the usual negative share: a launch or
            # a viral post brings more negatives too, without being any more negative.
            expected = max(lam * w, x.get(f"n_{w}", 0.0) * share)
            s = poisson_surprise(x[key] / phi, expected / phi)
            if s > best:
                best = s
        return max(0.0, best - LOOKS)

    def ratio(self, x: dict[str, float], window: int = 5) -> float:
        """How many times the normal negative rate the last `window` minutes ran at."""
        return (x[f"{self.prefix}_{window}"] / window) / x["expected_neg_per_min"]


class GrowthDetector:
    """Is the negative stream still growing? log2 of the last 5 minutes over the 5 before,
    plus a bonus when growth itself is speeding up (super-linear, the early firestorm).

    >>> GrowthDetector().score_one({"eff_block_0": 15, "eff_block_1": 7, "eff_block_2": 3})
    1.5
    """

    def learn_one(self, x: dict[str, float]) -> None:
        """Stateless."""

    def score_one(self, x: dict[str, float]) -> float:
        c, b, a = x["eff_block_0"], x["eff_block_1"], x["eff_block_2"]
        growth = math.log2((c + 1.0) / (b + 1.0))
        accelerating = (c - b) > (b - a) > 0
        return growth + (0.5 if accelerating else 0.0)

    @staticmethod
    def doubling_minutes(x: dict[str, float]) -> float | None:
        c, b = x["eff_block_0"], x["eff_block_1"]
        if c <= b or b <= 0:
            return None
        return 5.0 / math.log2(c / b)


def binomial_surprise(k: float, n: float, p0: float) -> float:
    """-log10 of the Chernoff bound on P(Binomial(n, p0) >= k); 0 when k/n <= p0.

    >>> round(binomial_surprise(14, 28, 0.16), 2)
    3.77
    """
    if n <= 0 or k <= n * p0 or p0 <= 0:
        return 0.0
    q = min(k / n, 1.0)
    kl = q * math.log(q / p0)
    if q < 1.0:
        kl += (1.0 - q) * math.log((1.0 - q) / (1.0 - p0))
    return n * kl / _LN10


class NegativeShareDetector:
    """How unlikely the key's share of negative comments is, given the brand's usual share:
    a storm turns a thread's talk negative, a busy day only makes more of it. Counts are
    the effective ones (capped per account and per text), over 10 and 30 minutes.

    >>> x = {"base_neg_share": 0.16, "eff_10": 14, "n_10": 28, "eff_30": 24, "n_30": 60}
    >>> round(NegativeShareDetector().score_one(x), 2)
    3.99
    """

    WINDOWS = (10, 30)
    _LOOKS = math.log10(2)

    def __init__(self, prefix: str = "eff") -> None:
        self._keys = tuple((f"{prefix}_{w}", f"n_{w}") for w in self.WINDOWS)

    def learn_one(self, x: dict[str, float]) -> None:
        """Stateless: the usual share is learned by the brand baseline."""

    def score_one(self, x: dict[str, float]) -> float:
        p0 = x.get("base_neg_share", 0.0)
        best = 0.0
        for k_key, n_key in self._keys:
            n = x.get(n_key, 0.0)
            s = binomial_surprise(min(x.get(k_key, 0.0), n), n, p0)
            if s > best:
                best = s
        return max(0.0, best - self._LOOKS)
