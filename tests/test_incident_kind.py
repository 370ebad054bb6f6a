"""An incident's `kind` and its Slack header keep their word while it is open (the alert
contract): a brand-wide incident that has spread stays `spreading` ("brand-wide") even
when one thread later carries most of it; one that opened on one post may spread, once."""

from __future__ import annotations

import pytest

from stormwatch.alerts.incidents import Evidence, IncidentTracker
from stormwatch.alerts.slack_message import headline
from stormwatch.detectors.crisis import Assessment


def assessment(ratio: float) -> Assessment:
    return Assessment(
        score=ratio, raw_score=ratio, ratio=ratio, key_ratio=ratio, growth=0.0, volume=1.0,
        benign=None, alerting=True,
    )  # fmt: skip


def evidence(at: float, x: dict[str, float]) -> Evidence:
    return lambda: (at, x)


def negatives(top_share: float, total: int = 20) -> dict[str, float]:
    """A brand window's last half hour: `total` negatives, `top_share` of them on its
    busiest post."""
    top = round(total * top_share)
    return {
        "top_thread_share_30": top / total if total else 0.0,
        "top_thread_neg_30": top,
        "off_top_thread_neg_30": total - top,
        "off_top_thread_neg_120": total - top,
    }


@pytest.mark.parametrize(
    ("top_thread_shares", "kinds"),
    [
        ((0.2, 0.9, 0.95), ("spreading", "spreading", "spreading")),  # spread: stays spread
        ((0.9, 0.2, 0.9), ("firestorm", "spreading", "spreading")),  # one post, then spread
        ((0.9, 0.9, 0.9), ("firestorm", "firestorm", "firestorm")),  # one post throughout
    ],
)
def test_a_brand_wide_incident_never_turns_back(
    top_thread_shares: tuple[float, ...], kinds: tuple[str, ...]
) -> None:
    tracker = IncidentTracker(
        explain=lambda incident, kind, a, x: ("summary", {}, [], None), clock=lambda: 0.0
    )
    events = []
    # Each minute a higher severity band: every observation is an event.
    for minute, (share, ratio) in enumerate(zip(top_thread_shares, (4, 12, 40), strict=True)):
        event = tracker.observe(
            "acme", brand="acme", thread_id=None, minute=1000 + minute,
            evidence=evidence(60_000.0 + 60 * minute, negatives(share)),
            a=assessment(ratio),
        )  # fmt: skip
        assert event is not None
        events.append(event)
    assert tuple(e.kind for e in events) == kinds
    assert tracker.history[0].one_post == (kinds[0] == "firestorm")
    headers = [headline(e.to_json_dict()).rsplit(" · ", 1)[1] for e in events]
    assert headers == ["brand-wide" if k == "spreading" else "brand" for k in kinds]


def test_a_brand_wide_incident_one_thread_carries_is_a_firestorm_until_it_spreads() -> None:
    """The brand's tests alerted while one thread carried most of its excess (that
    thread's own tests not yet over): the incident is that post's storm, although the
    other posts' usual talk keeps the thread's share of all negatives under half."""
    tracker = IncidentTracker(
        explain=lambda incident, kind, a, x: ("summary", {}, [], None), clock=lambda: 0.0
    )
    kinds = []
    carried = zip((True, True, False), (4, 12, 40), strict=True)
    for minute, (one_thread, ratio) in enumerate(carried):
        event = tracker.observe(
            "acme", brand="acme", thread_id=None, minute=1000 + minute,
            evidence=evidence(60_000.0 + 60 * minute, negatives(0.3)),
            a=assessment(ratio), one_thread=one_thread,
        )  # fmt: skip
        assert event is not None
        kinds.append(event.kind)
    assert kinds == ["firestorm", "firestorm", "spreading"]
    # A verdict on it is compared with thread storms (as the live surge was), also
    # after it spread: what it was when someone saw it open.
    assert tracker.history[0].one_post


def test_a_brand_wide_firestorm_stays_one_post_when_its_thread_storms_then_spreads() -> None:
    tracker = IncidentTracker(
        explain=lambda incident, kind, a, x: ("summary", {}, [], None), clock=lambda: 0.0
    )
    x = negatives(0.3)  # the other posts' usual talk dilutes the share
    opened = tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1000, evidence=evidence(60_000.0, x),
        a=assessment(4), one_thread=True,
    )  # fmt: skip
    first = tracker.absorb(
        "acme", "p1", minute=1001, evidence=evidence(60_060.0, x), a=assessment(12)
    )
    second = tracker.absorb(
        "acme", "p2", minute=1002, evidence=evidence(60_120.0, x), a=assessment(40)
    )
    assert opened is not None and first is not None and second is not None
    assert [opened.kind, first.kind, second.kind] == ["firestorm", "firestorm", "spreading"]


def test_a_post_storms_tail_on_other_posts_is_not_a_spread() -> None:
    """Hours into a post's storm its brand's tests are still up; a few negatives on other
    posts (fewer than ten, the tracker's default `min_spread`) keep the incident a
    firestorm, and its resolution, with no negatives left, does not relabel it either;
    at a brand of two negatives a minute, twelve elsewhere in half an hour are its
    everyday talk, not a spread."""
    tracker = IncidentTracker(
        explain=lambda incident, kind, a, x: ("summary", {}, [], None),
        clock=lambda: 0.0,
        quiet_minutes=1,
    )
    storm = tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1000,
        evidence=evidence(60_000.0, negatives(0.9)), a=assessment(4),
    )  # fmt: skip
    tail = tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1001,
        evidence=evidence(60_060.0, negatives(1 / 3, total=3)), a=assessment(12),
    )  # fmt: skip
    calm = Assessment(
        score=0.0, raw_score=0.0, ratio=0.5, key_ratio=0.5, growth=0.0, volume=1.0,
        benign=None, alerting=False,
    )  # fmt: skip
    resolved = tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1002,
        evidence=evidence(60_120.0, negatives(0.0, total=0)), a=calm,
    )  # fmt: skip
    assert storm is not None and tail is not None and resolved is not None
    assert [storm.kind, tail.kind, resolved.event, resolved.kind] == [
        "firestorm",
        "firestorm",
        "resolved",
        "firestorm",
    ]
    # Twelve negatives elsewhere in half an hour: a spread, unless the brand's normal
    # brings that many (two a minute: 180 in half an hour at three times it).
    assert kind_after_one_post(negatives(0.4, total=20)) == "spreading"
    busy = {**negatives(0.4, total=20), "expected_neg_per_min": 2.0}
    assert kind_after_one_post(busy) == "firestorm"


def kind_after_one_post(x: dict[str, float]) -> str:
    """The kind of a brand-wide incident that opened on one post, at its next event,
    decided with the features `x`."""
    tracker = IncidentTracker(
        explain=lambda incident, kind, a, x: ("summary", {}, [], None), clock=lambda: 0.0
    )
    tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1000,
        evidence=evidence(60_000.0, negatives(0.9)), a=assessment(4),
    )  # fmt: skip
    event = tracker.observe(
        "acme", brand="acme", thread_id=None, minute=1001,
        evidence=evidence(60_060.0, x), a=assessment(12),
    )  # fmt: skip
    assert event is not None
    return event.kind
