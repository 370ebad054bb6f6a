"""Event-time windows per brand and per brand/thread, and the watermark that closes them.

Comments land in 1-minute buckets keyed by event time. A watermark decides when a minute
is complete; only then is it closed and handed to the detectors, so a replay gives the
same answers as the live run. The watermark has to survive bad clocks:

- **Per source.** Each source (a platform; each Kafka partition runs its own pipeline and
  so its own store) keeps its newest event time. The watermark is the oldest of the
  *active* sources' newest times minus the allowed lateness: a minute closes once every
  active source has passed it. A source more than `source_idle` seconds of event time
  behind the newest stops holding the others back. The watermark never moves backwards.
- **Far ahead is held.** A record more than `tolerance` ahead of the stream's newest
  event time (the larger of the lateness and ten mean gaps between records, so a sparse
  stream's normal pauses pass) does not move the watermark: it is held. It is released,
  and processed as usual, when the stream catches up with it. A jump of the whole stream
  (a replay with a gap of days, a stream resuming after an outage) is accepted once held
  records from `CONFIRM_KEYS` different keys lie within `tolerance` of each other, or
  once `CONFIRM_RUN` held records came among `2 * CONFIRM_RUN` arrivals, half of them
  within `tolerance` of each other (a one-thread stream, a source running ahead of
  another); the stream
  then moves to that time and the held records are released in event-time order. A
  lone mis-stamped record is never confirmed: it is dead-lettered as `timestamp_outlier`
  when the stream moved `max_hold` seconds on without reaching it, when more than
  `max_held` records are held (the farthest ahead goes), or at the end of the input.
- **Late lands in its own minute.** A comment whose minute is already closed is *late*.
  While its minute is within the last `HISTORY_MINUTES` closed minutes it is added to that
  minute's summary and the negative-mention log, so curves and features show it where it
  belongs; the detectors, which already judged that minute, get it as late volume
  (`late`, `late_neg`) of the key's next closing minute. Older comments (beyond the
  history: days behind, a replayed backlog) are counted as late and otherwise left out:
  nothing they could change is still held. Nothing is ever folded into another minute.

Per key we keep small, bounded state: the open buckets, a ring of the last hours' closed
minute summaries, and a log of recent negative comments (who, which text, which thread)
from which the detectors compute distinct-author and near-duplicate features.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from stormwatch.detectors.near_duplicates import text_signature as near_duplicate_signature
from stormwatch.model import Comment, DeadLetter

MINUTE = 60
HISTORY_MINUTES = 180  # closed minutes kept per key: features use 30, alert curves 180
NEGLOG_LIMIT = 20_000  # negative comments remembered per key (bounds memory in storms)

# Bad clocks (see the module docstring for what each does).
SOURCE_IDLE_SECONDS = 300.0  # a source this far behind the newest no longer holds minutes
AHEAD_GAPS = 10.0  # "far ahead": this many mean gaps between records (or the lateness)
MIN_TOLERANCE = 60.0  # never tighter than a minute, whatever the lateness
GAP_CAP = 3600.0  # one pause counts at most this much in the mean gap
GAP_DECAY = 1.0 / 50.0  # the mean gap follows about the last 50 closing steps
CONFIRM_KEYS = 3  # held records from this many keys, close together, confirm a jump
CONFIRM_RUN = 8  # or this many held among twice as many arrivals (a single key)
MAX_HOLD_SECONDS = HISTORY_MINUTES * MINUTE  # stream time a held record may wait
MAX_HELD = 10_000  # records held at once; beyond, the farthest ahead is dead-lettered
MAX_SOURCES = 64  # distinct platforms tracked; further ones share one unnamed source
_NEVER = -math.inf
ANY_SOURCE = object()  # no source lags: any record may close a minute

_SIG_STRIP = re.compile(r"[\W\d_]+", re.UNICODE)


def text_signature(text: str) -> int:
    """Near-duplicate signature (stable across processes): see `near_duplicates`."""
    return near_duplicate_signature(text)


def brand_key(brand: str) -> str:
    return brand


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


_MENTION_MINUTE = lambda m: m.minute  # noqa: E731 - bisect key, kept cheap
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
        self.closed: deque[MinuteSummary] = deque(maxlen=HISTORY_MINUTES)
        # Kept in minute order (late mentions are inserted where they belong), which is
        # what `negatives_since` and the counts below rely on.
        self.negatives: deque[NegativeMention] = deque(maxlen=NEGLOG_LIMIT)
        self.last_event = 0.0
        self.first_minute = minute
        self.total = 0
        self.last_minute = minute  # newest minute holding a comment (late ones included)
        self.late_pending = 0  # late comments since the last close, for the next summary
        self.late_neg_pending = 0

    def add(self, c: Comment, minute: int, negative: bool) -> None:
        """A comment of an open minute."""
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
            self.negatives.append(
                NegativeMention(minute, author, text_signature(c.text), c.thread_id, c)
            )
        if c.created_at > self.last_event:
            self.last_event = c.created_at

    def add_late(self, c: Comment, minute: int, negative: bool) -> bool:
        """A comment of a minute this key already closed: into that minute's summary and
        the mention log, and counted as late volume for the next closing minute. False
        when the minute is older than everything the key still holds (nothing changed)."""
        closed = self.closed
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
        i = bisect.bisect_right(log, mention.minute, key=_MENTION_MINUTE)
        if len(log) == log.maxlen:
            if i == 0:
                return  # older than every remembered mention: it would go first anyway
            log.popleft()
            i -= 1
        log.insert(i, mention)

    def close(self, minute: int) -> MinuteSummary:
        bucket = self.open.pop(minute, None)
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


@dataclass(slots=True)
class HeldRecord:
    """A record too far ahead of the stream to move the watermark, waiting."""

    time: float
    seq: int
    key: str
    comment: Comment
    raw: bytes
    source: str
    since: float  # the stream's newest event time when it was held (-inf: no stream yet)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(seconds: float) -> str:
    if seconds >= 7200:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


class WindowStore:
    """All keys' windows plus the watermark that closes their minutes.

    >>> from stormwatch.model import Comment
    >>> w = WindowStore(lateness=60)
    >>> for t in (0, 30, 70, 200):
    ...     _ = w.add(Comment(id=str(t), text="x", created_at=1_700_000_000 + t, brand="b"), False)
    >>> [m - 1_700_000_000 // 60 for m in w.closable()]
    [-1, 0, 1]

    Records go through `admit` first when their time may be ahead of the stream
    (`created_at > admit_below`); held ones come back through `released` (to be added
    like any other, in event-time order) or `rejected` (dead letters); `hold_ready` says
    either has something.
    """

    def __init__(
        self,
        *,
        lateness: float = 120.0,
        idle_eviction: float = 3 * 3600.0,
        source_idle: float = SOURCE_IDLE_SECONDS,
        max_hold: float = MAX_HOLD_SECONDS,
        max_held: int = MAX_HELD,
    ) -> None:
        self.lateness = lateness
        self.idle_eviction = idle_eviction
        self.source_idle = source_idle
        self.max_hold = max_hold
        self.max_held = max_held
        self.brands: dict[str, KeyWindow] = {}
        self.threads: dict[str, KeyWindow] = {}
        self.max_event_time = -math.inf  # the stream's newest accepted event time
        self.sources: dict[str | None, float] = {}  # newest event time per platform
        self.next_minute: int | None = None  # the oldest minute not closed yet
        self.late_count = 0
        self.beyond_history_count = 0  # late beyond every key's history: counted only
        self.evicted_count = 0
        self._watermark = -math.inf
        self.holding: object = ANY_SOURCE  # the source the watermark waits for
        self.holding_idle_at = -math.inf  # newest event time at which it stops waiting
        # Far-ahead records. `admit_below` is the fast test on the hot path.
        self.tolerance = max(lateness, MIN_TOLERANCE)
        self.admit_below = -math.inf  # no stream yet: the first records are held too
        self.held: list[tuple[float, int, HeldRecord]] = []  # sorted by event time
        self.held_ids: set[str] = set()
        self.held_keys: Counter[str] = Counter()
        self.released: deque[Comment] = deque()
        self.rejected: list[DeadLetter] = []
        self.hold_ready = False
        self.held_total = 0
        self.confirmed_jumps = 0
        self._hold_check_at = math.inf  # stream time at which held records need a look
        self._seq = 0
        self._added = 0  # records added (admitted arrivals and releases)
        self._released_total = 0
        self._run_marks: deque[int] = deque(maxlen=CONFIRM_RUN)  # of the latest held
        self._run_times: deque[float] = deque(maxlen=CONFIRM_RUN)
        self._gap_sum = 0.0  # decayed sums behind the mean gap between records
        self._gap_n = 0.0
        self._gap_frontier = -math.inf
        self._gap_added = 0

    # -- the watermark ----------------------------------------------------------------

    @property
    def watermark(self) -> float:
        """Event time up to which every active source has delivered, minus the lateness;
        never moves backwards."""
        frontier = self.max_event_time
        active_after = frontier - self.source_idle
        low = frontier
        holding: object = ANY_SOURCE
        for source, newest in self.sources.items():
            if active_after <= newest < low:
                low = newest
                holding = source
        # Until the holding source moves or goes idle, no other record can close a minute.
        self.holding = holding if len(self.sources) < MAX_SOURCES else ANY_SOURCE
        self.holding_idle_at = low + self.source_idle
        mark = low - self.lateness
        if mark > self._watermark:
            self._watermark = mark
        return self._watermark

    def add(self, c: Comment, negative: bool, key: str | None = None) -> bool:
        """Adds an admitted comment to its brand and thread windows; returns True when it
        was late. `key`: the thread's key when the caller has built it already."""
        ts = c.created_at
        self._added += 1
        if ts > self.max_event_time:
            self.max_event_time = ts
            self.admit_below = ts + self.tolerance
            if ts >= self._hold_check_at:
                self._review_held()
        sources = self.sources
        source = c.platform
        if ts > sources.get(source, _NEVER):
            if len(sources) < MAX_SOURCES or source in sources:
                sources[source] = ts
            elif ts > sources.get(None, _NEVER):
                sources[None] = ts  # an unbounded set of platform names shares one source
        if self.next_minute is None:
            self.next_minute = int((ts - self.lateness) // MINUTE)
        minute = int(ts // MINUTE)
        if minute < self.next_minute:
            self._add_late(c, minute, negative)
            return True
        brand = c.brand
        window = self.brands.get(brand)
        if window is None:
            window = self.brands[brand] = KeyWindow(brand, brand, None, minute)
        window.add(c, minute, negative)
        if c.thread_id is not None:
            if key is None:
                key = thread_key(brand, c.thread_id)
            thread = self.threads.get(key)
            if thread is None:
                thread = self.threads[key] = KeyWindow(key, brand, c.thread_id, minute)
            thread.add(c, minute, negative)
        return False

    def _learn_gap(self) -> None:
        """The mean gap between records, from the stream's advance and the records added
        since the last look (off the per-comment path: once per closing step)."""
        frontier = self.max_event_time
        added = self._added - self._gap_added
        if added <= 0 or frontier == -math.inf:
            return
        if self._gap_frontier > -math.inf:
            keep = 1.0 - GAP_DECAY
            self._gap_sum = self._gap_sum * keep + min(frontier - self._gap_frontier, GAP_CAP)
            self._gap_n = self._gap_n * keep + added
            if self._gap_n >= 1.0:
                self.tolerance = max(
                    self.lateness, MIN_TOLERANCE, AHEAD_GAPS * self._gap_sum / self._gap_n
                )
                self.admit_below = frontier + self.tolerance
        self._gap_frontier = frontier
        self._gap_added = self._added

    def _add_late(self, c: Comment, minute: int, negative: bool) -> None:
        self.late_count += 1
        brand = c.brand
        placed = False
        if minute >= self.next_minute - HISTORY_MINUTES:  # type: ignore[operator]
            window = self.brands.get(brand)
            if window is None:
                window = self.brands[brand] = KeyWindow(brand, brand, None, minute)
            placed = window.add_late(c, minute, negative)
            if c.thread_id is not None:
                key = thread_key(brand, c.thread_id)
                thread = self.threads.get(key)
                if thread is None:
                    thread = self.threads[key] = KeyWindow(key, brand, c.thread_id, minute)
                placed = thread.add_late(c, minute, negative) or placed
        if not placed:
            self.beyond_history_count += 1

    def closable(self) -> Iterator[int]:
        """Minutes that the watermark has passed, oldest first, each yielded once."""
        if self.next_minute is None:
            return
        self._learn_gap()
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
        """Drops keys with no comment for `idle_eviction` seconds (bounded memory), and
        sources silent for as long."""
        horizon = now_event_time - self.idle_eviction
        evicted: list[str] = []
        for table in (self.threads, self.brands):
            for key in [k for k, w in table.items() if w.last_event < horizon and not w.open]:
                if keep and key in keep:
                    continue
                del table[key]
                evicted.append(key)
        self.evicted_count += len(evicted)
        for source in [s for s, t in self.sources.items() if t < horizon]:
            del self.sources[source]
        return evicted

    # -- records far ahead --------------------------------------------------------------

    def admit(self, c: Comment, raw: bytes = b"", source: str = "") -> bool:
        """True when `c` may be added now; False when it is held (far ahead of the
        stream). Holding may confirm a jump of the stream and release records."""
        ts = c.created_at
        if ts <= self.admit_below:
            return True
        self._seq += 1
        key = thread_key(c.brand, c.thread_id) if c.thread_id is not None else c.brand
        record = HeldRecord(ts, self._seq, key, c, raw, source, self.max_event_time)
        bisect.insort(self.held, (ts, self._seq, record))
        self.held_ids.add(c.id)
        self.held_keys[key] += 1
        self.held_total += 1
        # Admitted arrivals so far: how close together in the input the held ones came.
        self._run_marks.append(self._added - self._released_total)
        self._run_times.append(ts)
        self._hold_check_at = min(
            self._hold_check_at, ts - self.tolerance, record.since + self.max_hold
        )
        jump = self._confirmed_jump(ts)
        if jump is not None:
            self._move_to(jump)
        elif len(self.held) > self.max_held:
            self._reject(self.held.pop()[2], f"more than {self.max_held} records were held")
        return False

    def _confirmed_jump(self, ts: float) -> float | None:
        """Where the stream has evidently moved to, if the held records say so."""
        held = self.held
        if len(self.held_keys) >= CONFIRM_KEYS:
            lo = bisect.bisect_left(held, (ts - self.tolerance,))
            hi = bisect.bisect_right(held, (ts, math.inf))
            keys: set[str] = set()
            for i in range(lo, hi):
                keys.add(held[i][2].key)
                if len(keys) >= CONFIRM_KEYS:
                    return held[lo][0]
        marks = self._run_marks
        if len(marks) == CONFIRM_RUN and marks[-1] - marks[0] <= CONFIRM_RUN:
            # Most recent arrivals were held (one source, one thread, or one source whose
            # time runs ahead of another's): move to the earliest time that half of them
            # agree on (within the tolerance); a few mis-stamped records cannot.
            times = sorted(self._run_times)
            half = CONFIRM_RUN // 2
            for i in range(CONFIRM_RUN - half + 1):
                if times[i + half - 1] - times[i] <= self.tolerance:
                    return times[i]
        return None

    def _move_to(self, ts: float) -> None:
        """Accept that the stream is at `ts` now and release what that makes current."""
        if ts > self.max_event_time:
            self.confirmed_jumps += 1
            self.max_event_time = ts
            self.admit_below = ts + self.tolerance
        if self.next_minute is None:
            self.next_minute = int((ts - self.lateness) // MINUTE)
        for _, _, record in self.held:
            if record.since == -math.inf:
                record.since = ts
        self._review_held()

    def _review_held(self) -> None:
        """Release the held records the stream has caught up with (in event-time order);
        dead-letter those it has moved past `max_hold` without reaching."""
        held = self.held
        n = 0
        while n < len(held) and held[n][0] <= self.admit_below:
            record = held[n][2]
            self._forget(record)
            self.released.append(record.comment)
            n += 1
        if n:
            del held[:n]
            self._released_total += n
            self.hold_ready = True
        expire_before = self.max_event_time - self.max_hold
        if held and any(e[2].since < expire_before for e in held):
            keep = []
            for entry in held:
                record = entry[2]
                if -math.inf < record.since < expire_before:
                    self._reject(
                        record,
                        f"the stream moved {_span(self.max_hold)} on without reaching it "
                        "and no records from other keys confirmed a jump",
                        forget=True,
                    )
                else:
                    keep.append(entry)
            held[:] = keep
        self._plan_review()

    def _plan_review(self) -> None:
        if not self.held:
            self._hold_check_at = math.inf
            return
        oldest_since = min(e[2].since for e in self.held)
        self._hold_check_at = min(
            self.held[0][0] - self.tolerance,
            oldest_since + self.max_hold if oldest_since > -math.inf else math.inf,
        )

    def _forget(self, record: HeldRecord) -> None:
        self.held_ids.discard(record.comment.id)
        count = self.held_keys[record.key] - 1
        if count:
            self.held_keys[record.key] = count
        else:
            del self.held_keys[record.key]

    def _reject(self, record: HeldRecord, why: str, *, forget: bool = True) -> None:
        if forget:
            self._forget(record)
        c = record.comment
        frontier = self.max_event_time
        if frontier > -math.inf:
            where = (
                f"{_span(c.created_at - frontier)} ahead of the stream's newest event time "
                f"{_iso(frontier)}"
            )
        else:
            where = "ahead of a stream that never established its time"
        raw = record.raw or orjson.dumps(
            {
                "id": c.id,
                "text": c.text,
                "created_at": c.created_at,
                "brand": c.brand,
                "thread_id": c.thread_id,
                "platform": c.platform,
            }
        )
        detail = f"created_at {_iso(c.created_at)} is {where}; {why}"
        self.rejected.append(DeadLetter(raw, "timestamp_outlier", detail, record.source))
        self.hold_ready = True

    def end_of_input(self) -> None:
        """No more records: if they never established the stream's time, take the median
        of what is held; release what that makes current. Call `reject_held` after the
        released records were added."""
        if self.held and self.max_event_time == -math.inf:
            times = [e[0] for e in self.held]
            self._move_to(times[(len(times) - 1) // 2])

    def reject_held(self) -> None:
        """Dead-letter every record still held (the input ended before it was confirmed)."""
        for _, _, record in self.held:
            self._reject(record, "the input ended before other records confirmed it")
        self.held.clear()
        self._plan_review()

    def take_rejected(self) -> list[DeadLetter]:
        letters, self.rejected = self.rejected, []
        return letters
