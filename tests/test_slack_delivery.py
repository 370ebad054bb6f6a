"""Slack delivery through the outbox with the real `slack_sdk.WebClient` against the
local fake Slack (`tests/fake_slack.py`): one message per incident whatever fails, queued
delivery through an outage, updates in place with replies in the thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from stormwatch.alerts.delivery import Backoff, OutboxWorker
from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.slack_config import SlackConfig
from stormwatch.alerts.slack_delivery import SlackNotifier, make_clients
from stormwatch.alerts.store import IncidentStore
from tests.fake_slack import Error, FakeSlack, SlowAfterAccept, Status

T0 = 1_772_442_902.0
FAST = Backoff(base=0.05, cap=0.2, jitter=0.0)


def alert(
    incident: str = "acme/p1/2026-03-02T09:15Z",
    event: str = "opened",
    *,
    severity: str = "medium",
    at: float = T0,
    brand: str = "acme",
    thread_id: str | None = "p1",
    negative_per_min: float = 4.0,
) -> AlertEvent:
    return AlertEvent(
        incident=incident,
        event=event,  # type: ignore[arg-type]
        brand=brand,
        thread_id=thread_id,
        severity=severity,  # type: ignore[arg-type]
        score=12.0,
        at=at,
        emitted_at=time.time(),
        summary=f"Negative comments on thread {thread_id} of {brand} run at "
        f"{negative_per_min}/min.",
        drivers={
            "negative_per_min_now": negative_per_min,
            "negative_per_min_baseline": 0.3,
            "ratio_to_baseline": round(negative_per_min / 0.3, 1),
            "negative_share": 0.6,
            "negative_share_baseline": 0.1,
            "distinct_accounts_30min": 40,
            "top_accounts": [{"author_id": "u1", "comments": 4, "followers": 1200}],
        },
        samples=[{"id": "c1", "text": "This is a <!channel> disgrace", "author_id": "u1"}],
        playbook="generic",
    )


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IncidentStore]:
    with IncidentStore.open(tmp_path / "incidents.sqlite3") as s:
        yield s


def worker(
    store: IncidentStore, slack: FakeSlack, *, token: str = FakeSlack.TOKEN, timeout: float = 5.0
) -> OutboxWorker:
    config = SlackConfig(token=token, api_url=slack.url, channel="#alerts", chart=True)
    notifier = SlackNotifier(
        store, config, clients=make_clients(config, timeout=timeout, backoff_factor=0.01)
    )
    return OutboxWorker(store, {"slack": notifier}, backoff=FAST)


def test_one_message_per_incident_updates_edit_it_and_reply_in_thread(store, slack) -> None:
    w = worker(store, slack)
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=10)
    store.record(alert(event="escalated", severity="high", at=T0 + 600), targets=["slack"])
    store.record(alert(event="updated", severity="high", at=T0 + 1500), targets=["slack"])
    store.record(alert(event="updated", severity="high", at=T0 + 2400), targets=["slack"])
    store.record(alert(event="resolved", severity="high", at=T0 + 5000), targets=["slack"])
    assert w.drain(timeout=10)

    [root] = slack.roots()
    assert root.channel == "C0ALERTS"
    assert root.metadata == {
        "event_type": "stormwatch_incident",
        "event_payload": {"incident": "acme/p1/2026-03-02T09:15Z"},
    }
    assert root.edits == 4  # every later event edits the one message
    texts = [m.text for m in slack.replies(root) if not m.files]
    # the second minor update within the interval only edits the message
    assert [t.split(":")[0] for t in texts] == ["⬆️ Escalated to *HIGH*", "Update", "✅ Resolved"]
    incident = store.get_incident("acme/p1/2026-03-02T09:15Z")
    assert (incident.slack_channel, incident.slack_ts) == ("C0ALERTS", root.ts)
    assert all(d.status == "sent" for d in store.deliveries(incident.key))
    # the resolved message has no incident buttons (its comment can still be marked);
    # user text cannot ping the channel
    assert [b["block_id"] for b in root.blocks if b["type"] == "actions"] == [
        "stormwatch_comment_0"
    ]
    assert "<!channel>" not in str(root.blocks) and "&lt;!channel&gt;" in str(root.blocks)


def test_escalation_uploads_a_chart_into_the_thread(store, slack) -> None:
    w = worker(store, slack)
    for i, (event, severity) in enumerate(
        [("opened", "medium"), ("updated", "medium"), ("escalated", "high")]
    ):
        store.record(
            alert(event=event, severity=severity, at=T0 + 600 * i, negative_per_min=4.0 * (i + 1)),
            targets=["slack"],
        )
    assert w.drain(timeout=10)
    [root] = slack.roots()
    files = [m for m in slack.replies(root) if m.files]
    assert len(files) == 1 and slack.uploads[files[0].files[0]].startswith(b"\x89PNG")


def test_a_brand_with_dollar_signs_gets_its_chart_and_its_alert(store, slack) -> None:
    """matplotlib read "$...$" in the title as TeX and raised: the opening's delivery
    was retried for ever, each retry editing the message and replying "Reopened"."""
    w = worker(store, slack)
    for i, (event, severity) in enumerate(
        [("opened", "medium"), ("updated", "medium"), ("escalated", "high")]
    ):
        store.record(
            alert(event=event, severity=severity, at=T0 + 600 * i, brand="Ca$$h Store"),
            targets=["slack"],
        )
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert len([m for m in slack.replies(root) if m.files]) == 1
    deliveries = store.deliveries("acme/p1/2026-03-02T09:15Z")
    assert [(d.status, d.attempts) for d in deliveries] == [("sent", 1)] * 3


def test_a_chart_that_cannot_be_drawn_costs_only_the_chart(store, slack, monkeypatch) -> None:
    import stormwatch.alerts.slack_delivery as delivery

    def broken(*args: object, **kwargs: object) -> bytes:
        raise ValueError("no font")

    monkeypatch.setattr(delivery, "curve_png", broken)
    w = worker(store, slack)
    for i, (event, severity) in enumerate(
        [("opened", "medium"), ("updated", "medium"), ("escalated", "high")]
    ):
        store.record(alert(event=event, severity=severity, at=T0 + 600 * i), targets=["slack"])
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert not [m for m in slack.replies(root) if m.files]
    deliveries = store.deliveries("acme/p1/2026-03-02T09:15Z")
    assert [(d.status, d.attempts) for d in deliveries] == [("sent", 1)] * 3


def test_missing_files_scope_costs_only_the_chart(store, slack) -> None:
    w = worker(store, slack, token="xoxb-no-files")
    for i, event in enumerate(["opened", "updated", "escalated", "resolved"]):
        store.record(alert(event=event, severity="high", at=T0 + 600 * i), targets=["slack"])
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert not [m for m in slack.replies(root) if m.files]
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1  # then charts are off
    assert [d.status for d in store.deliveries(root.metadata["event_payload"]["incident"])] == [
        "sent"
    ] * 4


def test_timeout_after_slack_took_the_post_does_not_post_twice(store, slack) -> None:
    w = worker(store, slack, timeout=0.5)
    slack.script("chat.postMessage", SlowAfterAccept(1.0))
    store.record(alert(), targets=["slack"])
    assert w.run_once() == 1  # timed out: uncertain
    [delivery] = store.deliveries("acme/p1/2026-03-02T09:15Z")
    assert delivery.status == "failed" and delivery.last_error.startswith("uncertain")
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert len(slack.calls_to("chat.postMessage")) == 1  # the retry found it by metadata
    assert store.get_incident("acme/p1/2026-03-02T09:15Z").slack_ts == root.ts


def test_timeout_of_a_thread_reply_does_not_reply_twice(store, slack) -> None:
    w = worker(store, slack, timeout=0.5)
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=10)
    slack.script("chat.postMessage", SlowAfterAccept(1.0))
    store.record(alert(event="escalated", severity="high", at=T0 + 600), targets=["slack"])
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert [m.text[:12] for m in slack.replies(root) if not m.files] == ["⬆️ Escalated"]


def test_rate_limits_server_errors_and_transient_errors_are_retried(store, slack) -> None:
    w = worker(store, slack)
    slack.script(
        "chat.postMessage", Status(429, retry_after=0), Status(503), Error("internal_error")
    )
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=10)
    assert len(slack.roots()) == 1


def test_long_retry_after_is_scheduled_by_the_outbox(store, slack) -> None:
    w = worker(store, slack)
    slack.script("chat.postMessage", Status(429, retry_after=30))
    store.record(alert(), targets=["slack"])
    before = time.time()
    assert w.run_once() == 1
    [delivery] = store.deliveries("acme/p1/2026-03-02T09:15Z")
    assert delivery.status == "failed" and delivery.next_attempt_at >= before + 29
    assert w.down_until["slack"] >= before + 29 and not slack.roots()


def test_outage_queues_incidents_and_delivers_them_in_order(store, slack) -> None:
    w = worker(store, slack)
    slack.outage = True
    keys = [f"brand{i}/p{i}/2026-03-02T09:1{i}Z" for i in range(4)]
    for i, key in enumerate(keys):
        store.record(
            alert(incident=key, brand=f"brand{i}", thread_id=f"p{i}", at=T0 + i), targets=["slack"]
        )
        w.run_once()
    store.record(
        alert(incident=keys[0], event="escalated", severity="high", at=T0 + 900), targets=["slack"]
    )
    for _ in range(3):
        time.sleep(0.25)
        w.run_once()
    assert not slack.messages
    assert all(d.status in ("pending", "failed") for k in keys for d in store.deliveries(k))
    slack.outage = False
    assert w.drain(timeout=10)
    assert [m.metadata["event_payload"]["incident"] for m in slack.roots()] == keys
    assert [m.text[:12] for m in slack.replies(slack.roots()[0])] == ["⬆️ Escalated"]


def test_permanent_error_makes_the_delivery_dead(store, slack) -> None:
    w = worker(store, slack, token="xoxb-revoked")
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=5)
    [delivery] = store.deliveries("acme/p1/2026-03-02T09:15Z")
    assert delivery.status == "dead" and "token_revoked" in delivery.last_error


def test_a_second_worker_after_a_crash_adopts_the_posted_message(store, slack) -> None:
    """The first worker posted but died before recording the ts; its lease runs out."""
    store.record(alert(), targets=["slack"])
    [claimed] = store.pending_deliveries("slack", lease=0.0)
    config = SlackConfig(token=FakeSlack.TOKEN, api_url=slack.url, channel="#alerts")
    _, poster = make_clients(config)
    poster.chat_postMessage(
        channel="#alerts",
        text="x",
        metadata={
            "event_type": "stormwatch_incident",
            "event_payload": {"incident": claimed.incident},
        },
    )
    assert worker(store, slack).drain(timeout=10)
    assert len(slack.roots()) == 1
    assert store.get_incident(claimed.incident).slack_ts == slack.roots()[0].ts


def test_routes_choose_the_channel(store, slack) -> None:
    from stormwatch.alerts.slack_config import SlackRoute

    config = SlackConfig(
        token=FakeSlack.TOKEN,
        api_url=slack.url,
        channel="#alerts",
        routes=(SlackRoute(channel="C0CRISIS", min_severity="high"),),
    )
    w = OutboxWorker(store, {"slack": SlackNotifier(store, config)}, backoff=FAST)
    store.record(alert(severity="critical"), targets=["slack"])
    store.record(replace(alert(incident="acme/p2/x", thread_id="p2")), targets=["slack"])
    assert w.drain(timeout=10)
    assert {m.channel for m in slack.roots()} == {"C0CRISIS", "C0ALERTS"}


def test_a_retried_post_searches_its_own_route_after_the_incident_escalated(store, slack) -> None:
    """Slack took the first post (the client timed out), then the incident escalated
    into another route's channel: the retry looks where the first post went, not in
    the new channel, and posts nothing twice."""
    from stormwatch.alerts.slack_config import SlackRoute

    config = SlackConfig(
        token=FakeSlack.TOKEN,
        api_url=slack.url,
        channel="C0ALERTS",
        chart=False,
        routes=(SlackRoute(channel="C0CRISIS", min_severity="high"),),
    )
    notifier = SlackNotifier(
        store, config, clients=make_clients(config, timeout=0.5, backoff_factor=0.01)
    )
    w = OutboxWorker(store, {"slack": notifier}, backoff=FAST)
    slack.script("chat.postMessage", SlowAfterAccept(1.0))
    store.record(alert(), targets=["slack"])
    assert w.run_once() == 1  # timed out: uncertain
    store.record(alert(event="escalated", severity="high", at=T0 + 60), targets=["slack"])
    time.sleep(1.2)  # the fake's slow answer is over
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert root.channel == "C0ALERTS"
    assert store.get_incident("acme/p1/2026-03-02T09:15Z").slack_ts == root.ts


def test_chart_spans_the_incident_against_the_normal_at_opening(
    store, slack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event carries the last three hours per minute; the chart joins them from
    before the opening, and its normal line is the opening's, not a later one that the
    storm moved."""
    import stormwatch.alerts.slack_delivery as slack_delivery

    drawn: list[tuple[list[tuple[float, float]], float | None]] = []
    real = slack_delivery.curve_png

    def spy(points, *, title, baseline=None):  # type: ignore[no-untyped-def]
        drawn.append((list(points), baseline))
        return real(points, title=title, baseline=baseline)

    monkeypatch.setattr(slack_delivery, "curve_png", spy)
    w = worker(store, slack)
    for i, (event, severity) in enumerate([("opened", "medium"), ("escalated", "high")]):
        e = alert(event=event, severity=severity, at=T0 + 3600 * i)
        drivers = {
            **e.drivers,
            "negative_per_min_baseline": 0.3 if i == 0 else 3.0,
            "negative_per_min_curve": [0] * 170 + [5 * (i + 1)] * 10,
        }
        store.record(replace(e, drivers=drivers), targets=["slack"])
        assert w.drain(timeout=10)
    points, baseline = drawn[-1]
    assert baseline == 0.3
    assert points[0][0] == (T0 // 60 - 179) * 60  # three hours before the opening
    assert len(points) == 180 + 60  # and every minute up to the escalation


def test_a_brand_or_thread_named_like_a_mention_pings_nobody(store, slack) -> None:
    """The top-level text is the notification, and Slack reads mentions in it: a brand
    `<!channel>` pinged the whole channel (the blocks were escaped, the text not)."""
    w = worker(store, slack)
    key = "x/y/2026-03-02T09:15Z"
    hostile = {"incident": key, "brand": "<!channel>", "thread_id": "<@U0ADMIN>"}
    store.record(alert(**hostile), targets=["slack"])  # type: ignore[arg-type]
    assert w.drain(timeout=10)
    [root] = slack.roots()
    posted = root.text
    store.record(
        alert(**hostile, event="escalated", severity="high", at=T0 + 600), targets=["slack"]
    )  # type: ignore[arg-type]
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert root.edits == 1
    for text in (posted, root.text):
        assert "<!" not in text and "<@" not in text, text
        assert "&lt;!channel&gt;" in text and "&lt;@U0ADMIN&gt;" in text, text


@pytest.mark.parametrize("error", ["missing_scope", "not_in_channel"])
def test_a_bot_that_cannot_read_the_channel_still_posts_a_retried_message(
    store, slack, error: str
) -> None:
    """The first post failed; before posting again the bot looks for it in the channel.
    Without `channels:history` (or membership) that search failed for good, and the
    incident never reached Slack."""
    w = worker(store, slack)
    slack.script("chat.postMessage", Status(500))
    slack.script("conversations.list", Error(error))
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=10)
    assert len(slack.roots()) == 1
    assert [d.status for d in store.deliveries("acme/p1/2026-03-02T09:15Z")] == ["sent"]


