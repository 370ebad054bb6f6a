"""A real Alertmanager (Debian `prometheus-alertmanager`) receives an escalated incident via
API v2, routes it to a webhook receiver in this test, and sends it resolved once stormwatch
sends `endsAt`; an acknowledgement becomes a silence."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stormwatch.alerts.alertmanager import AlertmanagerNotifier
from stormwatch.alerts.delivery import Backoff, OutboxWorker
from stormwatch.alerts.escalation import JOURNAL, Escalator
from stormwatch.alerts.escalation_policy import Level, OncallConfig, Policy, TargetConfig
from stormwatch.alerts.store import IncidentStore
from tests.test_pagerduty import KEY, opened

BINARY = shutil.which("prometheus-alertmanager") or (
    "/usr/bin/prometheus-alertmanager"
    if Path("/usr/bin/prometheus-alertmanager").exists()
    else None
)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        BINARY is None,
        reason="prometheus-alertmanager not installed (apt-get install prometheus-alertmanager)",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """The webhook receiver Alertmanager notifies."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        received = self.notifications

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, status: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for n in self.notifications:
                if n["status"] == status:
                    return n
            time.sleep(0.05)
        raise AssertionError(f"no {status} notification; got {self.notifications}")


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory) -> Iterator[tuple[str, Receiver]]:  # type: ignore[no-untyped-def]
    receiver = Receiver()
    work = tmp_path_factory.mktemp("alertmanager")
    config = work / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: stormwatch-test
  group_by: [incident]
  group_wait: 100ms
  group_interval: 500ms
  repeat_interval: 1h
receivers:
  - name: stormwatch-test
    webhook_configs:
      - url: {receiver.url}
        send_resolved: true
"""
    )
    try:
        with running_alertmanager(config, work) as url:
            yield url, receiver
    finally:
        receiver.server.shutdown()


@contextlib.contextmanager
def running_alertmanager(config: Path, work: Path) -> Iterator[str]:
    """The real Alertmanager on a free loopback port with `config`; its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(BINARY),
            f"--config.file={config}",
            f"--storage.path={work / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"alertmanager did not start: {process.stderr.read().decode()}")
        time.sleep(0.1)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_escalated_incident_is_routed_and_resolved_with_ends_at(alertmanager, tmp_path) -> None:
    url, receiver = alertmanager
    config = OncallConfig(
        targets={"am": TargetConfig(name="am", type="alertmanager", url=url)},
        policies=(Policy(index=0, levels=(Level(after_minutes=0, targets=("am",)),)),),
    )
    with IncidentStore.open(tmp_path / "incidents.sqlite3") as store:
        escalator = Escalator(store, config, notify_slack=False)
        notifier = AlertmanagerNotifier(url=url, store=store)
        worker = OutboxWorker(store, {"oncall:am": notifier}, backoff=Backoff(base=0.05))
        store.record(opened())
        assert escalator.tick() == 1
        assert worker.drain(timeout=10)

        firing = receiver.wait("firing")
        [alert] = firing["alerts"]
        assert alert["labels"] == {
            "alertname": "StormwatchIncident",
            "incident": KEY,
            "brand": "acme",
            "severity": "high",
            "kind": "firestorm",
            "thread": "p1",
        }
        assert alert["annotations"]["summary"].startswith("Negative comments on thread p1")
        assert alert["annotations"]["escalation_level"] == "0.0"

        from stormwatch.alerts.actions import IncidentActions

        IncidentActions(store, escalator=escalator, notify_slack=False).apply(
            "acknowledge", KEY, who="alice"
        )
        assert worker.drain(timeout=10)
        silences = active_silences(url)
        assert [m["value"] for s in silences for m in s["matchers"]] == [KEY]

        # The resolution expires the silence (it was left for 24 hours: the resolution
        # and a reopened incident's alert reached no receiver).
        IncidentActions(store, escalator=escalator, notify_slack=False).apply(
            "resolve", KEY, who="alice"
        )
        assert worker.drain(timeout=10)
        assert active_silences(url) == []
        deliveries = store.deliveries(KEY)
        sent = [d.payload["action"] for d in deliveries if d.target != JOURNAL]
        assert sent == ["trigger", "acknowledge", "resolve"]
        journal = [d.payload for d in deliveries if d.target == JOURNAL]
        assert journal == [{"action": "resolve", "who": "alice"}]  # when a person resolved it
        resolved = receiver.wait("resolved")
        [alert] = resolved["alerts"]
        assert alert["status"] == "resolved" and alert["labels"]["incident"] == KEY
        assert not alert["endsAt"].startswith("0001")
        # The storm comes back: the reopened incident fires at the receiver again.
        store.record(replace(opened(), event="updated", severity="critical"))
        assert store.get_incident(KEY).status == "open"
        assert escalator.tick() >= 1
        assert worker.drain(timeout=10)
        deadline = time.monotonic() + 15
        while sum(n["status"] == "firing" for n in receiver.notifications) < 2:
            assert time.monotonic() < deadline, receiver.notifications
            time.sleep(0.05)


