"""The pipeline: decode → enrich → window → detect → incidents → sinks.

The same object runs the embedded runtime (one process over a file, stdin, HTTP or the
demo) and each Kafka worker (over its partitions). Per comment it does only cheap work:
decode, dedupe by platform and id, enrich, add to two window buckets. Detection runs
when the watermark closes a minute, per key; between closes, once a second of event
time, the keys with new negatives are looked at on what is in for the minutes still
open, and may open their incident then (`check_early`).
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from dataclasses import replace as replace_comment
from itertools import islice

import orjson

from stormwatch.alerts.decisions import IncidentDecisions

# `as`: SuppressedSurge lived here; checkpoints pickled before it moved name it here.
from stormwatch.alerts.decisions import SuppressedSurge as SuppressedSurge
from stormwatch.alerts.event import AlertEvent
from stormwatch.config import Settings
from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.features import quiet_features, window_counts, window_features
from stormwatch.detectors.judge import BrandVerdict, Judge
from stormwatch.ingest.dead_letters import pseudonymize_letter, pseudonymize_record
from stormwatch.ingest.decode import Decoder
from stormwatch.ingest.pseudonym import pseudonymize_at_uris, pseudonymize_at_uris_in
from stormwatch.key_window import MINUTE, thread_key
from stormwatch.model import Comment, DeadLetter
from stormwatch.ports import AlertSink, DeadLetterSink, PipelineObserver, PlaybookMatcher
from stormwatch.windows import ANY_SOURCE, WindowStore

log = logging.getLogger(__name__)

# Keys with new negatives are judged on their open minutes at most this often, in the
# stream's event time (`check_early`): an alert comes within about this long of the
# comment that tips it, not when its minute closes two minutes later.
EARLY_SECONDS = 1.0
# A live input without records for the lateness and this much more of wall clock: its
# minutes close anyway (`advance_to`), in `stormwatch serve` and in Kafka workers.
IDLE_EXTRA_SECONDS = 60.0
BRAND_STATE_IDLE_MINUTES = 7 * 1440  # a brand's baseline outlives a quiet week, no more
# Ids remembered for dedupe at most; one costs about 150 bytes (a 20-character id with
# its platform: their string, the minute's int and the dict entry), so the cap is
# ~150 MB. 1,000,000 is a week of 6,000 comments an hour.
DEDUPE_MAX_IDS = 1_000_000
# An observer with a window (`PipelineObserver.window_minutes`) sees a resting brand at
# each hour's first minute this long after its window emptied, and once more at the end
# of it: the metrics observer's series go after an idle hour (`metrics.BRAND_IDLE_MINUTES`).
LAST_LOOK_MINUTES = 60


MAX_LANGUAGES = 64  # languages counted each on its own in the run's stats
OTHER_LANGUAGES = "other"  # ... the rest together


@dataclass(slots=True)
class RunStats:
    read: int = 0
    processed: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    late: int = 0
    held: int = 0  # far ahead of the stream, waiting: read = processed + dead-lettered + held
    negative: int = 0
    dead_letter_reasons: Counter[str] = field(default_factory=Counter)
    languages: Counter[str | None] = field(default_factory=Counter)  # None: unknown
    events: Counter[str] = field(default_factory=Counter)
    minutes_closed: int = 0
    keys_evicted: int = 0
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        return (self.finished or time.perf_counter()) - self.started


class Pipeline:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        sinks: Sequence[AlertSink] = (),
        dead_letters: DeadLetterSink | None = None,
        enricher: Enricher | None = None,
        playbook_for: PlaybookMatcher | None = None,
        decoder: Decoder | None = None,
        pseudonymize: Callable[[str], str] | None = None,
        observer: PipelineObserver | None = None,
        clock: Callable[[], float] | None = time.time,
    ) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.sinks = list(sinks)
        self.dead_letters = dead_letters
        self.enricher = enricher or Enricher()
        self.playbook_for = playbook_for
        self.decoder = decoder or Decoder()
        self.pseudonymize = pseudonymize
        self.observer = observer
        # The wall clock: only a live stream's start looks at it. None: not a live input
        # (a file read to its end), whose first record never starts the stream alone.
        self.clock = clock
        self.windows = WindowStore(lateness=s.lateness_seconds, idle_eviction=s.thread_idle_seconds)
        self.judge = Judge(
            false_alarms_per_month=s.false_alarms_per_month, min_accounts=s.min_accounts
        )
        self.decisions = IncidentDecisions(
            self.judge,
            emit=self._emit,
            playbook_for=playbook_for,
            # An event's `emitted_at` is wall time whatever the input: a pipeline built
            # with clock=None (no live input) crashed at its first incident.
            clock=clock or time.time,
            quiet_minutes=s.quiet_minutes,
            update_minutes=s.update_minutes,
        )
        self.tracker = self.decisions.tracker  # the incidents, open and past
        self.brands = self.judge.brands  # detection's state per brand
        # dedupe key (platform and id, `dedupe_key`) -> minute of arrival, in arrival
        # order: remembered for `dedupe_hours`, at most DEDUPE_MAX_IDS of them (the oldest
        # go first).
        self.seen_ids: dict[str, int] = {}
        # Until this minute of arrival, `seen_ids` may hold bare ids of comments that had
        # a platform (restored from a checkpoint from before dedupe counted platforms):
        # an id matches them whatever its platform, as it did then. None: no such ids.
        self.bare_ids_until: int | None = None
        self.brands_in_incident: set[str] = set()  # `note_open_incidents`
        self.stats = RunStats()
        self._negative_threshold = s.negative_threshold
        self._next_eviction_minute: int | None = None
        self._close_at = -math.inf  # event time at which the next minute can close
        # Brands and thread keys with negatives since the last close or early check, and
        # the event time of the next check (`check_early`).
        self.early_brands: dict[str, None] = {}
        self.early_threads: dict[str, None] = {}
        self.early_at = -math.inf
        self._errors_logged: set[tuple[str, str, int]] = set()  # processing errors seen
        # Minute -> resting brands an observer with a window sees then (`_observe_resting`).
        self._observe_at: dict[int, dict[str, None]] = {}
        self._spoke: dict[str, int] = {}  # brand -> last minute judged with comments
        self._observed_once = False  # the first close shows every brand with a window

    # -- per comment ---------------------------------------------------------------

    def feed(self, raw: bytes, source: str = "") -> None:
        """One raw record (a JSONL line or a Kafka message value)."""
        self.feed_decoded(self.decoder.decode(raw, source), raw, source)

    def feed_lines(self, lines: Iterable[bytes], source: str = "") -> None:
        feed = self.feed
        for n, raw in enumerate(lines, 1):
            feed(raw, f"{source}:{n}" if source else "")

    def dead_letter(self, letter: DeadLetter, *, pseudonymized: bool = False) -> None:
        """`pseudonymized`: the letter's author id is pseudonymised already (a record held
        far ahead of the stream and given up on)."""
        if self.pseudonymize is not None and not pseudonymized:
            # privacy on: no raw author id in dead letters
            letter = pseudonymize_letter(letter, self.pseudonymize)
        self.stats.dead_lettered += 1
        self.stats.dead_letter_reasons[letter.reason] += 1
        if self.observer is not None:
            self.observer.dead_letter(letter)
        if self.dead_letters is not None:
            self.dead_letters.write(letter)

    def feed_decoded(self, decoded: Comment | DeadLetter, raw: bytes, source: str = "") -> None:
        """A record decoded already, with its raw form (`POST /ingest` decodes on the
        HTTP side to answer with the dead-letter counts; the pipeline does not decode it
        again)."""
        self.stats.read += 1
        if isinstance(decoded, DeadLetter):
            self.dead_letter(decoded)
        else:
            self._accept(decoded, raw, source)

    def feed_comment(self, comment: Comment) -> None:
        """An already-decoded comment (HTTP bodies, tests)."""
        self.stats.read += 1
        self._accept(comment)

    def _accept(self, c: Comment, raw: bytes = b"", source: str = "") -> None:
        windows = self.windows
        if self.pseudonymize is not None and (
            c.id.startswith("at://")
            or (c.thread_id is not None and c.thread_id.startswith("at://"))
            or (c.parent_id is not None and c.parent_id.startswith("at://"))
        ):  # each on its own: a post keyed by its CID still names its thread's author
            pseudonymize_at_uris(c, self.pseudonymize)
        seen = self.seen_ids
        platform = c.platform
        key = c.id if platform is None else platform + "\x00" + c.id  # dedupe_key(c)
        if (
            key in seen
            or (windows.held_ids and key in windows.held_ids and not self._held_copy(c, key))
            or (self.bare_ids_until is not None and c.id in seen)
        ):
            stats = self.stats
            stats.processed += 1
            stats.duplicates += 1
            if self.observer is not None:
                self.observer.comment(c, duplicate=True, late=False)
            return
        # Far ahead of the stream's event time (a wrong clock, or a jump not yet
        # confirmed): held by the window store, so it cannot move the watermark.
        try:
            held = c.created_at > windows.admit_below and self._hold(c, raw, source)
        except Exception as exc:  # noqa: BLE001 - one record must not stop the run
            self._processing_error(c, raw, source, exc)
            return
        if held:
            self.stats.held += 1
        else:
            self._process(c, raw, source)
        if windows.hold_ready:
            self._drain_held()

    def _held_copy(self, c: Comment, key: str) -> bool:
        """`c` has the id of a record held far ahead, but comes at a time the stream
        admits: the held copy is the wrong clock. It is dropped (counted as the
        duplicate) and `c` goes on; True. Else `c` is the duplicate; False. The held
        copy made the right one a duplicate and was then dead-lettered: the comment was
        never counted."""
        if c.created_at > self.windows.admit_below or not self.windows.drop_held(key):
            return False
        stats = self.stats
        stats.held -= 1
        stats.processed += 1
        stats.duplicates += 1
        if self.observer is not None:
            self.observer.comment(c, duplicate=True, late=False)  # (as every duplicate)
        return True

    def _hold(self, c: Comment, raw: bytes, source: str) -> bool:
        """Offers `c`, ahead of what the stream admits, to the far-ahead hold; True when
        it was held. With privacy on the hold gets the comment and its record with the
        author pseudonymised (checkpoints pickle what it holds), and they are not
        pseudonymised again when released or dead-lettered."""
        windows = self.windows
        clock = self.clock
        if (
            windows.max_event_time == -math.inf
            and clock is not None
            and windows.start_if_current(c.created_at, clock())
        ):
            return False  # a live stream's first comment: the stream starts with it
        pseudonymize = self.pseudonymize
        if pseudonymize is None:
            return not windows.admit(c, raw, source)
        held, held_raw = self._pseudonymous(c, raw)
        return not windows.admit(held, held_raw, source, pseudonymized=True)

    def _pseudonymous(self, c: Comment, raw: bytes) -> tuple[Comment, bytes]:
        """A copy of `c` and its record with the author pseudonymised (privacy on)."""
        pseudonymize = self.pseudonymize
        assert pseudonymize is not None
        if c.author_id is not None:
            c = replace_comment(c, author_id=pseudonymize(c.author_id))
        if not raw:
            return c, raw
        held = pseudonymize_record(pseudonymize_at_uris_in(raw, pseudonymize), pseudonymize)
        # A record that decoded is JSON: its author was replaced; None only if its text
        # looked like another author key, and then the bytes are not kept at all.
        return c, b"" if held is None else held

    def pseudonymize_held(self) -> int:
        """Pseudonymise the held records that still carry the author as it came (held
        while privacy was off, or by a stormwatch that held records before they were
        pseudonymised): called when a checkpoint is restored. Returns how many."""
        if self.pseudonymize is None:
            return 0
        n = 0
        for _, _, record in self.windows.held:
            if not record.pseudonymized:
                record.comment, record.raw = self._pseudonymous(record.comment, record.raw)
                record.pseudonymized = True
                n += 1
        return n

    def _process(
        self, c: Comment, raw: bytes = b"", source: str = "", *, pseudonymized: bool = False
    ) -> None:
        """`pseudonymized`: the author id of `c` is pseudonymised already (released from
        the far-ahead hold)."""
        stats = self.stats
        windows = self.windows
        try:
            # Everything that can fail on the record's content comes before the first
            # change of state, so a record that fails leaves no trace but its dead letter.
            author_id = c.author_id
            if self.pseudonymize is not None and author_id is not None and not pseudonymized:
                author_id = self.pseudonymize(author_id)
            lang, negativity, topics = self.enricher.enrich(c.text, c.lang, c.brand)
            negative = negativity >= self._negative_threshold
            c.author_id = author_id
            pseudonymized = True  # `c` carries what the store may keep of its author
            c.lang = lang
            c.negativity = negativity
            c.topics = topics
            key = thread_key(c.brand, c.thread_id) if c.thread_id is not None else None
            beyond = windows.beyond_history_count
            late = windows.add(c, negative, key)
            if windows.beyond_history_count == beyond:
                # Not for a comment older than every key's history: it is counted as
                # late and nothing else, so it must not reach the tests as a negative of
                # the next closing minute either (hours late, it would be folded into
                # the present).
                self.judge.note(
                    c.brand, c.thread_id, author_id or c.id, int(c.created_at // MINUTE),
                    negative, key,
                )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - one record must not stop the run
            self._processing_error(c, raw, source, exc, pseudonymized=pseudonymized)
            return
        stats.processed += 1
        # Remembered by arrival (the stream's newest minute), not by its own event time, so
        # a late comment is not forgotten at once and a redelivery of it still dedupes.
        platform = c.platform
        seen_key = c.id if platform is None else platform + "\x00" + c.id  # dedupe_key(c)
        self.seen_ids[seen_key] = int(max(c.created_at, windows.max_event_time) // MINUTE)
        if len(self.seen_ids) > DEDUPE_MAX_IDS:
            # Oldest first, a tenth at a time, so the rebuild costs O(1) per comment.
            seen = self.seen_ids
            self.seen_ids = dict(islice(seen.items(), len(seen) - DEDUPE_MAX_IDS * 9 // 10, None))
        languages = stats.languages
        seen_lang = languages.get(lang)  # one lookup for the usual case
        if seen_lang is not None:
            languages[lang] = seen_lang + 1
        elif len(languages) < MAX_LANGUAGES:
            languages[lang] = 1
        else:  # a producer's odd codes: counted, not each its own entry for good
            languages[OTHER_LANGUAGES] = languages.get(OTHER_LANGUAGES, 0) + 1
        if negative:
            stats.negative += 1
            self.early_brands[c.brand] = None
            if key is not None:
                self.early_threads[key] = None
        else:
            state = self.brands.get(c.brand)
            # The brand's normal talk (what alerts' top terms stand out from): none of
            # it while an incident of the brand, brand-wide or on a post, is open.
            if state is not None and c.brand not in self.brands_in_incident:
                state.normal_texts.append(c.text)
        if late:
            stats.late += 1
        if self.observer is not None:
            self.observer.comment(c, duplicate=False, late=late)
        if c.created_at >= self._close_at and (
            windows.holding is ANY_SOURCE
            or c.platform == windows.holding
            or windows.max_event_time >= windows.holding_idle_at
        ):
            self._close_ready()
        if c.created_at >= self.early_at and self.early_brands:
            self.check_early()

    def _processing_error(
        self, c: Comment, raw: bytes, source: str, exc: Exception, *, pseudonymized: bool = False
    ) -> None:
        """A record that failed in processing: dead-lettered as `processing_error`, the
        traceback logged once per distinct error (type and the line that raised), the
        run goes on. A redelivery is tried again: its id is not remembered.
        `pseudonymized`: the author id of `c` is pseudonymised already (`raw` never is)."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb is not None else ("", 0)
        signature = (type(exc).__name__, *where)
        logged = self._errors_logged
        if signature not in logged:
            if len(logged) < 1000:
                logged.add(signature)
            log.error(
                "record %s (%s) failed in processing and was dead-lettered; further records "
                "failing the same way are dead-lettered without a traceback",
                c.id[:80],
                source or "no source",
                exc_info=exc,
            )
        from_comment = not raw
        if from_comment:
            try:
                raw = orjson.dumps(c)
            except TypeError:
                raw = repr(c).encode("utf-8", "replace")
        self.dead_letter(
            DeadLetter(raw, "processing_error", f"{type(exc).__name__}: {exc}"[:300], source),
            pseudonymized=from_comment and pseudonymized,
        )

    def _close_ready(self) -> None:
        """Close the minutes the watermark has passed. Only a comment at or after
        `_close_at` can move it that far, and only one of the source the watermark waits
        for (or one that makes that source idle), so the hot path asks only then."""
        windows = self.windows
        self.decisions.stream_time = windows.max_event_time
        for m in windows.closable():
            self._close_minute(m)
        if windows.next_minute is not None:
            self._close_at = (windows.next_minute + 1) * MINUTE + windows.lateness

    def check_early(self, *, keep_waiting: bool = False) -> int:
        """Judge the keys with new negatives since the last close on the minutes still
        open (`Judge.judge_early`) and open the incidents they call for now; returns
        how many opened. The pipeline asks once per `EARLY_SECONDS` of event time while
        comments come; `stormwatch serve` and Kafka workers also when their input
        pauses. Nothing is learned: a key that does not fire is judged at its close as
        if never looked at. `keep_waiting`: a look that opens nothing leaves the keys
        waiting and the next tick where they were, so a replay that meets no pause
        there decides the same (Kafka workers)."""
        windows = self.windows
        brands, threads, early_at = self.early_brands, self.early_threads, self.early_at
        if windows.max_event_time > -math.inf:
            self.early_at = (math.floor(windows.max_event_time / EARLY_SECONDS) + 1) * EARLY_SECONDS
        if not brands or windows.next_minute is None:
            return 0
        self.early_brands, self.early_threads = {}, {}
        tracker = self.tracker
        open_brands = {i.brand for i in tracker.open.values()}
        minute = windows.next_minute - 1  # the newest closed minute
        alerting_threads, alerting_brands = self.judge.judge_early(
            minute, brands, threads, windows.brands, windows.threads, open_brands
        )
        if not (alerting_threads or alerting_brands):
            if keep_waiting:
                self.early_brands, self.early_threads, self.early_at = brands, threads, early_at
            return 0
        before = len(tracker.open)
        self.decisions.stream_time = windows.max_event_time
        self.decisions.open_early(minute, alerting_threads, alerting_brands, windows.brands)
        opened = len(tracker.open) - before
        if opened:
            self.note_open_incidents()
        if not opened and keep_waiting:
            self.early_brands, self.early_threads, self.early_at = brands, threads, early_at
        return opened

    def note_open_incidents(self) -> None:
        """The brands with an incident open, for the per-comment path (a set lookup, not a
        look at every open incident for each comment): after each closed minute, each
        early opening and a restore (`checkpoint.restore`)."""
        self.brands_in_incident = {i.brand for i in self.tracker.open.values()}

    def _drain_held(self) -> None:
        """Process the held records the stream caught up with (in event-time order) and
        dead-letter the ones given up on."""
        windows = self.windows
        stats = self.stats
        while True:
            while windows.hold_ready:
                windows.hold_ready = False
                # Held records come with the author pseudonymised when privacy is on
                # (`_hold`, `pseudonymize_held`).
                for letter in windows.take_rejected():
                    stats.held -= 1
                    self.dead_letter(letter, pseudonymized=True)
                released = windows.released
                while released:
                    stats.held -= 1
                    self._process(released.popleft(), pseudonymized=True)
            self._close_ready()
            # Closing reviews the hold again when the stream's gaps widened its
            # tolerance: what that released is processed now. Left waiting until the
            # next record, it was neither held nor seen, and a redelivery of it then
            # passed dedupe (and a checkpoint kept it pending, counted twice on resume).
            if not windows.hold_ready:
                return

    def finish(self, *, carry_held: bool = False) -> RunStats:
        """End of input: settle the held records, close what is left, flush the sinks.

        `carry_held` (`run --db`, whose checkpoint was saved just before): the records
        held far ahead stay held, in the checkpoint, for the run over the continued input
        (counted `held`), and so do the minutes the watermark has not passed: the run
        over the continued input judges them with all their comments. Settled here, held
        records were dead-lettered twice, or walked to and processed, which moved the
        stream on (the next part's first hour came late); and the minutes, judged on what
        had come so far, opened an incident the checkpoint never knew (another minute's),
        so the continued run opened the storm a second time and the first stayed open in
        the store for good. A stream that never got a time (a few records) settles them
        all the same."""
        windows = self.windows
        if carry_held and windows.max_event_time != -math.inf:
            return self._finished()
        # A sparse tail is walked step by step: each step releases what lies within
        # `max_hold` of the stream's newest time, which then moves on (one step left a
        # tail of comments an hour apart dead-lettered after its first).
        while True:
            held = len(windows.held)
            windows.end_of_input()
            self._drain_held()
            if not windows.held or len(windows.held) == held:
                break
        windows.reject_held()
        self._drain_held()
        lateness = windows.lateness
        for m in windows.flush():
            # A live stream closes them when its input has paused (`advance_to`).
            self.decisions.stream_time = max(windows.max_event_time, (m + 1) * MINUTE + lateness)
            self._close_minute(m)
        return self._finished()

    def _finished(self) -> RunStats:
        self.stats.finished = time.perf_counter()
        for sink in self.sinks:
            sink.close()
        if self.dead_letters is not None:
            self.dead_letters.close()
        return self.stats

    def advance_to(self, event_time: float, *, max_minutes: int = 60) -> int:
        """Close the minutes that end at or before `event_time` although no comment moved
        the watermark there: a live stream gone quiet (`stormwatch serve` and Kafka
        workers ask when no input came for a while, with the wall clock minus the
        lateness). Comments that arrive later for those minutes count as late. Closes
        at most `max_minutes` per call, so catching up after a long silence never blocks
        intake; returns how many."""
        windows = self.windows
        self.decisions.stream_time = event_time + windows.lateness  # the wall clock now
        # Comments stamped up to now are no longer held as far ahead: processed before
        # their minutes close, not late after them.
        windows.catch_up(event_time + windows.lateness)
        if windows.hold_ready:
            self._drain_held()
            self.decisions.stream_time = event_time + windows.lateness  # (closing reset it)
        closed = 0
        while (
            windows.next_minute is not None
            and closed < max_minutes
            and (windows.next_minute + 1) * MINUTE <= event_time
        ):
            minute = windows.next_minute
            windows.next_minute = minute + 1
            self._close_minute(minute)
            closed += 1
        if closed and windows.next_minute is not None:
            self._close_at = (windows.next_minute + 1) * MINUTE + windows.lateness
        return closed

    # -- per closed minute ----------------------------------------------------------

    def _close_minute(self, minute: int) -> None:
        """Judge the keys on the minute that just closed, in this order: threads, then
        brands (which defer to their threads); decide incidents (`alerts/decisions.py`):
        hold open, thread storms, each brand; learn, evict."""
        self.stats.minutes_closed += 1
        if self.early_brands:  # the close judges them with what is in for later minutes
            self.early_brands, self.early_threads = {}, {}
        judge, decisions, observer = self.judge, self.decisions, self.observer
        open_incidents = self.tracker.open
        # An observer that reads a window of `window_minutes` sees a resting brand only
        # when its figures change (`_observe_resting`); one without sees every brand's
        # minute, and the judge hands it each resting brand's.
        window_minutes = getattr(observer, "window_minutes", None)
        if not isinstance(window_minutes, int):
            window_minutes = None
        judge.lazy = observer is None or window_minutes is not None
        threads = list(
            judge.judge_threads(minute, self.windows.threads, open_incidents, self.windows.brands)
        )
        brands = list(judge.judge_brands(minute, self.windows.brands, open_incidents))
        decisions.hold_open(minute, threads, brands)
        decisions.group_threads(minute, threads, self.windows.brands)
        for verdict in brands:
            if observer is not None:
                self._observe_brand_minute(minute, verdict, observer, window_minutes)
            decisions.decide_brand(minute, verdict)
        if observer is not None and window_minutes is not None:
            self._observe_resting(minute, brands, window_minutes, observer)
        self._learn(minute, brands)
        self.note_open_incidents()
        evicted = self._evict_on_schedule(minute)
        if observer is not None:
            done = getattr(observer, "minute_done", None)
            if done is not None:
                done(minute)
            windows = self.windows
            observer.keys(brands=len(windows.brands), threads=len(windows.threads), evicted=evicted)

    def _observe_brand_minute(
        self,
        minute: int,
        verdict: BrandVerdict,
        observer: PipelineObserver,
        window_minutes: int | None = None,
    ) -> None:
        """The observer sees a brand's closed minute: its features (with `window_minutes`,
        only that window's counts) and assessment."""
        window = verdict.window
        normal = self.brands[verdict.brand].expected(minute)
        if window_minutes is not None:
            x = window_counts(window, minute, normal, window_minutes)
        else:
            x = window_features(window, minute, normal) if window else quiet_features(normal)
        observer.minute_closed(verdict.brand, minute, x, verdict.assessment)

    def _observe_resting(
        self,
        minute: int,
        judged: list[BrandVerdict],
        window_minutes: int,
        observer: PipelineObserver,
    ) -> None:
        """Judged brands were shown to the observer; a resting brand is shown when its
        figures change: when a minute's comments leave the observer's window
        (`window_minutes` after the minute they were counted in), the minute after one it
        learned (its expectation moved), and each hour's first minute (expected rates
        move to the hour's) while it spoke within the last `LAST_LOOK_MINUTES` and
        window; then once more, so the observer can drop what it holds for an idle
        brand. A late comment leaves the window as the minute it was counted at does, a
        few minutes after its own. Showing every brand every minute made the metrics
        observer cost more than detection: a stream over 20,000 brands ran 18 times
        slower with it than without.

        Not checkpointed: a pipeline's first close shows every brand with a window (a
        restored one starts with none of these looks scheduled)."""
        observe_at = self._observe_at
        due = observe_at.pop(minute, None)
        last_look = minute + window_minutes + LAST_LOOK_MINUTES + 1
        if not self._observed_once:
            self._observed_once = True
            everyone = dict.fromkeys(self.windows.brands)
            due = everyone if due is None else {**due, **everyone}
            observe_at.setdefault(last_look, {}).update(everyone)
        spoke = self._spoke
        if judged:
            # A minute learned moves a brand's expectation: shown with the next minute
            # (unless judged then, and so shown anyway).
            following = observe_at.setdefault(minute + 1, {})
            for verdict in judged:
                following[verdict.brand] = None
            leaving = last = None
            for verdict in judged:
                if verdict.n:
                    if leaving is None:
                        leaving = observe_at.setdefault(minute + window_minutes, {})
                        last = observe_at.setdefault(last_look, {})
                    leaving[verdict.brand] = None
                    last[verdict.brand] = None  # type: ignore[index]
                    spoke.pop(verdict.brand, None)  # to the end: oldest first
                    spoke[verdict.brand] = minute
        if minute % 60 == 0:
            horizon = minute - LAST_LOOK_MINUTES - window_minutes
            while spoke:
                brand = next(iter(spoke))
                if spoke[brand] >= horizon:
                    break
                del spoke[brand]
            due = dict.fromkeys(spoke) if due is None else {**due, **spoke}
        if not due:
            return
        seen = {verdict.brand for verdict in judged}
        for brand in due:
            if brand not in seen:
                verdict = self.judge.rested_verdict(brand, minute, self.windows.brands.get(brand))
                if verdict is not None:
                    self._observe_brand_minute(minute, verdict, observer, window_minutes)

    def _learn(self, minute: int, verdicts: list[BrandVerdict]) -> None:
        """Baselines learn the minutes of brands with nothing open."""
        disturbed = {i.brand for i in self.tracker.open.values()}
        for verdict in verdicts:
            self.judge.learn(verdict, minute, disturbed=verdict.brand in disturbed)

    def _evict_on_schedule(self, minute: int) -> int:
        """Evict idle keys once an hour of event time; returns how many went."""
        if self._next_eviction_minute is None:
            self._next_eviction_minute = minute + 60
        elif minute >= self._next_eviction_minute:
            self._next_eviction_minute = minute + 60
            return self._evict(minute)
        return 0

    def _emit(self, event: AlertEvent) -> None:
        self.stats.events[event.event] += 1
        if self.observer is not None:
            self.observer.alert(event)
        for sink in self.sinks:
            sink.emit(event)

    def _evict(self, minute: int) -> int:
        now = (minute + 1) * MINUTE
        keep = set(self.tracker.open)
        evicted = self.windows.evict_idle(now, keep)
        self.stats.keys_evicted += len(evicted)
        self.judge.drop_threads(evicted)
        horizon = minute - int(self.settings.dedupe_hours * 60)
        # Ids are remembered by arrival, so the oldest are at the front: forgetting them
        # costs what is forgotten, not a rebuild of up to a million ids every hour (a
        # pause in `serve`). An id stamped out of order stays until those before it go:
        # remembered longer, never forgotten early.
        seen = self.seen_ids
        stale = []
        for key, arrived in seen.items():
            if arrived >= horizon:
                break
            stale.append(key)
        for key in stale:
            del seen[key]
        if self.bare_ids_until is not None and self.bare_ids_until < horizon:
            self.bare_ids_until = None
        self.decisions.evict(minute)
        # Bounded on endless streams: brands without a comment for a week lose their
        # state (judged every minute or asleep alike: what counts is their last comment).
        idle = [
            b
            for b, state in self.brands.items()
            if b not in self.windows.brands
            and minute - state.last_active > BRAND_STATE_IDLE_MINUTES
            and not any(i.brand == b for i in self.tracker.open.values())
        ]
        self.judge.evict(idle)
        return len(evicted)
