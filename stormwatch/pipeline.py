"""The pipeline: decode → enrich → window → detect → incidents → sinks.

The same object runs the embedded runtime (one process over a file, stdin, HTTP or the
demo) and each Kafka worker (over its partitions). Per comment it does only cheap work:
decode, dedupe by id, enrich, add to two window buckets. Detection runs when the
watermark closes a minute, per key.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from stormwatch.alerts.content import build_content
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.incidents import Incident, IncidentTracker
from stormwatch.config import Settings
from stormwatch.detectors.baseline import BrandBaseline, Expectation
from stormwatch.detectors.crisis import Assessment, CrisisDetector
from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.explain import distinctive_terms
from stormwatch.detectors.features import WINDOWS, quiet_features, window_features
from stormwatch.detectors.feedback import FeedbackMemory, SurgeSignature
from stormwatch.detectors.surge import LOOKS, poisson_surprise
from stormwatch.detectors.volume import VolumeAnomalyDetector
from stormwatch.ingest.decode import Decoder
from stormwatch.model import Comment, DeadLetter
from stormwatch.ports import AlertSink, DeadLetterSink, PipelineObserver, PlaybookMatcher
from stormwatch.windows import MINUTE, KeyWindow, WindowStore

NORMAL_TEXTS = 400  # recent normal comments per brand, the background for top terms
LEARN_BELOW = 3.0  # baselines learn only minutes whose surprise stays below this
WARMUP_MINUTES = 60  # a brand's first hour: learn everything, judge against a prior share
PRIOR_NEG_SHARE = 0.1  # typical negative share of a brand's comments, until learned
VOLUME_SURGE_WEIGHT = 0.05  # how much a volume-anomalous minute counts for the baseline
VOLUME_SURGE_RATIO = 3.0  # volume this many times the expectation is a surge in any case
BRAND_STATE_IDLE_MINUTES = 7 * 1440  # a brand's baseline outlives a quiet week, no more
HISTORY_LIMIT = 1000  # incidents and left-alone surges kept for the run's report
QUIET = Assessment(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, False)  # a key without comments
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


class BrandState:
    __slots__ = (
        "baseline",
        "volume",
        "normal_texts",
        "expectation",
        "expectation_minute",
        "last_minute",
    )

    def __init__(self) -> None:
        self.last_minute = 0
        self.baseline = BrandBaseline()
        self.volume = VolumeAnomalyDetector()
        self.normal_texts: deque[str] = deque(maxlen=NORMAL_TEXTS)
        self.expectation: Expectation | None = None
        self.expectation_minute = -1

    @property
    def warming_up(self) -> bool:
        return self.baseline.minutes < WARMUP_MINUTES

    def expected(self, minute: int, window: KeyWindow) -> Expectation:
        """Normal for this minute. While the brand warms up, the learned level is only a
        partial picture: take the higher of it and the last 10 minutes' own rate, and a
        typical negative share rather than the learned one, which a storm that arrives
        with the brand's first comments would already have inflated. A new brand needs
        no hand setup."""
        if self.expectation_minute != minute or self.expectation is None:
            normal = self.baseline.expected(minute)
            if self.warming_up:
                recent = sum(s.n for s in window.recent(minute, 10)) / 10.0
                normal = Expectation(
                    volume_per_min=max(normal.volume_per_min, recent),
                    neg_share=PRIOR_NEG_SHARE,
                    dispersion=normal.dispersion,
                    minutes_seen=normal.minutes_seen,
                )
            self.expectation = normal
            self.expectation_minute = minute
        return self.expectation


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
        self.crisis = CrisisDetector(
            open_score=s.open_score, min_ratio=s.min_ratio, min_authors=s.min_accounts
        )
        self.tracker = IncidentTracker(
            explain=self._explain,
            clock=clock,
            close_score=s.close_score,
            quiet_minutes=s.quiet_minutes,
            update_minutes=s.update_minutes,
        )
        self.brands: dict[str, BrandState] = {}
        self.seen_ids: dict[str, int] = {}  # id -> minute, forgotten after the lateness horizon
        self.stats = RunStats()
        self.feedback_memory = FeedbackMemory()
        self.suppressed: list[SuppressedSurge] = []
        self._suppressing: dict[str, SuppressedSurge] = {}
        self._explaining: tuple[KeyWindow, int, Sequence[str]] | None = None
        self._negative_threshold = s.negative_threshold
        self._next_eviction_minute: int | None = None
        self._alerting_counts: dict[tuple[float, float, float], float] = {}
        self._close_at = -math.inf  # event time at which the next minute can close

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
        if c.created_at > windows.admit_below and not windows.admit(c, raw, source):
            self.stats.held += 1
        else:
            self._process(c)
        if windows.hold_ready:
            self._drain_held()

    def _process(self, c: Comment) -> None:
        stats = self.stats
        stats.processed += 1
        # Remembered by arrival (the stream's newest minute), not by its own event time, so
        # a late comment is not forgotten at once and a redelivery of it still dedupes.
        newest = self.windows.max_event_time
        self.seen_ids[c.id] = int(max(c.created_at, newest) // MINUTE)
        if self.pseudonymize is not None and c.author_id is not None:
            c.author_id = self.pseudonymize(c.author_id)
        lang, negativity, topics = self.enricher.enrich(c.text, c.lang)
        c.lang = lang
        c.negativity = negativity
        c.topics = topics
        languages = stats.languages
        languages[lang] = languages.get(lang, 0) + 1
        negative = negativity >= self._negative_threshold
        if negative:
            stats.negative += 1
        else:
            state = self.brands.get(c.brand)
            if state is not None and c.brand not in self.tracker.open:
                state.normal_texts.append(c.text)
        late = self.windows.add(c, negative)
        if late:
            stats.late += 1
        if self.observer is not None:
            self.observer.comment(c, duplicate=False, late=late)
        if c.created_at >= self._close_at:
            self._close_ready()

    def _close_ready(self) -> None:
        """Close the minutes the watermark has passed. Only a comment at or after
        `_close_at` can move it that far, so the hot path asks only then."""
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
        """Judge every key on the minute that just closed, in this order: threads, then
        brands (which defer to their threads), then learn baselines, then evict."""
        self.stats.minutes_closed += 1
        self._judge_threads(minute)
        self._judge_brands(minute)
        evicted = self._evict_on_schedule(minute)
        if self.observer is not None:
            windows = self.windows
            self.observer.keys(
                brands=len(windows.brands), threads=len(windows.threads), evicted=evicted
            )

    def _judge_threads(self, minute: int) -> None:
        """Threads first: a storm concentrated on one post is judged there, and the brand
        then defers to it (inhibition) instead of opening a second incident."""
        windows = self.windows
        active_since = minute - 30
        open_incidents = self.tracker.open
        enough = self.settings.min_accounts
        # Brands whose storm is already brand-wide (a brand incident, or a thread incident
        # that spread): their threads add to that incident rather than open their own.
        covered = {
            i.brand for i in open_incidents.values() if i.thread_id is None or i.kind == "spreading"
        }
        for key, window in windows.threads.items():
            had_bucket = minute in window.open
            if had_bucket:
                window.close(minute)
            if key not in open_incidents:
                if not window.has_negatives_since(minute - (10 if not had_bucket else 30)):
                    continue
                if window.count_negatives_since(active_since, enough) < enough:
                    continue  # too few negatives to surprise anyone: skip the features
            state = self._brand_state(window.brand)
            brand_window = windows.brands.get(window.brand, window)
            normal = state.expected(minute, brand_window)
            share = state.baseline.typical_thread_share()
            if key not in open_incidents and window.count_negatives_since(
                active_since, 100_000
            ) < self._least_alerting_count(
                normal.neg_per_min * share, normal.dispersion, normal.neg_share
            ):
                continue
            x = window_features(window, minute, normal, share)
            a = self.crisis.assess(x)
            self._track_suppressed(window, minute, a, x)
            self._observe(window, minute, x, a, state, may_open=window.brand not in covered)

    def _judge_brands(self, minute: int) -> None:
        """Each brand: assess the minute, decide (deferring to its threads), and learn the
        minute into its baselines when nothing was going on."""
        open_incidents = self.tracker.open
        for brand, window in self.windows.brands.items():
            summary = window.close(minute)
            state = self._brand_state(brand)
            state.last_minute = minute
            normal = state.expected(minute, window)
            if window.last_minute < minute - 29 and not state.warming_up:
                # Nothing in 30 minutes: nothing to detect, but zeros to learn.
                x = quiet_features(normal)
                volume = 0.0
                a = QUIET
            else:
                x = window_features(window, minute, normal)
                volume = state.volume.score_one(x)
                a = self.crisis.assess(x, volume)
                self._track_suppressed(window, minute, a, x)
            if self.observer is not None:
                self.observer.minute_closed(brand, minute, x, a)
            threads_open = self._decide_brand(brand, window, minute, x, a, state)
            if brand not in open_incidents and not threads_open:
                self._learn_baselines(state, minute, x, a, volume, summary.n, summary.neg)

    def _decide_brand(
        self,
        brand: str,
        window: KeyWindow,
        minute: int,
        x: dict[str, float],
        a: Assessment,
        state: BrandState,
    ) -> bool:
        """Open, update or escalate the brand's incident; True if one of its threads has
        an open incident.

        Inhibition: when one thread carries most of the brand's excess of negative
        comments, the storm is that thread's; its own key decides. When a thread's storm
        is open and the brand as a whole now surges too, the storm has spread: that
        incident escalates, instead of a second incident opening."""
        open_incidents = self.tracker.open
        excess = x["neg_30"] - x["expected_neg_per_min"] * 30.0
        dominated = x["top_thread_neg_30"] >= 0.5 * excess
        threads_open = [k for k, i in open_incidents.items() if i.brand == brand and i.thread_id]
        if threads_open and brand not in open_incidents:
            if a.alerting and not dominated:
                self._spread(threads_open[-1], window, minute, x, a, state)
        else:
            self._observe(window, minute, x, a, state, may_open=not dominated)
        return bool(threads_open)

    @staticmethod
    def _learn_baselines(
        state: BrandState,
        minute: int,
        x: dict[str, float],
        a: Assessment,
        volume: float,
        n: int,
        neg: int,
    ) -> None:
        """Learn an undisturbed minute into the brand's baseline and volume detector.

        A warming-up brand learns every minute that does not alert, or it would never
        learn at all against its rough first expectation."""
        if a.score < LEARN_BELOW or (state.warming_up and not a.alerting):
            # A launch or a viral post must not become the hour's normal, even while the
            # volume detector is still too young to call it anomalous.
            surging = volume >= state.volume.threshold or (
                not state.warming_up
                and x["n_10"] > VOLUME_SURGE_RATIO * 10.0 * x["expected_volume_per_min"]
            )
            weight = VOLUME_SURGE_WEIGHT if surging else 1.0
            state.baseline.learn(minute, x, n, neg, volume_weight=weight)
            state.volume.learn_one(x)

    def _evict_on_schedule(self, minute: int) -> int:
        """Evict idle keys once an hour of event time; returns how many went."""
        if self._next_eviction_minute is None:
            self._next_eviction_minute = minute + 60
        elif minute >= self._next_eviction_minute:
            self._next_eviction_minute = minute + 60
            return self._evict(minute)
        return 0

    def _least_alerting_count(self, lam_per_min: float, dispersion: float, share: float) -> float:
        """The fewest negatives in 30 minutes that could reach the open score: all of them
        in the shortest window (rate surprise) and every comment negative (share
        surprise). Fewer cannot alert, so the key's features need not be computed."""
        cache_key = (round(lam_per_min, 4), round(dispersion, 2), round(share, 3))
        cached = self._alerting_counts.get(cache_key)
        if cached is None:
            lam = lam_per_min * WINDOWS[0] / dispersion
            per_negative = math.log10(1.0 / max(share, 1e-6))
            target = self.settings.open_score + LOOKS
            k = 0.0
            while poisson_surprise(k / dispersion, lam) + k * per_negative < target:
                k = k * 1.1 + 0.1
            cached = self._alerting_counts[cache_key] = k / 1.1
            if len(self._alerting_counts) > 10_000:
                self._alerting_counts.clear()
        return cached

    def _brand_state(self, brand: str) -> BrandState:
        state = self.brands.get(brand)
        if state is None:
            state = self.brands[brand] = BrandState()
        return state

    def _observe(
        self,
        window: KeyWindow,
        minute: int,
        x: dict[str, float],
        a: Assessment,
        state: BrandState,
        *,
        may_open: bool,
    ) -> None:
        if window.key not in self.tracker.open and not a.alerting:
            return
        if may_open and window.key not in self.tracker.open and self._dismissed(window, minute, a):
            self._track_suppressed(window, minute, a, x, "dismissed_before")
            may_open = False
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
            self._emit(event)

    def feedback(self, incident_key: str, label: str) -> bool:
        """A person's verdict on an incident of this run ("false_alarm" or "confirmed"):
        surges like it open less (or again normally). False when the key is unknown."""
        for incident in self.tracker.history:
            if incident.key == incident_key:
                self.remember_verdict(
                    brand=incident.brand,
                    thread_level=incident.thread_id is not None,
                    topics=incident.topics,
                    terms=incident.terms,
                    label=label,
                    peak_ratio=incident.peak_ratio,
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
    ) -> None:
        """A verdict on an incident of an earlier run (loaded from the incident store)."""
        signature = SurgeSignature.of(brand, thread_level=thread_level, topics=topics, terms=terms)
        self.feedback_memory.record(signature, label, peak_ratio)

    def _dismissed(self, window: KeyWindow, minute: int, a: Assessment) -> bool:
        """Would this surge open, although people dismissed one like it before?"""
        memory = self.feedback_memory
        if not memory.knows(window.brand):
            return False
        mentions = window.negatives_since(minute, 30)
        texts = [m.comment.text for m in mentions[:300]]
        topics = Counter(t for m in mentions for t in m.comment.topics)
        state = self.brands.get(window.brand)
        normal = list(state.normal_texts) if state is not None else []
        signature = SurgeSignature.of(
            window.brand,
            thread_level=window.thread_id is not None,
            topics=[t for t, _ in topics.most_common(4)],
            terms=distinctive_terms(texts, normal),
        )
        return a.ratio < memory.ratio_bar(signature)

    @staticmethod
    def _decision_time(window: KeyWindow, minute: int) -> float:
        """Event time of the newest negative comment the decision saw: the newest in the
        closing minute (late arrivals folded into it are older), else in the window."""
        recent = window.negatives_since(minute, 1) or window.negatives_since(minute, 30)
        if not recent:
            return (minute + 1) * MINUTE
        return max(m.comment.created_at for m in recent)

    def _spread(
        self,
        thread_window_key: str,
        window: KeyWindow,
        minute: int,
        x: dict[str, float],
        a: Assessment,
        state: BrandState,
    ) -> None:
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
        self,
        window: KeyWindow,
        minute: int,
        a: Assessment,
        x: dict[str, float],
        reason: str | None = None,
    ) -> None:
        reason = reason or a.benign
        if reason is None or window.key in self.tracker.open:
            return
        ratio = max(x["neg_5"] / 5.0, x["neg_10"] / 10.0) / x["expected_neg_per_min"]
        volume_ratio = (x["n_10"] / 10.0) / max(x["expected_volume_per_min"], 1e-6)
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
        horizon = minute - int(self.settings.lateness_seconds // MINUTE) - 120
        self.seen_ids = {i: m for i, m in self.seen_ids.items() if m >= horizon}
        stale = [k for k, s in self._suppressing.items() if minute - s.last_minute > 120]
        for k in stale:
            del self._suppressing[k]
        # Bounded on endless streams: brands idle for a week lose their state; the run's
        # history keeps the latest incidents and surges.
        idle = [
            b
            for b, state in self.brands.items()
            if b not in self.windows.brands
            and minute - state.last_minute > BRAND_STATE_IDLE_MINUTES
            and not any(i.brand == b for i in self.tracker.open.values())
        ]
        for b in idle:
            del self.brands[b]
        del self.tracker.history[:-HISTORY_LIMIT]
        del self.suppressed[:-HISTORY_LIMIT]
        return len(evicted)