def test_a_long_brand_and_thread_keep_the_message_within_block_kit_limits() -> None:
    """Within ingest's 512 characters, a brand or thread id percent-encodes to up to nine
    characters each: the incident key went past a button's 2,000 characters and the
    context line's 3,000, Slack answered invalid_blocks, and the incident never got
    there. Keys shorten such parts (start and hash), distinct per brand."""
    from stormwatch.alerts.incidents import incident_key
    from stormwatch.alerts.slack_message import incident_blocks

    brand, thread = "株式会社" * 128, "&" * 512
    key = incident_key(brand, thread, 29_520_000)
    assert key != incident_key(brand[:-1] + "x", thread, 29_520_000)
    assert key == incident_key(brand, thread, 29_520_000)
    event = alert(incident=key, brand=brand, thread_id=thread).to_json_dict()
    blocks = incident_blocks(event)
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    texts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    assert values and max(map(len, values)) <= 2000
    assert texts and max(map(len, texts)) <= 3000


def test_a_deleted_message_is_posted_anew_at_the_next_event(store, slack) -> None:
    """Someone deleted the incident's message: every later update failed with
    message_not_found, was retried and died, and the escalation never reached Slack."""
    w = worker(store, slack)
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=10)
    [first] = slack.roots()
    slack.messages.remove(first)  # deleted in Slack
    store.record(alert(event="escalated", severity="high", at=T0 + 600), targets=["slack"])
    assert w.drain(timeout=10)
    [anew] = slack.roots()
    assert anew.ts != first.ts and "HIGH" in anew.text
    incident = store.get_incident("acme/p1/2026-03-02T09:15Z")
    assert incident.slack_ts == anew.ts
    assert [d.status for d in store.deliveries(incident.key)] == ["sent", "sent"]


