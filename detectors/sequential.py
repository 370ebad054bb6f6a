"""Sequential tests on negative comments: Page's CUSUM for counts and for shares.

A firestorm is a change in a stream of counts: from the key's normal negative rate to a
multiple of it, and from its usual negative share to a larger one. Page's CUSUM is the
sequential test for such a change: it adds up the log-likelihood ratio of "changed"
against "normal" minute by minute, never below zero, and alarms when the sum crosses
`h`. Its false-alarm rate follows from `h` alone (Lorden: the average run length
between false alarms is at least e^h steps under the null), so a budget of false
alarms per brand and month translates into one threshold (`threshold_for_budget`)
instead of a score picked by hand.

Each detector runs a bank of designs at once: a large jump (a storm that explodes
within minutes) and small ones (a slow swell over hours, which only a long memory of
small excesses reveals). The statistic of each design rises fastest for changes of its
own size; the score is the largest. A minute without comments still counts: the sum
falls by what the normal minute would have brought.

river has no Poisson or binomial change detector (`river.drift.PageHinkley` is a CUSUM
on the mean of a Gaussian-like stream, wrong for sparse counts of 0, 1, 2 a minute), so
these two are written here as river anomaly detectors: `learn_one` commits a minute,
`score_one` says what the statistic would be after it without changing anything
(prequential order: score first, then learn).
"""

from __future__ import annotations

import functools
import math

from river import base

MINUTES_PER_MONTH = 30 * 1440
# No threshold is lower: a statistic under it cannot alarm, whatever the key expects.
THRESHOLD_FLOOR = 2.0


def threshold_for_budget(
    false_alarms_per_month: float, *, designs: int, steps_per_month: float = MINUTES_PER_MONTH
) -> float:
    """CUSUM threshold `h` for an expected number of false alarms per key and month.

    Lorden's bound: each design's average run length under the null is at least e^h
    steps, so `designs` designs over `steps_per_month` steps raise at most
    `designs * steps_per_month / e^h` false alarms a month.

    >>> round(threshold_for_budget(1.0, designs=3), 2)
    11.77
    >>> round(threshold_for_budget(0.1, designs=3), 2)
    14.07
    """
    if false_alarms_per_month <= 0:
        raise ValueError("false_alarms_per_month must be positive")
    return math.log(designs * steps_per_month / false_alarms_per_month)


@functools.cache
def _logs(ratios: tuple[float, ...]) -> tuple[float, ...]:
    """The logs of a bank's ratios, one tuple shared by every test with that bank (each
    key's step reads them; shared, they stay in the processor's cache)."""
    return tuple(math.log(r) for r in ratios)


class _CusumBank(base.AnomalyDetector):
    """What both CUSUMs share: one running sum per design, `_steps(x)` the sums after
    the step `x` (None when `x` lacks what the test needs: nothing changes)."""

    sums: list[float]

    def _steps(self, x: dict) -> list[float] | None:
        raise NotImplementedError

    def learn_one(self, x: dict) -> None:
        steps = self._steps(x)
        if steps is not None:
            self.sums = steps

    def score_one(self, x: dict) -> float:
        steps = self._steps(x)
        return max(steps if steps is not None else self.sums)

    @property
    def statistic(self) -> float:
        """The largest design's sum after the last learned step."""
        return max(self.sums)

    def reset(self) -> None:
        self.sums = [0.0] * len(self.sums)


