"""Event-time windows per brand and per brand/thread, and the watermark that closes them.

Comments land in 1-minute buckets keyed by event time (each key's window:
`key_window.py`). A watermark decides when a minute is complete; only then is it closed
and handed to the detectors, so a replay gives the same answers as the live run. The
watermark has to survive bad clocks:

- **Per source.** Each source (a platform; each Kafka partition runs its own pipeline and
  so its own store) keeps its newest event time and its *delivery delay*: the median,
  over its last `DELAY_SAMPLES` records, of how far behind the stream's newest event
  time each arrived. The watermark is the oldest of the *active* sources' positions
  minus the allowed lateness, a source's position being its newest time, or the
  stream's newest time less its delay when that is later: a minute closes once every
  active source has passed it, or would have by its usual delay. So a collector that
  delivers minutes behind is waited for, and a platform that is merely quiet is not
  (its next record comes as fresh as its records always came; waiting for it delayed
  every minute's close by the gap between its records). A source silent for more than
  `source_idle` seconds of event time beyond its usual delay (a collector that
  stopped), or whose delay is longer than that, stops holding the others back. The
  watermark never moves backwards.
- **Far ahead is held.** A record far ahead of the stream's newest event time does not
  move the watermark: it is held until the stream catches up with it, a jump of the
  whole stream is confirmed, or it is dead-lettered as `timestamp_outlier`
  (`far_ahead.py`).
- **Late lands in its own minute.** A comment whose minute is already closed is *late*.
  While its minute is within the last `HISTORY_MINUTES` closed minutes it is added to that
  minute's summary and the negative-mention log, so curves and features show it where it
  belongs; the detectors, which already judged that minute, get it as late volume
  (`late`, `late_neg`) of the key's next closing minute. Older comments (beyond the
  history: days behind, a replayed backlog) are counted as late and otherwise left out:
  nothing they could change is still held. Nothing is ever folded into another minute.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator

# `X as X`: Bucket, MinuteSummary, NegativeMention and HeldRecord lived in this module,
# and checkpoints pickled before they moved name them here; so they stay importable.
from stormwatch.far_ahead import MAX_HELD, MAX_HOLD_SECONDS, FarAheadHold
from stormwatch.far_ahead import HeldRecord as HeldRecord
from stormwatch.key_window import HISTORY_MINUTES, MINUTE, KeyWindow, thread_key
from stormwatch.key_window import Bucket as Bucket
from stormwatch.key_window import MinuteSummary as MinuteSummary
from stormwatch.key_window import NegativeMention as NegativeMention
from stormwatch.model import Comment

SOURCE_IDLE_SECONDS = 300.0  # a source this far behind the newest no longer holds minutes
DELAY_SAMPLES = 15  # records per source whose delivery delay gives its median delay
MAX_SOURCES = 64  # distinct platforms tracked; further ones share one unnamed source
_NEVER = -math.inf


class _AnySource:
    """No source lags: any record may close a minute. One object in every process:
    checkpoints pickle it by name, so a restored store's `holding is ANY_SOURCE` holds
    (a plain `object()` came back as another object, and minutes then waited for the
    stream to move a source's idle time on before they closed again)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "ANY_SOURCE"

    def __repr__(self) -> str:
        return "ANY_SOURCE"


ANY_SOURCE = _AnySource()


class WindowStore(FarAheadHold):
    """All keys' windows plus the watermark that closes their minutes.

    >>> from stormwatch.model import Comment
    >>> w = WindowStore(lateness=60)
    >>> for t in (0, 30, 70, 200):
    ...     _ = w.add(Comment(id=str(t), text="x", created_at=1_700_000_000 + t, brand="b"), False)
    >>> [m - 1_700_000_000 // 60 for m in w.closable()]
    [-1, 0, 1]

    Records go through `admit` first when their time may be ahead of the stream
    (`created_at > admit_below`, see `FarAheadHold`); the others are added directly.
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
        self.brands: dict[str, KeyWindow] = {}
        self.threads: dict[str, KeyWindow] = {}
        self.max_event_time = -math.inf  # the stream's newest accepted event time
        self.sources: dict[str | None, float] = {}  # newest event time per platform
        # Per platform: how far behind the stream's newest event time its last records
        # arrived (seconds, >= 0), the delivery delay's sample.
        self.delays: dict[str | None, deque[float]] = {}
        self.next_minute: int | None = None  # the oldest minute not closed yet
        self.late_count = 0
        self.beyond_history_count = 0  # late beyond every key's history: counted only
        self.evicted_count = 0
        self._watermark = -math.inf
        self.holding: object = ANY_SOURCE  # the source the watermark waits for
        self.holding_idle_at = -math.inf  # newest event time at which it stops waiting
        self._added = 0  # records added (admitted arrivals and releases)
        super().__init__(lateness=lateness, max_hold=max_hold, max_held=max_held)

    def __setstate__(self, state: dict) -> None:
        # A checkpoint from before ANY_SOURCE pickled by name holds a bare object().
        if type(state.get("holding")) is object:
            state["holding"] = ANY_SOURCE
        # A checkpoint from before delivery delays: every source waited for at its newest.
        state.setdefault("delays", {})
        self.__dict__.update(state)

    # -- the watermark ----------------------------------------------------------------

    def active_sources(self) -> set[str | None]:
        """The platforms that delivered within `source_idle` of the stream's newest time."""
        horizon = self.max_event_time - self.source_idle
        return {source for source, newest in self.sources.items() if newest >= horizon}

    @property
    def watermark(self) -> float:
        """Event time up to which every active source has delivered (or, by its usual
        delivery delay, would have), minus the lateness; never moves backwards."""
        frontier = self.max_event_time
        idle = self.source_idle
        low = frontier
        holding: object = ANY_SOURCE
        moves_at = math.inf  # the newest event time at which the holding source lets go
        for source, newest in self.sources.items():
            if newest >= low:
                continue
            delay = self.delay(source)
            if delay <= idle:
                if newest < frontier - idle - delay:
                    continue  # silent for longer than its delay explains: stopped
                place = frontier - delay
                if place > newest:  # quiet, not behind: it comes as fresh as ever
                    moves = frontier  # any later record moves its place on
                else:
                    place, moves = newest, newest + delay
            else:  # delay unknown yet, or too long to wait for: at its newest, a while
                if newest < frontier - idle:
                    continue
                place, moves = newest, newest + idle
            if place < low:
                low, holding, moves_at = place, source, moves
        # Until the holding source delivers, or the stream's newest event time reaches
        # `moves_at`, no record of another source can close a minute.
        self.holding = holding if len(self.sources) < MAX_SOURCES else ANY_SOURCE
        self.holding_idle_at = moves_at if holding is not ANY_SOURCE else low + idle
        mark = low - self.lateness
        if mark > self._watermark:
            self._watermark = mark
        return self._watermark

    def delay(self, source: str | None) -> float:
        """A source's delivery delay: the median of its last records' delays (seconds
        behind the stream's newest event time when they arrived); infinite while it has
        fewer than 3 records (it is then waited for at its newest time, for at most
        `source_idle`, as one whose delay is longer than that)."""
        sample = self.delays.get(source)
        if sample is None:
            return math.inf
        if len(sample) < 3:
            # Its records so far came at the stream's front: not behind, nothing to
            # wait for (waiting stopped every minute's close for 5 minutes, and moved
            # other brands' incidents, at each first record of a new platform).
            return 0.0 if max(sample) == 0.0 else math.inf
        ordered = sorted(sample)
        return ordered[len(ordered) // 2]

    def add(self, c: Comment, negative: bool, key: str | None = None) -> bool:
        """Adds an admitted comment to its brand and thread windows; returns True when it
        was late. `key`: the thread's key when the caller has built it already."""
        ts = c.created_at
        self._added += 1
        behind = self.max_event_time - ts  # its source's delivery delay, one sample
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
        delays = self.delays.get(source)
        if delays is None and source in sources:  # (names beyond MAX_SOURCES: none)
            delays = self.delays[source] = deque(maxlen=DELAY_SAMPLES)
        if delays is not None:
            delays.append(behind if behind > 0.0 else 0.0)
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
        mention = window.add(c, minute, negative)
        if c.thread_id is not None:
            if key is None:
                key = thread_key(brand, c.thread_id)
            thread = self.threads.get(key)
            if thread is None:
                thread = self.threads[key] = KeyWindow(key, brand, c.thread_id, minute)
            thread.add(c, minute, negative, mention)
        return False

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
            # Its delay is kept (a rare platform is not new again at each post) while
            # fewer than MAX_SOURCES are kept; beyond, the silent one's goes with it.
            if len(self.delays) > MAX_SOURCES:
                self.delays.pop(source, None)
        return evicted