def test_the_cards_ratio_is_that_of_the_rates_it_shows() -> None:
    """A post's card set its rate and normal beside its brand's ratio: "1 (normal 0.035,
    9.6x)". The ratio shown is now that of the two rates; the brand's follows, named."""
    from stormwatch.alerts.slack_message import incident_blocks

    event = alert(thread_id="p1").to_json_dict()
    event["drivers"] = {**event["drivers"], "negative_per_min_now": 1.0,
                        "negative_per_min_baseline": 0.035, "ratio_to_baseline": 9.6,
                        "negative_per_min_brand_baseline": 0.104}  # fmt: skip
    text = str(incident_blocks(event))
    assert "60.0/hour (normal 2.1/hour, *29x*)" in text
    assert "9.6x the brand's normal 6.2/hour" in text


def test_a_small_brands_card_reads_the_span_its_summary_reports() -> None:
    """At a brand of about 150 a day the summary read "10 in the last hour, 10.0/hour,
    32x the normal 7.4/day; 67% ... negative" while its card said "0 (normal 0.005, 0x)"
    and a negative share of 0 %: five-minute figures rounded to two decimals."""
    from stormwatch.alerts.slack_message import incident_blocks

    event = alert().to_json_dict()
    event["drivers"] = {**event["drivers"], "negative_per_min_now": 0.0,
                        "negative_per_min_baseline": 0.005, "ratio_to_baseline": 8.3,
                        "rate_span_minutes": 60, "negative_comments_in_span": 10,
                        "comments_in_span": 15, "negative_share": 0.0,
                        "negative_share_baseline": 0.059}  # fmt: skip
    text = str(incident_blocks(event))
    assert "10 in 60 min: 10.0/hour (normal 7.2/day, *33x*)" in text, text
    assert "severity at 8.3x" in text, text
    assert "67% (usually 6%)" in text, text