class PoissonCusum(_CusumBank):
    """CUSUM for an increase of a (quasi-)Poisson rate, one bank of rate ratios.

    `x[count]` is the count of the step, `x[expected]` what the null expects in it and
    `x[dispersion]` the variance-to-mean ratio of normal counts (>= 1): the log-likelihood
    ratio is divided by it (quasi-likelihood), so bursty keys need more to alarm.

    >>> d = PoissonCusum()
    >>> for k in (0, 1, 0, 0, 1):  # normal minutes at 0.5 expected
    ...     d.learn_one({"count": k, "expected": 0.5})
    >>> round(d.score_one({"count": 0, "expected": 0.5}), 2)
    0.0
    >>> for k in (3, 4, 6):  # a storm starts
    ...     d.learn_one({"count": k, "expected": 0.5})
    >>> round(d.score_one({"count": 8, "expected": 0.5}), 2)
    30.35
    """

    def __init__(
        self,
        ratios: tuple[float, ...] = (1.5, 3.0, 10.0),
        count: str = "count",
        expected: str = "expected",
        dispersion: str = "dispersion",
    ) -> None:
        self.ratios = ratios
        self.count = count
        self.expected = expected
        self.dispersion = dispersion
        self._log_ratios = _logs(ratios)
        self.sums = [0.0] * len(ratios)

    def _steps(self, x: dict) -> list[float] | None:
        k = x.get(self.count)
        lam = x.get(self.expected)
        if k is None or lam is None or lam <= 0:
            return None
        return self._after(k, lam, max(1.0, x.get(self.dispersion, 1.0) or 1.0))

    def learn_count(self, count: float, expected: float, dispersion: float = 1.0) -> None:
        """`learn_one` of `{count, expected, dispersion}` without building the dict: the
        judge steps every key every minute, and the dict was most of a step's cost."""
        if expected <= 0:
            return
        sums = self.sums
        after = self._after(count, expected, dispersion if dispersion > 1.0 else 1.0)
        if after is not sums:
            # In place: a new list per key and minute would outlive its minute and keep
            # the garbage collector busy (at 500 brands half of what survived a minute).
            sums[:] = after

    def _after(self, k: float, lam: float, phi: float) -> list[float]:
        """Each design's sum after a step of `k` counts where `lam` were expected: up by
        its log-likelihood ratio over `phi`, never below zero. The usual bank of three
        designs is written out (the same operations in the same order, a few times
        faster than a loop); sums at zero stay there on a step without counts."""
        sums = self.sums
        if len(sums) != 3:
            return [
                max(0.0, s + (k * lr - (r - 1.0) * lam) / phi)
                for s, r, lr in zip(sums, self.ratios, self._log_ratios, strict=True)
            ]
        s1, s2, s3 = sums
        if k == 0 and not (s1 or s2 or s3):
            return sums
        r1, r2, r3 = self.ratios
        lr1, lr2, lr3 = self._log_ratios
        s1 += (k * lr1 - (r1 - 1.0) * lam) / phi
        s2 += (k * lr2 - (r2 - 1.0) * lam) / phi
        s3 += (k * lr3 - (r3 - 1.0) * lam) / phi
        return [s1 if s1 > 0.0 else 0.0, s2 if s2 > 0.0 else 0.0, s3 if s3 > 0.0 else 0.0]

    def decay_quiet(self, expected_total: float, dispersion: float = 1.0) -> None:
        """Learn a run of minutes without a single count in one step (an idle key catching
        up): each design falls by (r - 1) times the expected total, never below zero."""
        phi = max(1.0, dispersion)
        sums = self.sums
        if len(sums) != 3:
            self.sums = [
                max(0.0, s - (r - 1.0) * expected_total / phi)
                for s, r in zip(sums, self.ratios, strict=True)
            ]
            return
        # The usual bank written out, as in `_after` (the same operations in the same
        # order): every resting brand that speaks again takes this step, and at 20,000
        # brands of a few comments a day that is almost every comment.
        s1, s2, s3 = sums
        if not (s1 or s2 or s3):
            return  # zero stays zero
        r1, r2, r3 = self.ratios
        s1 = s1 - (r1 - 1.0) * expected_total / phi
        s2 = s2 - (r2 - 1.0) * expected_total / phi
        s3 = s3 - (r3 - 1.0) * expected_total / phi
        self.sums = [s1 if s1 > 0.0 else 0.0, s2 if s2 > 0.0 else 0.0, s3 if s3 > 0.0 else 0.0]

    def quiet_total_to_zero(self, dispersion: float = 1.0) -> float:
        """The expected total of a quiet run from which on `decay_quiet` leaves every design
        at zero (a hair above it, for rounding): an idle key catching up need not sum its
        expectations further than that."""
        phi = max(1.0, dispersion)
        sums = self.sums
        if len(sums) != 3:
            return max(s * phi / (r - 1.0) for s, r in zip(sums, self.ratios, strict=True)) * (
                1.0 + 1e-9
            )
        s1, s2, s3 = sums
        r1, r2, r3 = self.ratios
        return max(s1 * phi / (r1 - 1.0), s2 * phi / (r2 - 1.0), s3 * phi / (r3 - 1.0)) * (
            1.0 + 1e-9
        )


