"""What people add to an incident: acknowledgements, notes, feedback, status changes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stormwatch.alerts.store.connection import StoreBase
from stormwatch.alerts.store.incidents import require_incident
from stormwatch.alerts.store.rows import (
    FEEDBACK_LABELS,
    INCIDENT_STATUSES,
    Acknowledgement,
    Feedback,
    FeedbackLabel,
    IncidentStatus,
    Note,
    Row,
    from_row,
)
from stormwatch.alerts.store.schema import (
    ACKNOWLEDGEMENTS,
    FEEDBACK,
    INCIDENTS,
    NOTES,
)


class HumanInput(StoreBase):
    """Acknowledgements, notes, feedback and status changes by people."""

    def acknowledge(self, incident: str, *, who: str, source: str, at: float | None = None) -> None:
        """Someone took the incident on. An open or snoozed incident becomes acknowledged;
        a resolved one keeps its status (the acknowledgement is still kept)."""
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            status = require_incident(conn, incident)
            conn.execute(
                ACKNOWLEDGEMENTS.insert().values(incident=incident, who=who, source=source, at=at)
            )
            if status != "resolved":
                conn.execute(
                    INCIDENTS.update()
                    .where(INCIDENTS.c.key == incident)
                    .values(
                        status="acknowledged",
                        acknowledged_at=sa.func.coalesce(INCIDENTS.c.acknowledged_at, at),
                    )
                )

    def acknowledgements(self, incident: str) -> list[Acknowledgement]:
        return self._human_rows(ACKNOWLEDGEMENTS, Acknowledgement, incident)

    def add_note(self, incident: str, *, who: str, text: str, at: float | None = None) -> None:
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            require_incident(conn, incident)
            conn.execute(NOTES.insert().values(incident=incident, who=who, text=text, at=at))

    def notes(self, incident: str) -> list[Note]:
        return self._human_rows(NOTES, Note, incident)

    def add_feedback(
        self, incident: str, label: FeedbackLabel, *, who: str, at: float | None = None
    ) -> None:
        """Was it a real crisis? Feeds detector tuning per brand."""
        if label not in FEEDBACK_LABELS:
            raise ValueError(f"feedback label must be one of {FEEDBACK_LABELS}, got {label!r}")
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            require_incident(conn, incident)
            conn.execute(FEEDBACK.insert().values(incident=incident, label=label, who=who, at=at))

    def feedback_for(self, brand: str) -> list[Feedback]:
        """All feedback on the brand's incidents, oldest first."""
        query = (
            sa.select(FEEDBACK, INCIDENTS.c.kind)
            .join(INCIDENTS, INCIDENTS.c.key == FEEDBACK.c.incident)
            .where(INCIDENTS.c.brand == brand)
            .order_by(FEEDBACK.c.at, FEEDBACK.c.id)
        )
        with self._transaction() as conn:
            return [from_row(Feedback, row) for row in conn.execute(query)]

    def _human_rows(self, table: sa.Table, cls: type[Row], incident: str) -> list[Row]:
        query = (
            sa.select(table).where(table.c.incident == incident).order_by(table.c.at, table.c.id)
        )
        with self._transaction() as conn:
            return [from_row(cls, row) for row in conn.execute(query)]

    def set_status(
        self,
        incident: str,
        status: IncidentStatus,
        *,
        at: float | None = None,
        unless: tuple[str, ...] = (),
    ) -> str:
        """A person moved the incident (snooze, resolve, reopen); returns the old status.
        `resolved_at` of a human resolution is wall clock: no comment decided it. An
        incident whose status is in `unless` is left as it is, decided in the same
        transaction (a snooze must not reopen what the pipeline resolved meanwhile)."""
        if status not in INCIDENT_STATUSES:
            raise ValueError(f"status must be one of {INCIDENT_STATUSES}, got {status!r}")
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            old = require_incident(conn, incident)
            if old in unless:
                return old
            values: dict[str, Any] = {"status": status}
            if status == "resolved" and old != "resolved":
                values["resolved_at"] = at
            elif status != "resolved":
                values["resolved_at"] = None
            conn.execute(INCIDENTS.update().where(INCIDENTS.c.key == incident).values(**values))
        return old
