"""Incidents and their event history: recording alert events idempotently, and reading."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stormwatch.alerts.event import EVENT_KINDS, SEVERITIES, AlertEvent
from stormwatch.alerts.exceptions import StoreError
from stormwatch.alerts.store.connection import StoreBase
from stormwatch.alerts.store.rows import Incident, IncidentStatus, StoredEvent, from_row
from stormwatch.alerts.store.schema import (
    DELIVERIES,
    EVENT_IDENTITY,
    INCIDENT_EVENTS,
    INCIDENTS,
)


class IncidentRecords(StoreBase):
    """Incidents and their events."""

    def record(self, event: AlertEvent, *, targets: Sequence[str] = ()) -> bool:
        """Apply `event` to its incident, add it to the history and enqueue one delivery per
        target, in one transaction. Returns False, changing nothing, if it was recorded
        before (see the module docstring for what makes two events the same)."""
        if isinstance(targets, str):
            raise TypeError("targets must be a sequence of target names, not one str")
        wanted = list(dict.fromkeys(targets))
        if not all(isinstance(t, str) and t for t in wanted):
            raise ValueError(f"targets must be non-empty strings, got {targets!r}")
        _check_event(event)
        payload = event.to_json_dict()
        now = self._clock()
        with self._transaction(write=True) as conn:
            created = conn.scalar(
                self._insert(INCIDENTS)
                .values(_new_incident(event, payload))
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(INCIDENTS.c.key)
            )
            # Lock the incident: records for one incident apply one after the other.
            current = conn.execute(
                sa.select(INCIDENTS).where(INCIDENTS.c.key == event.incident).with_for_update()
            ).one()
            if created is None and event.event == "opened" and _opened(conn, event.incident):
                conn.rollback()  # an incident opens once (`event_identity`)
                return False
            event_id = conn.scalar(
                self._insert(INCIDENT_EVENTS)
                .values(
                    incident=event.incident,
                    event=event.event,
                    severity=event.severity,
                    at=event.at,
                    at_us=_at_us(event.at),
                    score=event.score,
                    emitted_at=event.emitted_at,
                    recorded_at=now,
                    payload=payload,
                )
                .on_conflict_do_nothing(index_elements=list(EVENT_IDENTITY))
                .returning(INCIDENT_EVENTS.c.id)
            )
            if event_id is None:
                conn.rollback()  # also drops an incident row created just above
                return False
            if created is None:
                changes = _transition(from_row(Incident, current), event, payload)
                if changes:
                    conn.execute(
                        INCIDENTS.update()
                        .where(INCIDENTS.c.key == event.incident)
                        .values(**changes)
                    )
            if wanted:
                conn.execute(
                    DELIVERIES.insert(),
                    [
                        {
                            "incident": event.incident,
                            "event_id": event_id,
                            "target": target,
                            "payload": payload,
                            "status": "pending",
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for target in wanted
                    ],
                )
        return True

    def get_incident(self, key: str) -> Incident | None:
        with self._transaction() as conn:
            row = conn.execute(sa.select(INCIDENTS).where(INCIDENTS.c.key == key)).first()
        return None if row is None else from_row(Incident, row)

    def open_incident_for(
        self, brand: str, thread_id: str | None, *, kind: str | None = None
    ) -> Incident | None:
        """The unresolved incident about `brand` and `thread_id` (None: brand-wide), the
        most recently opened if there are several kinds; None if there is none."""
        query = sa.select(INCIDENTS).where(
            INCIDENTS.c.brand == brand,
            INCIDENTS.c.status != "resolved",
            INCIDENTS.c.thread_id.is_(None)
            if thread_id is None
            else INCIDENTS.c.thread_id == thread_id,
        )
        if kind is not None:
            query = query.where(INCIDENTS.c.kind == kind)
        query = query.order_by(INCIDENTS.c.opened_at.desc(), INCIDENTS.c.key).limit(1)
        with self._transaction() as conn:
            row = conn.execute(query).first()
        return None if row is None else from_row(Incident, row)

    def list_incidents(
        self, status: IncidentStatus | None = None, brand: str | None = None
    ) -> list[Incident]:
        """Incidents in the order they were opened (event time)."""
        query = sa.select(INCIDENTS).order_by(INCIDENTS.c.opened_at, INCIDENTS.c.key)
        if status is not None:
            query = query.where(INCIDENTS.c.status == status)
        if brand is not None:
            query = query.where(INCIDENTS.c.brand == brand)
        with self._transaction() as conn:
            return [from_row(Incident, row) for row in conn.execute(query)]

    def incident_keys(self, status: IncidentStatus) -> list[str]:
        """The keys of the incidents in `status`, oldest first: what the escalator's pass
        walks (each is read again under its lock); the whole rows, their last events as
        JSON, cost it half a second per pass at 20,000 resolved incidents."""
        query = (
            sa.select(INCIDENTS.c.key)
            .where(INCIDENTS.c.status == status)
            .order_by(INCIDENTS.c.opened_at, INCIDENTS.c.key)
        )
        with self._transaction() as conn:
            return [row[0] for row in conn.execute(query)]

    def events(self, incident: str) -> list[StoredEvent]:
        """The incident's events in the order they were recorded."""
        query = (
            sa.select(INCIDENT_EVENTS)
            .where(INCIDENT_EVENTS.c.incident == incident)
            .order_by(INCIDENT_EVENTS.c.id)
        )
        with self._transaction() as conn:
            return [from_row(StoredEvent, row) for row in conn.execute(query)]

    def set_slack_message(self, incident: str, *, channel: str, ts: str) -> None:
        """Remember the Slack message an incident's updates are threaded under."""
        with self._transaction(write=True) as conn:
            require_incident(conn, incident)
            conn.execute(
                INCIDENTS.update()
                .where(INCIDENTS.c.key == incident)
                .values(slack_channel=channel, slack_ts=ts)
            )


