"""`stormwatch serve`: signed button presses update the incident and its Slack message;
forged, stale and replayed requests get 401 and change nothing."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode

import pytest

from stormwatch.alerts.store import IncidentStore
from stormwatch.config import Settings
from stormwatch.service.serve import Service, build_service
from tests.fake_slack import FakeSlack, sign
from tests.test_slack_delivery import alert

SECRET = "s3cr3t-signing"
KEY = "acme/p1/2026-03-02T09:15Z"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Service, FakeSlack, IncidentStore]]:
    with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": FakeSlack.TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "STORMWATCH_SLACK_CHANNEL": "#alerts",
        }
        db = f"sqlite:///{tmp_path / 'incidents.sqlite3'}"
        service = build_service(Settings(database_url=db), port=0, env=env)
        service.worker_interval = 0.05
        service.start()
        try:
            yield service, slack, service.store
        finally:
            service.stop()
            service.store.close()


def press(
    service: Service,
    action: str,
    *,
    secret: str = SECRET,
    timestamp: float | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice"},
        "actions": [{"action_id": f"stormwatch:{action}", "value": KEY, "type": "button"}],
    }
    body = body or urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time() if timestamp is None else timestamp))
    sent = headers or {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sign(secret, ts, body)}
    request = urllib.request.Request(
        service.url + "/slack/actions",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", **sent},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), sent
    except HTTPError as exc:
        return exc.code, exc.read(), sent


def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def posted(service: Service, slack: FakeSlack, store: IncidentStore) -> None:
    store.record(alert(), targets=["slack"])
    wait_for(lambda: store.get_incident(KEY).slack_ts is not None)


def test_healthz(running) -> None:
    service, _, _ = running
    with urllib.request.urlopen(service.url + "/healthz", timeout=5) as response:
        assert response.status == 200 and json.loads(response.read()) == {"ok": True}


def test_acknowledge_updates_incident_and_message(running) -> None:
    service, slack, store = running
    posted(service, slack, store)
    status, _, _ = press(service, "acknowledge")
    assert status == 200
    assert store.get_incident(KEY).status == "acknowledged"
    assert [a.who for a in store.acknowledgements(KEY)] == ["<@U0ALICE>"]
    [root] = slack.roots()
    wait_for(lambda: len(slack.replies(root)) == 1)
    assert root.edits == 1 and "Acknowledged" in str(root.blocks)
    assert slack.replies(root)[0].text.startswith("👀 Acknowledged by <@U0ALICE>")


def test_false_alarm_is_stored_as_feedback_and_resolves(running) -> None:
    service, slack, store = running
    posted(service, slack, store)
    assert press(service, "false_alarm")[0] == 200
    [feedback] = store.feedback_for("acme")
    assert feedback.label == "false_alarm" and feedback.incident == KEY
    assert store.get_incident(KEY).status == "resolved"
    [root] = slack.roots()
    wait_for(lambda: root.edits == 1)
    # no incident buttons once resolved; its comment can still be marked
    assert [b["block_id"] for b in root.blocks if b["type"] == "actions"] == [
        "stormwatch_comment_0"
    ]


def test_snooze_and_resolve_buttons(running) -> None:
    service, slack, store = running
    posted(service, slack, store)
    assert press(service, "snooze_1h")[0] == 200
    assert store.get_incident(KEY).status == "snoozed"
    time.sleep(1.0)  # a new timestamp: a new, distinct request
    assert press(service, "resolve")[0] == 200
    assert store.get_incident(KEY).status == "resolved"


def test_forged_stale_and_replayed_requests_get_401_and_change_nothing(running) -> None:
    service, slack, store = running
    posted(service, slack, store)
    assert press(service, "acknowledge", secret="not the secret")[0] == 401
    assert press(service, "acknowledge", timestamp=time.time() - 6 * 60)[0] == 401
    assert press(service, "acknowledge", headers={"X-Slack-Request-Timestamp": "1"})[0] == 401
    assert store.get_incident(KEY).status == "open" and not store.acknowledgements(KEY)
    status, _, headers = press(service, "false_alarm")
    assert status == 200
    body = urlencode(
        {
            "payload": json.dumps(
                {
                    "type": "block_actions",
                    "user": {"id": "U0ALICE"},
                    "actions": [{"action_id": "stormwatch:false_alarm", "value": KEY}],
                }
            )
        }
    ).encode()
    # the same signed request again: refused, no second feedback row
    original = press(service, "false_alarm", headers=headers)
    assert original[0] == 401
    assert len(store.feedback_for("acme")) == 1
    assert press(service, "acknowledge", body=body, headers=headers)[0] == 401


def test_unknown_paths(running) -> None:
    service, _, _ = running
    with pytest.raises(HTTPError) as caught:
        urllib.request.urlopen(service.url + "/nope", timeout=5)
    assert caught.value.code == 404
