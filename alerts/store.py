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

Outbox: `record()` enqueues one delivery per target in the same transaction as the
event, so an alert is persisted together with the promise to send it.
`pending_deliveries()` *claims* due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
database write lock on SQLite) and leases them for `lease` seconds, so a second worker
skips them and a crashed worker's rows come back after the lease. Per incident and
target, a row is only handed out once every earlier row is sent or dead: Slack updates
never overtake the message they thread under, a PagerDuty resolve never its trigger.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from stormwatch.alerts.event import EVENT_KINDS, SEVERITIES, AlertEvent
from stormwatch.alerts.exceptions import StoreError

IncidentStatus = Literal["open", "acknowledged", "snoozed", "resolved"]
DeliveryStatus = Literal["pending", "sent", "failed", "dead"]
FeedbackLabel = Literal["false_alarm", "confirmed"]

INCIDENT_STATUSES: Final = ("open", "acknowledged", "snoozed", "resolved")
DELIVERY_STATUSES: Final = ("pending", "sent", "failed", "dead")
FEEDBACK_LABELS: Final = ("false_alarm", "confirmed")
_CLAIMABLE: Final = ("pending", "failed")

SQLITE_BUSY_TIMEOUT_S: Final = 10.0
PG_CONNECT_TIMEOUT_S: Final = 10
# Any constant works; it only has to be the same in every process migrating one database.
_PG_MIGRATION_LOCK: Final = 0x5701_4D57
_WRITE: Final = "stormwatch_write"  # execution option: SQLite write txn = BEGIN IMMEDIATE


# --- rows handed out -------------------------------------------------------------------


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


_Row = TypeVar("_Row")


def _to(cls: type[_Row], row: sa.Row[Any]) -> _Row:
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in fields(cls)})  # type: ignore[arg-type]


# --- schema ----------------------------------------------------------------------------
# The tables as of the latest migration, used by the queries below: columns only. The DDL
# (constraints, indexes) lives in the migrations, frozen as they were written; a test
# checks that a migrated database has exactly these columns.

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PK = rowid on SQLite


def _one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{column}")


_metadata = sa.MetaData()

_schema_version = sa.Table(
    "schema_version",
    _metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", sa.Double, nullable=False),
)

_incidents = sa.Table(
    "incidents",
    _metadata,
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

_incident_events = sa.Table(
    "incident_events",
    _metadata,
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
_EVENT_IDENTITY: Final = ("incident", "event", "at_us", "severity")

_deliveries = sa.Table(
    "deliveries",
    _metadata,
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

_acknowledgements = sa.Table(
    "acknowledgements",
    _metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
)

_notes = sa.Table(
    "notes",
    _metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("at", sa.Double, nullable=False),
)

_feedback = sa.Table(
    "feedback",
    _metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("incident", sa.Text, sa.ForeignKey("incidents.key"), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
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


MIGRATIONS: Final[tuple[Callable[[Connection], None], ...]] = (_migration_1, _migration_2)
SCHEMA_VERSION: Final = len(MIGRATIONS)


def migrate(conn: Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Bring the schema up to `target` inside the caller's transaction; returns the version
    found. Concurrent callers on one PostgreSQL database queue on an advisory lock (SQLite:
    on the write lock), so exactly one of them migrates."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
    _schema_version.create(conn, checkfirst=True)
    found = conn.scalar(sa.select(sa.func.max(_schema_version.c.version))) or 0
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"the incident store has schema version {found}, newer than this stormwatch "
            f"understands ({SCHEMA_VERSION}); upgrade stormwatch"
        )
    for version in range(found + 1, target + 1):
        MIGRATIONS[version - 1](conn)
        conn.execute(_schema_version.insert().values(version=version, applied_at=time.time()))
    return found


# --- engine ----------------------------------------------------------------------------


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS).decode()


def _parse_url(url: str | Path) -> sa.URL:
    text = str(url)
    if not text:
        raise StoreError("empty incident store URL: give a file path, sqlite:///PATH or a URL")
    if isinstance(url, Path) or "://" not in text:
        return sa.URL.create("sqlite", database=str(Path(text).expanduser()))
    try:
        parsed = sa.make_url(text)
    except ArgumentError:
        # Not echoing the text: it may hold a password.
        raise StoreError(
            "invalid incident store URL: expected a file path, sqlite:///PATH, "
            "sqlite:///:memory: or postgresql+psycopg://USER@HOST:PORT/DB"
        ) from None
    if parsed.drivername in ("postgres", "postgresql"):  # plain URLs default to psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreError(
            f"unsupported incident store database {parsed.drivername!r} in "
            f"{parsed.render_as_string(hide_password=True)}: use SQLite (a file path or "
            "sqlite:///PATH) or PostgreSQL (postgresql+psycopg://...)"
        )
    return parsed


def _is_memory(url: sa.URL) -> bool:
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    )


def _create_engine(url: sa.URL) -> Engine:
    json = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}
    if url.get_backend_name() == "postgresql":
        connect_args = (
            {} if "connect_timeout" in url.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        )
        return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args, **json)
    if _is_memory(url):
        # One connection shared by all threads; IncidentStore serialises access to it.
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}, **json
        )
    else:
        engine = sa.create_engine(url, **json)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The sqlite3 module's own transaction handling skips BEGIN before DDL and SELECT;
        # take it over (see `_on_begin`) so migrations and claims are real transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")  # readers don't block the writer
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A write transaction takes the write lock up front: a deferred one that reads
        # first and then writes fails with SQLITE_BUSY instead of waiting.
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


