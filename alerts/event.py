"""The alert event: the public output contract (README, "Alert event").

One event per incident transition. Sinks (JSONL, console, store, Slack, Kafka) all take
this one shape, so the contract is defined once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

EventKind = Literal["opened", "escalated", "updated", "resolved"]
Severity = Literal["low", "medium", "high", "critical"]

SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
EVENT_KINDS: tuple[EventKind, ...] = ("opened", "escalated", "updated", "resolved")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)  # type: ignore[arg-type]


def route_matches(brands: frozenset[str], min_severity: str, brand: str, severity: str) -> bool:
    """The filter of every route and policy: brand among `brands` (any when empty, compared
    case-folded) and severity at least `min_severity`.

    >>> route_matches(frozenset({"acme"}), "high", "ACME", "critical")
    True
    >>> route_matches(frozenset(), "high", "acme", "medium")
    False
    """
    return (not brands or brand.casefold() in brands) and severity_rank(severity) >= severity_rank(
        min_severity
    )


def event_identity(fields: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two alert events the same, as the incident store counts them: of an
    event's contract JSON (a file's line, a topic's record, an outbox payload). An
    incident opens once: its key names its opening minute, and a run resumed over the
    continued input judges the minutes the stopped run closed at its end again, with
    their later comments, and may open it at another second or severity."""
    if fields.get("event") == "opened":
        return (fields.get("incident"), "opened", None, None)
    return (fields.get("incident"), fields.get("event"), fields.get("at"), fields.get("severity"))


def iso_utc(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with a `Z`, second precision: stable text for keys and JSON."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True, frozen=True)
class AlertEvent:
    incident: str  # stable incident key
    event: EventKind
    brand: str
    thread_id: str | None  # None for a brand-wide incident
    severity: Severity
    score: float
    at: float  # event time (epoch s) of the comment that triggered this event
    emitted_at: float  # wall clock (epoch s)
    summary: str
    drivers: dict[str, Any] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)
    playbook: str | None = None
    kind: str = "firestorm"  # firestorm | spreading: what the incident is about

    def to_json_dict(self) -> dict[str, Any]:
        """The contract's JSON object: times as ISO 8601 UTC strings."""
        return {
            "incident": self.incident,
            "event": self.event,
            "brand": self.brand,
            "thread_id": self.thread_id,
            "kind": self.kind,
            "severity": self.severity,
            "score": round(self.score, 3),
            "at": iso_utc(self.at),
            "emitted_at": datetime.fromtimestamp(self.emitted_at, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "summary": self.summary,
            "drivers": self.drivers,
            "samples": self.samples,
            "playbook": self.playbook,
        }
