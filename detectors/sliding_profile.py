"""The account profile of a key's negatives over a span that slides forward, kept
instead of recounted.

While a key's tests are over their thresholds, the guards look at the accounts behind
its whole excursion every minute (`Judge._assess`): at a brand up to a day of negative
comments, thousands in a storm. Counting them afresh each minute made a storm's cost
grow with the square of its length. A `SlidingProfile` counts each mention once when
its minute enters the span and once more when it leaves.

The key's mention log (`KeyWindow.negatives`) is kept in minute order, so what entered
the span since the last look is the log's tail past the minute counted up to. A late
comment inserted into a minute already counted (`mark_stale`) has that one minute
counted again at the next look: late comments are common (collectors deliver a few
percent of them minutes behind), and recounting the whole span for each cost a storm at
a small brand most of its run. Anything else that changes the log makes it start
afresh: the log reaching its length limit (its oldest mentions drop), a new log (the
key's window was evicted and made again), or a span that moves back.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence

from stormwatch.detectors.accounts import BOT_COMMENTS_PER_ACCOUNT, AccountProfile
from stormwatch.key_window import MENTION_MINUTE, NEGLOG_LIMIT, KeyWindow, NegativeMention


class SlidingProfile:
    """Counts of the mentions of one key's log with `lo < minute <= hi`.

    >>> from types import SimpleNamespace as C
    >>> w = KeyWindow("acme", "acme", None, 0)
    >>> for minute, author in enumerate("abcab"):
    ...     _ = w.add(C(author_id=author, id=str(minute), text=f"text {minute}",
    ...                 thread_id=None, negativity=0.9, author_followers=0,
    ...                 created_at=60.0 * minute), minute, True)
    >>> s = SlidingProfile()
    >>> s.profile(w, 2, 2).accounts, s.profile(w, 4, 3).accounts  # minutes 1-2, then 2-4
    (2, 3)
    >>> s.profile(w, 4, 3) == AccountProfile.of_mentions(w.negatives_since(4, 3))
    True
    """

    __slots__ = (
        "log", "lo", "hi", "by_minute", "authors", "spread", "signatures", "text_spread", "n",
        "stale",
    )  # fmt: skip

    def __init__(self) -> None:
        self.log: object = None  # the log followed; None: start afresh at the next look
        self.lo = self.hi = 0
        self.by_minute: dict[int, list[NegativeMention]] = {}
        self.authors: Counter[str] = Counter()
        # How many accounts have each count: the largest counts without a pass over the
        # accounts (a campaign brings thousands; their counts take a few values).
        self.spread: Counter[int] = Counter()
        self.signatures: Counter[int] = Counter()
        self.text_spread: Counter[int] = Counter()  # the same for signatures
        self.n = 0
        self.stale: set[int] = set()  # counted minutes the log took a late mention into

    def __setstate__(self, state: tuple[None, dict] | dict) -> None:
        """Checkpoints written before `stale` existed restore with none stale."""
        self.stale = set()
        for name, value in (state[1] if isinstance(state, tuple) else state).items():
            setattr(self, name, value)

    def mark_stale(self, minute: int) -> None:
        """A negative comment of `minute` came: if that minute is in the counted span, it
        is going into the log where it belongs, and the minute is counted again at the
        next look (a minute before the span counts for nothing here)."""
        if self.lo < minute <= self.hi and self.log is not None:
            self.stale.add(minute)

    def profile(
        self, window: KeyWindow, hi: int, width: int, upto: int | None = None
    ) -> AccountProfile:
        """`AccountProfile.of_mentions(window.negatives_since(upto, width + upto - hi))`:
        the negatives of the span's closed minutes up to `hi`, counted incrementally when
        the span only moved forward since the last look, and of the minutes still open
        up to `upto` (an early look: they still take comments, so they are added to the
        closed minutes' counts, not into them)."""
        closed = self._closed(window, hi, width)
        if upto is None or upto <= hi:
            return closed
        ahead = []
        for m in reversed(window.negatives):
            if m.minute <= hi:
                break
            if m.minute <= upto:
                ahead.append(m)
        return self._with(ahead) if ahead else closed

    def _with(self, ahead: list[NegativeMention]) -> AccountProfile:
        """The closed minutes' profile with the mentions `ahead` counted in too."""
        authors, signatures = self.authors, self.signatures
        more = Counter(m.author for m in ahead)
        more_texts = Counter(m.signature for m in ahead)
        spread = _spread_with(authors, self.spread, more)
        return AccountProfile.of_counts(
            self.n + len(ahead),
            len(authors) + sum(1 for a in more if a not in authors),
            _largest(spread),
            len(signatures) + sum(1 for sig in more_texts if sig not in signatures),
            _largest(_spread_with(signatures, self.text_spread, more_texts)),
            _heavy(spread),
        )

    def _closed(self, window: KeyWindow, hi: int, width: int) -> AccountProfile:
        log = window.negatives
        lo = hi - width
        # A full log lets its oldest go as mentions come: afresh only when that may have
        # reached into the counted span (a full log whose oldest is before the span
        # lost none of it; afresh at every look, a storm's looks cost two to three times).
        full = len(log) >= NEGLOG_LIMIT and log[0].minute > self.lo
        if log is not self.log or lo < self.lo or hi < self.hi or full:
            self.by_minute = {}
            self.authors = Counter()
            self.spread = Counter()
            self.signatures = Counter()
            self.text_spread = Counter()
            self.n = 0
            self.stale = set()
            self.log, self.lo, self.hi = log, lo, lo
        if self.stale:
            self._recount(log)
        self._enter(log, hi, lo)
        self._leave(lo)
        return AccountProfile.of_counts(
            self.n,
            len(self.authors),
            _largest(self.spread),
            len(self.signatures),
            _largest(self.text_spread),
            _heavy(self.spread),
        )

    def _enter(self, log: Sequence[NegativeMention], hi: int, lo: int) -> None:
        """Count the mentions of minutes after the last counted one (and after `lo`, the
        span's new start: older ones would leave at once), up to `hi`."""
        if hi > self.hi:
            stop = max(self.hi, lo)
            for m in reversed(log):  # newest first, back to what is counted already
                minute = m.minute
                if minute <= stop:
                    break
                if minute <= hi:
                    self._count(m)
            self.hi = hi

    def _recount(self, log: Sequence[NegativeMention]) -> None:
        """Count the stale minutes again from the log (still in the span: it has not
        moved since they were marked)."""
        for minute in self.stale:
            self._uncount(minute)
            i = bisect.bisect_left(log, minute, key=MENTION_MINUTE)
            while i < len(log) and log[i].minute == minute:
                self._count(log[i])
                i += 1
        self.stale = set()

    def _leave(self, lo: int) -> None:
        """Uncount the mentions of minutes up to `lo`."""
        if lo <= self.lo:
            return
        by_minute = self.by_minute
        if lo - self.lo <= len(by_minute):
            leaving: Iterable[int] = range(self.lo + 1, lo + 1)
        else:  # a long jump: only the minutes that hold mentions
            leaving = [k for k in by_minute if k <= lo]
        for minute in leaving:
            self._uncount(minute)
        self.lo = lo

    def _uncount(self, minute: int) -> None:
        """Uncount the mentions of `minute` (none: nothing)."""
        mentions = self.by_minute.pop(minute, None)
        if not mentions:
            return
        authors, spread = self.authors, self.spread
        signatures, text_spread = self.signatures, self.text_spread
        for m in mentions:
            _remove_one(authors, spread, m.author)
            _remove_one(signatures, text_spread, m.signature)
        self.n -= len(mentions)

    def _count(self, m: NegativeMention) -> None:
        bucket = self.by_minute.get(m.minute)
        if bucket is None:
            self.by_minute[m.minute] = [m]
        else:
            bucket.append(m)
        _add_one(self.authors, self.spread, m.author)
        _add_one(self.signatures, self.text_spread, m.signature)
        self.n += 1


def _add_one(counts: Counter, spread: Counter[int], key: object) -> None:
    """One more of `key` in `counts`, and in `spread` (how many keys have each count)."""
    count = counts[key]
    if count:
        _decrement(spread, count)
    counts[key] = count + 1
    spread[count + 1] += 1


def _remove_one(counts: Counter, spread: Counter[int], key: object) -> None:
    """One fewer of `key` in `counts` and `spread`."""
    count = counts[key]
    _decrement(spread, count)
    if count > 1:
        spread[count - 1] += 1
    _decrement(counts, key)


def _spread_with(counts: Counter, spread: Counter[int], more: Counter) -> Counter[int]:
    """`spread` (how many keys have each count) once `more` is added to `counts`."""
    merged = spread.copy()
    for key, extra in more.items():
        count = counts.get(key, 0)
        if count:
            merged[count] -= 1
        merged[count + extra] += 1
    return merged


def _heavy(spread: Counter[int]) -> tuple[int, int]:
    """Accounts with more than BOT_COMMENTS_PER_ACCOUNT comments, and their comments."""
    accounts = comments = 0
    for count, keys in spread.items():
        if count > BOT_COMMENTS_PER_ACCOUNT and keys > 0:
            accounts += keys
            comments += count * keys
    return accounts, comments


def _largest(spread: Counter[int]) -> list[int]:
    """The three largest counts (fewer if fewer keys) of a count -> keys map."""
    top: list[int] = []
    for count in sorted((c for c, k in spread.items() if k > 0), reverse=True):
        top.extend([count] * min(spread[count], 3 - len(top)))
        if len(top) == 3:
            break
    return top


def _decrement(counts: Counter, key: object) -> None:
    left = counts[key] - 1
    if left:
        counts[key] = left
    else:
        del counts[key]
