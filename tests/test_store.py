"""The incident store, on SQLite (a temp file) and on the machine's PostgreSQL.

Each PostgreSQL case gets a fresh database `stormwatch_test_<random>`, created and dropped
by `tests/postgres_harness.py`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stormwatch.alerts import store as store_module
from stormwatch.alerts.event import EVENT_KINDS, SEVERITIES, AlertEvent
from stormwatch.alerts.exceptions import AlertsError, StoreError
from stormwatch.alerts.store import SCHEMA_VERSION, IncidentStore, migrate
from stormwatch.alerts.store import schema as store_schema
from tests.postgres_harness import fresh_pg_database

pytest_plugins = ("tests.postgres_harness",)  # fixture: pg_url

T0 = 1_772_442_902.0  # event time of the first comment, 2026-03-02T09:15:02Z
WALL = 1_800_000_000.0  # the fake wall clock starts here


class FakeClock:
    def __init__(self, now: float = WALL) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def alert(
    incident: str = "nestor/t1",
    event: str = "opened",
    *,
    severity: str = "medium",
    at: float = T0,
    score: float = 0.5,
    brand: str = "nestor",
    thread_id: str | None = "t1",
    emitted_at: float = WALL,
    **more: object,
) -> AlertEvent:
    return AlertEvent(
        incident=incident,
        event=event,  # type: ignore[arg-type]
        brand=brand,
        thread_id=thread_id,
        severity=severity,  # type: ignore[arg-type]
        score=score,
        at=at,
        emitted_at=emitted_at,
        summary=f"{event} {severity}",
        **more,  # type: ignore[arg-type]
    )


# --- backends --------------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration),
    ]
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'incidents.db'}"
    else:
        with fresh_pg_database() as url:
            yield url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(db_url: str, clock: FakeClock) -> Iterator[IncidentStore]:
    with IncidentStore.open(db_url, clock=clock) as s:
        yield s


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


# --- record: idempotency and the incident row ------------------------------------------


def test_record_is_idempotent(store: IncidentStore) -> None:
    opened = alert(drivers={"growth": 3.5, "top_terms": ["boycott"]}, samples=[{"id": "c1"}])
    assert store.record(opened, targets=["slack", "jsonl", "slack"]) is True
    # A redelivery after a crash: same incident, kind, time and severity; a later wall
    # clock, and the detector's float noise.
    again = replace(opened, emitted_at=WALL + 5, score=0.5000001, summary="re-emitted")
    assert store.record(again, targets=["slack", "jsonl", "pagerduty"]) is False

    [stored] = store.events("nestor/t1")
    assert stored.alert_event() == opened
    assert [(d.target, d.event_id, d.status) for d in store.deliveries("nestor/t1")] == [
        ("slack", stored.id, "pending"),
        ("jsonl", stored.id, "pending"),
    ]
    incident = store.get_incident("nestor/t1")
    assert incident is not None
    assert (incident.score, incident.last_event) == (0.5, opened.to_json_dict())


def test_a_duplicate_of_a_first_event_creates_nothing(store: IncidentStore) -> None:
    """The incident row a duplicate would have created is rolled back with it."""
    store.record(alert("a", at=T0))
    assert store.record(alert("a", at=T0 + 1e-9)) is False  # same microsecond: same event
    assert [i.key for i in store.list_incidents()] == ["a"]
    assert store.record(alert("a", event="updated", at=T0 + 1e-3)) is True  # another event
    assert store.record(alert("a", event="updated", at=T0 + 2e-3)) is True  # another ms: too
    # An incident opens once: again at another second or severity (a resumed run judging
    # again the minutes the stopped one closed at its end) it is known.
    assert store.record(alert("a", at=T0 + 60, severity="high")) is False
    assert [e.event for e in store.events("a")] == ["opened", "updated", "updated"]


def test_incident_lifecycle(store: IncidentStore) -> None:
    assert store.open_incident_for("nestor", "t1") is None
    store.record(alert(event="opened", severity="medium", at=T0, score=0.6, playbook="pb.a"))
    store.record(alert(event="escalated", severity="high", at=T0 + 60, score=0.8))
    store.record(alert(event="escalated", severity="critical", at=T0 + 60, score=0.95))

    incident = store.open_incident_for("nestor", "t1")
    assert incident is not None
    assert (incident.status, incident.severity, incident.score) == ("open", "critical", 0.95)
    assert (incident.opened_at, incident.updated_at, incident.resolved_at) == (T0, T0 + 60, None)
    assert incident.playbook == "pb.a"  # kept when a later event names none
    assert store.open_incident_for("nestor", None) is None  # brand-wide is another incident
    assert store.open_incident_for("nestor", "t1", kind="bot_burst") is None

    store.record(alert(event="updated", severity="high", at=T0 + 120, score=0.7))
    store.record(alert(event="resolved", severity="low", at=T0 + 900, score=0.1))
    incident = store.get_incident("nestor/t1")
    assert incident is not None
    assert (incident.status, incident.severity, incident.resolved_at) == (
        "resolved",
        "low",
        T0 + 900,
    )
    assert incident.last_event["event"] == "resolved"
    assert store.open_incident_for("nestor", "t1") is None
    assert [e.event for e in store.events("nestor/t1")] == [
        "opened",
        "escalated",
        "escalated",
        "updated",
        "resolved",
    ]
    assert [i.key for i in store.list_incidents(status="resolved", brand="nestor")] == ["nestor/t1"]
    assert store.list_incidents(status="open") == []


def test_late_events_join_the_history_only_and_resolved_incidents_reopen(
    store: IncidentStore,
) -> None:
    store.record(alert(event="opened", at=T0))
    store.record(alert(event="escalated", severity="high", at=T0 + 60))
    store.record(alert(event="updated", severity="low", at=T0 + 30))  # late
    incident = store.get_incident("nestor/t1")
    assert incident is not None and (incident.severity, incident.updated_at) == ("high", T0 + 60)
    assert len(store.events("nestor/t1")) == 3

    store.record(alert(event="resolved", severity="low", at=T0 + 600))
    # An incident opens once (its key names its opening minute).
    assert store.record(alert(event="opened", severity="high", at=T0 + 7200)) is False
    incident = store.get_incident("nestor/t1")
    assert incident is not None
    assert (incident.status, incident.resolved_at) == ("resolved", T0 + 600)

    # A storm back after its incident resolved: the pipeline reopens it by an escalation.
    store.record(alert(event="escalated", severity="high", at=T0 + 12000))
    incident = store.get_incident("nestor/t1")
    assert incident is not None
    assert (incident.status, incident.opened_at, incident.resolved_at) == ("open", T0, None)


def test_record_rejects_bad_input(store: IncidentStore) -> None:
    with pytest.raises(TypeError):
        store.record(alert(), targets="slack")
    with pytest.raises(ValueError, match="severity"):
        store.record(alert(severity="apocalyptic"))
    with pytest.raises(ValueError, match="finite"):
        store.record(alert(at=float("nan")))
    assert store.list_incidents() == []


# --- outbox ----------------------------------------------------------------------------


def test_outbox_order_retries_and_dead_rows(store: IncidentStore, clock: FakeClock) -> None:
    for n in range(3):
        clock.now = WALL + n  # created one second apart
        store.record(alert(f"i{n}", at=T0 + n), targets=["slack", "jsonl"])
    now = WALL + 10

    first, second = store.pending_deliveries("slack", now=now, limit=2)
    assert [first.incident, second.incident] == ["i0", "i1"]
    assert (first.attempts, first.next_attempt_at, first.target) == (1, now + 60, "slack")
    assert first.payload == alert("i0", at=T0).to_json_dict()
    store.mark_delivered(first.id, external_id="1700000000.000100")
    store.mark_failed(second.id, "HTTP 503", retry_at=now + 30)

    # i1 is not due yet, i0 is sent: only i2.
    [third] = store.pending_deliveries("slack", now=now)
    assert third.incident == "i2"
    assert store.pending_deliveries("slack", now=now + 29) == []  # third is leased

    [retry] = store.pending_deliveries("slack", now=now + 30)
    assert (retry.id, retry.attempts, retry.last_error) == (second.id, 2, "HTTP 503")
    store.mark_failed(retry.id, "channel_not_found", retry_at=None)

    # Dead rows never come back; the unconfirmed lease on i2 expires and it does.
    [again] = store.pending_deliveries("slack", now=now + 10_000)
    assert (again.id, again.attempts) == (third.id, 2)
    assert store.pending_deliveries("slack", now=now + 20_000, lease=0) == [
        replace(again, attempts=3, next_attempt_at=now + 20_000, updated_at=now + 20_000)
    ]

    assert [(d.target, d.status, d.external_id) for d in store.deliveries("i0")] == [
        ("slack", "sent", "1700000000.000100"),
        ("jsonl", "pending", None),
    ]
    [dead] = [d for d in store.deliveries("i1") if d.target == "slack"]
    assert (dead.status, dead.next_attempt_at, dead.last_error) == (
        "dead",
        None,
        "channel_not_found",
    )
    # The other target's queue is independent.
    assert [d.incident for d in store.pending_deliveries("jsonl", now=now)] == ["i0", "i1", "i2"]


def test_a_claim_is_held_until_its_lease_runs_out_or_another_takes_it(
    store: IncidentStore, clock: FakeClock
) -> None:
    """A Kafka worker that stood still past its lease published an `opened` another
    worker had claimed and published meanwhile: it now asks whether its claim holds."""
    clock.now = WALL
    store.record(alert("i0", at=T0), targets=["kafka"])
    [mine] = store.pending_deliveries("kafka", now=WALL + 1, lease=30)
    assert store.held_claims([(mine.id, mine.attempts)], now=WALL + 20) == {mine.id}
    assert store.held_claims([(mine.id, mine.attempts)], now=WALL + 31) == set()  # ran out
    [theirs] = store.pending_deliveries("kafka", now=WALL + 31, lease=30)
    assert theirs.id == mine.id and theirs.attempts == mine.attempts + 1
    assert store.held_claims([(mine.id, mine.attempts)], now=WALL + 32) == set()
    assert store.held_claims([(theirs.id, theirs.attempts)], now=WALL + 32) == {theirs.id}
    store.mark_delivered(theirs.id, "0:7")
    assert store.held_claims([(theirs.id, theirs.attempts)], now=WALL + 33) == set()


def test_outbox_keeps_order_within_an_incident(store: IncidentStore) -> None:
    store.record(alert(event="opened", at=T0), targets=["slack"])
    store.record(alert(event="escalated", severity="high", at=T0 + 60), targets=["slack"])
    store.record(alert("other", at=T0), targets=["slack"])

    claimed = store.pending_deliveries("slack", now=WALL)
    assert [(d.incident, d.payload["event"]) for d in claimed] == [
        ("nestor/t1", "opened"),
        ("other", "opened"),
    ]
    store.mark_failed(claimed[0].id, "timeout", retry_at=WALL + 5)
    assert store.pending_deliveries("slack", now=WALL + 1) == []  # escalation waits
    [opened] = store.pending_deliveries("slack", now=WALL + 5)
    store.mark_failed(opened.id, "gave up", retry_at=None)  # a dead row blocks nothing
    [escalated] = store.pending_deliveries("slack", now=WALL + 6)
    assert escalated.payload["event"] == "escalated"


def test_mark_delivered_and_failed(store: IncidentStore) -> None:
    store.record(alert(), targets=["webhook"])
    [d] = store.pending_deliveries("webhook", now=WALL)
    store.mark_delivered(d.id)
    store.mark_failed(d.id, "late failure from an overlapping lease", retry_at=WALL + 1)
    [after] = store.deliveries("nestor/t1")
    assert (after.status, after.next_attempt_at) == ("sent", None)
    with pytest.raises(StoreError, match="no delivery"):
        store.mark_delivered(10_000)
    with pytest.raises(StoreError, match="no delivery"):
        store.mark_failed(10_000, "x", retry_at=None)


def test_concurrent_claimers_never_claim_the_same_row(db_url: str) -> None:
    stores = [IncidentStore.open(db_url, clock=FakeClock()) for _ in range(2)]
    try:
        for n in range(40):
            stores[0].record(alert(f"i{n}"), targets=["slack"])
        start = threading.Barrier(2)
        claimed: list[list[int]] = [[], []]

        def claim(k: int) -> None:
            start.wait()
            while batch := stores[k].pending_deliveries("slack", now=WALL, limit=3, lease=600):
                claimed[k].extend(d.id for d in batch)

        threads = [threading.Thread(target=claim, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not set(claimed[0]) & set(claimed[1])
        assert sorted(claimed[0] + claimed[1]) == sorted(
            d.id for n in range(40) for d in stores[0].deliveries(f"i{n}")
        )
    finally:
        for s in stores:
            s.close()


def test_concurrent_writers_record_each_event_once(db_url: str) -> None:
    """Two workers replaying the same input (a rebalance) race on every event."""
    stores = [IncidentStore.open(db_url, clock=FakeClock()) for _ in range(2)]
    events = [
        alert(f"i{n % 5}", kind, severity=severity, at=T0 + n)
        for n, (kind, severity) in enumerate(
            [("opened", "medium"), ("escalated", "high"), ("updated", "high")] * 5
        )
    ]
    try:
        start = threading.Barrier(2)
        firsts: list[list[bool]] = [[], []]

        def replay(k: int) -> None:
            start.wait()
            firsts[k].extend(stores[k].record(e, targets=["slack"]) for e in events)

        threads = [threading.Thread(target=replay, args=(k,)) for k in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert [a + b for a, b in zip(*firsts, strict=True)] == [1] * len(events)
        stored = [e for n in range(5) for e in stores[0].events(f"i{n}")]
        assert sorted(identity(e) for e in stored) == sorted(identity(e) for e in events)
        assert sum(len(stores[0].deliveries(f"i{n}")) for n in range(5)) == len(events)
    finally:
        for s in stores:
            s.close()


@pytest.mark.integration
def test_claims_skip_rows_locked_by_another_worker(pg_url: str) -> None:
    """PostgreSQL only: on SQLite a claim holds the database write lock instead."""
    store = IncidentStore.open(pg_url, clock=FakeClock())
    other_worker = sa.create_engine(pg_url)
    try:
        for n in range(4):
            store.record(alert(f"i{n}"), targets=["slack"])
        ids = [store.deliveries(f"i{n}")[0].id for n in range(4)]
        with other_worker.begin() as conn:
            conn.execute(
                sa.text("SELECT id FROM deliveries WHERE id IN (:a, :b) FOR UPDATE"),
                {"a": ids[0], "b": ids[2]},
            )
            got: list[int] = []
            t = threading.Thread(
                target=lambda: got.extend(d.id for d in store.pending_deliveries("slack", now=WALL))
            )
            t.start()
            t.join(timeout=10)
            assert not t.is_alive(), "the claim waited for the other worker's locks"
            assert got == [ids[1], ids[3]]
    finally:
        other_worker.dispose()
        store.close()


# --- human input -----------------------------------------------------------------------


def test_acknowledgements_notes_and_feedback_round_trip(store: IncidentStore) -> None:
    store.record(alert("nestor/t1", kind="firestorm"))
    store.record(alert("nestor/t2", thread_id="t2", kind="bot_burst"))
    store.record(alert("acme/x", brand="acme", thread_id="x"))

    store.acknowledge("nestor/t1", who="U123", source="slack", at=WALL + 1)
    store.acknowledge("nestor/t1", who="oncall", source="cli", at=WALL + 2)
    incident = store.get_incident("nestor/t1")
    assert incident is not None and (incident.status, incident.acknowledged_at) == (
        "acknowledged",
        WALL + 1,
    )
    assert [(a.who, a.source, a.at) for a in store.acknowledgements("nestor/t1")] == [
        ("U123", "slack", WALL + 1),
        ("oncall", "cli", WALL + 2),
    ]
    # An escalation does not undo the acknowledgement.
    store.record(alert("nestor/t1", "escalated", severity="high", at=T0 + 60))
    assert store.get_incident("nestor/t1").status == "acknowledged"  # type: ignore[union-attr]

    store.add_note("nestor/t1", who="U123", text="Press office informed.", at=WALL + 3)
    assert [(n.who, n.text) for n in store.notes("nestor/t1")] == [
        ("U123", "Press office informed.")
    ]

    store.add_feedback("nestor/t1", "confirmed", who="U123", at=WALL + 4)
    store.add_feedback("nestor/t2", "false_alarm", who="U9", at=WALL + 5)
    store.add_feedback("acme/x", "false_alarm", who="U7", at=WALL + 6)
    assert [(f.incident, f.kind, f.label, f.who) for f in store.feedback_for("nestor")] == [
        ("nestor/t1", "firestorm", "confirmed", "U123"),
        ("nestor/t2", "bot_burst", "false_alarm", "U9"),
    ]

    store.set_slack_message("nestor/t1", channel="C042", ts="1700000000.000100")
    incident = store.get_incident("nestor/t1")
    assert incident is not None and (incident.slack_channel, incident.slack_ts) == (
        "C042",
        "1700000000.000100",
    )

    with pytest.raises(ValueError, match="label"):
        store.add_feedback("nestor/t1", "meh", who="U1")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="no incident"):
        store.acknowledge("nope", who="U1", source="slack")
    with pytest.raises(StoreError, match="no incident"):
        store.add_note("nope", who="U1", text="?")


def test_acknowledging_a_resolved_incident_keeps_it_resolved(store: IncidentStore) -> None:
    store.record(alert(event="resolved"))
    store.acknowledge("nestor/t1", who="U1", source="slack", at=WALL)
    incident = store.get_incident("nestor/t1")
    assert incident is not None and (incident.status, incident.acknowledged_at) == (
        "resolved",
        None,
    )
    assert len(store.acknowledgements("nestor/t1")) == 1


# --- schema and migrations -------------------------------------------------------------


def test_migration_from_v1_keeps_data(db_url: str, clock: FakeClock) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            assert migrate(conn, target=1) == 0
            conn.execute(
                sa.text(
                    "INSERT INTO incidents (key, brand, thread_id, kind, status, severity, score,"
                    " opened_at, updated_at, playbook, last_event) VALUES ('nestor/t1', 'nestor',"
                    " 't1', 'firestorm', 'acknowledged', 'high', 0.8, :t, :t, 'pb.a', :j)"
                ),
                {"t": T0, "j": '{"event": "opened"}'},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO incident_events (incident, event, severity, at, at_us, score,"
                    " emitted_at, recorded_at, payload) VALUES ('nestor/t1', 'opened', 'high', :t,"
                    " :us, 0.8, :w, :w, :j)"
                ),
                {"t": T0, "us": round(T0 * 1e6), "w": WALL, "j": '{"event": "opened"}'},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO deliveries (incident, event_id, target, payload, status,"
                    " next_attempt_at, created_at, updated_at) VALUES ('nestor/t1', 1, 'slack',"
                    " :j, 'pending', :w, :w, :w)"
                ),
                {"w": WALL, "j": '{"event": "opened"}'},
            )
            for who, at in (("later", WALL + 9), ("first", WALL + 1)):
                conn.execute(
                    sa.text(
                        "INSERT INTO acknowledgements (incident, who, source, at)"
                        " VALUES ('nestor/t1', :who, 'slack', :at)"
                    ),
                    {"who": who, "at": at},
                )
    finally:
        engine.dispose()

    with IncidentStore.open(db_url, clock=clock) as store:
        incident = store.get_incident("nestor/t1")
        assert incident is not None
        assert (incident.status, incident.severity, incident.playbook) == (
            "acknowledged",
            "high",
            "pb.a",
        )
        assert incident.acknowledged_at == WALL + 1  # backfilled by migration 2
        assert [(e.event, e.at) for e in store.events("nestor/t1")] == [("opened", T0)]
        [delivery] = store.pending_deliveries("slack", now=WALL)
        assert (delivery.incident, delivery.attempts) == ("nestor/t1", 1)
        # The v1 event is known: a redelivery of it is still a no-op.
        assert store.record(alert(event="opened", severity="high", at=T0)) is False
        store.add_feedback("nestor/t1", "confirmed", who="U1", at=WALL)
        assert [f.label for f in store.feedback_for("nestor")] == ["confirmed"]

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY 1"))
            assert [v for (v,) in versions] == list(range(1, SCHEMA_VERSION + 1))
    finally:
        engine.dispose()


def test_migrated_schema_has_the_columns_the_queries_use(db_url: str) -> None:
    IncidentStore.open(db_url).close()
    IncidentStore.open(db_url).close()  # reopening an up-to-date store changes nothing
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        for table in store_schema.METADATA.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM schema_version")) == SCHEMA_VERSION
    finally:
        engine.dispose()


def test_a_newer_schema_is_refused(db_url: str) -> None:
    IncidentStore.open(db_url).close()
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO schema_version VALUES (99, 0)"))
    finally:
        engine.dispose()
    with pytest.raises(StoreError, match="schema version 99"):
        IncidentStore.open(db_url)


# --- opening ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("mysql://u@localhost/db", "unsupported"),
        ("postgresql+psycopg2://u:secret@localhost/db", r"u:\*\*\*@localhost"),
        ("postgresql://u@127.0.0.1:1/db", "127.0.0.1:1/db: .*refused"),
        ("sqlite:////nonexistent-dir/x/incidents.db", "unable to open"),
    ],
)
def test_open_reports_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as raised:
        IncidentStore.open(url)
    assert isinstance(raised.value, AlertsError)
    assert "secret" not in str(raised.value)


def test_sqlite_settings_and_plain_paths(tmp_path: Path) -> None:
    with IncidentStore.open(tmp_path / "incidents.db") as store:
        assert store.url == f"sqlite:///{tmp_path / 'incidents.db'}"
        with store._engine.connect() as conn:  # noqa: SLF001
            pragma = conn.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 10_000
    with IncidentStore.open("sqlite:///:memory:") as memory:
        assert memory.record(alert(), targets=["slack"]) is True
        assert memory.record(alert(), targets=["slack"]) is False


# --- property: a replay with repeats stores each distinct event once ------------------


def identity(event: AlertEvent | store_module.StoredEvent) -> tuple[str, str, str, int]:
    """What makes two events the same: the store's idempotency key (an incident opens
    once)."""
    if event.event == "opened":
        return (event.incident, "opened", "", 0)
    return (event.incident, event.event, event.severity, round(event.at * 1_000_000))


def test_any_sequence_with_repeats_stores_the_distinct_events(
    db_url: str, store: IncidentStore
) -> None:
    distinct_events = st.builds(
        lambda incident, event, severity, at: alert(
            incident, event, severity=severity, at=T0 + at, thread_id=incident
        ),
        incident=st.sampled_from(["a", "b"]),
        event=st.sampled_from(EVENT_KINDS),
        severity=st.sampled_from(SEVERITIES),
        at=st.sampled_from([0.0, 0.25, 60.0]),
    )
    # Redeliveries differ in wall clock and float noise, never in what identifies them.
    redelivery = st.tuples(st.floats(0, 3600), st.floats(-1e-9, 1e-9))
    sequences = st.lists(st.tuples(distinct_events, redelivery), max_size=25)

    @settings(
        max_examples=25 if is_postgres(db_url) else 60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(sequences)
    def check(sequence: list[tuple[AlertEvent, tuple[float, float]]]) -> None:
        run = uuid.uuid4().hex[:8]  # one store for all examples: keys are per example
        seen: set[tuple[str, str, str, int]] = set()
        for event, (late, noise) in sequence:
            event = replace(
                event,
                incident=f"{run}/{event.incident}",
                emitted_at=WALL + late,
                at=event.at + noise,
            )
            assert store.record(event, targets=["slack"]) is (identity(event) not in seen)
            seen.add(identity(event))
        keys = (f"{run}/a", f"{run}/b")
        stored = [e for key in keys for e in store.events(key)]
        assert sorted(identity(e) for e in stored) == sorted(seen)
        outbox = [d for key in keys for d in store.deliveries(key)]
        assert sorted(d.event_id for d in outbox) == sorted(e.id for e in stored)

    check()


def test_an_alerts_file_is_complete_on_its_own_after_a_crash(tmp_path: Path) -> None:
    """A worker's (and `run --db`'s) alerts file: an event the store recorded before the
    file got it (a crash between the two, a full disk) is written when the event comes
    again; one the file holds is not written twice; a line a crash cut short is cut off
    and the event written whole."""
    from stormwatch.alerts.sinks import JsonlAlertSink
    from stormwatch.kafka.sinks import AlertGate

    path = tmp_path / "alerts.jsonl"
    opened, escalated, resolved = (
        alert(event="opened"),
        alert(event="escalated", severity="high", at=T0 + 600),
        alert(event="resolved", at=T0 + 3600),
    )
    whole = orjson.dumps(escalated.to_json_dict())
    path.write_bytes(whole + b"\n" + orjson.dumps(resolved.to_json_dict())[:40])
    with IncidentStore.open(f"sqlite:///{tmp_path / 'i.db'}") as store:
        store.record(opened)  # recorded, then the crash: the file never got it
        file = JsonlAlertSink(path, append=True, skip_known=True)
        gate = AlertGate(store, local=[file])
        for event in (opened, escalated, resolved, resolved):
            gate.emit(event)
        file.close()
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [r["event"] for r in rows] == ["escalated", "opened", "resolved"]