def test_a_resolved_card_keeps_its_comments_and_their_buttons(store, slack) -> None:
    """A calm event has no comments of its last half hour: the resolved card lost its
    top comments, and with them the Negative / Not negative buttons the README promises
    also once the incident is resolved."""
    w = worker(store, slack)
    store.record(alert(), targets=["slack"])
    calm = replace(alert(event="resolved", severity="low", at=T0 + 1800), samples=[])
    store.record(calm, targets=["slack"])
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert root.edits and "Resolved" in str(root.blocks)  # the card shows the resolution
    assert [b["block_id"] for b in root.blocks if b["type"] == "actions"] == [
        "stormwatch_comment_0"
    ]


def test_spam_terms_and_forged_lines_keep_the_card_within_limits_and_honest() -> None:
    """A 2,500-letter "word" repeated in a storm's comments became a top term: the Topics
    field passed Slack's 2,000 characters, Slack answered invalid_blocks, a permanent
    error, and the incident never reached Slack. An author id with a newline forged a
    "Marked not negative" line under its comment."""
    from dataclasses import replace

    from stormwatch.alerts.slack_message import incident_blocks

    spam = "a" * 2500
    event = alert()
    event = replace(
        event,
        drivers={**event.drivers, "top_terms": [spam, f"{spam} {spam}", "refund"]},
        samples=[{"id": "c1", "text": "@here look", "author_id": "eve\n_Marked not negative_"}],
    )
    blocks = incident_blocks(event.to_json_dict())
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert fields and max(map(len, fields)) <= 2000
    [topics] = [f for f in fields if f.startswith("*Topics*")]
    assert "refund" in topics and len(topics) < 200
    [sample] = [b["text"] for b in blocks if "@here look" in b.get("text", {}).get("text", "")]
    assert sample["verbatim"] is True  # Slack parses no @here in a comment
    assert "\n_Marked" not in sample["text"]


