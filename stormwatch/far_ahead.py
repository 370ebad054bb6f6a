"""Records far ahead of the stream's event time: held, so a bad clock cannot move the
watermark, until the stream catches up with them or they are given up on.

A record more than `tolerance` ahead of the stream's newest event time (the larger of
the lateness and `AHEAD_GAPS` mean gaps between records, so a sparse stream's normal
pauses pass) does not move the watermark: it is held. It is released, and processed as
usual, when the stream catches up with it. A jump of the whole stream (a replay with a
gap of days, a stream resuming after an outage) is accepted once held records from
`CONFIRM_KEYS` different keys lie within `tolerance` of each other, or once
`CONFIRM_RUN` held records came among `2 * CONFIRM_RUN` arrivals, half of them within
`tolerance` of each other (a one-thread stream, a source running ahead of another); the
stream then moves to that time and the held records are released in event-time order. A
lone mis-stamped record is never confirmed: it is dead-lettered as `timestamp_outlier`
when the stream moved `max_hold` seconds on without reaching it, when more than
`max_held` records are held (the farthest ahead goes), or at the end of the input.

`FarAheadHold` is the base class of `WindowStore` (`windows.py`), not an object of its
own: the per-comment test (`created_at > admit_below`) and the ids it holds are read on
the hot path as plain attributes of the store, and checkpoints pickle the store's
attributes as they are.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

import orjson

from stormwatch.key_window import HISTORY_MINUTES, MINUTE, thread_key
from stormwatch.model import Comment, DeadLetter, dedupe_key

AHEAD_GAPS = 10.0  # "far ahead": this many mean gaps between records (or the lateness)
MIN_TOLERANCE = 60.0  # never tighter than a minute, whatever the lateness
GAP_CAP = 3600.0  # one pause counts at most this much in the mean gap
GAP_DECAY = 1.0 / 50.0  # the mean gap follows about the last 50 closing steps
CONFIRM_KEYS = 3  # held records from this many keys, close together, confirm a jump
CONFIRM_RUN = 8  # or this many held among twice as many arrivals (a single key)
MAX_HOLD_SECONDS = HISTORY_MINUTES * MINUTE  # stream time a held record may wait
MAX_HELD = 10_000  # records held at once; beyond, the farthest ahead is dead-lettered
LIVE_START_SECONDS = 600.0  # no stream yet: a record this close to the wall clock starts it


@dataclass(slots=True)
class HeldRecord:
    """A record too far ahead of the stream to move the watermark, waiting.

    With privacy on, the pipeline hands over `comment` and `raw` (its dead letter's bytes
    if it is given up on) with the author already pseudonymised, and says so in
    `pseudonymized`: a checkpoint pickles held records, and must not keep the raw author
    id the rest of the state never sees."""

    time: float
    seq: int
    key: str
    comment: Comment
    raw: bytes
    source: str
    since: float  # the stream's newest event time when it was held (-inf: no stream yet)
    pseudonymized: bool = False  # author in `comment` and `raw` pseudonymised already

    def __setstate__(self, state: object) -> None:
        # Pickled by the default protocol of a slotted class: (None, {slot: value}).
        # Records held before `pseudonymized` existed kept the author as it came.
        self.pseudonymized = False
        slots = state[1] if isinstance(state, tuple) else state
        for name, value in slots.items():  # type: ignore[attr-defined]
            setattr(self, name, value)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(seconds: float) -> str:
    if seconds >= 7200:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 120:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


class FarAheadHold:
    """Holds records far ahead of the stream; the base of `WindowStore`.

    Records go through `admit` first when their time may be ahead of the stream
    (`created_at > admit_below`); held ones come back through `released` (to be added
    like any other, in event-time order) or `rejected` (dead letters); `hold_ready` says
    either has something.
    """

    # Kept by the store: the watermark's lateness, the stream's newest event time, the
    # oldest minute not closed yet, and how many records it added.
    lateness: float
    max_event_time: float
    next_minute: int | None
    _added: int

    def __init__(self, *, lateness: float, max_hold: float, max_held: int) -> None:
        self.max_hold = max_hold
        self.max_held = max_held
        # `admit_below` is the fast test on the hot path.
        self.tolerance = max(lateness, MIN_TOLERANCE)
        self.admit_below = -math.inf  # no stream yet: the first records are held too
        self.held: list[tuple[float, int, HeldRecord]] = []  # sorted by event time
        self.held_ids: set[str] = set()  # their `dedupe_key`s
        self.held_keys: Counter[str] = Counter()
        self.released: deque[Comment] = deque()
        self.rejected: list[DeadLetter] = []
        self.hold_ready = False
        self.held_total = 0
        self.confirmed_jumps = 0
        self._hold_check_at = math.inf  # stream time at which held records need a look
        self._seq = 0
        self._released_total = 0
        self._run_marks: deque[int] = deque(maxlen=CONFIRM_RUN)  # of the latest held
        self._run_times: deque[float] = deque(maxlen=CONFIRM_RUN)
        self._gap_sum = 0.0  # decayed sums behind the mean gap between records
        self._gap_n = 0.0
        self._gap_frontier = -math.inf
        self._gap_added = 0

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
                if self.held and self.held[0][0] <= self.admit_below:
                    # A wider tolerance reaches held records: release them now, before
                    # a later arrival is admitted ahead of them and they come late.
                    self._review_held()
        self._gap_frontier = frontier
        self._gap_added = self._added

    def admit(
        self, c: Comment, raw: bytes = b"", source: str = "", *, pseudonymized: bool = False
    ) -> bool:
        """True when `c` may be added now; False when it is held (far ahead of the
        stream). Holding may confirm a jump of the stream and release records.
        `pseudonymized`: the author in `c` and `raw` is pseudonymised already."""
        ts = c.created_at
        if ts <= self.admit_below:
            return True
        self._seq += 1
        key = thread_key(c.brand, c.thread_id) if c.thread_id is not None else c.brand
        record = HeldRecord(ts, self._seq, key, c, raw, source, self.max_event_time, pseudonymized)
        bisect.insort(self.held, (ts, self._seq, record))
        self.held_ids.add(dedupe_key(c))
        self.held_keys[key] += 1
        self.held_total += 1
        # Admitted arrivals so far: how close together in the input the held ones came.
        self._run_marks.append(self._added - self._released_total)
        self._run_times.append(ts)
        self._hold_check_at = min(
            self._hold_check_at, ts - self.tolerance, record.since + self.max_hold
        )
        jump = self._confirmed_jump(ts)
        if jump is None and self.max_event_time == -math.inf:
            jump = self._confirmed_start()
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
                    if self._every_source_moved(lo, hi):
                        return held[lo][0]
                    break
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

    def _every_source_moved(self, lo: int, hi: int) -> bool:
        """Every source still delivering at the stream's time has records among the held
        `held[lo:hi]`: a stream that moved on moved on for all of them. Three comments of
        one collector whose clock ran a day ahead, on three threads, moved the whole
        stream there while every other source went on at its own time (each of their
        records then came late, and a storm went unseen)."""
        active = self.active_sources()
        if len(active) <= 1:
            return True
        moved = {self.held[i][2].comment.platform for i in range(lo, hi)}
        return active <= moved

    def active_sources(self) -> set[str | None]:
        """The sources delivering at the stream's time (`WindowStore` knows them)."""
        return set()

    def _confirmed_start(self) -> float | None:
        """No stream yet, and the held records are too far apart for the tolerance of a
        minute or two (a small brand's stream, a comment every few minutes): its gap,
        taken from the held records themselves (the median, so a mis-stamped one cannot
        set it), sets the tolerance, and the stream starts where half of a run of them
        agree. Looked at once per `CONFIRM_RUN` held records."""
        held = self.held
        if len(held) < CONFIRM_RUN or len(held) % CONFIRM_RUN:
            return None
        times = [entry[0] for entry in held]
        gaps = sorted(min(later - earlier, GAP_CAP) for earlier, later in pairwise(times))
        tolerance = max(self.tolerance, AHEAD_GAPS * gaps[len(gaps) // 2])
        half = CONFIRM_RUN // 2
        for i in range(len(times) - half + 1):
            if times[i + half - 1] - times[i] <= tolerance:
                self.tolerance = tolerance
                return times[i]
        return None

    def start_if_current(self, ts: float, now: float) -> bool:
        """No stream yet: a record stamped within `LIVE_START_SECONDS` of the wall clock
        `now` starts it at once (a live stream's first comment is about now, and a small
        brand's next one may come an hour later). A backtest's records are far from the
        wall clock and wait for the rules above. True when the stream started."""
        if self.max_event_time > -math.inf or abs(ts - now) > LIVE_START_SECONDS:
            return False
        self._move_to(ts)
        return True

    def _move_to(self, ts: float) -> None:
        """Accept that the stream is at `ts` now and release what that makes current."""
        if ts > self.max_event_time:
            self.confirmed_jumps += 1
            if self.max_event_time == -math.inf:
                # A start: the stream begins where half of a run agree, and walks there
                # from its first held record (as far back as a held record may wait):
                # nothing has closed yet, so the records before the start (a sparse
                # stream's first ones, too far apart to agree) land in their own minutes;
                # older ones (a wrong clock) come late. Started at the run, NAB's UPS
                # stream (1,571 a day) had its first four records late.
                first = bisect.bisect_left(self.held, (ts - self.max_hold,))
                earliest = self.held[first][0] if first < len(self.held) else ts
                self.max_event_time = min(ts, earliest)
            # A jump of a running stream is walked, not leapt: the records it releases
            # move the stream on one by one as they are added, in event-time order, so
            # the ones between the stream's last time and `ts` (a sparse stream's
            # night, too far apart to agree with each other) land in their own minutes
            # before those close, instead of all coming late.
            self.admit_below = ts + self.tolerance
        if self.next_minute is None:
            self.next_minute = int((self.max_event_time - self.lateness) // MINUTE)
        # A record still held waits from here: the stream was stuck behind it and has
        # just been confirmed at `ts`, not moved on past it. Counting from when it was
        # held instead dead-lettered the morning of a sparse stream: a brand of 100 a
        # day after a night's pause, whose first records confirmed the jump only once
        # the next ones were already more than `max_hold` past that night.
        for _, _, record in self.held:
            if record.since < ts:
                record.since = ts
        self._review_held()

    def drop_held(self, key: str) -> bool:
        """Forget the held record whose `dedupe_key` is `key` (a copy of it came at a
        time the stream admits); whether one was held."""
        for i, (_, _, record) in enumerate(self.held):
            if dedupe_key(record.comment) == key:
                self._forget(record)
                del self.held[i]
                self._plan_review()
                return True
        return False

    def catch_up(self, now: float) -> None:
        """A live input's wall clock says `now`: records stamped up to it are not ahead
        of anything, whatever the stream's own newest time says. After a quiet spell
        longer than the tolerance every comment stamped now was held, and a trickle on a
        post or two (too few keys, too far apart to confirm a jump) stayed held for
        good: never processed, never alerted on, and the stream never moved on."""
        bound = now + self.tolerance
        if bound <= self.admit_below or self.max_event_time == -math.inf:
            return  # (no stream yet: its first record starts it by its own rule)
        self.admit_below = bound
        if self.held and self.held[0][0] <= bound:
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
            if n < len(held):
                self._wait_from_released(held[:n], held[n:])
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

    @staticmethod
    def _wait_from_released(
        released: list[tuple[float, int, HeldRecord]], still: list[tuple[float, int, HeldRecord]]
    ) -> None:
        """A record still held waits from the newest time of the released records that
        arrived before it: the stream moving through those (a sparse stream walking its
        night after a jump) is not the stream moving on without reaching it, which only
        later arrivals can show. Released records that came after it do count, so a
        lone wrong clock in a stream that releases records now and then still expires."""
        by_arrival = sorted((seq, record.time) for _, seq, record in released)
        seqs = [seq for seq, _ in by_arrival]
        newest: list[float] = []
        for _, t in by_arrival:
            newest.append(max(t, newest[-1]) if newest else t)
        for _, seq, record in still:
            i = bisect.bisect_left(seqs, seq)
            if i and newest[i - 1] > record.since:
                record.since = newest[i - 1]

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
        self.held_ids.discard(dedupe_key(record.comment))
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
        of what is held; then release, in event-time order, what the stream would have
        reached within `max_hold` (a sparse tail: the last comments of a file, hours
        apart, that no later record can confirm any more; a wrong clock further ahead
        is still given up on). Call `reject_held` after the released records were
        added."""
        if self.held and self.max_event_time == -math.inf:
            times = [e[0] for e in self.held]
            self._move_to(times[(len(times) - 1) // 2])
        if self.held:
            self.admit_below = max(self.admit_below, self.max_event_time + self.max_hold)
            self._review_held()

    def reject_held(self) -> None:
        """Dead-letter every record still held (the input ended before it was confirmed)."""
        for _, _, record in self.held:
            self._reject(record, "the input ended before other records confirmed it")
        self.held.clear()
        self._plan_review()

    def take_rejected(self) -> list[DeadLetter]:
        letters, self.rejected = self.rejected, []
        return letters
