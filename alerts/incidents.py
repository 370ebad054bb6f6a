"""Incident lifecycle: open once, escalate or update in place, resolve with hysteresis.

One storm is one incident. An incident opens when a key's assessment alerts; while it is
open, a rising severity band escalates it, a material change after `update_minutes`
updates it, and only `quiet_minutes` of calm in a row (`settled`) resolve it (more at a
brand whose negatives are hours apart: `quiet_needed`). Severity never drops
while open, so a storm that breathes does not flap between bands.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import quote

from stormwatch.alerts.event import AlertEvent, iso_utc, severity_rank
from stormwatch.detectors.crisis import Assessment
from stormwatch.detectors.judge import BRAND_MIN_RATIO, STORM_TAIL_MINUTES

# Builds (summary, drivers, samples, playbook) for an event; supplied by the pipeline.
Explain = Callable[
    ["Incident", str, Assessment, dict[str, float]], tuple[str, dict, list, str | None]
]
# When the decision was taken (event time) and the key's window features: asked for only
# when an event is emitted. Most minutes of a storm change nothing about its open
# incident, and the features walk the key's last half hour of negative comments.
Evidence = Callable[[], tuple[float, dict[str, float]]]


CALM_RATIO = 2.0  # recent negative rate under this many times the brand's normal: calm
# A storm over at a small brand shows as the absence of negatives, and a brand of a few
# negatives a day has hours between them anyway: calm must last until a storm still
# running at STORM_RATIO times the brand's normal would have brought a negative with
# 95 % probability (exp(-STORM_RATIO * rate * minutes) = 5 %), at least `quiet_minutes`
# and at most QUIET_MAX_MINUTES. Else a slow swell at a small brand resolves between two
# of its negatives and opens a second incident for the same storm.
# A brand-wide storm's least rate over the normal at a brand of under a negative a
# minute (`Judge._brand_min_rate`; at larger ones calm lasts `quiet_minutes` anyway).
STORM_RATIO = BRAND_MIN_RATIO
QUIET_MAX_MINUTES = 360
# For this long after a key's incident resolved, the key opens another only when it is
# not calm: a storm's tail, still a few times a post's usual rate but calm by the
# resolution's measure, opened a second incident 23 minutes after its first resolved
# (a first-day storm at a brand of 7,171 a day, fresh seed 1107).
REOPEN_MINUTES = STORM_TAIL_MINUTES  # a storm's tail: the judge holds the brand to it too
# A storm back on its key within this long of its incident resolving is that incident,
# reopened (an `escalated` event that says how long it was calm), not a second one: a
# slow swell at a brand of 570 comments a day lulled for 140 minutes between gusts, one
# at a brand of 2,000 for 238, and each opened a second incident when it came back
# (fresh seeds 3214 and 3198). Half a day: a swell runs for six hours to a day, and its
# lulls last hours (six hours, the longest calm that resolves an incident, left two
# swells at small brands with two incidents, calm for 366 and 410 minutes: seeds 3159
# and 3253).
RETURN_MINUTES = 720
_LOG_20 = math.log(20.0)
# New thread storms inside an open incident are told together, by its first event this
# many minutes after the last that named posts (Alertmanager's `group_interval`): the
# demo's storm over many posts
# escalated its incident 23 times in an hour for new posts, 0-7 minutes apart, each a
# Slack reply with a chart. News of its own is told at once (`absorb`).
GROUP_MINUTES = 10
_NAMED = 5  # posts named in a summary; the drivers list them all


def calm(a: Assessment) -> bool:
    """The recent negative rate is back near normal (under `CALM_RATIO` times the
    brand's, and twice that of the key's own). Not the test statistics: they keep the
    memory of a storm for a while, by design."""
    return a.ratio < CALM_RATIO and a.key_ratio < 2.0 * CALM_RATIO


# Evidence (the smaller of the rate and share tests over their thresholds) under this:
# the tests that opened the incident see nothing building any more.
QUIET_EVIDENCE = 0.5
# ... which counts as calm only once the incident has been open (or back) this long: a
# storm's first two hours, as long as the judge holds a brand to a storm's tail.
SETTLE_MINUTES = STORM_TAIL_MINUTES


def no_more_negative(a: Assessment) -> bool:
    """The key's negatives per comment lately under `CALM_RATIO` times its usual share:
    its negatives rose (if at all) with its comments. `key_ratio` and `volume_ratio`
    stand on the same normal, so their quotient is the share's ratio to the usual."""
    return a.key_ratio < CALM_RATIO * max(1.0, a.volume_ratio)


