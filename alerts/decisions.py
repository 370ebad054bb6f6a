"""Which incidents a closed minute's verdicts open, update, escalate or keep open.

The judge (`detectors/judge.py`) assesses every key on the minute that closed; these
decisions turn its verdicts into incidents (`alerts/incidents.py`), in the order the
pipeline runs them (`Pipeline._close_minute`):

1. `hold_open`: one storm stays one incident while any part of it still alerts.
2. `group_threads`: a thread storm opens or updates its incident; inside an open
   incident of its brand it opens nothing, that incident escalates and names it.
3. `decide_brand`: inhibition (a brand whose excess one thread carries defers to that
   thread) and spread (a thread storm whose brand now surges as a whole escalates).

A surge like one people dismissed before needs a higher ratio to open (`feedback`,
`remember_verdict`); a surge left alone, benign or dismissed, is kept with its reason for
the run's report (`suppressed`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from stormwatch.alerts.content import build_content, top_accounts, top_threads, top_topics
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.incidents import (
    ONE_POST_SHARE,
    Evidence,
    Incident,
    IncidentTracker,
    settled,
)
from stormwatch.detectors.crisis import Assessment
from stormwatch.detectors.explain import distinctive_terms
from stormwatch.detectors.features import negatives_off, window_features
from stormwatch.detectors.feedback import FeedbackMemory, SurgeSignature
from stormwatch.detectors.judge import BrandVerdict, Judge
from stormwatch.key_window import MINUTE, KeyWindow
from stormwatch.ports import PlaybookMatcher

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
    # The last minute a guard or a person's verdict held it back, not only its share
    # test (-1: never); what a brand that this thread carries waits for.
    held_minute: int = -1


class IncidentDecisions:
    """The incident tracker, and the decisions that feed it a minute's verdicts.

    `judge` is the pipeline's: its brand states give the features and normal texts of an
    explanation, and an incident that resolves spends its keys' evidence there. A
    checkpoint restore that replaces the pipeline's judge sets it here too.
    """

    def __init__(
        self,
        judge: Judge,
        *,
        emit: Callable[[AlertEvent], None],
        playbook_for: PlaybookMatcher | None = None,
        clock: Callable[[], float] = time.time,
        quiet_minutes: int = 30,
        update_minutes: int = 15,
    ) -> None:
        self.judge = judge
        self._send = emit  # the pipeline's: counts the event, tells the observer and sinks
        self.playbook_for = playbook_for
        self.tracker = IncidentTracker(
            explain=self._explain,
            clock=clock,
            quiet_minutes=quiet_minutes,
            update_minutes=update_minutes,
            min_spread=2 * judge.min_accounts,
        )
        self.feedback_memory = FeedbackMemory()
        self.suppressed: list[SuppressedSurge] = []
        self.suppressing: dict[str, SuppressedSurge] = {}  # by key, while it lasts
        # key -> (ratio bar of a surge recognised as dismissed before, last minute seen)
        self._dismissed_bars: dict[str, tuple[float, int]] = {}
        self._explaining: tuple[KeyWindow, int, bool, Sequence[str]] | None = None
        # The stream's event time of the decisions now being taken (the pipeline sets
        # it): an incident that opens keeps it as `opened_at`.
        self.stream_time: float | None = None

    def hold_open(
        self,
        minute: int,
        threads: list[tuple[KeyWindow, Assessment]],
        brands: list[BrandVerdict],
    ) -> None:
        """An incident that absorbed threads is one storm: it stays open while any of
        them still alerts, and one on a thread while its brand's minute is not settled
        (`settled`, asked of the brand as its own incident would be), though the thread
        it opened on has calmed. Otherwise it would resolve mid-storm and the storm's
        other keys would open incidents of their own."""
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
                # brand's negative talk is still up. A busy day after the storm is not
                # that: more people talk, no more negatively (`settled`).
                if not settled(a, minute - incident.back_since):
                    incident.quiet = 0

    def group_threads(
        self,
        minute: int,
        verdicts: list[tuple[KeyWindow, Assessment]],
        brand_windows: Mapping[str, KeyWindow],
    ) -> None:
        """Thread storms: open or update their incidents. Inside a brand-wide incident a
        new thread storm opens nothing: the brand's incident escalates, naming it (and
        explained with its brand's window, from `brand_windows`)."""
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
                self._absorb(covered, window, brand_windows.get(window.brand, window), minute, a)
            elif key not in open_incidents and self._reopen_brand(window, brand_windows, minute, a):
                covering[window.brand] = brand_windows[window.brand].key
            elif key in open_incidents or a.alerting:
                incident = open_incidents.get(key)
                # Posts waiting to be told (`IncidentTracker.absorb`) are the brand's
                # news, not this post's, which may have calmed while they stormed.
                told = incident is not None and bool(incident.untold)
                explained = brand_windows.get(window.brand) if told else None
                self._observe(window, minute, a, may_open=True, explained=explained)
                if key in open_incidents and window.brand not in covering:
                    covering[window.brand] = key

    def decide_brand(self, minute: int, verdict: BrandVerdict) -> None:
        """Open, update or escalate the brand's incident.

        When one thread carries most of the brand's excess of negative comments, the
        storm is that thread's: its key is judged first, and when it opens, the brand
        escalates that incident rather than open one of its own (and does not while the
        thread still carries most of it). When the thread's tests are not over their
        thresholds yet (a storm over a few posts, a young one), the brand's alert opens
        the incident, a firestorm in kind: waiting for the thread delayed campaigns and
        young storms by minutes after the brand had the evidence. When a guard or a
        person's verdict may hold the thread back, the brand defers to it
        (`_brand_may_open`).
        When a thread's storm is open and the brand as a whole now surges too, the storm
        has spread: that incident escalates, instead of a second incident opening."""
        brand, window, a = verdict.brand, verdict.window, verdict.assessment
        if window is None:
            return
        open_incidents = self.tracker.open
        self._track_suppressed(window, minute, a)
        if not a.alerting and brand not in open_incidents:
            # Nothing to open, spread or update: most brand-minutes. The scan below
            # costs every open incident, at each of them.
            return
        threads_open = [k for k, i in open_incidents.items() if i.brand == brand and i.thread_id]
        if threads_open and brand not in open_incidents:
            if (
                a.alerting
                and not verdict.dominated
                and self._negatives_elsewhere(threads_open, window, minute, a.normal_rate)
            ):
                self._spread(threads_open[-1], window, minute, a)
        elif brand in open_incidents or a.alerting:
            may_open = self._brand_may_open(verdict, minute)
            self._observe(window, minute, a, may_open=may_open, one_thread=verdict.dominated)

    def open_early(
        self,
        minute: int,
        threads: list[tuple[KeyWindow, Assessment]],
        brands: list[BrandVerdict],
        brand_windows: Mapping[str, KeyWindow] | None = None,
    ) -> None:
        """Alerting verdicts of `Judge.judge_early` (after `minute` closed, on the
        minutes still open) open their incidents now, thread storms first; a brand whose
        thread opened defers to it, as at a close. `brand_windows`: the brands' windows,
        for a thread storm that reopens its brand's incident (`_reopen_brand`)."""
        opened: set[str] = set()
        for window, a in threads:
            if window.brand not in opened:
                if brand_windows is not None and self._reopen_brand(
                    window, brand_windows, minute, a
                ):
                    opened.add(window.brand)
                    continue
                self._observe(window, minute, a, may_open=True)
                if window.key in self.tracker.open:
                    opened.add(window.brand)
        for verdict in brands:
            window = verdict.window
            if (
                window is not None
                and verdict.brand not in opened
                and self._brand_may_open(verdict, minute)
            ):
                a = verdict.assessment
                self._observe(window, minute, a, may_open=True, one_thread=verdict.dominated)

    @staticmethod
    def _explained_at(a: Assessment, minute: int) -> tuple[int, bool]:
        """The minute an event decided at `minute` is explained up to, and whether open
        minutes count: an assessment that counted the minutes still open (a decision
        taken early, or at a close with comments already in for the next minutes) is
        explained with them too. Two thirds of the incidents of fresh seeds 2601-2603
        opened early; their summaries named fewer negatives, accounts and a lower rate
        than the decision had seen."""
        return (a.upto, True) if a.upto > minute else (minute, False)

    def _brand_may_open(self, verdict: BrandVerdict, minute: int) -> bool:
        """Whether the brand's alert may open its incident. A brand surge that one
        thread carries waits for that thread's key when a thread of the brand was held
        back at `minute` or since (a guard, or a person dismissed a surge like it), or
        when people judged surges of the brand before (their verdicts are compared with
        the thread's own storm, whose texts the brand's quiet talk does not dilute).
        Else a dismissed storm would page as its brand's."""
        if not verdict.dominated:
            return True
        brand = verdict.brand
        if self.feedback_memory.knows(brand):
            return False
        return not any(
            s.brand == brand
            and s.thread_id is not None
            # (a checkpoint of a version before `held_minute`: as it then decided)
            and getattr(s, "held_minute", s.last_minute) >= minute
            for s in self.suppressing.values()
        )

    def _observe(
        self,
        window: KeyWindow,
        minute: int,
        a: Assessment,
        *,
        may_open: bool,
        one_thread: bool = False,
        explained: KeyWindow | None = None,
    ) -> None:
        """`explained`: the window an event is explained with (default `window`)."""
        if window.key not in self.tracker.open and not a.alerting:
            return
        if (
            may_open
            and window.key not in self.tracker.open
            and self._dismissed(window, minute, a, one_thread=one_thread)
        ):
            self._track_suppressed(window, minute, a, "dismissed_before")
            may_open = False
        state = self.judge.brand_state(window.brand)
        at = self._explained_at(a, minute)
        shown = explained or window
        self._explaining = (shown, *at, state.normal_texts)
        event = self.tracker.observe(
            window.key,
            brand=window.brand,
            thread_id=window.thread_id,
            minute=minute,
            evidence=self._evidence(window, shown, minute, at),
            a=a,
            may_open=may_open,
            one_thread=one_thread,
        )
        self._explaining = None
        if event is not None and event.event == "opened":
            self.tracker.open[window.key].opened_at = self.stream_time
        elif event is not None and event.drivers.get("reopened"):
            self._stamp_reopening(event)
        if event is not None:
            if event.event == "resolved":
                self.judge.forget(window.key)
                if not any(i.brand == window.brand for i in self.tracker.open.values()):
                    self.judge.forget_brand(window.brand, minute)
            self._emit(event)

    def _absorb(
        self,
        incident_key: str,
        window: KeyWindow,
        brand_window: KeyWindow,
        minute: int,
        a: Assessment,
    ) -> None:
        """A thread storm inside an open brand-wide incident: that incident escalates and
        names the thread (once per thread)."""
        state = self.judge.brand_state(window.brand)
        at = self._explained_at(a, minute)
        self._explaining = (brand_window, *at, state.normal_texts)
        event = self.tracker.absorb(
            incident_key,
            window.thread_id or "",
            minute=minute,
            evidence=self._evidence(window, brand_window, minute, at),
            a=a,
        )
        self._explaining = None
        if event is not None:
            self._emit(event)

    def _reopen_brand(
        self,
        window: KeyWindow,
        brand_windows: Mapping[str, KeyWindow],
        minute: int,
        a: Assessment,
    ) -> bool:
        """A thread storm soon after its brand's incident resolved: that incident reopens
        and names it (`IncidentTracker.reopen_with_thread`). False: it did not (the
        thread has an incident of its own to return to, or nothing of the brand's did,
        or the alert is that storm's tail), and the thread is judged as any other."""
        brand_window = brand_windows.get(window.brand)
        tracker = self.tracker
        if (
            not a.alerting
            or window.thread_id is None
            or brand_window is None
            or tracker.returning_to(brand_window.key, minute) is None
            or tracker.returning_to(window.key, minute) is not None
        ):
            return False
        state = self.judge.brand_state(window.brand)
        at = self._explained_at(a, minute)
        self._explaining = (brand_window, *at, state.normal_texts)
        event = self.tracker.reopen_with_thread(
            brand_window.key,
            window.thread_id or "",
            minute=minute,
            evidence=self._evidence(window, brand_window, minute, at),
            a=a,
        )
        self._explaining = None
        if event is None:
            return False
        self._stamp_reopening(event)
        self._emit(event)
        return True

    def _emit(self, event: AlertEvent) -> None:
        """Send `event`; an event naming posts whose storms its incident took in stamps
        when a live run would have told of each (`Incident.told_at`, as `opened_at`)."""
        new = event.drivers.get("new_thread_storms")
        if new and event.event != "resolved":
            at = self.stream_time if self.stream_time is not None else event.at
            for incident in self.tracker.open.values():
                if incident.key == event.incident:
                    for thread in new:
                        incident.told_at.setdefault(thread, at)
        self._send(event)

    def _stamp_reopening(self, event: AlertEvent) -> None:
        """When a live run would have seen the incident reopen (as `opened_at` for its
        opening); it may sit on another key than the one that decided (a brand's alert
        that reopened one of its posts' incidents)."""
        for incident in self.tracker.open.values():
            if incident.key == event.incident:
                incident.reopened_at.append(self.stream_time)
                return

    def _negatives_elsewhere(
        self, incident_keys: list[str], window: KeyWindow, minute: int, normal: float
    ) -> bool:
        """Whether the brand's last half hour or two hours hold a spread's negatives
        (`IncidentTracker.spread_shown`) off the posts its open incidents are about.
        The brand's tests stay up for hours after a post's storm: at night, against a
        normal of a few negatives an hour, a comment on another post, then six on four
        others, passed for a brand-wide surge, and the post's incident escalated as
        spread in its fading tail."""
        open_incidents = self.tracker.open
        own: set[str | None] = set()
        for key in incident_keys:
            incident = open_incidents[key]
            own.add(incident.thread_id)
            own.update(incident.threads)
        return self.tracker.spread_shown(*negatives_off(window, minute, own), normal)

    def _spread(
        self, thread_window_key: str, window: KeyWindow, minute: int, a: Assessment
    ) -> None:
        state = self.judge.brand_state(window.brand)
        at = self._explained_at(a, minute)
        self._explaining = (window, *at, state.normal_texts)
        event = self.tracker.spread(
            thread_window_key, minute=minute, evidence=self._evidence(window, window, minute, at),
            a=a,
        )  # fmt: skip
        self._explaining = None
        if event is not None:
            self._emit(event)

    def _evidence(
        self, decided: KeyWindow, explained: KeyWindow, minute: int, at: tuple[int, bool]
    ) -> Evidence:
        """The event's time from the key that `decided`, its features from the window it
        is `explained` with, up to `at` (`_explained_at`); computed only if the tracker
        emits an event."""
        return lambda: (
            self._decision_time(decided, minute),
            self._features(explained, minute, at),
        )

    def _features(
        self, window: KeyWindow, minute: int, explained_at: tuple[int, bool]
    ) -> dict[str, float]:
        """The window's features, for explanations (only when an event is decided)."""
        state = self.judge.brand_state(window.brand)
        normal = state.expected(minute)
        share = state.baseline.typical_thread_share() if window.thread_id else 1.0
        at, with_open = explained_at
        x = window_features(window, at, normal, share, with_open=with_open)
        if window.thread_id is None:
            # What the incident's kind is judged by (`IncidentTracker.has_spread`).
            x["off_top_thread_neg_30"], x["off_top_thread_neg_120"] = negatives_off(window, at)
        return x

    @staticmethod
    def _decision_time(window: KeyWindow, minute: int) -> float:
        """Event time of the newest negative comment the decision saw: the newest in the
        closing minute and the minutes still open (late arrivals folded into it are
        older), else in the window."""
        top = max(window.open) if window.open else minute
        recent = window.negatives_since(top, top - minute + 1) or window.negatives_since(minute, 30)
        if not recent:
            return (minute + 1) * MINUTE
        return max(m.comment.created_at for m in recent)

    def _explain(
        self, incident: Incident, event: str, a: Assessment, x: dict[str, float]
    ) -> tuple[str, dict, list, str | None]:
        assert self._explaining is not None
        window, minute, with_open, normal_texts = self._explaining
        summary, drivers, samples, topics = build_content(
            window, minute, event, a, x, list(normal_texts), self.judge.min_accounts,
            with_open=with_open,
        )  # fmt: skip
        drivers["peak_ratio_to_baseline"] = round(
            max(incident.peak_severity_ratio, a.severity_basis), 1
        )
        # The key's decayed ratio at its peak, which a person's verdict on the incident
        # is remembered with (`read_verdicts`).
        drivers["peak_rate_ratio"] = round(max(incident.peak_ratio, a.ratio), 1)
        playbook = None
        if self.playbook_for is not None:
            # On what it opened about (its last half hour's topics until it has any): on
            # the latter alone a fading censorship storm's card turned `generic`, or to
            # whatever a late stray comment named, and the team's steps changed under
            # them. Severity, platform and brand as they are now, so a rule for a higher
            # severity still applies.
            playbook = self.playbook_for(
                topics=incident.topics or tuple(topics),
                severity=incident.severity,
                platform=drivers["platform"],
                brand=incident.brand,
            )
        return summary, drivers, samples, playbook

    def _dismissed(
        self, window: KeyWindow, minute: int, a: Assessment, *, one_thread: bool = False
    ) -> bool:
        """Would this surge open, although people dismissed one like it before? A brand
        surge one thread carries (`one_thread`) is that thread's storm, compared with
        dismissed thread storms.

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
            state = self.judge.brands.get(window.brand)
            normal = list(state.normal_texts) if state is not None else []
            platforms = Counter(m.comment.platform for m in mentions if m.comment.platform)
            busiest = top_threads(mentions) if window.thread_id is None else []
            # One post's storm as its incident's kind says (`ONE_POST_SHARE`): a verdict
            # on such an incident is thread-level, and so must a surge like it be read,
            # whether or not the post's own rate carries most of the brand's excess.
            one_post = bool(busiest) and (
                busiest[0]["negative_comments"] >= ONE_POST_SHARE * len(mentions)
            )
            signature = SurgeSignature.of(
                window.brand,
                thread_level=window.thread_id is not None or one_thread or one_post,
                topics=top_topics(mentions),
                terms=distinctive_terms(texts, normal),
                platform=platforms.most_common(1)[0][0] if platforms else None,
                accounts=[x["author_id"] for x in top_accounts(mentions)],
                threads=[window.thread_id]
                if window.thread_id
                else [x["thread_id"] for x in busiest],
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

    def _track_suppressed(
        self, window: KeyWindow, minute: int, a: Assessment, reason: str | None = None
    ) -> None:
        held = reason is not None or a.candidate
        reason = reason or a.benign
        if reason is None or window.key in self.tracker.open:
            return
        ratio = a.ratio
        volume_ratio = a.volume_ratio
        current = self.suppressing.get(window.key)
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
            self.suppressing[window.key] = current
            self.suppressed.append(current)
        current.last_minute = minute
        if held:
            current.held_minute = minute
        current.peak_ratio = max(current.peak_ratio, ratio)
        current.peak_volume_ratio = max(current.peak_volume_ratio, volume_ratio)

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
                    thread_level=incident.one_post,
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

    def evict(self, minute: int) -> None:
        """Bounded on endless streams: surges that ended two hours ago are forgotten; the
        run's history keeps the latest incidents and surges."""
        stale = [k for k, s in self.suppressing.items() if minute - s.last_minute > 120]
        for k in stale:
            del self.suppressing[k]
        del self.tracker.history[:-HISTORY_LIMIT]
        del self.suppressed[:-HISTORY_LIMIT]