def test_a_retried_opening_post_edits_its_message_without_a_reopened_reply(store, slack) -> None:
    """The opening post stored its message before it was marked sent: a crash in the
    chart upload, or a store refusing the mark, and the retry answered in the thread
    with "Reopened" (and a second chart)."""
    store.record(alert(), targets=["slack"])
    [claimed] = store.pending_deliveries("slack", lease=0.0)
    w = worker(store, slack)
    notifier = w.notifiers["slack"]
    notifier.deliver(claimed)  # posted and stored; the worker died before the mark
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert [m.text for m in slack.replies(root) if not m.files] == []
    assert store.deliveries(claimed.incident)[0].status == "sent"
    store.record(alert(event="escalated", severity="high", at=T0 + 600), targets=["slack"])
    assert w.drain(timeout=10)
    assert [m.text[:12] for m in slack.replies(root) if not m.files] == ["⬆️ Escalated"]


def test_a_retry_after_slack_sdk_cannot_read_is_waited_out_in_the_client(store, slack) -> None:
    """slack_sdk reads Retry-After with int(): "1.5" (or an HTTP-date) raised ValueError
    inside the client, and the post failed with a traceback instead of waiting."""
    w = worker(store, slack)
    slack.script("chat.postMessage", Status(429, retry_after="1.5"))
    store.record(alert(), targets=["slack"])
    started = time.monotonic()
    assert w.run_once() == 1
    assert store.deliveries("acme/p1/2026-03-02T09:15Z")[0].status == "sent"
    assert time.monotonic() - started >= 1.4
    assert len(slack.roots()) == 1


