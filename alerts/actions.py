"""What a button press does: Acknowledge, Snooze 1 h, Resolve, False alarm, Escalate.

Each changes the incident in the store, lets the escalation scheduler tell on-call
(acknowledge or resolve downstream, or page the next level), and queues a refresh of the
Slack message with a note in its thread. Nothing here talks to Slack directly: the
outbox does, so a press during a Slack hiccup is not lost either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from stormwatch.alerts.escalation import SLACK, Escalator
from stormwatch.alerts.feedback import record_feedback
from stormwatch.alerts.store import IncidentStore

ACTION_NAMES = ("acknowledge", "snooze_1h", "resolve", "false_alarm", "escalate")
SNOOZE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class ActionResult:
    incident: str
    action: str
    note: str


class IncidentActions:
    def __init__(
        self,
        store: IncidentStore,
        *,
        escalator: Escalator | None = None,
        notify_slack: bool = True,
        clock: Callable[[], float] | None = None,
        on_acknowledged: Callable[[str, float], None] | None = None,
    ) -> None:
        """`on_acknowledged(severity, seconds)` hears the first acknowledgement of an
        incident with the wall time since its first alert was emitted;
        `StormwatchMetrics.observe_time_to_acknowledge` fits."""
        self.store = store
        self.on_acknowledged = on_acknowledged
        self.escalator = escalator
        self.notify_slack = notify_slack
        self.clock = clock or store._clock

    def apply(self, action: str, incident: str, *, who: str, source: str = "slack") -> ActionResult:
        """Raises `StoreError` for an unknown incident, `ValueError` for an unknown action.

        Under the escalator's lock: a pass that read the status before an acknowledgement
        paged on-call after it, and one between a snooze's status and its end time ended
        the snooze at once."""
        if self.escalator is None:
            return self._apply(action, incident, who=who, source=source)
        with self.escalator.lock:
            return self._apply(action, incident, who=who, source=source)

    def _apply(self, action: str, incident: str, *, who: str, source: str) -> ActionResult:
        if action == "acknowledge":
            first = self._first_acknowledgement(incident)
            at = self.clock()
            self.store.acknowledge(incident, who=who, source=source, at=at)
            if first is not None and self.on_acknowledged is not None:
                severity, emitted = first
                self.on_acknowledged(severity, max(0.0, at - emitted))
            note = f"👀 Acknowledged by {who}: escalation stopped"
        elif action == "snooze_1h":
            # An older copy of the message, Resolve and Snooze pressed at once, or the
            # pipeline resolving it meanwhile: snoozing would reopen it in an hour and
            # page on-call for a storm over.
            if self.store.set_status(incident, "snoozed", unless=("resolved",)) == "resolved":
                note = f"{who} asked to snooze, but the incident is resolved"
            else:
                if self.escalator is not None:
                    self.escalator.snooze(incident, who=who, seconds=SNOOZE_SECONDS)
                note = f"😴 Snoozed for 1 h by {who}"
        elif action == "resolve":
            self.store.set_status(incident, "resolved", at=self.clock())
            if self.escalator is not None:
                self.escalator.resolved_by(incident, who=who)
            note = f"✅ Resolved by {who}"
        elif action == "false_alarm":
            record_feedback(self.store, incident, "false_alarm", who=who, at=self.clock())
            self.store.set_status(incident, "resolved", at=self.clock())
            if self.escalator is not None:
                self.escalator.resolved_by(incident, who=who)
            note = f"🙅 False alarm, said {who}: resolved and kept as feedback for the detectors"
        elif action == "escalate":
            if self.escalator is None:
                note = f"{who} asked to escalate, but no on-call escalation is configured"
            else:
                note = self.escalator.escalate_now(incident, who=who)
        else:
            raise ValueError(f"unknown action {action!r}; expected one of {ACTION_NAMES}")
        if self.escalator is not None and action != "escalate":
            self.escalator.reconcile(incident)
        if self.notify_slack:
            self.store.enqueue(
                incident=incident,
                target=SLACK,
                payload={"action": "refresh", "note": note, "who": who},
            )
        return ActionResult(incident, action, note)

    def _first_acknowledgement(self, incident: str) -> tuple[str, float] | None:
        """(severity, wall time the incident was first alerted) if nobody acknowledged it
        yet and the hook wants it; None otherwise."""
        if self.on_acknowledged is None:
            return None
        found = self.store.get_incident(incident)
        if found is None or found.acknowledged_at is not None:
            return None
        for stored in self.store.events(incident):
            emitted = stored.payload.get("emitted_at")
            if isinstance(emitted, str):
                when = datetime.fromisoformat(emitted.replace("Z", "+00:00"))
                return found.severity, when.timestamp()
        return None