# --- the store -------------------------------------------------------------------------


class IncidentStore:
    """Incidents, their events, the delivery outbox and human input, in one database.

    Open with `IncidentStore.open(url)`; safe to share between threads, and between
    processes on one PostgreSQL database (or one SQLite file).
    """

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        """Wrap an engine whose schema is already current; `open()` is the usual way in."""
        self._engine = engine
        self._clock = clock
        self._postgres = engine.dialect.name == "postgresql"
        self._insert = pg_dialect.insert if self._postgres else sqlite_dialect.insert
        self._serial: AbstractContextManager[Any] = (
            threading.RLock() if _is_memory(engine.url) else nullcontext()
        )

    @classmethod
    def open(cls, url: str | Path, *, clock: Callable[[], float] = time.time) -> IncidentStore:
        """Connect to `url` (a file path, `sqlite:///...`, `postgresql+psycopg://...`) and
        create or migrate the schema to the latest version in one transaction."""
        parsed = _parse_url(url)
        where = parsed.render_as_string(hide_password=True)
        try:
            engine = _create_engine(parsed)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"cannot open incident store {where}: {_reason(exc)}") from exc
        store = cls(engine, clock=clock)
        try:
            with store._transaction(write=True) as conn:
                migrate(conn)
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> IncidentStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, *, write: bool = False) -> Iterator[Connection]:
        with self._serial:
            try:
                with self._engine.connect() as conn:
                    if write:
                        conn.execution_options(**{_WRITE: True})
                    with conn.begin():
                        yield conn
            except DBAPIError as exc:
                raise StoreError(f"incident store {self.url}: {_reason(exc)}") from exc

    # --- incidents and events ----------------------------------------------------------

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
                self._insert(_incidents)
                .values(_new_incident(event, payload))
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(_incidents.c.key)
            )
            # Lock the incident: records for one incident apply one after the other.
            current = conn.execute(
                sa.select(_incidents).where(_incidents.c.key == event.incident).with_for_update()
            ).one()
            event_id = conn.scalar(
                self._insert(_incident_events)
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
                .on_conflict_do_nothing(index_elements=list(_EVENT_IDENTITY))
                .returning(_incident_events.c.id)
            )
            if event_id is None:
                conn.rollback()  # also drops an incident row created just above
                return False
            if created is None:
                changes = _transition(_to(Incident, current), event, payload)
                if changes:
                    conn.execute(
                        _incidents.update()
                        .where(_incidents.c.key == event.incident)
                        .values(**changes)
                    )
            if wanted:
                conn.execute(
                    _deliveries.insert(),
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
            row = conn.execute(sa.select(_incidents).where(_incidents.c.key == key)).first()
        return None if row is None else _to(Incident, row)

    def open_incident_for(
        self, brand: str, thread_id: str | None, *, kind: str | None = None
    ) -> Incident | None:
        """The unresolved incident about `brand` and `thread_id` (None: brand-wide), the
        most recently opened if there are several kinds; None if there is none."""
        query = sa.select(_incidents).where(
            _incidents.c.brand == brand,
            _incidents.c.status != "resolved",
            _incidents.c.thread_id.is_(None)
            if thread_id is None
            else _incidents.c.thread_id == thread_id,
        )
        if kind is not None:
            query = query.where(_incidents.c.kind == kind)
        query = query.order_by(_incidents.c.opened_at.desc(), _incidents.c.key).limit(1)
        with self._transaction() as conn:
            row = conn.execute(query).first()
        return None if row is None else _to(Incident, row)

    def list_incidents(
        self, status: IncidentStatus | None = None, brand: str | None = None
    ) -> list[Incident]:
        """Incidents in the order they were opened (event time)."""
        query = sa.select(_incidents).order_by(_incidents.c.opened_at, _incidents.c.key)
        if status is not None:
            query = query.where(_incidents.c.status == status)
        if brand is not None:
            query = query.where(_incidents.c.brand == brand)
        with self._transaction() as conn:
            return [_to(Incident, row) for row in conn.execute(query)]

    def events(self, incident: str) -> list[StoredEvent]:
        """The incident's events in the order they were recorded."""
        query = (
            sa.select(_incident_events)
            .where(_incident_events.c.incident == incident)
            .order_by(_incident_events.c.id)
        )
        with self._transaction() as conn:
            return [_to(StoredEvent, row) for row in conn.execute(query)]

    def set_slack_message(self, incident: str, *, channel: str, ts: str) -> None:
        """Remember the Slack message an incident's updates are threaded under."""
        with self._transaction(write=True) as conn:
            _require_incident(conn, incident)
            conn.execute(
                _incidents.update()
                .where(_incidents.c.key == incident)
                .values(slack_channel=channel, slack_ts=ts)
            )

    # --- outbox ------------------------------------------------------------------------

    def pending_deliveries(
        self, target: str, *, now: float | None = None, limit: int = 100, lease: float = 60.0
    ) -> list[Delivery]:
        """Claim up to `limit` due deliveries for `target`, oldest first.

        Claimed rows are leased: hidden from other claimers for `lease` seconds, after
        which they come back unless marked delivered or failed. A row waits while an
        earlier row of the same incident and target is still pending or failed.
        """
        now = self._clock() if now is None else now
        d = _deliveries
        earlier = _deliveries.alias("earlier")
        blocked = sa.exists().where(
            earlier.c.incident == d.c.incident,
            earlier.c.target == d.c.target,
            earlier.c.id < d.c.id,
            earlier.c.status.in_(_CLAIMABLE),
        )
        query = (
            sa.select(d)
            .where(
                d.c.target == target,
                d.c.status.in_(_CLAIMABLE),
                d.c.next_attempt_at <= now,
                ~blocked,
            )
            .order_by(d.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=d)  # SQLite: no-op, BEGIN IMMEDIATE holds
        )
        with self._transaction(write=True) as conn:
            rows = conn.execute(query).all()
            if not rows:
                return []
            lease_until = now + lease
            conn.execute(
                d.update()
                .where(d.c.id.in_([row.id for row in rows]))
                .values(attempts=d.c.attempts + 1, next_attempt_at=lease_until, updated_at=now)
            )
        return [
            replace(
                _to(Delivery, row),
                attempts=row.attempts + 1,
                next_attempt_at=lease_until,
                updated_at=now,
            )
            for row in rows
        ]

    def deliveries(self, incident: str) -> list[Delivery]:
        """All deliveries of an incident, oldest first (for inspection; does not claim)."""
        query = sa.select(_deliveries).where(_deliveries.c.incident == incident)
        with self._transaction() as conn:
            return [_to(Delivery, row) for row in conn.execute(query.order_by(_deliveries.c.id))]

    def mark_delivered(self, delivery_id: int, external_id: str | None = None) -> None:
        """The delivery went out; `external_id` is what the target called it (Slack ts)."""
        with self._transaction(write=True) as conn:
            result = conn.execute(
                _deliveries.update()
                .where(_deliveries.c.id == delivery_id)
                .values(
                    status="sent",
                    external_id=external_id,
                    next_attempt_at=None,
                    updated_at=self._clock(),
                )
            )
            if result.rowcount == 0:
                raise StoreError(f"no delivery with id {delivery_id}")

    def mark_failed(self, delivery_id: int, error: str, *, retry_at: float | None) -> None:
        """The attempt failed: retry at wall-clock `retry_at`, or never (`None`: dead).
        A delivery already sent (e.g. by a worker whose lease overlapped) stays sent."""
        with self._transaction(write=True) as conn:
            result = conn.execute(
                _deliveries.update()
                .where(_deliveries.c.id == delivery_id, _deliveries.c.status.in_(_CLAIMABLE))
                .values(
                    status="dead" if retry_at is None else "failed",
                    last_error=error,
                    next_attempt_at=retry_at,
                    updated_at=self._clock(),
                )
            )
            if (
                result.rowcount == 0
                and conn.scalar(sa.select(_deliveries.c.id).where(_deliveries.c.id == delivery_id))
                is None
            ):
                raise StoreError(f"no delivery with id {delivery_id}")

    # --- human input -------------------------------------------------------------------

    def acknowledge(self, incident: str, *, who: str, source: str, at: float | None = None) -> None:
        """Someone took the incident on. An open or snoozed incident becomes acknowledged;
        a resolved one keeps its status (the acknowledgement is still kept)."""
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            status = _require_incident(conn, incident)
            conn.execute(
                _acknowledgements.insert().values(incident=incident, who=who, source=source, at=at)
            )
            if status != "resolved":
                conn.execute(
                    _incidents.update()
                    .where(_incidents.c.key == incident)
                    .values(
                        status="acknowledged",
                        acknowledged_at=sa.func.coalesce(_incidents.c.acknowledged_at, at),
                    )
                )

    def acknowledgements(self, incident: str) -> list[Acknowledgement]:
        return self._human_rows(_acknowledgements, Acknowledgement, incident)

    def add_note(self, incident: str, *, who: str, text: str, at: float | None = None) -> None:
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            _require_incident(conn, incident)
            conn.execute(_notes.insert().values(incident=incident, who=who, text=text, at=at))

    def notes(self, incident: str) -> list[Note]:
        return self._human_rows(_notes, Note, incident)

    def add_feedback(
        self, incident: str, label: FeedbackLabel, *, who: str, at: float | None = None
    ) -> None:
        """Was it a real crisis? Feeds detector tuning per brand."""
        if label not in FEEDBACK_LABELS:
            raise ValueError(f"feedback label must be one of {FEEDBACK_LABELS}, got {label!r}")
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            _require_incident(conn, incident)
            conn.execute(_feedback.insert().values(incident=incident, label=label, who=who, at=at))

    def feedback_for(self, brand: str) -> list[Feedback]:
        """All feedback on the brand's incidents, oldest first."""
        query = (
            sa.select(_feedback, _incidents.c.kind)
            .join(_incidents, _incidents.c.key == _feedback.c.incident)
            .where(_incidents.c.brand == brand)
            .order_by(_feedback.c.at, _feedback.c.id)
        )
        with self._transaction() as conn:
            return [_to(Feedback, row) for row in conn.execute(query)]

    def _human_rows(self, table: sa.Table, cls: type[_Row], incident: str) -> list[_Row]:
        query = (
            sa.select(table).where(table.c.incident == incident).order_by(table.c.at, table.c.id)
        )
        with self._transaction() as conn:
            return [_to(cls, row) for row in conn.execute(query)]

    def enqueue(
        self,
        *,
        incident: str,
        target: str,
        payload: dict[str, Any],
        not_before: float | None = None,
    ) -> int:
        """A delivery not tied to an alert event (an on-call page, a message refresh after
        a button press), after every earlier one of the incident; returns its id."""
        if not target:
            raise ValueError("target must be a non-empty string")
        now = self._clock()
        with self._transaction(write=True) as conn:
            _require_incident(conn, incident)
            return int(
                conn.scalar(
                    _deliveries.insert()
                    .values(
                        incident=incident,
                        event_id=None,
                        target=target,
                        payload=payload,
                        status="pending",
                        attempts=0,
                        next_attempt_at=now if not_before is None else max(now, not_before),
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(_deliveries.c.id)
                )
            )

    def set_status(self, incident: str, status: IncidentStatus, *, at: float | None = None) -> str:
        """A person moved the incident (snooze, resolve, reopen); returns the old status.
        `resolved_at` of a human resolution is wall clock: no comment decided it."""
        if status not in INCIDENT_STATUSES:
            raise ValueError(f"status must be one of {INCIDENT_STATUSES}, got {status!r}")
        at = self._clock() if at is None else at
        with self._transaction(write=True) as conn:
            old = _require_incident(conn, incident)
            values: dict[str, Any] = {"status": status}
            if status == "resolved" and old != "resolved":
                values["resolved_at"] = at
            elif status != "resolved":
                values["resolved_at"] = None
            conn.execute(_incidents.update().where(_incidents.c.key == incident).values(**values))
        return old


# --- helpers ---------------------------------------------------------------------------


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


def _require_incident(conn: Connection, key: str) -> str:
    """The incident's status, locking its row; StoreError if there is no such incident."""
    status = conn.scalar(
        sa.select(_incidents.c.status).where(_incidents.c.key == key).with_for_update()
    )
    if status is None:
        raise StoreError(f"no incident with key {key!r}")
    return status