def _at_us(at: float) -> int:
    # Whole microseconds: the same comment time parsed twice (ISO text vs epoch float) may
    # differ in the last bit, never by a microsecond.
    return round(at * 1_000_000)


def _check_event(event: AlertEvent) -> None:
    if event.event not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {event.event!r}; expected one of {EVENT_KINDS}")
    if event.severity not in SEVERITIES:
        raise ValueError(f"unknown severity {event.severity!r}; expected one of {SEVERITIES}")
    if not math.isfinite(event.at):
        raise ValueError(f"event time must be finite, got {event.at!r}")


def _new_incident(event: AlertEvent, payload: dict[str, Any]) -> dict[str, Any]:
    resolved = event.event == "resolved"
    return {
        "key": event.incident,
        "brand": event.brand,
        "thread_id": event.thread_id,
        "kind": event.kind,
        "status": "resolved" if resolved else "open",
        "severity": event.severity,
        "score": event.score,
        "opened_at": event.at,
        "updated_at": event.at,
        "resolved_at": event.at if resolved else None,
        "playbook": event.playbook,
        "last_event": payload,
    }


def _transition(current: Incident, event: AlertEvent, payload: dict[str, Any]) -> dict[str, Any]:
    """The column changes `event` makes to an existing incident.

    An event older (in event time) than the incident's latest only joins the history: the
    incident shows its newest state whatever order events arrive in. An `opened` or any
    non-resolving event after a resolution reopens the incident.
    """
    if event.at < current.updated_at:
        return {}
    changes: dict[str, Any] = {
        "severity": event.severity,
        "score": event.score,
        "updated_at": event.at,
        "last_event": payload,
    }
    if event.playbook is not None:
        changes["playbook"] = event.playbook
    if event.event == "resolved":
        if current.status != "resolved":
            changes.update(status="resolved", resolved_at=event.at)
    elif current.status == "resolved":
        changes.update(status="open", resolved_at=None, acknowledged_at=None)
        if event.event == "opened":
            changes["opened_at"] = event.at
    return changes


def require_incident(conn: Connection, key: str) -> str:
    """The incident's status, locking its row; StoreError if there is no such incident."""
    status = conn.scalar(
        sa.select(INCIDENTS.c.status).where(INCIDENTS.c.key == key).with_for_update()
    )
    if status is None:
        raise StoreError(f"no incident with key {key!r}")
    return status


def _opened(conn: Connection, incident: str) -> bool:
    """Whether `incident` has its `opened` event already."""
    query = sa.select(INCIDENT_EVENTS.c.id).where(
        INCIDENT_EVENTS.c.incident == incident, INCIDENT_EVENTS.c.event == "opened"
    )
    return conn.scalar(query.limit(1)) is not None
