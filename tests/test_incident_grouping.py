"""New thread storms inside an open incident are told together (Alertmanager's
`group_interval`): the storm's first post, its first spread and a higher severity at
once, the posts that join after them in one event per `group_minutes`, every post named
once and none lost."""

from __future__ import annotations

import pickle

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.incidents import Evidence, Incident, IncidentTracker
from stormwatch.alerts.slack_message import reply_text
from stormwatch.detectors.crisis import Assessment

X = {
    "top_thread_share_30": 0.3,
    "top_thread_neg_30": 6,
    "off_top_thread_neg_30": 14,
    "off_top_thread_neg_120": 14,
}


def assessment(ratio: float) -> Assessment:
    return Assessment(
        score=ratio, raw_score=ratio, ratio=ratio, key_ratio=ratio, growth=0.0, volume=1.0,
        benign=None, alerting=True,
    )  # fmt: skip


def evidence(minute: int) -> Evidence:
    return lambda: (60.0 * minute, dict(X))


def tracker() -> IncidentTracker:
    return IncidentTracker(
        explain=lambda incident, kind, a, x: ("Negatives run high.", {}, [], None),
        clock=lambda: 0.0,
        group_minutes=10,
    )


def opened(t: IncidentTracker, minute: int = 1000, ratio: float = 12) -> AlertEvent:
    event = t.observe(
        "acme", brand="acme", thread_id=None, minute=minute, evidence=evidence(minute),
        a=assessment(ratio), one_thread=True,
    )  # fmt: skip
    assert event is not None and event.event == "opened"
    return event


def named(events: list[AlertEvent]) -> list[str]:
    return [p for e in events for p in e.drivers.get("new_thread_storms", [])]


def test_posts_joining_within_the_interval_are_named_in_one_event() -> None:
    t = tracker()
    opened(t)
    events = []
    # Its own post first (news: where the storm is), then a second post (news: it
    # spread), then eight more, one a minute, at the same severity.
    for i, minute in enumerate(range(1001, 1011)):
        event = t.absorb(
            "acme", f"p{i}", minute=minute, evidence=evidence(minute), a=assessment(12)
        )
        if event is not None:
            events.append(event)
    assert [e.drivers["new_thread_storms"] for e in events] == [["p0"], ["p1"]]
    assert events[0].summary.startswith("The storm is on post p0.")
    assert events[1].summary.startswith("Spread to post p1.") and events[1].kind == "spreading"
    # Nothing yet: the interval since the last event naming posts (minute 1002) runs.
    for minute in range(1011, 1012):
        assert t.observe(
            "acme", brand="acme", thread_id=None, minute=minute, evidence=evidence(minute),
            a=assessment(12),
        ) is None  # fmt: skip
    grouped = t.observe(
        "acme", brand="acme", thread_id=None, minute=1012, evidence=evidence(1012),
        a=assessment(12),
    )  # fmt: skip
    assert grouped is not None and grouped.event == "escalated"
    assert grouped.drivers["new_thread_storms"] == [f"p{i}" for i in range(2, 10)]
    assert grouped.drivers["new_thread_storm"] == "p2"
    assert grouped.drivers["absorbed_threads"] == [f"p{i}" for i in range(10)]
    assert grouped.summary.startswith("Spread to 8 more posts: p2, p3, p4, p5, p6 and 3 more.")
    reply = reply_text(grouped.to_json_dict())
    assert reply.startswith("⬆️ *HIGH*: Spread to 8 more posts"), reply
    # Told once: later minutes of the same storm name nobody again.
    later = [
        t.observe(
            "acme", brand="acme", thread_id=None, minute=m, evidence=evidence(m),
            a=assessment(12),
        )
        for m in range(1013, 1040)
    ]  # fmt: skip
    assert named([e for e in later if e is not None]) == []
    assert named(events + [grouped]) == [f"p{i}" for i in range(10)]


def test_a_higher_severity_is_told_at_once_with_the_posts_waiting() -> None:
    t = tracker()
    opened(t)
    assert t.absorb("acme", "p0", minute=1001, evidence=evidence(1001), a=assessment(12))
    assert t.absorb("acme", "p1", minute=1002, evidence=evidence(1002), a=assessment(12))
    assert t.absorb("acme", "p2", minute=1003, evidence=evidence(1003), a=assessment(12)) is None
    # The brand's own test rises to critical: an escalation now, naming p2 with it.
    event = t.observe(
        "acme", brand="acme", thread_id=None, minute=1004, evidence=evidence(1004),
        a=assessment(40),
    )  # fmt: skip
    assert event is not None and event.event == "escalated" and event.severity == "critical"
    assert event.drivers["new_thread_storms"] == ["p2"]
    # A post storming at a higher severity than the incident's is told at once too.
    t2 = tracker()
    opened(t2)
    t2.absorb("acme", "p0", minute=1001, evidence=evidence(1001), a=assessment(12))
    t2.absorb("acme", "p1", minute=1002, evidence=evidence(1002), a=assessment(12))
    hot = t2.absorb("acme", "p2", minute=1003, evidence=evidence(1003), a=assessment(40))
    assert hot is not None and hot.severity == "critical"
    assert hot.drivers["new_thread_storms"] == ["p2"]