def settled(a: Assessment, open_minutes: int) -> bool:
    """The key's incident, open for `open_minutes`, may count the minute as calm: its
    rate is back near normal (`calm`), or, after `SETTLE_MINUTES`, the tests have let go
    of the storm (`QUIET_EVIDENCE`) while more people talk, no more negatively than
    usual (`no_more_negative`). The second is what a busy day after a storm looks like:
    on real tweet volume a brand's mentions ran 3-5x their normal for a day after a
    campaign (CRM, real-volume seed 42), its negatives with them, and an incident
    waiting for their rate alone stayed open 36 hours, through the next day's storm.
    The evidence is the smaller of the two tests', so the share is asked too: a rate
    test at rest says nothing of it. Not at once: a slow storm's post drew its brand's
    comments up 2.2x with it in the first quarter hour of its incident, which resolved
    on the tests' word and left the post's storm to open a second one (FB, seed 44).
    Never a minute that alerts."""
    if a.alerting:
        return False
    if calm(a):
        return True
    return open_minutes >= SETTLE_MINUTES and a.score < QUIET_EVIDENCE and no_more_negative(a)


# A brand-wide surge whose busiest post holds at least this share of its last 30 minutes'
# negatives is that post's storm: it opens as a `firestorm`, and a verdict on it and a
# surge like it later are compared as thread storms (`IncidentDecisions._dismissed`).
ONE_POST_SHARE = 0.5


@dataclass(slots=True)
class Incident:
    key: str
    brand: str
    thread_id: str | None
    kind: str
    severity: str
    opened_minute: int
    score: float
    ratio: float
    last_event_minute: int
    reported_ratio: float
    quiet: int = 0
    peak_ratio: float = 0.0
    peak_score: float = 0.0
    events: list[str] = field(default_factory=list)
    topics: tuple[str, ...] = ()  # what it was about when it opened (for feedback)
    terms: tuple[str, ...] = ()
    threads: list[str] = field(default_factory=list)  # thread storms absorbed into it
    # The stream's event time when it opened: its newest comment's then, when a live run
    # would have opened it (`IncidentDecisions.stream_time`). None: not known (opened
    # before incidents kept it; a live run opens lateness after `opened_minute` ended).
    opened_at: float | None = None
    # Thread storms absorbed since an event last named them, and the minute one did
    # (`IncidentTracker.group_minutes`).
    untold: list[str] = field(default_factory=list)
    told_minute: int = -1
    # The minutes it came back after resolving (`IncidentTracker.observe`), and the
    # stream's event time then, as `opened_at` is for its opening.
    reopened: list[int] = field(default_factory=list)
    reopened_at: list[float] = field(default_factory=list)
    # Each absorbed thread storm and the stream's event time when an event first named
    # it (`new_thread_storms`; stamped by `IncidentDecisions`, as `opened_at`): an
    # escalation naming a post tells of that post's storm.
    told_at: dict[str, float] = field(default_factory=dict)
    # Opened as one post's storm: a thread storm, or a brand-wide surge one post carried
    # (kind "firestorm" at its opening). A verdict on it is compared with thread storms,
    # as such a live surge is (`IncidentDecisions`, `read_verdicts`).
    one_post: bool = False
    # The highest ratio its events reported (`Assessment.severity_basis`, their
    # `ratio_to_baseline`): `peak_ratio_to_baseline`. `peak_ratio` is the
    # key's decayed ratio, which people's verdicts are compared by; at a small brand it
    # ran to 30x while no event reported more than 16x.
    peak_severity_ratio: float = 0.0

    @property
    def back_since(self) -> int:
        """The minute it opened, or came back last (`reopened`): what `settled` counts
        its open minutes from."""
        return self.reopened[-1] if self.reopened else self.opened_minute

    def __setstate__(self, state: tuple[None, dict] | dict) -> None:
        # A checkpoint from before a field existed: its default (pickle keeps slots as
        # (None, {slot: value})).
        slots = state[1] if isinstance(state, tuple) else state
        slots.setdefault("opened_at", None)
        slots.setdefault("untold", [])
        slots.setdefault("told_minute", -1)
        slots.setdefault("reopened", [])
        slots.setdefault("reopened_at", [])
        slots.setdefault("one_post", slots.get("thread_id") is not None)
        slots.setdefault("told_at", {})
        # (from before: what its last event reported, the nearest it kept)
        slots.setdefault("peak_severity_ratio", slots.get("reported_ratio", 0.0))
        for name, value in slots.items():
            setattr(self, name, value)


