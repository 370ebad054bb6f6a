"""PagerDuty Events API v2 against a local server: trigger, acknowledge and resolve land on
one PagerDuty alert per incident (dedup_key = incident key), through retries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stormwatch.alerts.delivery import Backoff, OutboxWorker
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.pagerduty import PagerDutyNotifier
from stormwatch.alerts.store import IncidentStore
from tests.fake_pagerduty import FakePagerDuty

KEY = "acme/p1/2026-03-02T09:15Z"
ROUTING_KEY = "R0UT1NGKEY0000000000000000000000"


def opened(incident: str = KEY) -> AlertEvent:
    return AlertEvent(
        incident=incident,
        event="opened",
        brand="acme",
        thread_id="p1",
        severity="high",
        score=12.0,
        at=1_772_442_902.0,
        emitted_at=1_800_000_000.0,
        summary="Negative comments on thread p1 of acme run at 9/min.",
        drivers={"negative_per_min_now": 9.0, "ratio_to_baseline": 30.0},
        playbook="generic",
    )


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IncidentStore]:
    with IncidentStore.open(tmp_path / "incidents.sqlite3") as s:
        yield s


def page(store: IncidentStore, action: str, incident: str = KEY, level: str = "0.0") -> None:
    alert = store.get_incident(incident).last_event
    store.enqueue(
        incident=incident,
        target="oncall:primary",
        payload={"action": action, "level": level, "alert": alert},
    )


def worker(store: IncidentStore, pagerduty: FakePagerDuty, key: str = ROUTING_KEY) -> OutboxWorker:
    notifier = PagerDutyNotifier(routing_key=key, url=pagerduty.url, timeout=2)
    return OutboxWorker(
        store, {"oncall:primary": notifier}, backoff=Backoff(base=0.02, cap=0.05, jitter=0)
    )


def test_trigger_acknowledge_resolve_with_one_dedup_key(store, pagerduty) -> None:
    store.record(opened())
    store.record(opened("acme/p2/2026-03-02T09:20Z"))
    w = worker(store, pagerduty)
    page(store, "trigger")
    page(store, "trigger", level="0.1")  # the next level pages the same PagerDuty alert
    page(store, "trigger", incident="acme/p2/2026-03-02T09:20Z")
    pagerduty.script(500, 429)  # PagerDuty hiccups: retried, in order
    page(store, "acknowledge")
    page(store, "resolve")
    assert w.drain(timeout=10)
    mine = [e for e in pagerduty.events if e["dedup_key"] == KEY]
    assert [e["event_action"] for e in mine] == ["trigger", "trigger", "acknowledge", "resolve"]
    assert {e["dedup_key"] for e in pagerduty.events} == {KEY, "acme/p2/2026-03-02T09:20Z"}
    assert pagerduty.state == {KEY: "resolved", "acme/p2/2026-03-02T09:20Z": "triggered"}
    trigger = mine[0]
    assert trigger["routing_key"] == ROUTING_KEY
    assert trigger["payload"]["severity"] == "error"
    assert trigger["payload"]["component"] == "acme" and trigger["payload"]["group"] == "p1"
    assert trigger["payload"]["custom_details"]["incident"] == KEY
    assert "payload" not in mine[2]  # acknowledge and resolve carry only the key


def test_invalid_event_is_a_dead_delivery(store, pagerduty) -> None:
    store.record(opened())
    page(store, "trigger")
    w = worker(store, pagerduty, key="")
    assert w.drain(timeout=5)
    [delivery] = store.deliveries(KEY)
    assert delivery.status == "dead" and "routing_key" in delivery.last_error


def test_unreachable_pagerduty_is_retried(store, pagerduty) -> None:
    store.record(opened())
    page(store, "trigger")
    notifier = PagerDutyNotifier(routing_key=ROUTING_KEY, url="http://127.0.0.1:9", timeout=1)
    w = OutboxWorker(store, {"oncall:primary": notifier}, backoff=Backoff(base=60))
    w.run_once()
    [delivery] = store.deliveries(KEY)
    assert delivery.status == "failed" and "pagerduty" in delivery.last_error


def test_an_incident_key_past_255_characters_pages_one_alert(store, pagerduty) -> None:
    """A long thread id (a feed URL, percent-encoded) made a key PagerDuty refuses with
    400: the page was dead. Every event of the incident must use the same short key."""
    long_key = "acme/" + "https%3A%2F%2Fexample.com%2Ffeed" * 8 + "/2026-03-02T09:15Z"
    other = long_key.replace("acme/", "acme2/")
    assert len(long_key) > 255
    for key in (long_key, other):
        store.record(opened(key))
    w = worker(store, pagerduty)
    page(store, "trigger", incident=long_key)
    page(store, "trigger", incident=other)
    page(store, "resolve", incident=long_key)
    assert w.drain(timeout=10)
    assert all(d.status == "sent" for d in store.deliveries(long_key)), store.deliveries(long_key)
    keys = [e["dedup_key"] for e in pagerduty.events]
    assert len(keys) == 3 and keys[0] == keys[2] != keys[1]
    assert all(len(k) <= 255 for k in keys)
    assert pagerduty.state == {keys[0]: "resolved", keys[1]: "triggered"}


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_target_trickling_its_answer_is_cut_at_the_time_out(where: str) -> None:
    """urllib's time-out bounds each read: a target (or a proxy before it) answering a
    byte a second held the outbox worker, and every Slack delivery behind it, for as
    long as it went on. Now the time-out bounds the whole request: a retry."""
    import socket
    import threading
    import time

    from stormwatch.alerts.delivery import Retry
    from stormwatch.alerts.http_target import failed, post_json

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()
    head = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n"

    def trickle() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            drip = head if where == "headers" else b" " * 60
            if where == "body":
                conn.sendall(head)
            for byte in drip:
                if stop.wait(0.5):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="no whole answer in 1 s"):
            post_json(url, {"x": 1}, timeout=1.0)
        assert time.monotonic() - started < 3
    finally:
        stop.set()
        thread.join(5)
        server.close()
    assert isinstance(failed(TimeoutError("no whole answer in 1 s"), what="pagerduty"), Retry)