def test_a_post_waiting_when_the_incident_resolves_is_not_named_as_new() -> None:
    t = IncidentTracker(
        explain=lambda incident, kind, a, x: ("s", {}, [], None), clock=lambda: 0.0,
        quiet_minutes=1, group_minutes=10,
    )  # fmt: skip
    opened(t)
    t.absorb("acme", "p0", minute=1001, evidence=evidence(1001), a=assessment(12))
    t.absorb("acme", "p1", minute=1002, evidence=evidence(1002), a=assessment(12))
    assert t.absorb("acme", "p2", minute=1003, evidence=evidence(1003), a=assessment(12)) is None
    calm = Assessment(
        score=0.0, raw_score=0.0, ratio=0.5, key_ratio=0.5, growth=0.0, volume=1.0,
        benign=None, alerting=False,
    )  # fmt: skip
    resolved = t.observe(
        "acme", brand="acme", thread_id=None, minute=1004, evidence=evidence(1004), a=calm
    )
    assert resolved is not None and resolved.event == "resolved"
    assert "new_thread_storms" not in resolved.drivers
    assert resolved.drivers["absorbed_threads"] == ["p0", "p1", "p2"]


def test_posts_waiting_survive_a_checkpoint_and_old_checkpoints_load() -> None:
    t = tracker()
    opened(t)
    t.absorb("acme", "p0", minute=1001, evidence=evidence(1001), a=assessment(12))
    t.absorb("acme", "p1", minute=1002, evidence=evidence(1002), a=assessment(12))
    t.absorb("acme", "p2", minute=1003, evidence=evidence(1003), a=assessment(12))
    restored = pickle.loads(pickle.dumps(t.open))
    assert restored["acme"].untold == ["p2"] and restored["acme"].told_minute == 1002
    # An incident pickled before these fields existed: nothing waits, nothing told yet.
    old = Incident("k", "acme", None, "spreading", "high", 0, 1.0, 5.0, 0, 5.0)
    slots = {name: getattr(old, name) for name in Incident.__slots__}
    del slots["untold"], slots["told_minute"]
    fresh = Incident.__new__(Incident)
    fresh.__setstate__((None, slots))
    assert fresh.untold == [] and fresh.told_minute == -1


def test_a_posts_incident_reopened_on_its_brand_does_not_spread_to_its_own_post() -> None:
    """A post's incident that came back on its brand's key (a brand alert soon after it
    resolved) took its own post's next alert for a new post: "Spread to post T" with T
    its own post, and the kind turned `spreading`."""
    from collections import Counter

    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
    from stormwatch.pipeline import Pipeline
    from tests.seeded_runs import replay

    spec = ScenarioSpec(
        "own-post", duration_s=12 * 3600,
        brands=(BrandSpec("shop", 20000, lang="en", threads_per_day=8),),
        events=(EventSpec("firestorm", "shop", 4 * 3600, 3600),
                EventSpec("spreading_firestorm", "shop", 8 * 3600, 3600, n_threads=8)),
        seed=1,
    )  # fmt: skip
    scenario = generate(spec)
    first, second = scenario.labels[0].thread_id, scenario.labels[1].name
    posts = Counter(c["thread_id"] for c in scenario.comments if c["id"].startswith(second + "#"))
    again = posts.most_common()[3][0]  # one of the spread's posts is the first storm's
    comments = [
        {**c, "thread_id": first}
        if c["id"].startswith(second + "#") and c["thread_id"] == again
        else c
        for c in scenario.comments
    ]
    memory = MemoryAlertSink()
    replay(comments, pipeline=Pipeline(sinks=[memory]))
    mine = [e for e in memory.events if e.thread_id == first]
    assert any(e.drivers.get("reopened") for e in mine), "the first storm's incident came back"
    for e in mine:
        assert first not in (e.drivers.get("new_thread_storms") or []), e.summary


def test_an_incidents_playbook_stays_as_its_storm_fades() -> None:
    """The playbook was matched on each event's last half hour only: as a storm faded
    its events, the incident and its Slack card turned to the catch-all (`generic`),
    and the team's steps changed under them."""
    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.config import Settings
    from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
    from stormwatch.runtime import build_pipeline
    from tests.seeded_runs import replay

    spec = ScenarioSpec(
        "fading", duration_s=12 * 3600,
        brands=(BrandSpec("shop", 3000, lang="en", threads_per_day=8),),
        events=(EventSpec("firestorm", "shop", 6 * 3600, 3600),), seed=1,
    )  # fmt: skip
    memory = MemoryAlertSink()
    replay(
        generate(spec).comments,
        pipeline=build_pipeline(Settings(), env={}, delivery_sinks=[memory]),
    )
    events = [e for e in memory.events if e.incident == memory.events[0].incident]
    assert events[0].playbook not in (None, "generic") and events[-1].event == "resolved"
    assert {e.playbook for e in events} == {events[0].playbook}, [
        (e.event, e.playbook) for e in events
    ]
