"""Feedback on an incident (was it a real crisis?), from Slack's False alarm button or from
`stormwatch feedback`. Stored per incident; detector tuning reads it per brand."""

from __future__ import annotations

from stormwatch.alerts.store import FeedbackLabel, IncidentStore


def record_feedback(
    store: IncidentStore, incident: str, label: FeedbackLabel, *, who: str, at: float | None = None
) -> None:
    """Raises `StoreError` for an unknown incident, `ValueError` for an unknown label."""
    store.add_feedback(incident, label, who=who, at=at)