def incident_key(brand: str, thread_id: str | None, minute: int) -> str:
    """Stable: the same input opens the same key, so a replay never makes a second one.

    >>> incident_key("acme", None, 29_520_000)
    'acme/*/2026-02-16T00:00Z'
    >>> incident_key("a/b", "*", 29_520_000)  # escaped: never the brand-wide key
    'a%2Fb/%2A/2026-02-16T00:00Z'
    """
    thread = _key_part(thread_id) if thread_id is not None else "*"
    return f"{_key_part(brand)}/{thread}/{iso_utc(minute * 60)[:16]}Z"


KEY_PART_CHARS = 400  # an encoded brand or thread id longer than this is shortened


def _key_part(text: str) -> str:
    """`text` percent-encoded; past `KEY_PART_CHARS` (a brand of 240 CJK characters
    encodes to 2,160), its start and a hash of the whole, so that a key fits where it
    goes (a Slack button's value holds 2,000 characters, a context line 3,000).

    >>> part = _key_part("株" * 240)
    >>> len(part) <= KEY_PART_CHARS, part[-17]
    (True, '~')
    """
    encoded = quote(text, safe="")
    if len(encoded) <= KEY_PART_CHARS:
        return encoded
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    start = encoded[: KEY_PART_CHARS - len(digest) - 1]
    cut = start.rfind("%", len(start) - 2)  # not inside an escape
    return f"{start[:cut] if cut >= 0 else start}~{digest}"