class BinomialCusum(_CusumBank):
    """CUSUM for an increase of the share of negative comments, one bank of odds ratios.

    `x[k]` negatives out of `x[n]` comments in the step, `x[share]` the usual share. A
    design with odds ratio r tests the usual share against the share whose odds are r
    times larger: a storm turns a thread's talk negative, a busy day only makes more of
    the usual mix, so this test stays quiet on a positive viral post or a launch.

    >>> d = BinomialCusum()
    >>> for k, n in ((0, 10), (1, 12), (1, 9)):
    ...     d.learn_one({"k": k, "n": n, "share": 0.1})
    >>> d.statistic
    0.0
    >>> for k, n in ((5, 9), (8, 12)):
    ...     d.learn_one({"k": k, "n": n, "share": 0.1})
    >>> round(d.statistic, 2)
    15.89
    """

    def __init__(
        self,
        odds_ratios: tuple[float, ...] = (2.5, 8.0),
        k: str = "k",
        n: str = "n",
        share: str = "share",
    ) -> None:
        self.odds_ratios = odds_ratios
        self.k = k
        self.n = n
        self.share = share
        self.sums = [0.0] * len(odds_ratios)
        self._cache_p0 = -1.0
        self._cache: tuple[tuple[float, float], ...] = ()

    def _weights(self, p0: float) -> tuple[tuple[float, float], ...]:
        """Per design: (log-LR of a negative, log-LR of any other comment)."""
        if p0 != self._cache_p0:
            odds0 = p0 / (1.0 - p0)
            out = []
            for r in self.odds_ratios:
                p1 = r * odds0 / (1.0 + r * odds0)
                out.append((math.log(p1 / p0), math.log((1.0 - p1) / (1.0 - p0))))
            self._cache = tuple(out)
            self._cache_p0 = p0
        return self._cache

    def _steps(self, x: dict) -> list[float] | None:
        k = x.get(self.k)
        n = x.get(self.n)
        p0 = x.get(self.share)
        if k is None or n is None or p0 is None or not 0.0 < p0 < 1.0:
            return None
        return self._after(k, n, p0)

    def learn_counts(self, k: int, n: int, share: float) -> None:
        """`learn_one` of `{k, n, share}` without building the dict (the judge's
        per-minute path). A step without comments leaves every sum as it is."""
        if n and 0.0 < share < 1.0:
            self.sums[:] = self._after(k, n, share)  # in place, as in `PoissonCusum.learn_count`

    def _after(self, k: float, n: float, p0: float) -> list[float]:
        """Each design's sum after `k` negatives of `n` comments; the usual bank of two
        designs written out (the same operations in the same order)."""
        k = min(k, n)
        sums = self.sums
        weights = self._weights(p0)
        if len(sums) != 2:
            return [
                max(0.0, s + k * wn + (n - k) * wo)
                for s, (wn, wo) in zip(sums, weights, strict=True)
            ]
        s1, s2 = sums
        (wn1, wo1), (wn2, wo2) = weights
        s1 = s1 + k * wn1 + (n - k) * wo1
        s2 = s2 + k * wn2 + (n - k) * wo2
        return [s1 if s1 > 0.0 else 0.0, s2 if s2 > 0.0 else 0.0]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cache_p0"] = -1.0
        state["_cache"] = ()
        return state