def active_silences(url: str, states: tuple[str, ...] = ("active",)) -> list[dict[str, Any]]:
    with urllib.request.urlopen(url + "/api/v2/silences", timeout=5) as r:
        return [s for s in json.loads(r.read()) if s["status"]["state"] in states]


def test_an_acknowledged_incident_stays_silenced_past_a_day(alertmanager, tmp_path) -> None:
    """The silence lasted 24 hours while the acknowledged incident's alert was refreshed
    as firing: a day later receivers were paged again about an incident someone had."""
    url, _ = alertmanager
    key = "acme/p2/2026-03-02T09:15Z"
    clock = [time.time()]
    config = OncallConfig(
        targets={"am": TargetConfig(name="am", type="alertmanager", url=url)},
        policies=(Policy(index=0, levels=(Level(after_minutes=0, targets=("am",)),)),),
    )
    with IncidentStore.open(tmp_path / "incidents.sqlite3", clock=lambda: clock[0]) as store:
        escalator = Escalator(store, config, notify_slack=False, clock=lambda: clock[0])
        notifier = AlertmanagerNotifier(url=url, store=store, clock=lambda: clock[0])
        worker = OutboxWorker(
            store, {"oncall:am": notifier}, backoff=Backoff(base=0.05), clock=lambda: clock[0]
        )
        store.record(opened(key))
        escalator.tick()
        assert worker.drain(timeout=10)
        from stormwatch.alerts.actions import IncidentActions

        IncidentActions(store, escalator=escalator, notify_slack=False).apply(
            "acknowledge", key, who="alice"
        )
        assert worker.drain(timeout=10)
        [first] = [s for s in active_silences(url) if s["matchers"][0]["value"] == key]
        for _ in range(48):  # a day and a half of passes, half an hour apart
            clock[0] += 1800
            escalator.tick()
            assert worker.drain(timeout=10)
        # (Made at the test's clock, a day ahead: Alertmanager calls it pending.)
        ends = sorted(
            s["endsAt"]
            for s in active_silences(url, ("active", "pending"))
            if s["matchers"][0]["value"] == key
        )
        assert ends and ends[-1] > first["endsAt"]
        made = [d for d in store.deliveries(key) if d.external_id and d.target == "oncall:am"]
        assert len(made) == 2  # the acknowledgement's, and one made again before it ended


def test_a_silence_answer_that_is_not_an_object_is_taken_as_sent(tmp_path) -> None:
    """An Alertmanager-compatible server answering 200 with `"ok"`: the notifier raised
    AttributeError, and the outbox retried for ever, making a silence each time."""
    from stormwatch.alerts.delivery import Sent

    posts: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            posts.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b'"ok"')

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with IncidentStore.open(tmp_path / "incidents.sqlite3") as store:
            store.record(opened())
            row = store.enqueue(
                incident=KEY, target="oncall:am", payload={"action": "acknowledge", "who": "a"}
            )
            [delivery] = [d for d in store.deliveries(KEY) if d.id == row]
            notifier = AlertmanagerNotifier(
                url=f"http://127.0.0.1:{server.server_address[1]}", store=store
            )
            assert notifier.deliver(delivery) == Sent(None)
            assert len(posts) == 1
    finally:
        server.shutdown()


def test_no_workers_mutes_only_the_workers_own_alerts(tmp_path: Path) -> None:
    """deploy/alertmanager's inhibition, in the real Alertmanager: with no worker up the
    workers' own alerts are noise, but serve's are not: a Slack that fails there, or a
    serve that is down, must still reach someone (the rule muted every pipeline alert)."""
    config = Path(__file__).resolve().parent.parent / "deploy" / "alertmanager" / "alertmanager.yml"
    pipeline = {"component": "pipeline", "severity": "critical"}
    sent = [
        {"alertname": "StormwatchNoWorkers", **pipeline},
        {"alertname": "StormwatchWorkerDown", "job": "stormwatch-worker", **pipeline},
        {"alertname": "StormwatchWorkerDown", "job": "stormwatch-serve", **pipeline},
        {"alertname": "StormwatchDeliveriesFailing", "job": "stormwatch-serve",
         "target": "slack", **pipeline},
    ]  # fmt: skip
    with running_alertmanager(config, tmp_path) as url:
        body = json.dumps([{"labels": labels} for labels in sent]).encode()
        post = urllib.request.Request(
            url + "/api/v2/alerts", data=body, headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(post, timeout=5).close()
        deadline = time.monotonic() + 15
        while True:
            with urllib.request.urlopen(url + "/api/v2/alerts", timeout=5) as r:
                alerts = json.load(r)
            state = {
                (a["labels"]["alertname"], a["labels"].get("job")): a["status"]["state"]
                for a in alerts
            }
            if state.get(("StormwatchWorkerDown", "stormwatch-worker")) == "suppressed":
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
    assert state == {
        ("StormwatchNoWorkers", None): "active",
        ("StormwatchWorkerDown", "stormwatch-worker"): "suppressed",
        ("StormwatchWorkerDown", "stormwatch-serve"): "active",
        ("StormwatchDeliveriesFailing", "stormwatch-serve"): "active",
    }
