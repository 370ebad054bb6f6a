"""Marking a shown comment "negative" or "not negative" in Slack: the buttons in the
incident message (within Block Kit's limits), a signed press to `stormwatch serve`
stores the label as `stormwatch feedback --comment` does, the running pipeline learns it
at once and a pipeline built later from the store reads the comment the same way."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode

import pytest

from stormwatch.alerts.slack_message import (
    COMMENT_ACTION_PREFIX,
    SAMPLES_SHOWN,
    comment_reference,
    incident_blocks,
)
from stormwatch.alerts.store import IncidentStore
from stormwatch.alerts.store.negativity_labels import NegativityLabel
from stormwatch.config import Settings
from stormwatch.runtime import build_pipeline
from stormwatch.service.serve import Service, build_service
from tests.fake_slack import FakeSlack, sign
from tests.test_slack_delivery import alert

SECRET = "s3cr3t-signing"
KEY = "acme/p1/2026-03-02T09:15Z"
# The model (the default backend) reads this 0.19: at this brand, update 4.2 is the one
# that broke the app.
UPDATE = "Hab gerade Update 4.2 installiert"
MODEL_SETTINGS = replace(Settings(), negativity_en="model", negativity_de="model")


def _samples(n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"c{i}", "text": f"comment {i}", "author_id": f"u{i}", "lang": "en"}
        for i in range(n)
    ]


def _check_limits(blocks: list[dict[str, Any]]) -> None:
    """Block Kit's limits for a message and its interactive elements."""
    assert len(blocks) <= 50
    action_ids = [e["action_id"] for b in blocks for e in b.get("elements", ()) if "action_id" in e]
    assert len(action_ids) == len(set(action_ids))
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    for block in blocks:
        if block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 5
            for button in block["elements"]:
                assert len(button["value"]) <= 2000 and len(button["action_id"]) <= 255
                assert len(button["text"]["text"]) <= 75


def test_each_shown_comment_has_reading_buttons_within_block_kit_limits() -> None:
    event = alert().to_json_dict()
    event["samples"] = _samples(5)
    mark = NegativityLabel(1, "acme", "c1", "comment 1", "en", False, "<@U0ALICE>", 0.0)
    blocks = incident_blocks(event, marks={"c1": mark})
    _check_limits(blocks)
    readings = [b for b in blocks if b.get("block_id", "").startswith("stormwatch_comment_")]
    assert len(readings) == SAMPLES_SHOWN  # bounded: the comments shown, not all samples
    for position, block in enumerate(readings):
        negative, not_negative = block["elements"]
        assert negative["action_id"] == f"{COMMENT_ACTION_PREFIX}negative:{position}"
        assert not_negative["action_id"] == f"{COMMENT_ACTION_PREFIX}not_negative:{position}"
        assert json.loads(negative["value"]) == {"incident": KEY, "comment": f"c{position}"}
    # the reading it has is shown, under the comment and on its button
    assert "Marked not negative by <@U0ALICE>" in json.dumps(blocks)  # a mention
    assert readings[1]["elements"][1]["style"] == "primary"
    assert "style" not in readings[0]["elements"][1]
    # resolved: no incident buttons, the comments can still be marked
    resolved = incident_blocks(event, status="resolved")
    _check_limits(resolved)
    assert [b["block_id"] for b in resolved if b["type"] == "actions"] == [
        f"stormwatch_comment_{i}" for i in range(SAMPLES_SHOWN)
    ]


def test_comments_without_a_usable_id_get_no_buttons() -> None:
    event = alert().to_json_dict()
    event["samples"] = [{"text": "no id"}, {"id": "x" * 2000, "text": "an id too long"}]
    blocks = incident_blocks(event)
    _check_limits(blocks)
    assert not [b for b in blocks if b.get("block_id", "").startswith("stormwatch_comment_")]
    assert "no id" in json.dumps(blocks) and "an id too long" in json.dumps(blocks)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Service, FakeSlack, IncidentStore, str]]:
    with FakeSlack() as slack:
        env = {
            "SLACK_BOT_TOKEN": FakeSlack.TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.url,
            "STORMWATCH_SLACK_CHANNEL": "#alerts",
        }
        db = f"sqlite:///{tmp_path / 'incidents.sqlite3'}"
        service = build_service(replace(MODEL_SETTINGS, database_url=db), port=0, env=env)
        service.worker_interval = 0.05
        service.start()
        try:
            yield service, slack, service.store, db
        finally:
            service.stop()
            service.store.close()


