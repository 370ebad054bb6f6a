"""The signed webhook on-call target against a local receiver that checks the signature
itself: configured from `[oncall.targets]`, delivered through the outbox, retried with a
stable delivery id, and a wrong secret is a permanent failure, not a retry loop."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from stormwatch.alerts.delivery import Backoff, OutboxWorker
from stormwatch.alerts.escalation_policy import load_oncall_config
from stormwatch.alerts.notifiers import build_notifiers
from stormwatch.alerts.store import IncidentStore
from stormwatch.alerts.webhook import WebhookNotifier
from tests.fake_webhook import FakeWebhookReceiver, verify
from tests.test_pagerduty import KEY, opened

SECRET = "s3cret-shared-with-the-receiver"
TARGET = "oncall:hook"
CONFIG = """
[oncall]
timezone = "Europe/Berlin"

[oncall.targets.hook]
type = "webhook"
url = "{url}"
secret_env = "HOOK_SECRET"

[[oncall.policies]]
min_severity = "medium"
levels = [{{ after_minutes = 0, targets = ["hook"] }}]
"""


@pytest.fixture
def receiver() -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver(SECRET) as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IncidentStore]:
    with IncidentStore.open(tmp_path / "incidents.sqlite3") as s:
        s.record(opened())
        yield s


def page(store: IncidentStore, action: str = "trigger", level: str = "0.0") -> int:
    alert = store.get_incident(KEY).last_event
    store.enqueue(
        incident=KEY, target=TARGET, payload={"action": action, "level": level, "alert": alert}
    )
    return max(d.id for d in store.deliveries(KEY))


def outbox(store: IncidentStore, notifier: WebhookNotifier) -> OutboxWorker:
    return OutboxWorker(store, {TARGET: notifier}, backoff=Backoff(base=0.02, cap=0.05, jitter=0))


def test_configured_webhook_delivers_a_signature_the_receiver_verifies(
    tmp_path: Path, store: IncidentStore, receiver: FakeWebhookReceiver
) -> None:
    path = tmp_path / "stormwatch.toml"
    path.write_text(CONFIG.format(url=receiver.url))
    config = load_oncall_config(path, env={"HOOK_SECRET": SECRET})
    notifiers = build_notifiers(store, slack=None, oncall=config, clock=time.time, timeout=2)
    assert isinstance(notifiers[TARGET], WebhookNotifier)

    first = page(store, "trigger")
    second = page(store, "resolve", level="0.1")
    worker = OutboxWorker(store, notifiers)
    assert worker.drain(timeout=10)

    assert [(r.status, r.reason) for r in receiver.requests] == [(200, "accepted")] * 2
    request = receiver.requests[0]
    assert request.path == "/hooks/stormwatch"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-stormwatch-delivery"] == str(first)
    body = json.loads(request.body)
    assert body["delivery"] == first and body["incident"] == KEY
    assert body["action"] == "trigger" and body["level"] == "0.0"
    assert body["alert"]["incident"] == KEY and body["alert"]["severity"] == "high"
    assert json.loads(receiver.requests[1].body)["action"] == "resolve"
    sent = {d.id: d for d in store.deliveries(KEY) if d.target == TARGET}
    assert {i: (d.status, d.external_id) for i, d in sent.items()} == {
        first: ("sent", str(first)),
        second: ("sent", str(second)),
    }


def test_the_signature_covers_body_and_timestamp(
    store: IncidentStore, receiver: FakeWebhookReceiver
) -> None:
    page(store)
    assert outbox(store, WebhookNotifier(url=receiver.url, secret=SECRET, timeout=2)).drain(
        timeout=10
    )
    (request,) = receiver.requests
    now = time.time()
    assert verify(SECRET, request.headers, request.body, now) == ""
    tampered = request.body.replace(b'"trigger"', b'"resolve"')
    assert verify(SECRET, request.headers, tampered, now) == "bad signature"
    later = {**request.headers, "x-stormwatch-timestamp": str(int(now) + 60)}
    assert verify(SECRET, later, request.body, now) == "bad signature"
    assert verify("another-secret", request.headers, request.body, now) == "bad signature"


def test_a_wrong_secret_is_refused_once_and_dead_not_retried(
    store: IncidentStore, receiver: FakeWebhookReceiver
) -> None:
    delivery = page(store)
    worker = outbox(store, WebhookNotifier(url=receiver.url, secret="not-the-secret", timeout=2))
    assert worker.drain(timeout=10)
    assert [(r.status, r.reason) for r in receiver.requests] == [(401, "bad signature")]
    (row,) = [d for d in store.deliveries(KEY) if d.id == delivery]
    assert row.status == "dead" and "HTTP 401" in (row.last_error or "")
    assert worker.dead == 1 and not receiver.accepted


def test_a_stale_clock_is_refused(store: IncidentStore, receiver: FakeWebhookReceiver) -> None:
    page(store)
    skewed = WebhookNotifier(
        url=receiver.url, secret=SECRET, timeout=2, clock=lambda: time.time() - 900
    )
    assert outbox(store, skewed).drain(timeout=10)
    assert [(r.status, r.reason) for r in receiver.requests] == [(401, "stale timestamp")]


def test_retries_keep_the_delivery_id_and_the_receiver_dedupes(
    store: IncidentStore, receiver: FakeWebhookReceiver
) -> None:
    delivery = page(store)
    receiver.script(503, 429)  # the receiver is down, then busy: both recoverable
    worker = outbox(store, WebhookNotifier(url=receiver.url, secret=SECRET, timeout=2))
    assert worker.drain(timeout=10)
    assert [r.status for r in receiver.requests] == [503, 429, 200]
    assert {r.headers["x-stormwatch-delivery"] for r in receiver.requests} == {str(delivery)}
    assert list(receiver.accepted) == [str(delivery)]

    # A redelivery of the same row (say, after a crash between the answer and marking it
    # sent) carries the same id: the receiver sees a duplicate, not a second page.
    (row,) = [d for d in store.deliveries(KEY) if d.id == delivery]
    again = WebhookNotifier(url=receiver.url, secret=SECRET, timeout=2).deliver(row)
    assert type(again).__name__ == "Sent"
    assert receiver.requests[-1].reason == "duplicate" and len(receiver.accepted) == 1


def test_no_receiver_is_a_recoverable_failure(store: IncidentStore) -> None:
    with FakeWebhookReceiver(SECRET) as gone:
        url = gone.url
    page(store)
    worker = outbox(store, WebhookNotifier(url=url, secret=SECRET, timeout=1))
    worker.run_once()
    (row,) = [d for d in store.deliveries(KEY) if d.target == TARGET]
    assert row.status == "failed" and row.next_attempt_at is not None  # to be retried
    assert "webhook:" in (row.last_error or "")


def test_a_redirected_page_is_dead_not_sent() -> None:
    """An http:// URL on a host that redirects to https:// (301): urllib followed it with
    a GET without the body, the GET's 200 counted as sent, and nobody got the page."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from stormwatch.alerts.delivery import Dead
    from stormwatch.alerts.http_target import outcome, post_json

    asked: list[str] = []

    class Redirecting(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            asked.append(f"{self.command} {self.path}")
            if self.path == "/old":
                self.send_response(301)
                self.send_header("Location", "/hook")
            else:
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET = _answer  # noqa: N815 - http.server's names

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/old"
        result = outcome(post_json(url, {"page": 1}), what="webhook")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert asked == ["POST /old"]
    assert isinstance(result, Dead) and "redirected to '/hook'" in (result.error)
