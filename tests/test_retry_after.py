"""`Retry-After` in both RFC 9110 forms (seconds and HTTP-date), clamped and with a
default when unparsable, read the same way by every client that meets a 429: the alert
targets (urllib), Slack (slack_sdk) and the collectors posting to /ingest (httpx). Each is
run against a local server answering 429 with the header under test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from stormwatch.alerts.delivery import Retry
from stormwatch.alerts.http_target import outcome, post_json
from stormwatch.alerts.slack_delivery import classify
from stormwatch.ingest import collect_commands
from stormwatch.retry_after import LONGEST_WAIT, retry_after_seconds


class RateLimited(BaseHTTPRequestHandler):
    """429 with `Retry-After: <header>` (none when empty); after `limited` 429s, 202."""

    header = ""
    limited = 1_000_000
    served = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cls = type(self)
        cls.served += 1
        if cls.served > cls.limited:
            body = b'{"accepted": 1}'
            self.send_response(202)
        else:
            body = b'{"ok": false, "error": "ratelimited"}'
            self.send_response(429)
            if cls.header:
                self.send_header("Retry-After", cls.header)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[RateLimited]]]:
    handler = type("Handler", (RateLimited,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def in_seconds(seconds: float) -> str:
    return formatdate(time.time() + seconds, usegmt=True)


# (header, seconds expected, or None for "the caller's default"); dates are made when the
# test runs, so a case is (header factory, expected, tolerance).
CASES = {
    "seconds": (lambda: "120", 120.0, 0.0),
    "http-date": (lambda: in_seconds(30), 30.0, 2.0),
    "past http-date": (lambda: in_seconds(-600), 0.0, 0.0),
    "negative": (lambda: "-5", 0.0, 0.0),
    "absurd": (lambda: "999999999", LONGEST_WAIT, 0.0),
    "garbage": (lambda: "soon", None, 0.0),
    "absent": (lambda: "", None, 0.0),
}


def _expect(after: float | None, expected: float | None, tolerance: float) -> None:
    if expected is None:
        assert after is None
    else:
        assert after is not None and abs(after - expected) <= tolerance, after


@pytest.mark.parametrize("case", CASES)
def test_alert_targets_read_both_forms(server, case: str) -> None:
    url, handler = server
    make, expected, tolerance = CASES[case]
    handler.header = make()
    result = outcome(post_json(url, {"x": 1}, timeout=5), what="webhook")
    assert isinstance(result, Retry)
    _expect(result.after, expected, tolerance)  # None: the outbox's backoff decides


@pytest.mark.parametrize("case", CASES)
def test_slack_reads_both_forms(server, case: str) -> None:
    url, handler = server
    make, expected, tolerance = CASES[case]
    handler.header = make()
    client = WebClient(token="xoxb-test", base_url=url, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hi")
    result = classify(raised.value, attempts=1)
    assert isinstance(result, Retry)
    _expect(result.after, 1.0 if expected is None else expected, tolerance)


@pytest.mark.parametrize("case", ["http-date", "garbage", "negative"])
def test_collector_waits_as_asked_then_resends(
    server, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = server
    make, expected, tolerance = CASES[case]
    handler.header, handler.limited = make(), 1
    waits: list[float] = []
    monkeypatch.setattr(collect_commands.time, "sleep", waits.append)
    destination = collect_commands.Destination(url, env={"STORMWATCH_INGEST_TOKEN": "t"})
    try:
        destination.send([{"id": "c1", "text": "hello", "brand": "acme"}])
    finally:
        destination.close()
    assert handler.served == 2  # refused once, resent once
    [waited] = waits
    _expect(waited, 1.0 if expected is None else expected, tolerance)


def test_parser_edge_cases() -> None:
    now = 1_445_412_480.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", 5.0, now=now) == 30.0
    assert retry_after_seconds("Wednesday, 21-Oct-15 07:28:30 GMT", 5.0, now=now) == 30.0
    assert retry_after_seconds("Wed Oct 21 07:28:30 2015", 5.0, now=now) == 30.0  # asctime
    assert retry_after_seconds(b"7", 5.0) == 7.0
    assert retry_after_seconds(" 3 ", 5.0) == 3.0
    assert retry_after_seconds("10", 5.0, longest=4.0) == 4.0
    for bad in ("nan", "", "Wed, 32 Foo 2015", "0x10", "١٢", None):
        assert retry_after_seconds(bad, 5.0) == 5.0


def test_a_target_that_asks_for_no_wait_is_not_hammered_and_drain_keeps_its_timeout(
    server, tmp_path
) -> None:
    """`Retry-After: 0` again and again: the outbox waits a second all the same (a hot
    loop hammered the target, over a thousand posts a second), and `drain` stops at its
    timeout while deliveries are still being tried (`serve`'s shutdown waited for
    ever)."""
    from stormwatch.alerts.delivery import Backoff, OutboxWorker
    from stormwatch.alerts.pagerduty import PagerDutyNotifier
    from stormwatch.alerts.store import IncidentStore
    from tests.test_pagerduty import opened

    url, handler = server
    handler.header = "0"
    alert = opened()
    with IncidentStore.open(tmp_path / "incidents.sqlite3") as store:
        store.record(alert)
        store.enqueue(
            incident=alert.incident,
            target="oncall:primary",
            payload={"action": "trigger", "level": "0.0", "alert": alert.to_json_dict()},
        )
        notifier = PagerDutyNotifier(routing_key="R" * 32, url=url, timeout=2)
        w = OutboxWorker(store, {"oncall:primary": notifier}, backoff=Backoff(base=0.01))
        start = time.monotonic()
        assert w.drain(timeout=2.5) is False
        assert time.monotonic() - start < 3.5
        assert 1 <= handler.served <= 3  # one try a second at most
