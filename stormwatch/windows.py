"""Event-time windows per brand and per brand/thread.

Comments land in 1-minute buckets keyed by event time. A watermark (the highest event
time seen minus the allowed lateness) decides when a minute is complete; only then is it
closed and handed to the detectors, so a replay gives the same answers as the live run.
A comment older than the watermark is *late*: it is counted as such and folded into the
key's oldest open minute, so volume is never lost.

Per key we keep small, bounded state: the open buckets, a ring of the last hour's closed
minute summaries, and a log of recent negative comments (who, which text, which thread)
from which the detectors compute distinct-author and near-duplicate features.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from stormwatch.model import Comment

MINUTE = 60
HISTORY_MINUTES = 180  # closed minutes kept per key: features use 30, alert curves 180
NEGLOG_LIMIT = 20_000  # negative comments remembered per key (bounds memory in storms)

_SIG_STRIP = re.compile(r"[\W\d_]+", re.UNICODE)


def text_signature(text: str) -> int:
    """Hash of the letters of a text: copy-paste variants (a counter, punctuation, an emoji
    added) share one signature, which is what near-duplicate bursts look like."""
    return hash(_SIG_STRIP.sub("", text.lower())[:160])


def brand_key(brand: str) -> str:
    return brand


def thread_key(brand: str, thread_id: str) -> str:
    """A separator no brand or thread id contains: brand "a/b" and thread "b" of brand
    "a" must not share a window."""
    return f"{brand}\x1f{thread_id}"


class Bucket:
    """One open minute of one key."""

    __slots__ = ("n", "neg", "neg_score", "reach_neg", "authors", "late")

    def __init__(self) -> None:
        self.n = 0
        self.neg = 0
        self.neg_score = 0.0
        self.reach_neg = 0.0
        self.authors: set[str] = set()
        self.late = 0


@dataclass(slots=True, frozen=True)
class MinuteSummary:
    """A closed minute of one key: what the detectors and baselines learn from."""

    minute: int
    n: int
    neg: int
    neg_score: float
    reach_neg: float
    authors: int
    late: int


EMPTY = (0, 0, 0.0, 0.0, 0, 0)


@dataclass(slots=True)
class NegativeMention:
    minute: int
    author: str
    signature: int
    thread_id: str | None
    comment: Comment


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
    )

    def __init__(self, key: str, brand: str, thread_id: str | None, minute: int) -> None:
        self.key = key
        self.brand = brand
        self.thread_id = thread_id
        self.open: dict[int, Bucket] = {}
        self.closed: deque[MinuteSummary] = deque(maxlen=HISTORY_MINUTES)
        self.negatives: deque[NegativeMention] = deque(maxlen=NEGLOG_LIMIT)
        self.last_event = 0.0
        self.first_minute = minute
        self.total = 0
        self.last_minute = minute  # newest minute holding a comment (late ones included)

    def add(self, c: Comment, minute: int, negative: bool, late: bool) -> None:
        bucket = self.open.get(minute)
        if bucket is None:
            bucket = self.open[minute] = Bucket()
        bucket.n += 1
        self.total += 1
        if minute > self.last_minute:
            self.last_minute = minute
        author = c.author_id or c.id
        bucket.authors.add(author)
        if late:
            bucket.late += 1
        if negative:
            bucket.neg += 1
            bucket.neg_score += c.negativity
            bucket.reach_neg += c.negativity * math.log1p(c.author_followers or 0)
            self.negatives.append(
                NegativeMention(minute, author, text_signature(c.text), c.thread_id, c)
            )
        if c.created_at > self.last_event:
            self.last_event = c.created_at

    def close(self, minute: int) -> MinuteSummary:
        bucket = self.open.pop(minute, None)
        if bucket is None:
            summary = MinuteSummary(minute, *EMPTY)
        else:
            summary = MinuteSummary(
                minute,
                bucket.n,
                bucket.neg,
                bucket.neg_score,
                bucket.reach_neg,
                len(bucket.authors),
                bucket.late,
            )
        self.closed.append(summary)
        return summary

    def recent(self, minute: int, width: int) -> Iterator[MinuteSummary]:
        """Closed minutes in (minute - width, minute]."""
        lo = minute - width
        for s in reversed(self.closed):
            if s.minute <= lo:
                break
            if s.minute <= minute:
                yield s

    def curve(self, minute: int, width: int = HISTORY_MINUTES) -> tuple[list[int], list[int]]:
        """(comments, negative comments) per minute for the `width` minutes up to `minute`,
        oldest first; minutes without a bucket count zero."""
        by_minute = {s.minute: s for s in self.recent(minute, width)}
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


class WindowStore:
    """All keys' windows plus the watermark that closes their minutes.

    >>> from stormwatch.model import Comment
    >>> w = WindowStore(lateness=60)
    >>> for t in (0, 30, 70, 200):
    ...     _ = w.add(Comment(id=str(t), text="x", created_at=1_700_000_000 + t, brand="b"), False)
    >>> [m - 1_700_000_000 // 60 for m in w.closable()]
    [-1, 0, 1]
    """

    def __init__(self, *, lateness: float = 120.0, idle_eviction: float = 3 * 3600.0) -> None:
        self.lateness = lateness
        self.idle_eviction = idle_eviction
        self.brands: dict[str, KeyWindow] = {}
        self.threads: dict[str, KeyWindow] = {}
        self.max_event_time = -math.inf
        self.next_minute: int | None = None  # the oldest minute not closed yet
        self.late_count = 0
        self.evicted_count = 0

    @property
    def watermark(self) -> float:
        return self.max_event_time - self.lateness

    def add(self, c: Comment, negative: bool) -> bool:
        """Adds a comment to its brand and thread windows; returns True when it was late."""
        ts = c.created_at
        minute = int(ts // MINUTE)
        if ts > self.max_event_time:
            self.max_event_time = ts
        if self.next_minute is None:
            self.next_minute = int((ts - self.lateness) // MINUTE)
        late = minute < self.next_minute
        if late:
            self.late_count += 1
            minute = self.next_minute
        brand = c.brand
        window = self.brands.get(brand)
        if window is None:
            window = self.brands[brand] = KeyWindow(brand, brand, None, minute)
        window.add(c, minute, negative, late)
        if c.thread_id is not None:
            key = thread_key(brand, c.thread_id)
            thread = self.threads.get(key)
            if thread is None:
                thread = self.threads[key] = KeyWindow(key, brand, c.thread_id, minute)
            thread.add(c, minute, negative, late)
        return late

    def closable(self) -> Iterator[int]:
        """Minutes that the watermark has passed, oldest first, each yielded once."""
        if self.next_minute is None:
            return
        limit = self.watermark
        while (self.next_minute + 1) * MINUTE <= limit:
            minute = self.next_minute
            self.next_minute = minute + 1
            yield minute

    def flush(self) -> Iterator[int]:
        """At end of input: close every minute that holds data."""
        if self.next_minute is None:
            return
        last = int(self.max_event_time // MINUTE)
        while self.next_minute <= last:
            minute = self.next_minute
            self.next_minute = minute + 1
            yield minute

    def evict_idle(self, now_event_time: float, keep: set[str] | None = None) -> list[str]:
        """Drops keys with no comment for `idle_eviction` seconds (bounded memory)."""
        horizon = now_event_time - self.idle_eviction
        evicted: list[str] = []
        for table in (self.threads, self.brands):
            for key in [k for k, w in table.items() if w.last_event < horizon and not w.open]:
                if keep and key in keep:
                    continue
                del table[key]
                evicted.append(key)
        self.evicted_count += len(evicted)
        return evicted