def test_a_message_slack_will_not_let_us_edit_still_gets_its_thread_reply(store, slack) -> None:
    """`cant_update_message` (the app was installed anew as another bot user) is a
    permanent error: every later escalation of the incident was dead, though Slack
    takes the reply into the thread."""
    w = worker(store, slack)
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=10)
    slack.script("chat.update", Error("cant_update_message"))
    store.record(alert(event="escalated", severity="high", at=T0 + 600), targets=["slack"])
    assert w.drain(timeout=10)
    [root] = slack.roots()
    assert [m.text[:12] for m in slack.replies(root) if not m.files] == ["⬆️ Escalated"]


def test_a_retried_reply_in_a_long_thread_is_found_not_posted_twice(store, slack) -> None:
    """The search for a reply whose answer was lost read the thread's first 1,000
    messages, oldest first: in a thread of weeks of updates the reply, the newest, was
    never among them and was posted again."""
    from tests.fake_slack import Message

    w = worker(store, slack, timeout=0.5)
    store.record(alert(), targets=["slack"])
    assert w.drain(timeout=10)
    [root] = slack.roots()
    old = f"{int(time.time()) - 86400}"
    slack.messages.extend(
        Message(root.channel, f"{old}.{n:06d}", "Update", None, None, root.ts) for n in range(1100)
    )
    slack.script("chat.postMessage", SlowAfterAccept(1.0))
    store.record(alert(event="escalated", severity="high", at=T0 + 600), targets=["slack"])
    assert w.drain(timeout=10)
    escalations = [m for m in slack.replies(root) if m.text.startswith("⬆️ Escalated")]
    assert len(escalations) == 1