def _count_pmf(lam: float, dispersion: float, limit: int) -> list[float]:
    """P(K = k) for k < limit: Poisson(lam), or a negative binomial with the same mean and
    `dispersion` times its variance (the quasi-Poisson null of a bursty key). In log
    space, so that a large mean does not underflow.

    >>> [round(p, 4) for p in _count_pmf(1.0, 1.0, 3)]
    [0.3679, 0.3679, 0.1839]
    """
    lgamma, log = math.lgamma, math.log
    if dispersion <= 1.0001:
        log_lam = log(lam)
        return [math.exp(k * log_lam - lam - lgamma(k + 1)) for k in range(limit)]
    size = lam / (dispersion - 1.0)  # NB(size, prob): mean lam, variance lam * dispersion
    prob = size / (size + lam)
    head = size * log(prob) - lgamma(size)
    tail = log(1.0 - prob)
    return [math.exp(head + lgamma(k + size) - lgamma(k + 1) + k * tail) for k in range(limit)]


def poisson_cusum_arl(
    h: float, lam: float, ratio: float, dispersion: float = 1.0, grid: int = 100
) -> float:
    """Average run length (steps) of one CUSUM design under the null: a Markov chain on
    a grid of the statistic (Brook and Evans), solved exactly. A step that lands between
    two grid points is split between them in proportion, so the slow downward drift of a
    quiet key is not rounded away. Counts come from the null's own distribution, so the
    false-alarm rate is what a key with that expectation sees, not a bound.

    >>> round(poisson_cusum_arl(4.0, 1.0, 3.0), -1)
    350.0
    """
    import numpy as np

    phi = max(1.0, dispersion)
    up = math.log(ratio) / phi
    down = (ratio - 1.0) * lam / phi
    # Counts from `limit` on take every state over `h`: their mass, left out of the
    # chain, is exactly its alarm. (Cut off at six standard deviations instead, a bursty
    # key's negative binomial tail, 1e-5 of its mass a step, was counted as alarms from
    # every state, and the thresholds of keys with a dispersion of 2-5 came out several
    # nats too high or at the search's upper bound.)
    limit = max(int((h + down) / up) + 2, int(lam + 6 * math.sqrt(lam * phi) + 10))
    pmf = _count_pmf(lam, phi, limit)
    p = np.asarray(pmf)
    if float(p[int(down / up) + 1 :].sum()) < 1e-12:
        # A normal minute takes more than almost any count brings (a large ratio at a
        # busy key): the statistic all but never leaves zero, and the chain is singular
        # to working precision (its solved run length was meaningless, even negative).
        return math.inf
    delta = h / grid
    k = np.flatnonzero(p >= 1e-14)
    target = (
        np.maximum(np.arange(grid)[None, :] * delta + (k[:, None] * up - down), 0.0) / delta
    )  # (counts, states): where each state goes on each count, in grid units
    low = np.floor(target)
    frac = target - low
    low = np.minimum(low.astype(np.int64), grid)
    high = np.minimum(low + 1, grid)
    weight = p[k][:, None]
    base = np.arange(grid)[None, :] * (grid + 1)
    flat = np.concatenate(((base + low).ravel(), (base + high).ravel()))
    mass = np.concatenate(((weight * (1.0 - frac)).ravel(), (weight * frac).ravel()))
    q = np.bincount(flat, weights=mass, minlength=grid * (grid + 1)).reshape(grid, grid + 1)
    arl = np.linalg.solve(np.eye(grid) - q[:, :grid], np.ones(grid))
    return float(arl[0])


_ARL_MAX = 1e13  # run lengths past this are beyond the chain's precision: never
_RATE_MIN = 1e-13  # ... so alarm rates below this are all "never" to the search