class IncidentTracker:
    def __init__(
        self,
        *,
        explain: Explain,
        clock: Callable[[], float],
        quiet_minutes: int = 30,
        update_minutes: int = 15,
        min_spread: int = 10,
        group_minutes: int = GROUP_MINUTES,
    ) -> None:
        """`min_spread`: the fewest negatives off a storm's posts, in half an hour or
        two hours, that show it has spread (the judge's floor for a rate test's
        excursion: twice `min_accounts`). `group_minutes`: new thread storms of an
        open incident are named together, in one event per that many minutes."""
        self.explain = explain
        self.clock = clock
        self.min_spread = min_spread
        self.group_minutes = group_minutes
        self.quiet_minutes = quiet_minutes
        self.update_minutes = update_minutes
        self.open: dict[str, Incident] = {}  # by window key (brand or brand/thread)
        # Window keys whose incident resolved within REOPEN_MINUTES: the minute it did.
        self.resolved: dict[str, int] = {}
        # ... and within RETURN_MINUTES: the incident, which an alert there reopens.
        self.returning: dict[str, Incident] = {}
        self.history: list[Incident] = []

    def observe(
        self,
        window_key: str,
        *,
        brand: str,
        thread_id: str | None,
        minute: int,
        evidence: Evidence,
        a: Assessment,
        may_open: bool = True,
        one_thread: bool = False,
    ) -> AlertEvent | None:
        """`one_thread`: a brand-wide surge that one thread carries most of (its key did
        not decide): the brand's incident is that thread's firestorm in kind, until the
        storm spreads."""
        incident = self.open.get(window_key)
        if incident is None:
            if not (a.alerting and may_open) or self._tail(window_key, minute, a):
                return None
            back = self.returning_to(window_key, minute)
            if back is not None:
                return self._reopen(window_key, back, minute, evidence, a, one_thread)
            if thread_id is None:
                event = self._reopen_thread(window_key, brand, minute, evidence, a, one_thread)
                if event is not None:
                    return event
            incident = Incident(
                key=incident_key(brand, thread_id, minute),
                brand=brand,
                thread_id=thread_id,
                kind="firestorm" if thread_id else "spreading",
                one_post=thread_id is not None,
                severity=a.severity,
                opened_minute=minute,
                score=a.score,
                ratio=a.ratio,
                last_event_minute=minute,
                reported_ratio=a.ratio,
                peak_ratio=a.ratio,
                peak_score=a.score,
            )
            self.open[window_key] = incident
            self.history.append(incident)
            return self._event(incident, "opened", minute, evidence, a, one_thread=one_thread)

        incident.score = a.score
        incident.ratio = a.ratio
        incident.peak_ratio = max(incident.peak_ratio, a.ratio)
        incident.peak_score = max(incident.peak_score, a.score)
        # A minute the key alerts in is no calm minute, whatever its rate: a slow storm
        # on a post of a brand of 6,433 a day, in the brand's first hour, ran under twice
        # the brand's normal while its tests alerted, and resolved mid-storm.
        is_calm = settled(a, minute - incident.back_since)
        incident.quiet = incident.quiet + 1 if is_calm else 0
        if incident.quiet >= self.quiet_needed(a.normal_rate):
            del self.open[window_key]
            self._note_resolved(window_key, incident, minute)
            return self._event(incident, "resolved", minute, evidence, a, one_thread=one_thread)
        if a.alerting and severity_rank(a.severity) > severity_rank(incident.severity):
            incident.severity = a.severity
            return self._event(incident, "escalated", minute, evidence, a, one_thread=one_thread)
        if incident.untold and minute - incident.told_minute >= self.group_minutes:
            return self._event(incident, "escalated", minute, evidence, a, one_thread=one_thread)
        changed = (
            a.ratio >= 1.5 * incident.reported_ratio or a.ratio <= incident.reported_ratio / 1.5
        )
        if changed and minute - incident.last_event_minute >= self.update_minutes and not is_calm:
            return self._event(incident, "updated", minute, evidence, a, one_thread=one_thread)
        return None

    def returning_to(self, window_key: str, minute: int) -> Incident | None:
        """The incident that resolved on `window_key` less than `RETURN_MINUTES` before
        `minute`, which an alert there reopens; None when there is none."""
        incident = self.returning.get(window_key)
        at = self.resolved.get(window_key)
        if incident is None or at is None or minute - at >= RETURN_MINUTES:
            return None
        return incident

    def reopen_with_thread(
        self,
        window_key: str,
        thread_id: str,
        *,
        minute: int,
        evidence: Evidence,
        a: Assessment,
    ) -> AlertEvent | None:
        """A thread storm soon after its brand's incident resolved: that incident reopens,
        naming the thread (as `absorb` does for an open one), rather than the thread
        opening a second incident. A brand-wide firestorm on one post resolved while
        its post still stormed a little above the brand's normal, and 16 minutes later
        the same post's own tests opened another incident (tuning seed 4). None: the
        thread's alert is the tail of that storm (`_tail`), or nothing resolved there."""
        incident = self.returning_to(window_key, minute)
        if incident is None or self._tail(window_key, minute, a):
            return None
        if thread_id not in incident.threads and thread_id != incident.thread_id:
            incident.threads.append(thread_id)
            incident.untold.append(thread_id)
        return self._reopen(window_key, incident, minute, evidence, a, False)

    def _reopen_thread(
        self,
        window_key: str,
        brand: str,
        minute: int,
        evidence: Evidence,
        a: Assessment,
        one_thread: bool,
    ) -> AlertEvent | None:
        """A brand's alert (on the brand's `window_key`) soon after the incident on one
        of its posts resolved (and after any of the brand's own): that incident reopens,
        as the spread of its storm unless one post carries the brand's surge. A swell's
        post incident, spread over several posts, resolved while the swell went on, and
        176 minutes later the brand opened a second incident (seed 3159). It reopens on
        the brand's key, where the storm now alerts and is judged each minute: reopened
        on its post's key, calmed and idle since (its window gone with the idle keys),
        nothing judged it again, and it stayed open for six weeks, each later storm of
        the brand an update of it (real volume, PFE, seed 31). None: no such incident,
        or the alert is that storm's tail (`_tail`)."""
        latest, found = self.resolved.get(brand, -1), None
        for key, incident in self.returning.items():
            at = self.resolved.get(key, -1)
            if incident.brand == brand and incident.thread_id is not None and at > latest:
                latest, found = at, key
        if found is None or minute - latest >= RETURN_MINUTES or self._tail(found, minute, a):
            return None
        incident = self.returning[found]
        if not one_thread:
            incident.kind = "spreading"
        return self._reopen(window_key, incident, minute, evidence, a, one_thread, found)

    def _reopen(
        self,
        window_key: str,
        incident: Incident,
        minute: int,
        evidence: Evidence,
        a: Assessment,
        one_thread: bool,
        resolved_on: str | None = None,
    ) -> AlertEvent:
        """The storm of a resolved incident is back: the incident opens again on
        `window_key` (it resolved on `resolved_on`, by default the same key) and escalates
        from resolved. Its severity stays the highest band it reached (the contract's),
        or rises."""
        resolved_on = window_key if resolved_on is None else resolved_on
        calm_minutes = minute - self.resolved[resolved_on]
        incident.quiet = 0
        if severity_rank(a.severity) > severity_rank(incident.severity):
            incident.severity = a.severity
        incident.score = a.score
        incident.ratio = a.ratio
        incident.peak_ratio = max(incident.peak_ratio, a.ratio)
        incident.peak_score = max(incident.peak_score, a.score)
        incident.reopened.append(minute)
        del self.returning[resolved_on]
        self.open[window_key] = incident
        event = self._event(incident, "escalated", minute, evidence, a, one_thread=one_thread)
        event.drivers["reopened"] = True
        event.drivers["calm_minutes"] = calm_minutes
        return replace(event, summary=f"Back after {calm_minutes} calm minutes. {event.summary}")

    def _tail(self, window_key: str, minute: int, a: Assessment) -> bool:
        """An alert on a key whose incident resolved less than `REOPEN_MINUTES` ago, while
        the key is calm (`calm`, the first of the resolution's measures): the tail of the storm
        it resolved."""
        at = self.resolved.get(window_key)
        return at is not None and minute - at < REOPEN_MINUTES and calm(a)

    def _note_resolved(self, window_key: str, incident: Incident, minute: int) -> None:
        """Remembers a resolution for `_tail` and `_reopen`, forgetting those past their
        windows (once per incident, not per look)."""
        resolved = self.resolved
        if len(resolved) > 64:
            self.resolved = resolved = {
                k: m for k, m in resolved.items() if minute - m < RETURN_MINUTES
            }
            self.returning = {k: i for k, i in self.returning.items() if k in resolved}
        resolved[window_key] = minute
        self.returning[window_key] = incident

    def __setstate__(self, state: dict) -> None:
        state.setdefault("resolved", {})  # a checkpoint from before it
        state.setdefault("returning", {})
        self.__dict__.update(state)

    def quiet_needed(self, normal_rate: float) -> int:
        """Calm minutes in a row that resolve an incident of a brand whose normal is
        `normal_rate` negatives per minute (0: not known, `quiet_minutes`)."""
        if normal_rate <= 0.0:
            return self.quiet_minutes
        minutes = math.ceil(_LOG_20 / (STORM_RATIO * normal_rate))
        return max(self.quiet_minutes, min(QUIET_MAX_MINUTES, minutes))

    def spread_shown(self, off_30: int, off_120: int, normal_per_min: float) -> bool:
        """Whether negatives off a storm's posts, `off_30` in the last half hour and
        `off_120` in the last two hours, show it has spread at a brand whose normal is
        `normal_per_min` negatives: a brand-wide storm's rate (`STORM_RATIO` times
        normal) over either, and more than a small brand's everyday cluster of
        complaints (`min_spread`)."""
        floor = self.min_spread
        return off_30 >= max(floor, STORM_RATIO * normal_per_min * 30) or off_120 >= max(
            floor, STORM_RATIO * normal_per_min * 120
        )

    def has_spread(self, x: dict[str, float]) -> bool:
        """Whether the features of a brand's window show a spread off its busiest post."""
        return self.spread_shown(
            int(x.get("off_top_thread_neg_30", 0)),
            int(x.get("off_top_thread_neg_120", 0)),
            x.get("expected_neg_per_min", 0.0),
        )

    def spread(
        self, window_key: str, *, minute: int, evidence: Evidence, a: Assessment
    ) -> AlertEvent | None:
        """The storm of an open thread incident now shows brand-wide: the incident becomes
        a spreading one (once) and escalates, rather than a second incident opening."""
        incident = self.open.get(window_key)
        if incident is None or incident.kind == "spreading":
            return None
        incident.kind = "spreading"
        incident.quiet = 0
        if severity_rank(a.severity) > severity_rank(incident.severity):
            incident.severity = a.severity
        incident.peak_ratio = max(incident.peak_ratio, a.ratio)
        return self._event(incident, "escalated", minute, evidence, a)

    def absorb(
        self,
        window_key: str,
        thread_id: str,
        *,
        minute: int,
        evidence: Evidence,
        a: Assessment,
    ) -> AlertEvent | None:
        """A new thread storm while the brand has an incident open (brand-wide, or on
        another thread): one storm, one incident. The incident escalates, naming the
        thread in its drivers and summary; an incident on one thread becomes spreading.
        Thread storms that follow within `group_minutes` of that event are named
        together by the incident's next event (`observe` tells them once the interval
        is up), unless this one is news of its own: the storm's first post, its first
        spread, or a higher severity."""
        incident = self.open.get(window_key)
        # Its own post (a post's incident reopened on its brand's key) is no spread.
        if incident is None or thread_id in incident.threads or thread_id == incident.thread_id:
            return None
        incident.threads.append(thread_id)
        incident.untold.append(thread_id)
        incident.quiet = 0
        was = incident.kind
        if incident.thread_id is not None or len(incident.threads) >= 2:
            incident.kind = "spreading"  # a second thread: the storm has spread
        news = incident.kind != was or incident.told_minute < 0
        if severity_rank(a.severity) > severity_rank(incident.severity):
            incident.severity = a.severity
            news = True
        if not news and minute - incident.told_minute < self.group_minutes:
            return None
        # A brand-wide firestorm (one post carried it) whose first thread storm joins:
        # most likely that post, on its own key now; a second one is a spread.
        one_thread = incident.thread_id is None and len(incident.threads) == 1
        return self._event(incident, "escalated", minute, evidence, a, one_thread=one_thread)

    def _event(
        self,
        incident: Incident,
        kind: str,
        minute: int,
        evidence: Evidence,
        a: Assessment,
        *,
        one_thread: bool = False,
    ) -> AlertEvent:
        at, x = evidence()
        incident.last_event_minute = minute
        incident.reported_ratio = a.ratio
        # Of the events only: a minute that emitted nothing reported nothing.
        incident.peak_severity_ratio = max(incident.peak_severity_ratio, a.severity_basis)
        if incident.thread_id is None and (kind == "opened" or incident.kind == "firestorm"):
            # A brand-wide incident is about one post while one thread carries most of it;
            # once it has spread it never turns back (the alert contract). After it opened
            # on one post, a spread needs a crowd's negatives elsewhere: a storm's fading
            # tail, a comment here and there on other posts, is not one (three negatives
            # on three posts, four hours into a post's storm, turned it "brand-wide").
            concentrated = one_thread or x.get("top_thread_share_30", 0.0) >= ONE_POST_SHARE
            if kind == "opened":
                incident.kind = "firestorm" if concentrated else "spreading"
                incident.one_post = concentrated
            elif not concentrated and self.has_spread(x):
                incident.kind = "spreading"
        incident.events.append(kind)
        summary, drivers, samples, playbook = self.explain(incident, kind, a, x)
        new, incident.untold = incident.untold, []
        if new:
            incident.told_minute = minute
            if kind != "resolved":
                drivers["new_thread_storm"] = new[0]
                drivers["new_thread_storms"] = new
                summary = f"{_thread_news(incident, new)} {summary}"
        if incident.threads:
            drivers["absorbed_threads"] = list(incident.threads)
        if kind == "opened":
            incident.topics = tuple(drivers.get("topics", ()))
            incident.terms = tuple(drivers.get("top_terms", ()))
        return AlertEvent(
            incident=incident.key,
            event=kind,  # type: ignore[arg-type]
            brand=incident.brand,
            thread_id=incident.thread_id,
            severity=incident.severity,  # type: ignore[arg-type]
            score=a.score,
            at=at,
            emitted_at=self.clock(),
            summary=summary,
            drivers=drivers,
            samples=samples,
            playbook=playbook,
            kind=incident.kind,
        )


def _thread_news(incident: Incident, new: list[str]) -> str:
    """What an event naming newly absorbed thread storms says first.

    >>> i = Incident("k", "acme", None, "spreading", "high", 0, 1.0, 5.0, 0, 5.0)
    >>> i.threads = ["p1", "p2", "p3"]
    >>> _thread_news(i, ["p2", "p3"])
    'Spread to 2 more posts: p2, p3.'
    >>> i.threads, i.kind = ["p1"], "firestorm"
    >>> _thread_news(i, ["p1"])
    'The storm is on post p1.'
    """
    if incident.kind == "firestorm" and incident.thread_id is None and len(new) == 1:
        return f"The storm is on post {new[0]}."  # a brand-wide firestorm's own post
    if len(new) == 1:
        return f"Spread to post {new[0]}."
    more = f" and {len(new) - _NAMED} more" if len(new) > _NAMED else ""
    named = ", ".join(new[:_NAMED]) + more
    return f"Spread to {len(new)} more posts: {named}."
