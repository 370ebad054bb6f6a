"""One key's event-time window: its open minute buckets, the summaries of its closed
minutes, and the log of its recent negative comments.

A key is a brand, or a thread of a brand (`thread_key`). Its state is small and bounded:
the open buckets, a ring of the last `HISTORY_MINUTES` closed minute summaries, and a log
of recent negative comments (who, which text, which thread) from which the detectors
compute distinct-author and near-duplicate features. A late comment lands in its own
minute's summary and in the log where it belongs (`KeyWindow.add_late`); which minutes
are open and which closed is the `WindowStore`'s watermark's call (`windows.py`).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from stormwatch.detectors.near_duplicates import text_signature as near_duplicate_signature
from stormwatch.model import Comment

MINUTE = 60
HISTORY_MINUTES = 180  # closed minutes kept per key: features use 30, alert curves 180
SHORT_HISTORY = 8  # closed summaries kept in a plain list before the ring is made
NEGLOG_LIMIT = 20_000  # negative comments remembered per key (bounds memory in storms)
# ... and for at most this many minutes: the longest look back is a guard's over a day
# (`judge.GUARD_MINUTES_MAX`, 1,440) from a minute up to the history back (late comments).
# Kept by count alone, a busy brand's log held six days of comments (16 MB of them, in
# every checkpoint too) and, full, made each look during a storm count afresh.
NEGLOG_MINUTES = 1440 + HISTORY_MINUTES + 60


def text_signature(text: str) -> int:
    """Near-duplicate signature (stable across processes): see `near_duplicates`."""
    return near_duplicate_signature(text)


def thread_key(brand: str, thread_id: str) -> str:
    """A separator no brand or thread id contains: brand "a/b" and thread "b" of brand
    "a" must not share a window."""
    return f"{brand}\x1f{thread_id}"


class Bucket:
    """One open minute of one key."""

    __slots__ = ("n", "neg", "neg_score", "reach_neg", "authors")

    def __init__(self) -> None:
        self.n = 0
        self.neg = 0
        self.neg_score = 0.0
        self.reach_neg = 0.0
        self.authors: set[str] = set()


@dataclass(slots=True, frozen=True)
class MinuteSummary:
    """A closed minute of one key: what the detectors and baselines learn from.

    `n` .. `authors` describe the comments stamped in this minute, late arrivals
    included once they came. `late` and `late_neg` count comments (and negative ones)
    that arrived since the key's previous closing minute for minutes already judged
    before: volume the detectors have not seen yet, though it sits in earlier minutes."""

    minute: int
    n: int
    neg: int
    neg_score: float
    reach_neg: float
    authors: int  # distinct in the open minute; each late comment adds one
    late: int
    late_neg: int = 0


@dataclass(slots=True)
class NegativeMention:
    minute: int
    author: str
    signature: int
    thread_id: str | None
    comment: Comment


MENTION_MINUTE = lambda m: m.minute  # noqa: E731 - bisect key of a mention log, kept cheap
_SUMMARY_MINUTE = lambda s: s.minute  # noqa: E731


class KeyWindow:
    """Bounded event-time state of one key (a brand, or a thread of a brand)."""

    __slots__ = (
        "key",
        "brand",
        "thread_id",
        "open",
        "closed",
        "negatives",
        "last_event",
        "first_minute",
        "total",
        "last_minute",
        "late_pending",
        "late_neg_pending",
    )

    def __init__(self, key: str, brand: str, thread_id: str | None, minute: int) -> None:
        self.key = key
        self.brand = brand
        self.thread_id = thread_id
        self.open: dict[int, Bucket] = {}
        # A list while it holds a few summaries (an idle thread key closes once or
        # twice), a ring of `HISTORY_MINUTES` after (`_history`): an empty deque is 760
        # bytes, at 100,000 thread keys three quarters of their memory.
        self.closed: deque[MinuteSummary] | list[MinuteSummary] = []
        # Kept in minute order (late mentions are inserted where they belong), which is
        # what `negatives_since` and the counts below rely on. Made with the first
        # negative: most thread keys never see one, and an empty deque is 760 bytes.
        self.negatives: deque[NegativeMention] | tuple[()] = ()
        self.last_event = 0.0
        self.first_minute = minute
        self.total = 0
        self.last_minute = minute  # newest minute holding a comment (late ones included)
        self.late_pending = 0  # late comments since the last close, for the next summary
        self.late_neg_pending = 0

    def add(
        self, c: Comment, minute: int, negative: bool, mention: NegativeMention | None = None
    ) -> NegativeMention | None:
        """A comment of an open minute; returns its mention when negative. `mention`: the
        one its brand's window made already (a mention is never changed, so the brand and
        the thread share it: one signature and one object per negative comment)."""
        bucket = self.open.get(minute)
        if bucket is None:
            bucket = self.open[minute] = Bucket()
        bucket.n += 1
        self.total += 1
        if minute > self.last_minute:
            self.last_minute = minute
        author = c.author_id or c.id
        bucket.authors.add(author)
        if negative:
            bucket.neg += 1
            bucket.neg_score += c.negativity
            bucket.reach_neg += c.negativity * math.log1p(c.author_followers or 0)
            log = self.negatives
            if type(log) is tuple:
                log = self.negatives = deque(maxlen=NEGLOG_LIMIT)
            if mention is None:
                mention = NegativeMention(minute, author, text_signature(c.text), c.thread_id, c)
            if log and log[-1].minute > minute:
                # Comments of several open minutes interleave: kept in minute order, or a
                # look back to a minute would stop at the first older one it meets.
                self._insert_mention(mention)
            else:
                log.append(mention)
        if c.created_at > self.last_event:
            self.last_event = c.created_at
        return mention

    def add_late(self, c: Comment, minute: int, negative: bool) -> bool:
        """A comment of a minute this key already closed: into that minute's summary and
        the mention log, and counted as late volume for the next closing minute. False
        when the minute is older than everything the key still holds (nothing changed)."""
        closed = self._history()
        i = bisect.bisect_right(closed, minute, key=_SUMMARY_MINUTE)
        if i and closed[i - 1].minute == minute:
            s = closed[i - 1]
        elif len(closed) == closed.maxlen and i == 0:
            return False  # before the oldest minute the key remembers
        else:
            s = MinuteSummary(minute, 0, 0, 0.0, 0.0, 0, 0, 0)
            if len(closed) == closed.maxlen:
                closed.popleft()  # the oldest goes, as it would have with the next close
                i -= 1
            closed.insert(i, s)
            i += 1
        reach = c.negativity * math.log1p(c.author_followers or 0) if negative else 0.0
        closed[i - 1] = MinuteSummary(
            minute,
            s.n + 1,
            s.neg + negative,
            s.neg_score + (c.negativity if negative else 0.0),
            s.reach_neg + reach,
            s.authors + 1,
            s.late,
            s.late_neg,
        )
        self.total += 1
        self.late_pending += 1
        if minute > self.last_minute:
            self.last_minute = minute
        if negative:
            self.late_neg_pending += 1
            self._insert_mention(
                NegativeMention(minute, c.author_id or c.id, text_signature(c.text), c.thread_id, c)
            )
        return True

    def _insert_mention(self, mention: NegativeMention) -> None:
        log = self.negatives
        if type(log) is tuple:
            log = self.negatives = deque(maxlen=NEGLOG_LIMIT)
        i = bisect.bisect_right(log, mention.minute, key=MENTION_MINUTE)
        if len(log) == log.maxlen:
            if i == 0:
                return  # older than every remembered mention: it would go first anyway
            log.popleft()
            i -= 1
        log.insert(i, mention)

    def close(self, minute: int) -> MinuteSummary:
        bucket = self.open.pop(minute, None)
        if bucket is not None and not self.open:
            self.open = {}  # an emptied dict keeps its table: ~170 bytes per idle key
        late, late_neg = self.late_pending, self.late_neg_pending
        if late:
            self.late_pending = self.late_neg_pending = 0
        if bucket is None:
            summary = MinuteSummary(minute, 0, 0, 0.0, 0.0, 0, late, late_neg)
        else:
            summary = MinuteSummary(
                minute,
                bucket.n,
                bucket.neg,
                bucket.neg_score,
                bucket.reach_neg,
                len(bucket.authors),
                late,
                late_neg,
            )
        closed = self.closed
        if type(closed) is list and len(closed) >= SHORT_HISTORY:
            closed = self._history()
        closed.append(summary)
        log = self.negatives
        if log and log[0].minute < minute - NEGLOG_MINUTES:
            oldest = minute - NEGLOG_MINUTES
            while log and log[0].minute < oldest:
                log.popleft()  # type: ignore[union-attr]
        return summary

    def _history(self) -> deque[MinuteSummary]:
        """The closed summaries as their bounded ring (made from the short list)."""
        closed = self.closed
        if type(closed) is not deque:
            closed = self.closed = deque(closed, maxlen=HISTORY_MINUTES)
        return closed

    def recent(
        self, minute: int, width: int, *, with_open: bool = False
    ) -> Iterator[MinuteSummary]:
        """Closed minutes in (minute - width, minute], newest first; `with_open`: the
        open minutes in it too, as they stand (for explaining a decision taken early,
        on minutes still open)."""
        lo = minute - width
        if with_open and self.open:
            for m in sorted(self.open, reverse=True):
                if lo < m <= minute:
                    b = self.open[m]
                    yield MinuteSummary(m, b.n, b.neg, b.neg_score, b.reach_neg, len(b.authors), 0)
        for s in reversed(self.closed):
            if s.minute <= lo:
                break
            if s.minute <= minute:
                yield s

    def curve(
        self, minute: int, width: int = HISTORY_MINUTES, *, with_open: bool = False
    ) -> tuple[list[int], list[int]]:
        """(comments, negative comments) per minute for the `width` minutes up to `minute`,
        oldest first; minutes without a bucket count zero."""
        by_minute = {s.minute: s for s in self.recent(minute, width, with_open=with_open)}
        volume: list[int] = []
        negative: list[int] = []
        for m in range(minute - width + 1, minute + 1):
            s = by_minute.get(m)
            volume.append(s.n if s else 0)
            negative.append(s.neg if s else 0)
        return volume, negative

    def negatives_since(self, minute: int, width: int) -> list[NegativeMention]:
        lo = minute - width
        out: list[NegativeMention] = []
        for m in reversed(self.negatives):
            if m.minute <= lo:
                break
            if m.minute <= minute:
                out.append(m)
        return out

    def has_negatives_since(self, minute: int) -> bool:
        return bool(self.negatives) and self.negatives[-1].minute > minute

    def count_negatives_since(self, minute: int, limit: int) -> int:
        """Negatives newer than `minute`, counting no further than `limit` (cheap test)."""
        n = 0
        for m in reversed(self.negatives):
            if m.minute <= minute or n >= limit:
                break
            n += 1
        return n
