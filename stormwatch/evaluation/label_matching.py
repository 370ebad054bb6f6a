"""Matching incidents to labelled events: which labelled crises were caught, how early,
and which incidents opened where nothing should have.

Used by the demo's check table, the end-to-end tests and `stormwatch evaluate
scenarios`, so that all three judge a run the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.incidents import Incident

MATCH_BEFORE = 15 * 60  # an incident may open this long before the labelled onset
MATCH_AFTER = 60 * 60  # ... or up to this long after the labelled end


class Label(Protocol):
    name: str
    kind: str
    brand: str
    thread_id: str | None
    must_alert: bool
    onset: float
    breakout: float | None
    end: float
    evidence_at: float | None  # the event's tenth negative comment, where known


@dataclass(slots=True, frozen=True)
class LabelOutcome:
    label: Label
    incidents: tuple[Incident, ...]
    # A live stream learns of a minute this long after it ends: when an incident does not
    # say when it opened.
    lateness: float = 0.0

    @property
    def caught(self) -> bool:
        return bool(self.incidents)

    @property
    def correct(self) -> bool:
        return self.caught == self.label.must_alert

    @property
    def opened_at(self) -> float | None:
        """When a live run would alert: the stream's event time when the first of its
        incidents opened, or reopened, within the label's window (without it, lateness
        after that minute ended), or escalated naming the label's post (`told`)."""
        times = [
            minute * 60.0 + 60.0 + self.lateness if at is None else at
            for i in self.incidents
            for minute, at in openings(i)
            if _where(i, self.label) and _in_window(minute, self.label)
        ]
        times += [at for i in self.incidents if (at := told(i, self.label)) is not None]
        return min(times) if times else None

    @property
    def by_escalation(self) -> bool:
        """Caught only by an escalation of an incident already open for something else
        (a storm on a post inside it): none of its incidents opened in its window."""
        return self.caught and not any(_openings_within(i, self.label) for i in self.incidents)

    @property
    def lead_seconds(self) -> float | None:
        """Seconds from the moment a live run would alert to the labelled breakout."""
        if self.label.breakout is None or self.opened_at is None:
            return None
        return self.label.breakout - self.opened_at


def openings(incident: Incident) -> list[tuple[int, float | None]]:
    """The minutes an incident opened and reopened (`IncidentTracker.observe`), each with
    the stream's event time then where known. Each is an alert of its own: a reopening
    no label explains is a false alarm, whatever its first opening was about."""
    first = [(incident.opened_minute, incident.opened_at)]
    at = incident.reopened_at
    return first + [(m, at[n] if n < len(at) else None) for n, m in enumerate(incident.reopened)]


def _within(at: float, label: Label) -> bool:
    """Whether event time `at` (epoch seconds) is within the label's window."""
    return label.onset - MATCH_BEFORE <= at <= label.end + MATCH_AFTER


def _in_window(minute: int, label: Label) -> bool:
    return _within(minute * 60.0, label)


def _openings_within(incident: Incident, label: Label) -> list[int]:
    """The minutes `incident` opened or reopened within the label's window, where the
    label is (`_where`)."""
    if not _where(incident, label):
        return []
    return [minute for minute, _ in openings(incident) if _in_window(minute, label)]


def told(incident: Incident, label: Label) -> float | None:
    """When an event of `incident` first named the label's post as a storm it took in
    (`new_thread_storms`), if within the label's window: an open incident's escalation
    naming the post tells of that post's storm, one storm, one incident. None if not."""
    # A storm over several posts that began on one of its own names that one in `post`
    # (real volume's storms); a label on one post, that post.
    post = label.thread_id if label.thread_id is not None else getattr(label, "post", None)
    if post is None or incident.brand != label.brand:
        return None
    at = incident.told_at.get(post)
    return at if at is not None and _within(at, label) else None


def alerts_said_campaign(outcome: LabelOutcome, events: Iterable[AlertEvent]) -> bool:
    """Whether an alert of the label's incidents within its window said "campaign". An
    incident that a later storm reopened (within half a day of resolving) keeps the
    events of the campaign it opened for, and those do not speak for the storm (real
    volume, IBM seed 6: a storm ten hours after a campaign reopened its incident)."""
    keys = {i.key for i in outcome.incidents}
    label = outcome.label
    return any(
        e.incident in keys and _within(e.at, label) and bool(e.drivers.get("campaign"))
        for e in events
    )


def _where(incident: Incident, label: Label) -> bool:
    if incident.brand != label.brand:
        return False
    return label.thread_id is None or incident.thread_id in (None, label.thread_id)


def match_labels(
    incidents: Sequence[Incident], labels: Sequence[Label], *, lateness: float = 0.0
) -> tuple[list[LabelOutcome], list[Incident]]:
    """Per label the incidents that opened or reopened within its window, or escalated
    within it naming its post (`told`); and the incidents with an opening no label
    explains (an escalation explains no opening)."""
    explained: set[tuple[int, int]] = set()
    outcomes = []
    for label in labels:
        mine = []
        for i in incidents:
            hits = _openings_within(i, label)
            if hits or told(i, label) is not None:
                mine.append(i)
                explained.update((id(i), m) for m in hits)
        outcomes.append(LabelOutcome(label, tuple(mine), lateness))
    unexplained = [i for i in incidents if any((id(i), m) not in explained for m, _ in openings(i))]
    return outcomes, unexplained
