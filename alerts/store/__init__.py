"""The incident store: incidents, their event history, the delivery outbox, human input.

SQLite backs the embedded runtime (a file path, or `sqlite:///:memory:` in tests);
PostgreSQL (`postgresql+psycopg://...`) backs the Kafka workers, several of which may
share one database. Both go through the same SQLAlchemy Core statements.

Times are epoch seconds (float, UTC) everywhere, like `AlertEvent.at`. Incident times
(`opened_at`, `updated_at`, `resolved_at`) and event `at` are *event* time, so a replay
writes the same rows as the live stream did; outbox times and the `at` of
acknowledgements, notes and feedback are wall clock.

Idempotency: an event's identity is (incident, event kind, `at` in whole microseconds,
severity) — exactly what a redelivery after a crash re-emits; `emitted_at`, score and
summary may differ and are not part of it. A unique constraint on those columns plus
`INSERT ... ON CONFLICT DO NOTHING` makes `record()` of a known event a no-op, also when
two processes race. `severity` is in the key because it is what tells two real
transitions at one instant apart (escalate medium → high → critical in one window).
An incident opens once: a second `opened` of a known incident (a resumed run judging
again, with their later comments, the minutes the stopped run closed at its end) is
known whatever its `at` and severity.

Outbox: `record()` enqueues one delivery per target in the same transaction as the
event, so an alert is persisted together with the promise to send it.
`pending_deliveries()` *claims* due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
database write lock on SQLite) and leases them for `lease` seconds, so a second worker
skips them and a crashed worker's rows come back after the lease. Per incident and
target, a row is only handed out once every earlier row is sent or dead: Slack updates
never overtake the message they thread under, a PagerDuty resolve never its trigger.
"""

from stormwatch.alerts.store.incident_store import IncidentStore
from stormwatch.alerts.store.rows import (
    DELIVERY_STATUSES,
    FEEDBACK_LABELS,
    INCIDENT_STATUSES,
    Acknowledgement,
    Delivery,
    DeliveryStatus,
    Feedback,
    FeedbackLabel,
    Incident,
    IncidentStatus,
    Note,
    StoredEvent,
)
from stormwatch.alerts.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate

__all__ = [
    "DELIVERY_STATUSES",
    "FEEDBACK_LABELS",
    "INCIDENT_STATUSES",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Acknowledgement",
    "Delivery",
    "DeliveryStatus",
    "Feedback",
    "FeedbackLabel",
    "Incident",
    "IncidentStatus",
    "IncidentStore",
    "Note",
    "StoredEvent",
    "migrate",
]
