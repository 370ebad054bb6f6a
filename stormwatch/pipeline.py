"""The pipeline: decode → enrich → window → detect → incidents → sinks.

The same object runs the embedded runtime (one process over a file, stdin, HTTP or the
demo) and each Kafka worker (over its partitions). Per comment it does only cheap work:
decode, dedupe by id, enrich, add to two window buckets. Detection runs when the
watermark closes a minute, per key.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice

import orjson

from stormwatch.alerts.content import build_content, top_accounts, top_threads, top_topics
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.incidents import CALM_RATIO, Incident, IncidentTracker
from stormwatch.config import Settings
from stormwatch.detectors.crisis import Assessment
from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.explain import distinctive_terms
from stormwatch.detectors.features import quiet_features, window_features
from stormwatch.detectors.feedback import FeedbackMemory, SurgeSignature
from stormwatch.detectors.judge import BrandState, BrandVerdict, Judge
from stormwatch.ingest.dead_letters import pseudonymize_letter
from stormwatch.ingest.decode import Decoder
from stormwatch.key_window import MINUTE, KeyWindow, thread_key
from stormwatch.model import Comment, DeadLetter
from stormwatch.ports import AlertSink, DeadLetterSink, PipelineObserver, PlaybookMatcher
from stormwatch.windows import ANY_SOURCE, WindowStore

log = logging.getLogger(__name__)

BRAND_STATE_IDLE_MINUTES = 7 * 1440  # a brand's baseline outlives a quiet week, no more
# Ids remembered for dedupe at most; one costs about 150 bytes (a 20-character id:
# its string, the minute's int and the dict entry), so the cap is ~150 MB. 1,000,000 is
# a week of 6,000 comments an hour.
DEDUPE_MAX_IDS = 1_000_000
HISTORY_LIMIT = 1000  # incidents and left-alone surges kept for the run's report
SUPPRESSED_REARM_MINUTES = 60


@dataclass(slots=True)
class SuppressedSurge:
    """A surge that a naive detector would have paged on, and why stormwatch did not."""

    key: str
    brand: str
    thread_id: str | None
    reason: str
    first_minute: int
    last_minute: int
    peak_ratio: float
    peak_volume_ratio: float


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
        clock: Callable[[], float] = time.time,
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
        self.windows = WindowStore(lateness=s.lateness_seconds, idle_eviction=s.thread_idle_seconds)
        self.judge = Judge(
            false_alarms_per_month=s.false_alarms_per_month, min_accounts=s.min_accounts
        )
        self.tracker = IncidentTracker(
            explain=self._explain,
            clock=clock,
            quiet_minutes=s.quiet_minutes,
            update_minutes=s.update_minutes,
        )
        self.brands = self.judge.brands  # detection's state per brand
        # id -> minute of arrival, in arrival order: remembered for `dedupe_hours`, at most
        # DEDUPE_MAX_IDS of them (the oldest go first).
        self.seen_ids: dict[str, int] = {}
        self.stats = RunStats()
        self.feedback_memory = FeedbackMemory()
        self.suppressed: list[SuppressedSurge] = []
        self._suppressing: dict[str, SuppressedSurge] = {}
        # key -> (ratio bar of a surge recognised as dismissed before, last minute seen)
        self._dismissed_bars: dict[str, tuple[float, int]] = {}
        self._explaining: tuple[KeyWindow, int, Sequence[str]] | None = None
        self._negative_threshold = s.negative_threshold
        self._next_eviction_minute: int | None = None
        self._close_at = -math.inf  # event time at which the next minute can close
        self._errors_logged: set[tuple[str, str, int]] = set()  # processing errors seen

    # -- per comment ---------------------------------------------------------------

    def feed(self, raw: bytes, source: str = "") -> None:
        """One raw record (a JSONL line or a Kafka message value)."""
        self.stats.read += 1
        decoded = self.decoder.decode(raw, source)
        if isinstance(decoded, DeadLetter):
            self.dead_letter(decoded)
        else:
            self._accept(decoded, raw, source)

    def feed_lines(self, lines: Iterable[bytes], source: str = "") -> None:
        feed = self.feed
        for n, raw in enumerate(lines, 1):
            feed(raw, f"{source}:{n}" if source else "")

    def dead_letter(self, letter: DeadLetter) -> None:
        if self.pseudonymize is not None:  # privacy on: no raw author id in dead letters
            letter = pseudonymize_letter(letter, self.pseudonymize)
        self.stats.dead_lettered += 1
        self.stats.dead_letter_reasons[letter.reason] += 1
        if self.observer is not None:
            self.observer.dead_letter(letter)
        if self.dead_letters is not None:
            self.dead_letters.write(letter)

    def feed_comment(self, comment: Comment) -> None:
        """An already-decoded comment (HTTP bodies, tests)."""
        self.stats.read += 1
        self._accept(comment)

    def _accept(self, c: Comment, raw: bytes = b"", source: str = "") -> None:
        windows = self.windows
        if c.id in self.seen_ids or (windows.held_ids and c.id in windows.held_ids):
            stats = self.stats
            stats.processed += 1
            stats.duplicates += 1
            if self.observer is not None:
                self.observer.comment(c, duplicate=True, late=False)
            return
        # Far ahead of the stream's event time (a wrong clock, or a jump not yet
        # confirmed): held by the window store, so it cannot move the watermark.
        try:
            held = c.created_at > windows.admit_below and not windows.admit(c, raw, source)
        except Exception as exc:  # noqa: BLE001 - one record must not stop the run
            self._processing_error(c, raw, source, exc)
            return
        if held:
            self.stats.held += 1
        else:
            self._process(c, raw, source)
        if windows.hold_ready:
            self._drain_held()

    def _process(self, c: Comment, raw: bytes = b"", source: str = "") -> None:
        stats = self.stats
        windows = self.windows
        try:
            # Everything that can fail on the record's content comes before the first
            # change of state, so a record that fails leaves no trace but its dead letter.
            author_id = c.author_id
            if self.pseudonymize is not None and author_id is not None:
                author_id = self.pseudonymize(author_id)
            lang, negativity, topics = self.enricher.enrich(c.text, c.lang, c.brand)
            negative = negativity >= self._negative_threshold
            c.author_id = author_id
            c.lang = lang
            c.negativity = negativity
            c.topics = topics
            key = thread_key(c.brand, c.thread_id) if c.thread_id is not None else None
            self.judge.note(
                c.brand, c.thread_id, author_id or c.id, int(c.created_at // MINUTE), negative, key
            )
            late = windows.add(c, negative, key)
        except Exception as exc:  # noqa: BLE001 - one record must not stop the run
            self._processing_error(c, raw, source, exc)
            return
        stats.processed += 1
        # Remembered by arrival (the stream's newest minute), not by its own event time, so
        # a late comment is not forgotten at once and a redelivery of it still dedupes.
        self.seen_ids[c.id] = int(max(c.created_at, windows.max_event_time) // MINUTE)
        if len(self.seen_ids) > DEDUPE_MAX_IDS:
            # Oldest first, a tenth at a time, so the rebuild costs O(1) per comment.
            seen = self.seen_ids
            self.seen_ids = dict(islice(seen.items(), len(seen) - DEDUPE_MAX_IDS * 9 // 10, None))
        languages = stats.languages
        languages[lang] = languages.get(lang, 0) + 1
        if negative:
            stats.negative += 1
        else:
            state = self.brands.get(c.brand)
            if state is not None and c.brand not in self.tracker.open:
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

    def _processing_error(self, c: Comment, raw: bytes, source: str, exc: Exception) -> None:
        """A record that failed in processing: dead-lettered as `processing_error`, the
        traceback logged once per distinct error (type and the line that raised), the
        run goes on. A redelivery is tried again: its id is not remembered."""
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
        if not raw:
            try:
                raw = orjson.dumps(c)
            except TypeError:
                raw = repr(c).encode("utf-8", "replace")
        self.dead_letter(
            DeadLetter(raw, "processing_error", f"{type(exc).__name__}: {exc}"[:300], source)
        )

    def _close_ready(self) -> None:
        """Close the minutes the watermark has passed. Only a comment at or after
        `_close_at` can move it that far, and only one of the source the watermark waits
        for (or one that makes that source idle), so the hot path asks only then."""
        windows = self.windows
        for m in windows.closable():
            self._close_minute(m)
        if windows.next_minute is not None:
            self._close_at = (windows.next_minute + 1) * MINUTE + windows.lateness

    def _drain_held(self) -> None:
        """Process the held records the stream caught up with (in event-time order) and
        dead-letter the ones given up on."""
        windows = self.windows
        stats = self.stats
        while windows.hold_ready:
            windows.hold_ready = False
            for letter in windows.take_rejected():
                stats.held -= 1
                self.dead_letter(letter)
            released = windows.released
            while released:
                stats.held -= 1
                self._process(released.popleft())
        self._close_ready()

    def finish(self) -> RunStats:
        """End of input: settle the held records, close what is left, flush the sinks."""
        windows = self.windows
        windows.end_of_input()
        self._drain_held()
        windows.reject_held()
        self._drain_held()
        for m in windows.flush():
            self._close_minute(m)
        self.stats.finished = time.perf_counter()
        for sink in self.sinks:
            sink.close()
        if self.dead_letters is not None:
            self.dead_letters.close()
        return self.stats

    def advance_to(self, event_time: float, *, max_minutes: int = 60) -> int:
        """Close the minutes that end at or before `event_time` although no comment moved
        the watermark there: a live stream gone quiet (`stormwatch serve` asks when no
        input came for a while, with its wall clock minus the lateness). Comments that
        arrive later for those minutes count as late. Closes at most `max_minutes` per
        call, so catching up after a long silence never blocks intake; returns how many."""
        windows = self.windows
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
        brands (which defer to their threads), group into incidents, learn, evict."""
        self.stats.minutes_closed += 1
        open_incidents = self.tracker.open
        self.judge.lazy = self.observer is None  # an observer sees every brand's minute
        threads = list(self.judge.judge_threads(minute, self.windows.threads, open_incidents))
        brands = list(self.judge.judge_brands(minute, self.windows.brands, open_incidents))
        self._hold_open(threads, brands)
        self._group_threads(minute, threads)
        for verdict in brands:
            self._decide_brand(minute, verdict)
        self._learn(minute, brands)
        evicted = self._evict_on_schedule(minute)
        if self.observer is not None:
            windows = self.windows
            self.observer.keys(
                brands=len(windows.brands), threads=len(windows.threads), evicted=evicted
            )

    def _hold_open(
        self, threads: list[tuple[KeyWindow, Assessment]], brands: list[BrandVerdict]
    ) -> None:
        """An incident that absorbed threads is one storm: it stays open while any of
        them still alerts, and one on a thread while its brand alerts or its brand's
        negative talk is not calm, though the thread it opened on has calmed. Otherwise
        it would resolve mid-storm and the storm's other keys would open incidents of
        their own."""
        open_incidents = self.tracker.open
        if not open_incidents:
            return
        owner: dict[tuple[str, str], Incident] = {}
        on_threads: dict[str, list[Incident]] = {}
        for incident in open_incidents.values():
            for thread_id in incident.threads:
                owner[(incident.brand, thread_id)] = incident
            if incident.thread_id is not None:
                on_threads.setdefault(incident.brand, []).append(incident)
        for window, a in threads:
            if a.alerting and window.thread_id is not None:
                incident = owner.get((window.brand, window.thread_id))
                if incident is not None:
                    incident.quiet = 0
        for verdict in brands:
            a = verdict.assessment
            for incident in on_threads.get(verdict.brand, ()):
                # A slow swell moves from post to post: its first thread calms while the
                # brand's negative talk is still up.
                if a.alerting or a.ratio >= CALM_RATIO:
                    incident.quiet = 0

    def _group_threads(self, minute: int, verdicts: list[tuple[KeyWindow, Assessment]]) -> None:
        """Thread storms: open or update their incidents. Inside a brand-wide incident a
        new thread storm opens nothing: the brand's incident escalates, naming it."""
        open_incidents = self.tracker.open
        # The brand's open incident that a new thread storm joins: a brand-wide one
        # first, else one on another thread.
        covering: dict[str, str] = {}
        for k, i in open_incidents.items():
            if i.thread_id is None or i.kind == "spreading" or i.brand not in covering:
                covering[i.brand] = k
        for window, a in verdicts:
            self._track_suppressed(window, minute, a)
            key = window.key
            covered = covering.get(window.brand)
            if key not in open_incidents and a.alerting and covered in open_incidents:
                self._absorb(covered, window, minute, a)
            elif key in open_incidents or a.alerting:
                self._observe(window, minute, a, may_open=True)
                if key in open_incidents and window.brand not in covering:
                    covering[window.brand] = key

    def _decide_brand(self, minute: int, verdict: BrandVerdict) -> None:
        """Open, update or escalate the brand's incident.

        Inhibition: when one thread carries most of the brand's excess of negative
        comments, the storm is that thread's; its own key decides. When a thread's storm
        is open and the brand as a whole now surges too, the storm has spread: that
        incident escalates, instead of a second incident opening."""
        brand, window, a = verdict.brand, verdict.window, verdict.assessment
        if self.observer is not None:
            state = self.brands[brand]
            normal = state.expected(minute)
            x = window_features(window, minute, normal) if window else quiet_features(normal)
            self.observer.minute_closed(brand, minute, x, a)
        if window is None:
            return
        open_incidents = self.tracker.open
        self._track_suppressed(window, minute, a)
        threads_open = [k for k, i in open_incidents.items() if i.brand == brand and i.thread_id]
        if threads_open and brand not in open_incidents:
            if a.alerting and not verdict.dominated:
                self._spread(threads_open[-1], window, minute, a)
        elif brand in open_incidents or a.alerting:
            self._observe(window, minute, a, may_open=not verdict.dominated)

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

    def _brand_state(self, brand: str) -> BrandState:
        return self.judge.brand_state(brand)

    def _features(self, window: KeyWindow, minute: int) -> dict[str, float]:
        """The window's features, for explanations (only when an event is decided)."""
        state = self._brand_state(window.brand)
        normal = state.expected(minute)
        share = state.baseline.typical_thread_share() if window.thread_id else 1.0
        return window_features(window, minute, normal, share)

    def _observe(self, window: KeyWindow, minute: int, a: Assessment, *, may_open: bool) -> None:
        if window.key not in self.tracker.open and not a.alerting:
            return
        if may_open and window.key not in self.tracker.open and self._dismissed(window, minute, a):
            self._track_suppressed(window, minute, a, "dismissed_before")
            may_open = False
        x = self._features(window, minute)
        state = self._brand_state(window.brand)
        at = self._decision_time(window, minute)
        self._explaining = (window, minute, list(state.normal_texts))
        event = self.tracker.observe(
            window.key,
            brand=window.brand,
            thread_id=window.thread_id,
            minute=minute,
            at=at,
            x=x,
            a=a,
            may_open=may_open,
        )
        self._explaining = None
        if event is not None:
            if event.event == "resolved":
                self.judge.forget(window.key)
                if not any(i.brand == window.brand for i in self.tracker.open.values()):
                    self.judge.forget_brand(window.brand)
            self._emit(event)

    def _absorb(self, incident_key: str, window: KeyWindow, minute: int, a: Assessment) -> None:
        """A thread storm inside an open brand-wide incident: that incident escalates and
        names the thread (once per thread)."""
        brand_window = self.windows.brands.get(window.brand, window)
        x = self._features(brand_window, minute)
        state = self._brand_state(window.brand)
        at = self._decision_time(window, minute)
        self._explaining = (brand_window, minute, list(state.normal_texts))
        event = self.tracker.absorb(
            incident_key, window.thread_id or "", minute=minute, at=at, x=x, a=a
        )
        self._explaining = None
        if event is not None:
            self._emit(event)

    def feedback(self, incident_key: str, label: str) -> bool:
        """A person's verdict on an incident of this run ("false_alarm" or "confirmed"):
        surges like it open less (or again normally). False when the key is unknown."""
        for incident in self.tracker.history:
            if incident.key == incident_key:
                threads = [*incident.threads]
                if incident.thread_id is not None:
                    threads.append(incident.thread_id)
                self.remember_verdict(
                    brand=incident.brand,
                    thread_level=incident.thread_id is not None,
                    topics=incident.topics,
                    terms=incident.terms,
                    label=label,
                    peak_ratio=incident.peak_ratio,
                    threads=threads or None,
                )
                return True
        return False

    def remember_verdict(
        self,
        *,
        brand: str,
        thread_level: bool,
        topics: Sequence[str],
        terms: Sequence[str],
        label: str,
        peak_ratio: float,
        platform: str | None = None,
        accounts: Sequence[str] | None = None,
        threads: Sequence[str] | None = None,
    ) -> None:
        """A verdict on an incident of an earlier run (loaded from the incident store).
        `platform`, `accounts` (its top accounts) and `threads` are optional: what is not
        given is left out when later surges are compared with it."""
        signature = SurgeSignature.of(
            brand,
            thread_level=thread_level,
            topics=topics,
            terms=terms,
            platform=platform,
            accounts=accounts,
            threads=threads,
        )
        self.feedback_memory.record(signature, label, peak_ratio)

    def _dismissed(self, window: KeyWindow, minute: int, a: Assessment) -> bool:
        """Would this surge open, although people dismissed one like it before?

        Recognised once, a surge keeps its bar while it lasts: its topics and terms drift
        as it grows (other grievances join), and a look-alike must not slip through
        because, an hour in, it no longer resembles its own beginning."""
        memory = self.feedback_memory
        if not memory.knows(window.brand):
            return False
        held = self._dismissed_bars.get(window.key)
        if held is not None and minute - held[1] <= SUPPRESSED_REARM_MINUTES:
            bar = held[0]
        else:
            mentions = window.negatives_since(minute, 30)
            texts = [m.comment.text for m in mentions[:300]]
            state = self.brands.get(window.brand)
            normal = list(state.normal_texts) if state is not None else []
            platforms = Counter(m.comment.platform for m in mentions if m.comment.platform)
            signature = SurgeSignature.of(
                window.brand,
                thread_level=window.thread_id is not None,
                topics=top_topics(mentions),
                terms=distinctive_terms(texts, normal),
                platform=platforms.most_common(1)[0][0] if platforms else None,
                accounts=[x["author_id"] for x in top_accounts(mentions)],
                threads=[window.thread_id]
                if window.thread_id
                else [x["thread_id"] for x in top_threads(mentions)],
            )
            bar = memory.ratio_bar(signature)
        if bar <= 0.0:
            self._dismissed_bars.pop(window.key, None)
            return False
        bars = self._dismissed_bars
        bars[window.key] = (bar, minute)
        if len(bars) > 256:  # bounded: forget surges that ended
            for key in [k for k, (_, m) in bars.items() if minute - m > SUPPRESSED_REARM_MINUTES]:
                del bars[key]
        return a.ratio < bar

    @staticmethod
    def _decision_time(window: KeyWindow, minute: int) -> float:
        """Event time of the newest negative comment the decision saw: the newest in the
        closing minute (late arrivals folded into it are older), else in the window."""
        recent = window.negatives_since(minute, 1) or window.negatives_since(minute, 30)
        if not recent:
            return (minute + 1) * MINUTE
        return max(m.comment.created_at for m in recent)

    def _spread(
        self, thread_window_key: str, window: KeyWindow, minute: int, a: Assessment
    ) -> None:
        x = self._features(window, minute)
        state = self._brand_state(window.brand)
        at = self._decision_time(window, minute)
        self._explaining = (window, minute, list(state.normal_texts))
        event = self.tracker.spread(thread_window_key, minute=minute, at=at, x=x, a=a)
        self._explaining = None
        if event is not None:
            self._emit(event)

    def _explain(
        self, incident: Incident, event: str, a: Assessment, x: dict[str, float]
    ) -> tuple[str, dict, list, str | None]:
        assert self._explaining is not None
        window, minute, normal_texts = self._explaining
        summary, drivers, samples, topics = build_content(window, minute, event, a, x, normal_texts)
        drivers["peak_ratio_to_baseline"] = round(max(incident.peak_ratio, a.ratio), 1)
        playbook = None
        if self.playbook_for is not None:
            playbook = self.playbook_for(
                topics=topics,
                severity=incident.severity,
                platform=drivers["platform"],
                brand=incident.brand,
            )
        return summary, drivers, samples, playbook

    def _emit(self, event: AlertEvent) -> None:
        self.stats.events[event.event] += 1
        if self.observer is not None:
            self.observer.alert(event)
        for sink in self.sinks:
            sink.emit(event)

    def _track_suppressed(
        self, window: KeyWindow, minute: int, a: Assessment, reason: str | None = None
    ) -> None:
        reason = reason or a.benign
        if reason is None or window.key in self.tracker.open:
            return
        ratio = a.ratio
        volume_ratio = a.volume_ratio
        current = self._suppressing.get(window.key)
        if current is None or minute - current.last_minute > SUPPRESSED_REARM_MINUTES:
            current = SuppressedSurge(
                window.key,
                window.brand,
                window.thread_id,
                reason,
                minute,
                minute,
                ratio,
                volume_ratio,
            )
            self._suppressing[window.key] = current
            self.suppressed.append(current)
        current.last_minute = minute
        current.peak_ratio = max(current.peak_ratio, ratio)
        current.peak_volume_ratio = max(current.peak_volume_ratio, volume_ratio)

    def _evict(self, minute: int) -> int:
        now = (minute + 1) * MINUTE
        keep = set(self.tracker.open)
        evicted = self.windows.evict_idle(now, keep)
        self.stats.keys_evicted += len(evicted)
        self.judge.drop_threads(evicted)
        horizon = minute - int(self.settings.dedupe_hours * 60)
        self.seen_ids = {i: m for i, m in self.seen_ids.items() if m >= horizon}
        stale = [k for k, s in self._suppressing.items() if minute - s.last_minute > 120]
        for k in stale:
            del self._suppressing[k]
        # Bounded on endless streams: brands idle for a week lose their state; the run's
        # history keeps the latest incidents and surges.
        self.judge.settle(minute)
        idle = [
            b
            for b, state in self.brands.items()
            if b not in self.windows.brands
            and minute - state.last_minute > BRAND_STATE_IDLE_MINUTES
            and not any(i.brand == b for i in self.tracker.open.values())
        ]
        self.judge.evict(idle)
        del self.tracker.history[:-HISTORY_LIMIT]
        del self.suppressed[:-HISTORY_LIMIT]
        return len(evicted)
