"""Matching incidents to labelled events: which labelled crises were caught, how early,
and which incidents opened where nothing should have.

Used by the demo's check table, the end-to-end tests and `stormwatch evaluate
scenarios`, so that all three judge a run the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

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
        """When a live run would alert: the stream's event time when the incident
        opened (without it, lateness after its minute ended)."""
        if not self.incidents:
            return None
        return min(
            i.opened_minute * 60.0 + 60.0 + self.lateness if i.opened_at is None else i.opened_at
            for i in self.incidents
        )

    @property
    def lead_seconds(self) -> float | None:
        """Seconds from the moment a live run would alert to the labelled breakout."""
        if self.label.breakout is None or self.opened_at is None:
            return None
        return self.label.breakout - self.opened_at


def _overlaps(incident: Incident, label: Label) -> bool:
    if incident.brand != label.brand:
        return False
    if label.thread_id is not None and incident.thread_id not in (None, label.thread_id):
        return False
    opened = incident.opened_minute * 60.0
    return label.onset - MATCH_BEFORE <= opened <= label.end + MATCH_AFTER


def match_labels(
    incidents: Sequence[Incident], labels: Sequence[Label], *, lateness: float = 0.0
) -> tuple[list[LabelOutcome], list[Incident]]:
    """Per label the incidents that belong to it; and the incidents no label explains."""
    outcomes = [
        LabelOutcome(label, tuple(i for i in incidents if _overlaps(i, label)), lateness)
        for label in labels
    ]
    explained = {id(i) for o in outcomes for i in o.incidents}
    unexplained = [i for i in incidents if id(i) not in explained]
    return outcomes, unexplained