def test_a_chart_upload_that_times_out_pauses_charts_not_alerts(store, slack) -> None:
    """An upload host that does not answer held each alert behind it for the client's
    time-out, event after event. After one time-out, charts wait ten minutes."""
    w = worker(store, slack, timeout=0.5)
    slack.script("files.getUploadURLExternal", SlowAfterAccept(1.0))
    events = [("opened", "medium"), ("updated", "medium"), ("escalated", "high")]
    events += [("escalated", "critical")]
    for i, (event, severity) in enumerate(events):
        store.record(
            alert(event=event, severity=severity, at=T0 + 600 * i, negative_per_min=4.0 * (i + 1)),
            targets=["slack"],
        )
        assert w.drain(timeout=10)
    [root] = slack.roots()
    assert [m.text[:12] for m in slack.replies(root) if not m.files][-2:] == ["⬆️ Escalated"] * 2
    assert len(slack.calls_to("files.getUploadURLExternal")) == 1  # the second: paused


def test_peoples_text_formats_nothing_and_long_ids_are_cut_whole() -> None:
    """Comment text, author ids and a thread id reached mrkdwn sections as they were:
    `*bold claim*` was bold and `*@here*` in a thread id sat in a section Slack parses
    mentions in. One author id of 512 "&" filled the accounts section, cut in the
    middle of "&amp;", and the other accounts went. A family emoji was cut to a man."""
    import json as json_module

    from stormwatch.alerts.slack_message import incident_blocks, reply_text

    family = "👨‍👩‍👧‍👦"
    event = alert(thread_id="*@here*").to_json_dict()
    event["summary"] = "Negative comments on thread *@here* of acme run at 2.0/min."
    event["samples"] = [
        {"id": "c1", "text": "*bold claim* _italic_ ~strike~ `code` " + family * 60,
         "author_id": "*boss*", "negativity": 0.9},
    ]  # fmt: skip
    event["drivers"] = {**event["drivers"], "top_accounts": [
        {"author_id": "&" * 512, "comments": 9}, {"author_id": "*boss*", "comments": 5},
        {"author_id": "carol", "comments": 3}]}  # fmt: skip
    blocks = incident_blocks(event)
    sections = [b["text"] for b in blocks if b["type"] == "section" and "text" in b]
    mrkdwn = "\n".join(t["text"] for t in sections)
    for formatted in ("*bold claim*", "_italic_", "~strike~", "`code`", "*boss*", "*@here*"):
        assert formatted not in mrkdwn, formatted
    assert "∗bold claim∗" in mrkdwn and "∗boss∗" in mrkdwn
    summary = next(t for t in sections if "run at" in t["text"])
    assert summary.get("verbatim") is True
    accounts = next(t["text"] for t in sections if "Loudest accounts" in t["text"])
    assert "carol" in accounts and "∗boss∗" in accounts and len(accounts) < 700
    assert "&amp" not in accounts.split("carol")[1]  # no entity cut in two
    comment = next(t["text"] for t in sections if "Top comments" in t["text"])
    assert "\u200d…" not in comment and comment.count(family) >= 1
    assert json_module.dumps(comment).count("\\u200d") % 3 == 0  # whole families only
    assert "*@here*" not in reply_text({**event, "event": "updated"})


def test_large_ratios_header_cuts_and_reading_notes_read_as_the_card_does(
    tmp_path: Path,
) -> None:
    """The card printed "*1.88e+03x*" beside a summary's "1880x"; the header was cut
    inside an emoji; the note for a marked comment let its `*NEVER*` format and cut a
    family emoji in two."""
    from stormwatch.alerts.comment_readings import CommentReadings
    from stormwatch.alerts.slack_message import incident_blocks

    family = "👨‍👩‍👧‍👦"
    event = alert(brand="x" * 130 + family * 3).to_json_dict()
    event["drivers"] = {**event["drivers"], "negative_per_min_now": 564.0}
    blocks = incident_blocks(event)
    assert "*1880x*" in str(blocks) and "e+03" not in str(blocks)
    header = blocks[0]["text"]["text"]
    assert header.endswith("…") and "\u200d…" not in header and len(header) <= 150

    with IncidentStore.open(str(tmp_path / "store.db")) as store:
        sample = {"id": "c1", "text": "*NEVER* ~again~ " + family * 30, "author_id": "u1"}
        shown = replace(alert(), samples=[sample])
        store.record(shown, targets=[])
        result = CommentReadings(store, notify_slack=False).mark(
            shown.incident, "c1", negative=True, who="<@U1>"
        )
    assert "*NEVER*" not in result.note and "~again~" not in result.note
    assert "∗NEVER∗" in result.note and "\u200d…" not in result.note
