"""The incident store's tables as of the latest migration, and the migrations.

The tables here are columns only, used by the queries; the DDL (constraints, indexes)
lives in the migrations, frozen as they were written; a test checks that a migrated
database has exactly these columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from stormwatch.alerts.exceptions import StoreError

# Any constant works; it only has to be the same in every process migrating one database.
_PG_MIGRATION_LOCK: Final = 0x5701_4D57

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PK = rowid on SQLite


def _one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{column}")


METADATA = sa.MetaData()

SCHEMA_VERSION_TABLE = sa.Table(
    "schema_version",
    METADATA,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.Double, nullable=False),
)

INCIDENTS = sa.Table(
    "incidents",
    METADATA,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("thread_id", sa.Text),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("score", sa.Double, nullable=False),
    sa.Column("opened_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
    sa.Column("resolved_at", sa.Double),
    sa.Column("playbook", sa.Text),
    sa.Column("last_event", sa.JSON, nullable=False),
    sa.Column("slack_channel", sa.Text),
    sa.Column("slack_ts", sa.Text),
    sa.Column("acknowledged_at", sa.Double),  # migration 2
)

INCIDENT_EVENTS = sa.Table(
    "incident_events",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("score", sa.Double, nullable=False),
    sa.Column("emitted_at", sa.Double, nullable=False),
    sa.Column("recorded_at", sa.Double, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
)
EVENT_IDENTITY: Final = ("incident", "event", "at_us", "severity")

DELIVERIES = sa.Table(
    "deliveries",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("event_id", _ID, sa.ForeignKey("incident_events.id")),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Double),
    sa.Column("last_error", sa.Text),
    sa.Column("external_id", sa.Text),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

ACKNOWLEDGEMENTS = sa.Table(
    "acknowledgements",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
)

NOTES = sa.Table(
    "notes",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
)

FEEDBACK = sa.Table(
    "feedback",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
)

# Migration 3: state of `stormwatch serve` that must outlive the process.
REQUEST_CLAIMS = sa.Table(
    "request_claims",
    METADATA,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("claimed_at", sa.Double, nullable=False),
    sa.Column("done", sa.Boolean, nullable=False),
)

CHECKPOINTS = sa.Table(
    "checkpoints",
    METADATA,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("saved_at", sa.Double, nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=False),
)

# Migration 4: a person's reading of one comment ("negative" / "not negative"), which
# teaches that brand's negativity correction (`detectors/negativity_feedback.py`).
NEGATIVITY_LABELS = sa.Table(
    "negativity_labels",
    METADATA,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("comment_id", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("lang", sa.Text),
    sa.Column("negative", sa.Boolean, nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
)


# --- migrations ------------------------------------------------------------------------
# Each migration is frozen as written: literal values, its own table definitions, nothing
# that a later change to this module could alter. Extending an enum (a new incident status)
# means a new migration; on SQLite a CHECK constraint only changes by rebuilding the table.


def _migration_1(conn: Connection) -> None:
    """Initial schema: incidents, their events, the outbox, acknowledgements, notes."""
    md = sa.MetaData()
    ident = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    sa.Table(
        "incidents",
        md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("brand", sa.Text, nullable=False),
        sa.Column("thread_id", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("opened_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.Column("resolved_at", sa.Double),
        sa.Column("playbook", sa.Text),
        sa.Column("last_event", sa.JSON, nullable=False),
        sa.Column("slack_channel", sa.Text),
        sa.Column("slack_ts", sa.Text),
        _one_of("status", ("open", "acknowledged", "snoozed", "resolved")),
        _one_of("severity", ("low", "medium", "high", "critical")),
        sa.Index("ix_incidents_brand_status", "brand", "status"),
    )
    sa.Table(
        "incident_events",
        md,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Column("at_us", sa.BigInteger, nullable=False),
        sa.Column("score", sa.Double, nullable=False),
        sa.Column("emitted_at", sa.Double, nullable=False),
        sa.Column("recorded_at", sa.Double, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.UniqueConstraint(
            "incident", "event", "at_us", "severity", name="uq_incident_events_identity"
        ),
        _one_of("event", ("opened", "escalated", "updated", "resolved")),
        _one_of("severity", ("low", "medium", "high", "critical")),
    )
    sa.Table(
        "deliveries",
        md,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
        sa.Column("event_id", ident, sa.ForeignKey("incident_events.id")),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.Double),
        sa.Column("last_error", sa.Text),
        sa.Column("external_id", sa.Text),
        sa.Column("created_at", sa.Double, nullable=False),
        sa.Column("updated_at", sa.Double, nullable=False),
        sa.UniqueConstraint("event_id", "target", name="uq_deliveries_event_target"),
        _one_of("status", ("pending", "sent", "failed", "dead")),
        sa.Index("ix_deliveries_due", "target", "status", "next_attempt_at"),
        sa.Index("ix_deliveries_incident", "incident", "target", "id"),
    )
    sa.Table(
        "acknowledgements",
        md,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Index("ix_acknowledgements_incident", "incident"),
    )
    sa.Table(
        "notes",
        md,
        sa.Column("id", ident, primary_key=True, autoincrement=True),
        sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Index("ix_notes_incident", "incident"),
    )
    md.create_all(conn)


def _migration_2(conn: Connection) -> None:
    """Feedback on incidents (false alarm / confirmed), and `incidents.acknowledged_at`,
    backfilled from the first acknowledgement of each incident."""
    md = sa.MetaData()
    sa.Table("incidents", md, sa.Column("key", sa.Text, primary_key=True))  # FK target only
    sa.Table(
        "feedback",
        md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        _one_of("label", ("false_alarm", "confirmed")),
        sa.Index("ix_feedback_incident", "incident"),
    ).create(conn)
    double = sa.Double().compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE incidents ADD COLUMN acknowledged_at {double}")
    conn.exec_driver_sql(
        "UPDATE incidents SET acknowledged_at ="
        " (SELECT min(a.at) FROM acknowledgements a WHERE a.incident = incidents.key)"
    )


def _migration_3(conn: Connection) -> None:
    """`stormwatch serve`: signed requests already acted on (Slack replay protection that
    survives a restart) and the embedded pipeline's checkpoint."""
    md = sa.MetaData()
    sa.Table(
        "request_claims",
        md,
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("claimed_at", sa.Double, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
        sa.Index("ix_request_claims_claimed_at", "claimed_at"),
    )
    sa.Table(
        "checkpoints",
        md,
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("saved_at", sa.Double, nullable=False),
        sa.Column("state", sa.LargeBinary, nullable=False),
    )
    md.create_all(conn)


def _migration_4(conn: Connection) -> None:
    """People's readings of single comments: negative or not, per brand."""
    md = sa.MetaData()
    sa.Table(
        "negativity_labels",
        md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("brand", sa.Text, nullable=False),
        sa.Column("comment_id", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("lang", sa.Text),
        sa.Column("negative", sa.Boolean, nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("at", sa.Double, nullable=False),
        sa.Index("ix_negativity_labels_brand", "brand"),
    ).create(conn)


MIGRATIONS: Final[tuple[Callable[[Connection], None], ...]] = (
    _migration_1,
    _migration_2,
    _migration_3,
    _migration_4,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def migrate(conn: Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target` inside the caller's transaction; returns the version
    found. Concurrent callers on one PostgreSQL database queue on an advisory lock (SQLite:
    on the write lock), so exactly one of them migrates."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    SCHEMA_VERSION_TABLE.create(conn, checkfirst=True)
    found = conn.scalar(sa.select(sa.func.max(SCHEMA_VERSION_TABLE.c.version))) or 0
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the incident store has schema version {found}, newer than this stormwatch "
            f"understands ({SCHEMA_VERSION}); upgrade stormwatch"
        )
    for version in range(found + 1, target + 1):
        MIGRATIONS[version - 1](conn)
        conn.execute(SCHEMA_VERSION_TABLE.insert().values(version=version, applied_at=time.time()))
    return found