def poisson_cusum_threshold(
    lam: float,
    ratios: tuple[float, ...],
    *,
    steps_per_alarm: float,
    dispersion: float = 1.0,
    floor: float = THRESHOLD_FLOOR,
) -> float:
    """The threshold at which a bank of designs raises one false alarm per
    `steps_per_alarm` steps on a key that expects `lam` per step (their alarm rates add),
    to within 5 % of that rate.

    log ARL grows almost linearly in h, so regula falsi on it (Illinois: the end that
    stays has its value halved) needs a few solves.

    >>> round(poisson_cusum_threshold(1.334, (1.5, 3.0, 10.0), steps_per_alarm=86400), 1)
    10.2
    """
    goal = math.log(1.0 / steps_per_alarm)

    def excess(h: float) -> float:
        """log(alarm rate at h) - log(target): positive while h is too low. A design
        whose normal minute takes more than a negative count can bring back (a large
        ratio at a busy key) all but never alarms: its chain is singular to working
        precision and its solved run length meaningless (even negative)."""
        arls = (poisson_cusum_arl(h, lam, r, dispersion) for r in ratios)
        rate = sum(1.0 / a for a in arls if 0.0 < a < _ARL_MAX)
        return math.log(max(rate, _RATE_MIN)) - goal

    lo, f_lo = floor, excess(floor)
    if f_lo <= 0.0:
        return lo
    # Lorden's bound holds for an exact likelihood ratio; a quasi-likelihood on bursty
    # counts can need more, up to twice it. (A secant search from twice it returned its
    # upper end whenever its first step landed within 5 % under the target, or the bound
    # of an earlier step: keys expecting about 0.9-1.6 negatives a minute were judged at
    # 24.9 instead of 10.1, at 0.06 and 0.1 at 11.6-11.7 instead of 9.8-10.1.)
    hi = math.log(len(ratios) * steps_per_alarm)
    f_hi = excess(hi)
    if f_hi > 0.0:
        lo, f_lo, hi = hi, f_hi, 2.0 * hi
        f_hi = excess(hi)
        if f_hi > 0.0:
            return hi
    side = 0
    for _ in range(30):
        guess = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        f = excess(guess)
        if abs(f) < 0.05:
            return guess
        if f > 0.0:
            lo, f_lo = guess, f
            if side == 1:
                f_hi /= 2.0
            side = 1
        else:
            hi, f_hi = guess, f
            if side == -1:
                f_lo /= 2.0
            side = -1
        if hi - lo < 0.05:
            break
    return hi


def binomial_cusum_arl(h: float, p0: float, odds_ratio: float, grid: int = 100) -> float:
    """Average run length, in comments, of one share-test design under the null (each
    comment negative with probability `p0`): the same Markov chain as for counts, with
    two steps, up by the log-likelihood ratio of a negative, down by that of any other.

    >>> round(binomial_cusum_arl(5.0, 0.1, 8.0), -1)
    970.0
    """
    import numpy as np

    odds0 = p0 / (1.0 - p0)
    p1 = odds_ratio * odds0 / (1.0 + odds_ratio * odds0)
    up = math.log(p1 / p0)
    down = math.log((1.0 - p1) / (1.0 - p0))  # negative
    delta = h / grid
    states = np.arange(grid) * delta
    rows = np.arange(grid)
    q = np.zeros((grid, grid + 1))
    for step, p in ((up, p0), (down, 1.0 - p0)):
        target = np.maximum(states + step, 0.0) / delta
        low = np.floor(target)
        frac = target - low
        low = np.minimum(low.astype(np.int64), grid)
        high = np.minimum(low + 1, grid)
        np.add.at(q, (rows, low), p * (1.0 - frac))
        np.add.at(q, (rows, high), p * frac)
    arl = np.linalg.solve(np.eye(grid) - q[:, :grid], np.ones(grid))
    return float(arl[0])


def binomial_cusum_threshold(
    p0: float,
    odds_ratios: tuple[float, ...],
    *,
    comments_per_alarm: float,
    floor: float = THRESHOLD_FLOOR,
) -> float:
    """The threshold at which a bank of share designs raises one false alarm per
    `comments_per_alarm` comments (bisection on the exact run lengths)."""
    target = 1.0 / comments_per_alarm

    def rate(h: float) -> float:
        return sum(1.0 / binomial_cusum_arl(h, p0, r) for r in odds_ratios)

    lo, hi = floor, math.log(len(odds_ratios) * comments_per_alarm)  # Lorden suffices
    if rate(lo) <= target:
        return lo
    while hi - lo > 0.1:
        mid = (lo + hi) / 2.0
        if rate(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi
