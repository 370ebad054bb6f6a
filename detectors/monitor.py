"""The tests of one key (a brand, or one thread of a brand), minute by minute.

Two sequential tests run side by side on the key's *effective* negative comments (each
account counts at most `ACCOUNT_CAP` times in `ACCOUNT_WINDOW` minutes, so one angry
customer or a bot account cannot look like a crowd, while a campaign of many people
posting the same text counts in full):

- the rate test (`PoissonCusum`): more negatives than the key's normal rate brings;
- the share test (`BinomialCusum`): a larger share of negatives among its comments than
  the brand's usual share.

A firestorm raises both. A positive viral post or a launch raises only the rate (busy
is not angry); a brand whose baseline is a little off in one direction raises only one
of them. The key's evidence is the smaller of the two statistics, each divided by its
threshold: 1.0 means both tests alarm.

Both nulls carry a tolerance (`TOLERANCE`): the normal rate and share are estimates, and
an error of a quarter must not look like a storm at a brand with thousands of comments
an hour, where Poisson noise alone would allow almost nothing.

Thresholds follow from the false-alarm budget (expected false alarms per brand and
month): the rate test's threshold is the one at which its designs, on the key's own
null (negative binomial with the brand's dispersion), raise that many false alarms
(`ThresholdTable`, computed exactly and cached); the share test's is the one at which
its designs raise that many over the comments a month brings (exact run lengths too).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping

from stormwatch.detectors.sequential import (
    MINUTES_PER_MONTH,
    BinomialCusum,
    PoissonCusum,
    binomial_cusum_threshold,
    poisson_cusum_threshold,
)

RATE_RATIOS = (1.5, 3.0, 10.0)  # slow swell over hours ... explosion within minutes
SHARE_ODDS = (2.5, 8.0)
# The most one negative comment can add to a design's sum: the log of the largest ratio
# (a Poisson design gains k log r less the expectation, over a dispersion >= 1; a
# binomial one log(p1 / p0) <= log r for a negative, less for any other comment).
RATE_GAIN_MAX = math.log(max(RATE_RATIOS))
SHARE_GAIN_MAX = math.log(max(SHARE_ODDS))
PEEK_MINUTES = 60  # the most open minutes an early look steps through one by one
TOLERANCE = 0.25  # how far the normal rate and share may be off without being a storm
ACCOUNT_CAP = 2  # negatives one account adds to a key within ACCOUNT_WINDOW minutes
ACCOUNT_WINDOW = 30
CEILING = 2.0  # statistics stop at this many thresholds: a past surge fades in bounded time
THREAD_STEPS = 20.0  # thread-minutes per brand-minute that can alarm (concurrent threads)
RECENT_FAST = 0.01  # decayed negatives from which a thread counts for its brand's top thread
EXTRA_SHARE_MIN = 1.0 / 3.0  # a storm's extra comments: at least a third negative
EXTRA_SHARE_LED = 0.5  # ... at least half, for the rate test to lead (`excursion_mostly_negative`)
_NO_EXCURSION = (0, 0, 0.0, 0.0)
_NO_READ = (0.0, 0.0)
_NO_FLOOR: tuple[float, ...] = ()
_HOUR = 0.5 ** (1.0 / 60.0)  # a key's last hour: decayed with a half-life of an hour
_FAST = 0.5 ** (1.0 / 5.0)  # recent rate: half-life of 5 minutes
_SLOW = 0.5 ** (1.0 / 15.0)  # half-life of 15 minutes: who carries a brand's storm


_blas = None  # one threadpoolctl controller: building one scans every loaded library


def _one_blas_thread():  # type: ignore[no-untyped-def]
    """Small dense solves: BLAS threads only add contention here."""
    global _blas
    if _blas is None:
        import numpy  # noqa: F401 - loaded before the controller looks for its BLAS
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController()
    return _blas.limit(limits=1)


class ThresholdTable:
    """Rate-test thresholds by expected count and dispersion, computed once per bucket
    (an eighth of a decade of the expected count, half a unit of dispersion).

    The buckets are pure functions of the budget, so every table of a process shares
    them (`_RATE`, `_SHARE`): a bucket costs milliseconds of exact computation, and a
    process that runs many pipelines (a worker's partitions, an evaluation's streams, a
    restore from a checkpoint) would otherwise pay it again for each.

    >>> t = ThresholdTable(false_alarms_per_month=1.0)
    >>> round(t.rate(0.5, 1.0, thread=False), 1), round(t.rate(0.5, 1.0, thread=True), 1)
    (10.2, 13.1)
    """

    # (budget, expected-count bucket, dispersion bucket, thread) -> threshold
    _RATE: dict[tuple[float, int, int, bool], float] = {}
    # (budget, volume bucket, share bucket) -> threshold
    _SHARE: dict[tuple[float, int, int], float] = {}

    def __init__(self, false_alarms_per_month: float = 1.0) -> None:
        if false_alarms_per_month <= 0:
            raise ValueError("false_alarms_per_month must be positive")
        self.budget = false_alarms_per_month
        # No memo of exact arguments: they change every minute as baselines learn, so it
        # almost never hit, and its entries outlived their minute (garbage collections).
        # The judge asks once per key and minute instead.

    def rate(self, lam: float, dispersion: float, *, thread: bool) -> float:
        key = (
            self.budget,
            round(8.0 * math.log10(max(lam, 1e-5))),
            round(2.0 * max(1.0, dispersion)),
            thread,
        )
        h = self._RATE.get(key)
        return h if h is not None else self._rate(key)

    def _rate(self, key: tuple[float, int, int, bool]) -> float:
        """The threshold of a bucket not computed yet."""
        budget, b_lam, b_phi, thread = key
        # Half the budget for the brand's own key, half for all its threads.
        steps = MINUTES_PER_MONTH / (budget / 2.0)
        if thread:
            steps *= THREAD_STEPS
        with _one_blas_thread():
            h = poisson_cusum_threshold(
                10.0 ** (b_lam / 8.0),
                RATE_RATIOS,
                steps_per_alarm=steps,
                dispersion=b_phi / 2.0,
            )
        self._RATE[key] = h
        return h

    def share(self, volume_per_min: float, share: float) -> float:
        """Share-test threshold for a brand with this volume and usual share: one false
        alarm per the comments a month brings over half the budget (threads split the
        brand's comments between them, so all its share tests together see those)."""
        odds = share / (1.0 - share) * (1.0 + TOLERANCE)
        key = (
            self.budget,
            round(8.0 * math.log10(max(volume_per_min, 1.0 / 1440.0))),
            round(100.0 * odds / (1.0 + odds)),
        )
        h = self._SHARE.get(key)
        return h if h is not None else self._share(key)

    def _share(self, key: tuple[float, int, int]) -> float:
        """The threshold of a bucket not computed yet."""
        budget, b_volume, b_share = key
        comments = 10.0 ** (b_volume / 8.0) * MINUTES_PER_MONTH
        with _one_blas_thread():
            h = binomial_cusum_threshold(
                min(0.9, max(0.01, b_share / 100.0)),
                SHARE_ODDS,
                comments_per_alarm=comments / (budget / 2.0),
            )
        self._SHARE[key] = h
        return h

    def __getstate__(self) -> dict:
        return {"budget": self.budget}

    def __setstate__(self, state: dict) -> None:
        # Checkpoints from before the buckets were shared carry per-table caches (and
        # older ones a memo of exact arguments): the buckets are recomputed when asked.
        self.budget = state["budget"]


def normal_negatives(lam: float, volume: float, share: float) -> float:
    """Negatives a key's normal brings with `volume` comments: at its usual share, at
    most its normal rate `lam` (the two differ while extra comments are counted from the
    volume before a surge)."""
    return min(lam, volume * share)


def mostly_not_negative(
    comments: float, negatives: float, expected_comments: float, expected_negatives: float
) -> bool:
    """At least twice the comments normal brings, and under `EXTRA_SHARE_MIN` of those
    over normal negative: a launch or a viral post, not a storm.

    >>> mostly_not_negative(100, 20, 10, 1)  # 90 extra comments, 19 of them negative
    True
    >>> mostly_not_negative(100, 60, 10, 1), mostly_not_negative(15, 1, 10, 1)
    (False, False)
    """
    extra = comments - expected_comments
    if extra <= 0.0 or extra < expected_comments:
        return False
    return negatives - expected_negatives < EXTRA_SHARE_MIN * extra


def mostly_negative(
    comments: float,
    negatives: float,
    expected_comments: float,
    expected_negatives: float,
    at_least: float = 0.0,
) -> bool:
    """More than `at_least` negatives over normal, and at least `EXTRA_SHARE_LED` of
    the comments over normal negative (all of them when there are no more comments
    than normal).

    >>> mostly_negative(40, 25, 10, 1), mostly_negative(10, 4, 10, 1)
    (True, True)
    >>> mostly_negative(100, 20, 10, 1), mostly_negative(10, 1, 10, 1)
    (False, False)
    >>> mostly_negative(10, 4, 10, 1, at_least=10)
    False
    >>> mostly_negative(30, 11, 20, 1, at_least=10), mostly_negative(30, 11.5, 20, 1, at_least=10)
    (False, True)
    """
    extra_negatives = negatives - expected_negatives
    if extra_negatives <= max(0.0, at_least):
        return False
    return extra_negatives >= EXTRA_SHARE_LED * (comments - expected_comments)


class KeyMonitor:
    """Tests and recent rates of one key.

    >>> table = ThresholdTable()
    >>> m = KeyMonitor()
    >>> for minute in range(60):  # a quiet hour: 10 comments a minute, 1 negative
    ...     m.note_negative(f"a{minute}", minute)
    ...     _ = m.step(minute, n=10, lam=1.0, dispersion=1.0, share=0.1)
    >>> round(m.evidence(table, lam=1.0, dispersion=1.0, volume=10.0, share=0.1, thread=False), 2)
    0.0
    >>> for minute in range(60, 70):  # then 12 negatives a minute from different people
    ...     for i in range(12):
    ...         m.note_negative(f"p{minute}-{i}", minute)
    ...     _ = m.step(minute, n=20, lam=1.0, dispersion=1.0, share=0.1)
    >>> m.evidence(table, lam=1.0, dispersion=1.0, volume=10.0, share=0.1, thread=False) >= 1.0
    True
    """

    __slots__ = (
        "rate",
        "share",
        "pending",
        "caps",
        "fast",
        "slow",
        "fast_n",
        "last_minute",
        "rising_since",
        "excursion",
        "excursion_read",
        "rate_floor",
        "hour",
    )

    def __init__(self) -> None:
        self.rate = PoissonCusum(RATE_RATIOS)
        self.share = BinomialCusum(SHARE_ODDS)
        # Effective negatives noted but not yet stepped, by their event minute: a
        # comment counts when its own minute closes (or the next close, if late), never
        # before, so the tests see negatives and volume of the same minutes.
        self.pending: dict[int, int] = {}
        self.caps: dict[str, tuple[int, int]] = {}  # account -> (window start, negatives)
        self.fast = 0.0  # decayed sums of effective negatives and of comments
        self.slow = 0.0
        self.fast_n = 0.0
        self.last_minute = -1
        self.rising_since = -1  # the last minute the share test stood at zero
        # Since then: comments, effective negatives, and what the key's normal expected
        # of each (`excursion_mostly_not_negative`). Not since both tests stood at zero:
        # at a busy key the rate test seldom does, and a storm's post counted hours of
        # its ordinary popularity as extra comments, mostly not negative.
        self.excursion = _NO_EXCURSION
        # What the key's normal expected of the excursion's minutes with comments alone
        # (comments, negatives): the minutes its share test read (`excursion_read_mostly_negative`).
        self.excursion_read = _NO_READ
        # Each rate design's lowest sum since the judge last found its evidence spent
        # (`spend_rate`, `rate_gain`); empty: none spent.
        self.rate_floor: tuple[float, ...] = _NO_FLOOR
        # The same four over about the last hour, decayed (`hour_mostly_not_negative`):
        # not restarted when the share test is back at zero.
        self.hour = _NO_EXCURSION

    def __setstate__(self, state: tuple[None, dict]) -> None:
        slots = state[1]
        slots.setdefault("excursion", _NO_EXCURSION)  # a checkpoint from before it
        slots.setdefault("excursion_read", (slots["excursion"][2], slots["excursion"][3]))
        slots.setdefault("hour", _NO_EXCURSION)
        # From before it: nothing spent.
        slots.setdefault("rate_floor", _NO_FLOOR)
        for name, value in slots.items():
            setattr(self, name, value)

    def note_negative(self, account: str, minute: int) -> None:
        """One negative comment of `account` (per comment: cheap)."""
        caps = self.caps
        entry = caps.get(account)
        if entry is None or minute - entry[0] >= ACCOUNT_WINDOW:
            caps[account] = (minute, 1)
        elif entry[1] < ACCOUNT_CAP:
            caps[account] = (entry[0], entry[1] + 1)
        else:
            return
        pending = self.pending
        pending[minute] = pending.get(minute, 0) + 1

    def step(
        self,
        minute: int,
        *,
        n: int,
        lam: float,
        dispersion: float,
        share: float,
        volume: float | None = None,
    ) -> int:
        """Closes one minute with `n` comments; returns its effective negatives.
        `volume`: the comments its excursion counts as normal (default: `lam / share`)."""
        pending = self.pending
        eff = 0
        if pending:
            due = [m for m in pending if m <= minute]
            for m in due:
                eff += pending.pop(m)
        self.last_minute = minute
        self.rate.learn_count(eff, lam * (1.0 + TOLERANCE), dispersion)
        comments = max(n, eff)
        if comments:  # without comments the share test stands still
            odds = share / (1.0 - share) * (1.0 + TOLERANCE)
            self.share.learn_counts(eff, comments, odds / (1.0 + odds))
        self.fast = self.fast * _FAST + eff
        self.slow = self.slow * _SLOW + eff
        self.fast_n = self.fast_n * _FAST + n
        if volume is None:
            volume, expected = lam / share, lam
        else:
            expected = normal_negatives(lam, volume, share)
        c, k, expected_c, expected_k = self.hour
        self.hour = (
            c * _HOUR + n, k * _HOUR + eff, expected_c * _HOUR + volume,
            expected_k * _HOUR + expected,
        )  # fmt: skip
        if self.share.statistic == 0.0:
            self.rising_since = minute
            self.excursion = _NO_EXCURSION
            self.excursion_read = _NO_READ
        else:
            c, k, expected_c, expected_k = self.excursion
            self.excursion = (c + n, k + eff, expected_c + volume, expected_k + expected)
            if comments:
                # What normal brings to a minute known to have comments (a Poisson
                # count given that it is not zero): at a key that expects a comment an
                # hour, each such minute still holds one.
                read_c, read_k = self.excursion_read
                if volume > 1e-9:
                    given = volume / -math.expm1(-volume)
                    self.excursion_read = (read_c + given, read_k + expected * given / volume)
                else:
                    self.excursion_read = (read_c + 1.0, read_k)
        if self.rate_floor:
            self._lower_rate_floor()
        if len(self.caps) > 64 and minute % ACCOUNT_WINDOW == 0:
            self.caps = {a: e for a, e in self.caps.items() if minute - e[0] < ACCOUNT_WINDOW}
        return eff

    def may_reach(self, minute: int, h_rate: float, h_share: float) -> bool:
        """Whether the negatives already in for the minutes after `minute`, counted now
        however they fall (`peek`), could bring either test to its threshold: each
        lifts a design's sum by at most `RATE_GAIN_MAX` or `SHARE_GAIN_MAX`. A key with
        a negative or two waiting and both tests far under their thresholds, as most
        keys with negatives are at most closes, needs no look ahead."""
        k = self.ahead(minute)
        return (
            self.rate.statistic + k * RATE_GAIN_MAX >= h_rate
            or self.share.statistic + k * SHARE_GAIN_MAX >= h_share
        )

    def ahead(self, minute: int) -> int:
        """Effective negatives already in for minutes after `minute` (still open)."""
        return sum(c for m, c in self.pending.items() if m > minute) if self.pending else 0

    def peek(
        self,
        minute: int,
        comments: Mapping[int, int],
        *,
        lam: float,
        dispersion: float,
        share: float,
    ) -> tuple[float, float]:
        """Each statistic if what is already in for the minutes after `minute` (still
        open; `comments`: minute -> its comments so far) counted now (river's
        `score_one`: nothing is learned). Those counts only grow with late data, so a
        test they already push over its threshold may decide at once instead of a
        minute or two later.

        The larger of two readings. All at once, over the minutes that have comments:
        what early firing read from the start, and what its false-alarm figures were
        measured with; it does not charge the quiet minutes between a storm's bursts.
        And minute by minute up to the newest, as the closes will step them, taking
        the largest value on the way: summed into one step, a storm's fullest open
        minute paid for the expectation of the newest ones, which have hardly begun (a
        post's rate test read 0.93 of its threshold early and 1.19 at the close a
        minute later, on the same negatives)."""
        pending = self.pending
        if not pending:
            return self.rate.statistic, self.share.statistic
        odds = share / (1.0 - share) * (1.0 + TOLERANCE)
        p0 = odds / (1.0 + odds)
        expected = lam * (1.0 + TOLERANCE)
        k_all = sum(c for m, c in pending.items() if m > minute)
        n_all = sum(n for m, n in comments.items() if m > minute)
        top_rate = max(
            self.rate.statistic,
            self.rate.score_one(
                {"count": k_all, "expected": expected * max(1, len(comments)),
                 "dispersion": dispersion}
            ),
        )  # fmt: skip
        top_share = max(
            self.share.statistic,
            self.share.score_one({"k": k_all, "n": max(n_all, k_all), "share": p0}),
        )
        # (Open minutes reach the allowed lateness and a little past the newest comment;
        # the cap only bounds the loop should a key hold a stray far-ahead minute.)
        last = min(max(max(pending), max(comments, default=minute)), minute + PEEK_MINUTES)
        path_rate, path_share = self._through(minute, last, comments, expected, dispersion, p0)
        return max(top_rate, path_rate), max(top_share, path_share)

    def _through(
        self,
        minute: int,
        last: int,
        comments: Mapping[int, int],
        expected: float,
        dispersion: float,
        p0: float,
    ) -> tuple[float, float]:
        """Both statistics' largest values stepping minutes `minute` + 1 to `last` as
        closes do, on copies (nothing learned)."""
        pending = self.pending
        rate = copy.copy(self.rate)
        rate.sums = list(rate.sums)
        shares = copy.copy(self.share)
        shares.sums = list(shares.sums)
        top_rate, top_share = rate.statistic, shares.statistic
        for m in range(minute + 1, last + 1):
            k = pending.get(m, 0)
            rate.learn_count(k, expected, dispersion)
            n = max(comments.get(m, 0), k)
            if n:
                shares.learn_counts(k, n, p0)
            top_rate = max(top_rate, rate.statistic)
            top_share = max(top_share, shares.statistic)
        return top_rate, top_share

    def caught_up(self, minutes: int, lam_total: float, dispersion: float) -> KeyMonitor:
        """A copy taken through `minutes` quiet closed minutes (`quiet`), this one left
        as it is: what a resting key's tests would show now, for a look between closes
        that must not change what the next close computes. Shallow: `quiet` rebinds what
        it changes (the rate test's sums, the recent rates), and a look mutates nothing."""
        clone = copy.copy(self)
        clone.rate = copy.copy(self.rate)
        clone.quiet(minutes, lam_total, dispersion)
        return clone

    def quiet(
        self,
        minutes: int,
        lam_total: float,
        dispersion: float,
        volume_total: float = 0.0,
        normal_total: float | None = None,
    ) -> None:
        """`minutes` closed minutes without a comment, at once (an idle key catching up;
        `volume_total`: the comments its normal expected in them, if known;
        `normal_total`: the negatives it expected in them, for the last hour, where
        `lam_total` stops short of them: a resting brand sums its tests' expectation
        only as far as takes them to zero)."""
        if minutes <= 0:
            return
        self.rate.decay_quiet(lam_total * (1.0 + TOLERANCE), dispersion)
        if self.share.statistic:  # (without comments it stands still)
            c, k, expected_c, expected_k = self.excursion
            self.excursion = (c, k, expected_c + volume_total, expected_k + lam_total)
        if self.rate_floor:
            self._lower_rate_floor()
        c, k, expected_c, expected_k = self.hour
        decay = _HOUR**minutes
        stretch = (1.0 - decay) / (1.0 - _HOUR) / minutes  # a minute's mean decayed weight
        if normal_total is None:
            normal_total = lam_total
        self.hour = (
            c * decay, k * decay, expected_c * decay + volume_total * stretch,
            expected_k * decay + normal_total * stretch,
        )  # fmt: skip
        fast = _FAST**minutes
        self.fast *= fast
        self.slow *= _SLOW**minutes
        self.fast_n *= fast
        self.last_minute += minutes

    def evidence(
        self,
        table: ThresholdTable,
        *,
        lam: float,
        dispersion: float,
        volume: float,
        share: float,
        thread: bool,
        share_only: bool = False,
    ) -> float:
        """Both tests' statistics over their thresholds, the smaller: >= 1 alarms.
        `share_only` while a brand is new and its normal rate is not known yet."""
        h_share = table.share(volume, share)
        share = self.share.statistic / h_share
        if share_only:
            return share
        h_rate = table.rate(lam * (1.0 + TOLERANCE), dispersion, thread=thread)
        return min(self.rate.statistic / h_rate, share)

    def clip(self, table: ThresholdTable, *, lam: float, dispersion: float, volume: float,
             share: float, thread: bool) -> None:  # fmt: skip
        """Caps both statistics at `CEILING` thresholds, so the memory of a past surge
        fades in bounded time even at a key that expects almost nothing."""
        self.clip_at(
            table.rate(lam * (1.0 + TOLERANCE), dispersion, thread=thread),
            table.share(volume, share),
        )

    def clip_at(self, h_rate: float, h_share: float) -> None:
        """`clip` with both thresholds known already (the judge looks each up once per
        brand and minute): caps at `CEILING` times them."""
        self.clip_rate(h_rate)
        self.clip_share(h_share)

    def clip_rate(self, h_rate: float) -> None:
        """The rate test's half of `clip_at`."""
        cap = CEILING * h_rate
        sums = self.rate.sums
        if max(sums) > cap:
            sums[:] = [min(s, cap) for s in sums]  # in place, as the tests step

    def clip_share(self, h_share: float) -> None:
        """The share test's half of `clip_at`."""
        cap = CEILING * h_share
        sums = self.share.sums
        if max(sums) > cap:
            sums[:] = [min(s, cap) for s in sums]

    def recent_with(self, ahead: list[tuple[int, int]]) -> tuple[float, float, float]:
        """`recent_rate`, `recent_volume`, `recent_slow` with the minutes still open
        counted in, as `(minute, comments)` in minute order: what runs now, when a
        decision counts those minutes. The newest is only partly in, so the judge takes
        the larger of these and the closed minutes' own."""
        fast, slow, fast_n = self.fast, self.slow, self.fast_n
        pending = self.pending
        for m, n in ahead:
            k = pending.get(m, 0)
            fast = fast * _FAST + k
            slow = slow * _SLOW + k
            fast_n = fast_n * _FAST + max(n, k)
        return fast * (1.0 - _FAST), fast_n * (1.0 - _FAST), slow * (1.0 - _SLOW)

    def recent_rate(self) -> float:
        """Effective negatives per minute, last ~5 minutes."""
        return self.fast * (1.0 - _FAST)

    def recent_volume(self) -> float:
        """Comments per minute, last ~5 minutes."""
        return self.fast_n * (1.0 - _FAST)

    def recent_slow(self) -> float:
        """Effective negatives per minute, last ~15 minutes."""
        return self.slow * (1.0 - _SLOW)

    def reset(self) -> None:
        self.rate.reset()
        self.share.reset()
        self.rising_since = self.last_minute
        self.excursion = _NO_EXCURSION
        self.excursion_read = _NO_READ
        self.rate_floor = _NO_FLOOR

    def spend_rate(self) -> None:
        """The rate test's evidence so far is explained (over its threshold while the
        share test stands at zero: more talk at the usual share, a launch's or a busy
        day's): from here on only what it gains anew may lead (`rate_gain`)."""
        self.rate_floor = tuple(self.rate.sums)

    def _lower_rate_floor(self) -> None:
        floor, sums = self.rate_floor, self.rate.sums
        for s, f in zip(sums, floor, strict=True):
            if s < f:
                self.rate_floor = tuple(min(s, f) for s, f in zip(sums, floor, strict=True))
                return

    def rate_gain(self) -> float:
        """What the rate test holds that is not spent (`spend_rate`): the most any
        design rose from its lowest sum since it was; all it holds when nothing was. A
        slow design near its threshold takes hours to fall back (at 1.5x it falls by
        half the expected negatives a minute): a launch's volume, at about the usual
        share, left a brand's over its threshold for eleven hours, and a later cluster
        of complaints, its share test half-way, led it to an alert on evidence that was
        mostly the launch's."""
        floor = self.rate_floor
        if not floor:
            return self.rate.statistic
        return max(s - f for s, f in zip(self.rate.sums, floor, strict=True))

    def excursion_mostly_not_negative(self) -> bool:
        """Since its share test last stood at zero the key had at least twice the
        comments its normal expected, and under a third of those over normal were
        negative: a launch or a viral post a little more negative than everyday talk,
        not a storm (whose crowd is mostly negative). The tests cannot tell them apart:
        over hours of a launch's volume a small lift in the share becomes evidence, and
        at a small brand the usual share is known from a few dozen comments (a launch at
        a brand of 82 a day whose first day had 3 negatives in 89: 15 % of the launch's
        comments were negative, 4x what it had learned)."""
        return mostly_not_negative(*self.excursion)

    def excursion_mostly_negative(self, at_least: float = 0.0) -> bool:
        """Since its share test last stood at zero, more than `at_least` negatives over
        normal and at least half of the comments over normal negative
        (`mostly_negative`)."""
        return mostly_negative(*self.excursion, at_least=at_least)

    def excursion_read_mostly_negative(self, at_least: float = 0.0) -> bool:
        """`excursion_mostly_negative` against what the key's normal expected of the
        minutes with comments alone: without comments the share test stands still, so
        a quiet post's excursion can last hours, and each quiet minute of it would
        count the negatives of its brand's busiest post as expected."""
        comments, negatives, _, _ = self.excursion
        return mostly_negative(comments, negatives, *self.excursion_read, at_least=at_least)

    def excursion_without_more_talk(self) -> bool:
        """Since its share test last stood at zero the key's comments that are not
        negative were no more than their normal: its negatives came on top of the
        usual talk, not with more of it. A storm at the usual volume; a launch post
        draws more of everything (one at a brand of 489 a day: 159 comments over its
        excursion where 100 were expected, 114 of them not negative against 89)."""
        comments, negatives, expected_comments, expected_negatives = self.excursion
        return comments - negatives <= expected_comments - expected_negatives

    def hour_mostly_not_negative(self) -> bool:
        """`excursion_mostly_not_negative` over about the last hour (decayed with a
        half-life of an hour), whatever the share test did: its excursion starts afresh
        whenever it is back at zero, and a launch's complaints come in clusters. At a
        brand of 194 a day, 10 of 16 comments were negative within three minutes, 35
        minutes into a launch whose last hour was 29 % negative over normal (13-19 % in
        the hours after); on a launch post of a brand of 489 a day, 21 of 57 comments
        in twenty minutes, an hour in, after 20 of 114 before them."""
        return mostly_not_negative(*self.hour)

    def hour_mostly_negative(self, at_least: float = 0.0) -> bool:
        """`excursion_mostly_negative` over about the last hour (decayed with a
        half-life of an hour): a storm that is most of a small brand's talk makes the
        brand's comments surge, and its hour says it is not a launch's."""
        return mostly_negative(*self.hour, at_least=at_least)

    def hour_volume(self) -> float:
        """Comments per minute over about the last hour."""
        return self.hour[0] * (1.0 - _HOUR)

    def evidence_minutes(self, minute: int) -> int:
        """How long the current excursion of the share test has been building."""
        return minute - self.rising_since if self.rising_since >= 0 else 0

    @property
    def idle(self) -> bool:
        """Nothing to remember: the key may skip its minutes until it speaks again."""
        return (
            self.fast < RECENT_FAST
            and not self.pending
            and self.rate.statistic == 0.0
            and self.share.statistic == 0.0
        )