def press(service: Service, action_id: str, value: str, **extra: Any) -> tuple[int, Any]:
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ALICE", "username": "alice"},
        "actions": [{"action_id": action_id, "value": value, "type": "button", **extra}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()))
    request = urllib.request.Request(
        service.url + "/slack/actions",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": sign(SECRET, ts, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except HTTPError as exc:
        return exc.code, exc.read()


def wait_for(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_signed_press_labels_the_comment_and_pipelines_read_it_that_way(running) -> None:
    service, slack, store, db = running
    event = replace(
        alert(), samples=[{"id": "c-7", "text": UPDATE, "author_id": "u7", "lang": "de"}]
    )
    store.record(event, targets=["slack"])
    wait_for(lambda: store.get_incident(KEY).slack_ts is not None)
    enricher = service.live.pipeline.enricher
    assert enricher.enrich(UPDATE, "de", "acme")[1] < 0.5

    negative = f"{COMMENT_ACTION_PREFIX}negative:0"
    assert press(service, negative, comment_reference(KEY, "c-7")) == (200, {})
    [label] = store.negativity_labels("acme")
    assert (label.comment_id, label.text, label.lang, label.negative, label.who) == (
        "c-7",
        UPDATE,
        "de",
        True,
        "<@U0ALICE>",
    )
    # serve's pipeline learns it without a restart; other brands read as before
    wait_for(lambda: enricher.enrich(UPDATE, "de", "acme")[1] >= 0.5)
    assert enricher.enrich(UPDATE, "de", "other")[1] < 0.5
    # the message shows the mark, the thread says who marked what
    [root] = slack.roots()
    wait_for(lambda: len(slack.replies(root)) == 1)
    assert "Marked negative by" in json.dumps(root.blocks)
    assert slack.replies(root)[0].text.startswith("🏷️ <@U0ALICE> marked a comment as negative")

    # a retried or double-clicked press (another signature): no second label, no note
    status, answer = press(service, negative, comment_reference(KEY, "c-7"), action_ts="2")
    assert status == 200 and "Already marked negative" in answer["text"]
    assert len(store.negativity_labels()) == 1
    # a comment no alert of the brand showed, and a value this app did not make
    status, answer = press(service, negative, comment_reference(KEY, "nope"))
    assert status == 200 and "no longer stored" in answer["text"]
    assert press(service, negative, "{not json")[1]["response_type"] == "ephemeral"
    assert len(store.negativity_labels()) == 1
    assert len(slack.replies(root)) == 1

    # a pipeline built later from the store (`run`, a restarted `serve`) learns it too
    later = build_pipeline(replace(MODEL_SETTINGS, database_url=db), env={})
    assert later.enricher.enrich(UPDATE, "de", "acme")[1] >= 0.5
    assert later.enricher.enrich(UPDATE, "de", "other")[1] < 0.5


def test_a_press_marks_the_comment_of_its_platform_and_incident(running) -> None:
    """Ids are unique per platform only: two comments with one id, on two platforms, in
    one alert; and the same id shown by another incident of the brand."""
    service, slack, store, db = running
    youtube = {"id": "42", "platform": "youtube", "text": UPDATE, "author_id": "u1"}
    reddit = {"id": "42", "platform": "reddit", "text": "fine by me", "author_id": "u2"}
    store.record(replace(alert(), samples=[youtube, reddit]), targets=["slack"])
    other = replace(alert(), incident="acme/other-thread", samples=[{**youtube, "text": "x y"}])
    store.record(other, targets=[])
    wait_for(lambda: store.get_incident(KEY).slack_ts is not None)
    [root] = slack.roots()
    values = [
        e["value"]
        for b in root.blocks
        if b.get("type") == "actions" and b["block_id"].startswith("stormwatch_comment_")
        for e in b["elements"]
        if e["action_id"].startswith(f"{COMMENT_ACTION_PREFIX}negative:")
    ]
    assert values == [
        comment_reference(KEY, "42", "youtube"),
        comment_reference(KEY, "42", "reddit"),
    ]
    negative = f"{COMMENT_ACTION_PREFIX}negative:1"
    assert press(service, negative, comment_reference(KEY, "42", "reddit")) == (200, {})
    [label] = store.negativity_labels("acme")
    assert (label.comment_id, label.text) == ("42", "fine by me")
    # a button made before samples carried the platform: found by id in its incident
    store_sample = store.find_sample("42", "acme", incident=KEY)
    assert store_sample is not None and store_sample.text in (UPDATE, "fine by me")
    assert store.find_sample("42", "acme", incident="acme/other-thread").text == "x y"
    assert store.find_sample("42", "acme", incident=KEY, platform="mastodon") is None
