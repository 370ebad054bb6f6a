"""What the incident store hands out: frozen rows, and the values their fields take."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final, Literal, TypeVar

import sqlalchemy as sa

from stormwatch.alerts.event import AlertEvent

IncidentStatus = Literal["open", "acknowledged", "snoozed", "resolved"]
DeliveryStatus = Literal["pending", "sent", "failed", "dead"]
FeedbackLabel = Literal["false_alarm", "confirmed"]

INCIDENT_STATUSES: Final = ("open", "acknowledged", "snoozed", "resolved")
DELIVERY_STATUSES: Final = ("pending", "sent", "failed", "dead")
FEEDBACK_LABELS: Final = ("false_alarm", "confirmed")


@dataclass(slots=True, frozen=True)
class Incident:
    key: str
    brand: str
    thread_id: str | None
    kind: str
    status: IncidentStatus
    severity: str
    score: float
    opened_at: float  # event time
    updated_at: float  # event time of the latest event applied
    resolved_at: float | None  # event time
    acknowledged_at: float | None  # wall clock of the first acknowledgement
    playbook: str | None
    last_event: dict[str, Any]  # the contract JSON of the latest event
    slack_channel: str | None
    slack_ts: str | None


@dataclass(slots=True, frozen=True)
class StoredEvent:
    id: int
    incident: str
    event: str
    severity: str
    score: float
    at: float
    emitted_at: float
    recorded_at: float  # wall clock
    payload: dict[str, Any]  # the contract JSON (`AlertEvent.to_json_dict()`)

    def alert_event(self) -> AlertEvent:
        """The event as it was recorded (times and score at full precision)."""
        p = self.payload
        return AlertEvent(
            incident=self.incident,
            event=self.event,  # type: ignore[arg-type]
            brand=p["brand"],
            thread_id=p["thread_id"],
            severity=self.severity,  # type: ignore[arg-type]
            score=self.score,
            at=self.at,
            emitted_at=self.emitted_at,
            summary=p["summary"],
            drivers=p["drivers"],
            samples=p["samples"],
            playbook=p["playbook"],
            kind=p["kind"],
        )


@dataclass(slots=True, frozen=True)
class Delivery:
    id: int
    incident: str
    event_id: int | None
    target: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int  # attempts started (claims)
    next_attempt_at: float | None  # wall clock; None once sent or dead
    last_error: str | None
    external_id: str | None  # e.g. the Slack message ts
    created_at: float
    updated_at: float


@dataclass(slots=True, frozen=True)
class Acknowledgement:
    id: int
    incident: str
    who: str
    source: str  # slack, cli, api, ...
    at: float


@dataclass(slots=True, frozen=True)
class Note:
    id: int
    incident: str
    who: str
    text: str
    at: float


@dataclass(slots=True, frozen=True)
class Feedback:
    id: int
    incident: str
    kind: str  # the incident's kind, so detectors can be tuned per kind
    label: FeedbackLabel
    who: str
    at: float


Row = TypeVar("Row")


def from_row(cls: type[Row], row: sa.Row[Any]) -> Row:
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]
