"""What is normal for a brand: expected comments per minute at this time of day, the
usual share of negative comments, how bursty its counts are, and how much of its
negative talk one thread usually draws.

The level follows the daily rhythm through 24
hour-of-day slots that each learn across days; until a slot has seen half an hour of
its hour, a 60-minute moving level stands in. The negative share moves slowly
(half-life of a day) and starts from a prior (10 % negative, worth 50 comments), so a
brand with few comments learned is judged against a typical brand rather than against
nothing.

Why not `river.stats.EWMean`: it starts at its first value, so with a half-life of a
day a brand's first minute would stand for its "usual" share for days; `DecayingMean`
corrects for the missing history instead (the weight seen so far divides the sum).
Why not `river.time_series.HoltWinters` for the rhythm: it needs whole seasons to
initialise, its multiplicative form breaks on the zero counts of small brands, and a
season of 1,440 minutes would be one parameter per minute. Hour slots of exponentially
weighted means are the same idea, robust at 40 comments a day.

A storm must never become normal. Learning is the caller's decision (only minutes the
tests judge normal), and what is learned is winsorised: a minute counts at most a few
standard deviations above the expectation, so a surge that slips under the tests still
moves the baseline only a little.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

MINUTES_PER_DAY = 1440
MIN_SHARE = 0.02
MAX_SHARE = 0.6
MIN_NEG_PER_MIN = 1.0 / MINUTES_PER_DAY  # one negative comment a day, the quietest brand
MIN_THREAD_SHARE = 0.1
MAX_DISPERSION = 5.0
MAX_VOLUME_DISPERSION = 50.0
PRIOR_SHARE = 0.1  # a typical brand's negative share, before its own is known
PRIOR_COMMENTS = 50.0  # how many comments the prior share is worth
SLOT_WARM = 30  # minutes of an hour slot seen before it stands on its own
WINSOR_Z = 3.0  # learned counts are clipped this many standard deviations above normal
DISPERSION_BLOCK = 10  # minutes per count in the dispersion estimate
# A quiet stretch of at most this many minutes meets each hour slot once: a second visit
# of its first slot needs a minute of it, 23 hours, and a minute of it again.
SLOTS_ONCE = 23 * 60 + 1
# A block is reset in place and an empty one shared: at hundreds of brands, new ones each
# block outlived their minute and kept the garbage collector busy.
_NEW_BLOCK = (0.0, 0.0, 0, 0.0)
_EMPTY_BLOCK = (0.0, 0.0, 0.0)


@functools.cache
def _logs(decay: float) -> tuple[float, float]:
    """log(decay) and expm1 of it: a handful of half-lives, and idle brands catching up
    ask for them several times each (as `sequential._logs` keeps a bank's logs)."""
    log = math.log(decay)
    return log, math.expm1(log)


class DecayingMean:
    """Exponentially weighted mean with bias correction: early values are not pulled
    towards zero (as an EWMA started at 0 would) nor held at the first value (as one
    started there would).

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

    def update(self, x: float) -> None:
        self.weighted = self.weighted * self.decay + x
        self.weight = self.weight * self.decay + 1.0

    def get(self, default: float = 0.0) -> float:
        return self.weighted / self.weight if self.weight > 1e-12 else default

    def after_zeros(self, steps: float) -> float:
        """`get()` after `steps` updates with 0.0, without making them (`steps` may be a
        fraction: the curve between two whole steps)."""
        log_decay, expm1_log = _logs(self.decay)
        factor = math.exp(steps * log_decay)
        weight = self.weight * factor + math.expm1(steps * log_decay) / expm1_log
        return self.weighted * factor / weight if weight > 1e-12 else 0.0

    def update_zeros(self, steps: int) -> None:
        """`steps` updates with 0.0 at once (equal to them within rounding)."""
        log_decay, expm1_log = _logs(self.decay)
        factor = math.exp(steps * log_decay)
        self.weighted *= factor
        # 1 + d + ... + d^(steps-1), without the cancellation of 1 - d near d = 1.
        self.weight = self.weight * factor + math.expm1(steps * log_decay) / expm1_log


def winsorised(count: float, expected: float, dispersion: float = 1.0) -> float:
    """`count`, clipped at `WINSOR_Z` quasi-Poisson standard deviations above `expected`.

    >>> winsorised(3, 2.0), winsorised(200, 2.0)
    (3, 7.242640687119286)
    """
    cap = expected + WINSOR_Z * math.sqrt(max(expected, 1.0) * dispersion) + 1.0
    return count if count <= cap else cap


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
    """Seasonal level, negative share, count dispersion and thread share of one brand.

    >>> b = BrandBaseline()
    >>> for minute in range(120):
    ...     b.learn(minute, n=10, neg=1)
    >>> e = b.expected(120)
    >>> round(e.volume_per_min, 2), round(e.neg_share, 3)
    (10.0, 0.1)
    """

    __slots__ = (
        "level",
        "slots",
        "slot_seen",
        "neg",
        "total",
        "comments",
        "dispersion",
        "volume_spread",
        "burst_spread",
        "thread_share",
        "minutes",
        "_block",
        "_previous_block",
    )

    def __init__(self, *, level_half_life: float = 60.0, share_half_life: float = 1440.0) -> None:
        self.level = DecayingMean(level_half_life)
        # A slot is visited 60 times a day; half-life of two days of that hour.
        self.slots = [DecayingMean(120.0) for _ in range(24)]
        self.slot_seen = [0] * 24
        self.neg = DecayingMean(share_half_life)
        self.total = DecayingMean(share_half_life)
        self.comments = 0.0  # comments learned, capped: how far the prior share still counts
        self.dispersion = DecayingMean(share_half_life / DISPERSION_BLOCK)
        self.volume_spread = DecayingMean(share_half_life / DISPERSION_BLOCK)
        # The same of the counts as they came, bursts included (not winsorised): what
        # the volume test takes as the brand's normal, so a brand whose talk comes in
        # bursts is not surging at each of them.
        self.burst_spread = DecayingMean(share_half_life / DISPERSION_BLOCK)
        self.thread_share = DecayingMean(share_half_life)
        self.minutes = 0
        # Negatives, comments (winsorised) and minutes in the current dispersion
        # block, and its comments as they came.
        self._block = [0.0, 0.0, 0, 0.0]
        self._previous_block: tuple[float, float, float] | None = None

    def __setstate__(self, state: tuple[None, dict]) -> None:
        # A checkpoint from before the burst spread: it starts from the winsorised one,
        # and a block's counts as they came from its winsorised ones.
        slots = state[1]
        slots.setdefault("burst_spread", copy.copy(slots["volume_spread"]))
        block = slots["_block"]
        if len(block) == 3:
            block.append(block[1])
        previous = slots["_previous_block"]
        if previous is not None and len(previous) == 2:
            slots["_previous_block"] = (*previous, previous[1])
        for name, value in slots.items():
            setattr(self, name, value)

    def volume(self, minute: int) -> float:
        slot = (minute // 60) % 24
        if self.slot_seen[slot] >= SLOT_WARM:
            return self.slots[slot].get()
        return self.level.get() if self.minutes else 0.0

    def share(self) -> float:
        total = self.total.get() if self.minutes else 0.0
        learned = self.neg.get() / total if total > 0 else PRIOR_SHARE
        w = self.comments / (self.comments + PRIOR_COMMENTS)
        return min(MAX_SHARE, max(MIN_SHARE, w * learned + (1.0 - w) * PRIOR_SHARE))

    def expected(self, minute: int) -> Expectation:
        return Expectation(
            volume_per_min=self.volume(minute),
            neg_share=self.share(),
            dispersion=self.current_dispersion(),
            minutes_seen=self.minutes,
        )

    def current_dispersion(self) -> float:
        if self.minutes < 60:
            return 1.0
        return min(MAX_DISPERSION, max(1.0, self.dispersion.get(1.0)))

    def volume_dispersion(self) -> float:
        """Variance / mean of 10-minute comment counts as learned (winsorised): how far
        a minute may lie above the expectation and still be learned in full."""
        if self.minutes < 60:
            return 1.0
        return min(MAX_VOLUME_DISPERSION, max(1.0, self.volume_spread.get(1.0)))

    def burst_dispersion(self) -> float:
        """Variance / mean of 10-minute comment counts as they came, bursts included:
        the volume test's null."""
        if self.minutes < 60:
            return 1.0
        return min(MAX_VOLUME_DISPERSION, max(1.0, self.burst_spread.get(1.0)))

    def typical_thread_share(self) -> float:
        """The share of the brand's negative comments that its busiest thread usually
        draws in 30 minutes: what a single thread's normal is, relative to the brand."""
        value = self.thread_share.get(0.5) if self.minutes > 60 else 0.5
        return min(1.0, max(MIN_THREAD_SHARE, value or 0.5))

    def learn_thread_share(self, share: float) -> None:
        self.thread_share.update(share)

    def learn(self, minute: int, *, n: float, neg: float, share: bool = True) -> None:
        """Learns one closed minute that the tests judged normal (winsorised); with
        `share=False` the level and rhythm only, not the usual negative share."""
        raw = n
        if self.minutes:
            if n:  # (zero is under every cap: a quiet minute needs no expectation)
                expected = self.volume(minute)
                clipped = winsorised(n, expected, self.volume_dispersion())
                if neg:
                    # A minute clipped for its volume keeps its share: its negatives
                    # are scaled with its comments, then clipped on their own. Clipping
                    # the comments alone read a busy minute as more negative than it
                    # was: while a brand's level still rose in its first minutes (its
                    # comments learned as 1, 4, 6, 8, ... a minute; their negatives,
                    # under a cap of about as many, in full) a brand of 23,720 a day
                    # read a usual share of 0.30 six minutes in, and a storm that
                    # began with its stream became its normal.
                    neg = min(
                        neg * (clipped / n),
                        winsorised(neg, expected * self.share(), self.current_dispersion()),
                    )
                n = clipped
            neg = min(neg, n)
        self.minutes += 1
        self.level.update(n)
        slot = (minute // 60) % 24
        self.slots[slot].update(n)
        self.slot_seen[slot] += 1
        if share:
            self.neg.update(neg)
            self.total.update(n)
            self.comments = min(self.comments + n, 1e9)
        self._block_step(neg, n, raw)

    def learn_quiet(self, minute: int, minutes: int) -> None:
        """`minutes` minutes without a comment from `minute` on, learned at once (an idle
        brand catching up): what `learn(m, n=0, neg=0)` does for each of them."""
        if minutes <= 0:
            return
        self.minutes += minutes
        self.level.update_zeros(minutes)
        # Each hour slot takes all its minutes of the stretch in one update. Under a day
        # the stretch meets each slot once, so its hours are taken in turn (a brand of a
        # few comments a day wakes after hours of quiet, for almost each of its
        # comments); over a day, the slots' counts are summed first.
        pieces = (
            _hour_pieces(minute, minutes)
            if minutes <= SLOTS_ONCE
            else enumerate(_slot_counts(minute, minutes))
        )
        slots, seen = self.slots, self.slot_seen
        for slot, count in pieces:
            if count:
                slots[slot].update_zeros(count)
                seen[slot] += count
        self.neg.update_zeros(minutes)
        self.total.update_zeros(minutes)
        # Zero minutes add nothing to a block, only to its length. Two block ends pair
        # what was counted before with zero blocks (taken by `_block_step`); after them
        # every block is zero and pairs with zero (mean below 1: nothing learned).
        block = self._block
        for _ in range(2):
            to_end = DISPERSION_BLOCK - block[2]
            if minutes < to_end:
                block[2] += minutes
                return
            block[2] = DISPERSION_BLOCK - 1
            self._block_step(0, 0, 0)  # the block ends
            minutes -= to_end
        ends, block[2] = divmod(minutes, DISPERSION_BLOCK)
        if ends:
            self._previous_block = _EMPTY_BLOCK

    def quiet_totals(
        self,
        minute: int,
        minutes: int,
        volume_floor: float = 0.0,
        enough: tuple[float, float] = (math.inf, math.inf),
    ) -> tuple[float, float]:
        """Over `minutes` minutes without a comment from `minute` on, as `learn` of each
        would leave the baseline for the next: the sum of the expected comments per
        minute (each at least `volume_floor`), and of the expected negatives (floored as
        `Expectation.neg_per_min` floors them). Nothing is learned. Once both sums have
        reached `enough` (what the caller needs at most: every term is positive, so the
        sums so far are lower bounds) the rest of the stretch is not summed.

        The level and each hour slot decay smoothly within an hour, so each hour of the
        stretch (split where its slot starts to stand on its own) is summed by Simpson's
        rule over its first, middle and last minute (a piece of a few minutes minute by
        minute): within a percent of the minute-by-minute sums (tests/test_idle_brands.py),
        at three evaluations per hour."""
        share = self.share()
        volume_sum = negative_sum = 0.0
        slots, slot_seen, level = self.slots, self.slot_seen, self.level
        visited = [0] * 24  # minutes of the stretch so far in each hour slot
        j = 0
        while j < minutes:
            start = minute + j
            end = min(minutes, j + 60 - start % 60)  # this hour's part of the stretch
            slot = (start // 60) % 24
            visits = visited[slot]
            seen = slot_seen[slot] + visits
            warm_in = SLOT_WARM - seen
            if 0 < warm_in < end - j:
                end = j + warm_in  # the slot stands on its own from here: a new piece
            n = end - j
            visited[slot] += n
            if seen >= SLOT_WARM:  # the whole piece from the slot (it only gets warmer)
                mean, steps = slots[slot], visits
            else:  # the whole piece from the level (it warms at the piece's end at most)
                mean, steps = level, j
            # Sums written out term by term, in order (on Python 3.11 bit for bit what
            # `sum` over generators gave, at less cost): an idle brand catching up runs
            # this for every hour of its stretch.
            if n <= 3:
                v = mean.after_zeros(steps)
                volume_part = max(v, volume_floor)
                negative_part = max(v * share, MIN_NEG_PER_MIN)
                for i in range(1, n):
                    v = mean.after_zeros(steps + i)
                    volume_part += max(v, volume_floor)
                    negative_part += max(v * share, MIN_NEG_PER_MIN)
            else:
                first = mean.after_zeros(steps)
                middle = mean.after_zeros(steps + (n - 1) / 2.0)
                last = mean.after_zeros(steps + n - 1)
                w_end, w_middle = n / 6.0, 4.0 * n / 6.0
                volume_part = (
                    w_end * max(first, volume_floor)
                    + w_middle * max(middle, volume_floor)
                    + w_end * max(last, volume_floor)
                )
                negative_part = (
                    w_end * max(first * share, MIN_NEG_PER_MIN)
                    + w_middle * max(middle * share, MIN_NEG_PER_MIN)
                    + w_end * max(last * share, MIN_NEG_PER_MIN)
                )
            volume_sum += volume_part
            negative_sum += negative_part
            j = end
            if volume_sum >= enough[0] and negative_sum >= enough[1]:
                break
        return volume_sum, negative_sum

    def _block_step(self, neg: float, n: float, raw: float) -> None:
        block = self._block
        block[0] += neg
        block[1] += n
        block[2] += 1
        block[3] += raw
        if block[2] == DISPERSION_BLOCK:
            current = (block[0], block[1], block[3])
            previous = self._previous_block
            if previous is not None:
                # Quasi-Poisson dispersion from two consecutive 10-minute counts: their
                # difference has twice the variance, and a slow daily trend cancels.
                for now, before, spread, cap in (
                    (current[0], previous[0], self.dispersion, MAX_DISPERSION),
                    (current[1], previous[1], self.volume_spread, MAX_VOLUME_DISPERSION),
                    (current[2], previous[2], self.burst_spread, MAX_VOLUME_DISPERSION),
                ):
                    mean = (now + before) / 2.0
                    if mean >= 1.0:
                        spread.update(min((now - before) ** 2 / (2.0 * mean), cap))
            self._previous_block = current if current != _EMPTY_BLOCK else _EMPTY_BLOCK
            block[:] = _NEW_BLOCK

    def skip(self, minute: int) -> None:
        """A minute not learned (judged abnormal): the dispersion block restarts, so a
        storm's minutes never pair with normal ones."""
        self._block[:] = _NEW_BLOCK
        self._previous_block = None


def _hour_pieces(first: int, minutes: int) -> Iterator[tuple[int, int]]:
    """The minutes `first`, ..., `first + minutes - 1` hour by hour: (hour slot, how many
    of them fall in that hour), in time order."""
    m, end = first, first + minutes
    while m < end:
        nxt = min(end, (m // 60 + 1) * 60)
        yield (m // 60) % 24, nxt - m
        m = nxt


def _slot_counts(first: int, minutes: int) -> list[int]:
    """How many of the minutes `first`, ..., `first + minutes - 1` fall in each hour slot."""
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    counts = [60 * days] * 24
    for slot, count in _hour_pieces(first, rest):
        counts[slot] += count
    return counts
