"""When an incident resolves: after `quiet_minutes` of calm at a brand whose negatives
flow, later at one whose negatives come hours apart (there a storm's end shows only as
their absence, and a slow swell must not resolve between two of its negatives)."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.incidents import (
    QUIET_EVIDENCE,
    QUIET_MAX_MINUTES,
    REOPEN_MINUTES,
    RETURN_MINUTES,
    SETTLE_MINUTES,
    STORM_RATIO,
    IncidentTracker,
)
from stormwatch.detectors.crisis import Assessment

PER_DAY = 1.0 / 1440.0


def tracker() -> IncidentTracker:
    return IncidentTracker(
        explain=lambda incident, kind, a, x: ("summary", {}, [], None), clock=lambda: 0.0
    )


def assessment(
    ratio: float,
    *,
    alerting: bool,
    normal_rate: float,
    score: float | None = None,
    volume_ratio: float = 1.0,
) -> Assessment:
    """`score`: the tests' evidence (default 2.0 when alerting, else 0.0)."""
    if score is None:
        score = 2.0 if alerting else 0.0
    return Assessment(
        score=score, raw_score=0.0, ratio=ratio, key_ratio=ratio, growth=0.0, volume=0.0,
        benign=None, alerting=alerting, normal_rate=normal_rate, volume_ratio=volume_ratio,
    )  # fmt: skip


def calm_minutes_to_resolve(normal_rate: float) -> int:
    """Opens an incident, then feeds calm minutes until it resolves; how many it took."""
    t = tracker()
    evidence = lambda: (0.0, {})  # noqa: E731
    opened = t.observe(
        "acme", brand="acme", thread_id=None, minute=1000, evidence=evidence,
        a=assessment(20.0, alerting=True, normal_rate=normal_rate),
    )  # fmt: skip
    assert opened is not None and opened.event == "opened"
    calm = assessment(0.5, alerting=False, normal_rate=normal_rate)
    for n in range(1, 2 * QUIET_MAX_MINUTES):
        event = t.observe(
            "acme", brand="acme", thread_id=None, minute=1000 + n, evidence=evidence, a=calm
        )
        if event is not None and event.event == "resolved":
            return n
    raise AssertionError("never resolved")


@pytest.mark.parametrize(
    ("negatives_per_day", "minutes"),
    [(14_400.0, 30), (48.0, 30), (24.0, 60), (10.0, 144), (1.0, QUIET_MAX_MINUTES)],
)
def test_calm_lasts_longer_where_negatives_are_hours_apart(
    negatives_per_day: float, minutes: int
) -> None:
    assert calm_minutes_to_resolve(negatives_per_day * PER_DAY) == minutes


def test_a_storm_still_running_would_have_shown_within_the_calm_asked_for() -> None:
    """Below the cap, a storm at STORM_RATIO times the normal brings at least one negative
    in the calm asked for with 95 % probability."""
    t = tracker()
    for per_day in (0.5, 1.0, 5.0, 10.0, 24.0, 47.0, 48.0, 100.0, 5000.0):
        rate = per_day * PER_DAY
        minutes = t.quiet_needed(rate)
        assert t.quiet_minutes <= minutes <= QUIET_MAX_MINUTES
        if minutes < QUIET_MAX_MINUTES:
            assert math.exp(-STORM_RATIO * rate * minutes) <= 0.05
        if minutes > t.quiet_minutes:  # and not longer than that needs
            assert math.exp(-STORM_RATIO * rate * (minutes - 1)) > 0.05


def test_an_unknown_normal_keeps_quiet_minutes() -> None:
    assert calm_minutes_to_resolve(0.0) == 30
    assert tracker().quiet_needed(0.0) == 30


def _calm_with_one_negative(stirred: Assessment, at: int) -> list[tuple[int, str]]:
    """An incident at a brand of 10 negatives a day (144 calm minutes resolve it), calm
    but for `stirred` at minute `at`: its events after the opening."""
    t = tracker()
    rate = 10.0 * PER_DAY
    evidence = lambda: (0.0, {})  # noqa: E731
    t.observe("acme", brand="acme", thread_id=None, minute=0, evidence=evidence,
              a=assessment(20.0, alerting=True, normal_rate=rate))  # fmt: skip
    calm = assessment(0.5, alerting=False, normal_rate=rate)
    events = []
    for minute in range(1, 400):
        a = stirred if minute == at else calm
        event = t.observe("acme", brand="acme", thread_id=None, minute=minute,
                          evidence=evidence, a=a)  # fmt: skip
        if event is not None:
            events.append((minute, event.event))
    return events


def test_a_negative_in_the_calm_starts_it_again() -> None:
    """One negative (3x the normal) while the tests still hold the storm's evidence."""
    stirred = assessment(3.0, alerting=False, normal_rate=10.0 * PER_DAY, score=0.8)
    events = _calm_with_one_negative(stirred, at=130)
    assert events == [(130, "updated"), (130 + 144, "resolved")]  # 144 calm minutes after it


def test_a_negative_the_tests_see_nothing_in_settles_only_as_part_of_more_talk() -> None:
    """Past `SETTLE_MINUTES`, with the tests' evidence under `QUIET_EVIDENCE`: a lone
    negative among the usual comments (three times the usual share) still starts the
    calm again; the same negatives among three times the comments do not."""
    rate = 10.0 * PER_DAY
    quiet = 0.9 * QUIET_EVIDENCE
    lone = assessment(3.0, alerting=False, normal_rate=rate, score=quiet)
    busier = assessment(3.0, alerting=False, normal_rate=rate, score=quiet, volume_ratio=3.0)
    assert SETTLE_MINUTES < 130 < 144
    assert _calm_with_one_negative(lone, at=130) == [(130, "updated"), (274, "resolved")]
    assert _calm_with_one_negative(busier, at=130) == [(144, "resolved")]
    assert _calm_with_one_negative(busier, at=100) == [(100, "updated"), (244, "resolved")]


def test_a_busy_day_after_a_storm_resolves_its_incident() -> None:
    """Real tweet volume: after a campaign a brand's mentions ran 3-5x their normal for
    a day, its negatives with them, no more negative than usual (the tests at zero). Its
    incident resolves after the calm asked for, counted from `SETTLE_MINUTES` after it
    opened; it stays open while the tests still hold evidence, and a minute that alerts
    starts the calm again."""
    rate = 0.1  # negatives a minute: 30 calm minutes
    evidence = lambda: (0.0, {})  # noqa: E731

    def resolved(script: Callable[[int], Assessment]) -> list[int]:
        t = tracker()
        t.observe("acme", brand="acme", thread_id=None, minute=0, evidence=evidence,
                  a=assessment(20.0, alerting=True, normal_rate=rate))  # fmt: skip
        out = []
        for minute in range(1, 400):
            event = t.observe("acme", brand="acme", thread_id=None, minute=minute,
                              evidence=evidence, a=script(minute))  # fmt: skip
            if event is not None and event.event == "resolved":
                out.append(minute)
        return out

    holding = assessment(4.0, alerting=False, normal_rate=rate, score=QUIET_EVIDENCE)
    busy = assessment(4.0, alerting=False, normal_rate=rate, score=0.1, volume_ratio=4.0)
    alerting = assessment(4.0, alerting=True, normal_rate=rate, score=1.1)
    assert resolved(lambda m: busy) == [SETTLE_MINUTES + 29]
    script = lambda m: holding if m < 200 else alerting if m == 220 else busy  # noqa: E731
    assert resolved(script) == [220 + 30]


def _resolved_then(a: Assessment, after: int) -> str | None:
    """Opens an incident on a post, calms it until it resolves, then `a` comes `after`
    minutes later: what that opens (None: nothing)."""
    event = _resolved_then_event(a, after)[1]
    return event.event if event is not None else None


def _resolved_then_event(
    a: Assessment, after: int
) -> tuple[IncidentTracker, AlertEvent | None, str]:
    """`_resolved_then`'s tracker, event and the key of the incident that resolved."""
    t, minute, key = _opened_then_resolved("p")
    event = t.observe("acme/p", brand="acme", thread_id="p", minute=minute + after,
                      evidence=lambda: (0.0, {}), a=a)  # fmt: skip
    return t, event, key


def _opened_then_resolved(thread_id: str | None) -> tuple[IncidentTracker, int, str]:
    """An incident opened on acme's post `thread_id` (None: brand-wide) and calmed until
    it resolved: the tracker, the minute after, the incident's key."""
    t = tracker()
    key = "acme" if thread_id is None else f"acme/{thread_id}"
    evidence = lambda: (0.0, {})  # noqa: E731
    first = t.observe(key, brand="acme", thread_id=thread_id, minute=0, evidence=evidence,
                      a=_alert(ratio=6.0, key_ratio=18.0))  # fmt: skip
    assert first is not None
    calm = Assessment(
        score=0.0, raw_score=0.0, ratio=0.4, key_ratio=0.8, growth=0.0, volume=0.0,
        benign=None, alerting=False, normal_rate=0.5,
    )  # fmt: skip
    minute = 1
    while key in t.open:
        t.observe(key, brand="acme", thread_id=thread_id, minute=minute, evidence=evidence, a=calm)
        minute += 1
    return t, minute, first.incident


def _alert(ratio: float, key_ratio: float) -> Assessment:
    return Assessment(
        score=1.2, raw_score=1.2, ratio=ratio, key_ratio=key_ratio, growth=0.0, volume=0.0,
        benign=None, alerting=True, normal_rate=0.5,
    )  # fmt: skip


def test_a_storms_tail_does_not_reopen_the_key_it_resolved_on() -> None:
    """The tail of a storm on a post: three times the post's usual, under the brand's
    normal, calm by the measure that resolved it (fresh seed 1107 opened it again)."""
    tail = _alert(ratio=0.7, key_ratio=3.0)
    assert _resolved_then(tail, after=20) is None
    assert _resolved_then(tail, after=REOPEN_MINUTES) == "escalated"  # back by then
    assert _resolved_then(tail, after=RETURN_MINUTES) == "opened"  # a new storm


def test_a_storm_back_within_hours_reopens_its_incident() -> None:
    """A swell that lulls for hours and comes back is one storm: its incident opens
    again, escalating from resolved, and says how long it was calm."""
    t, event, key = _resolved_then_event(_alert(ratio=2.5, key_ratio=8.0), after=140)
    assert event is not None and event.event == "escalated" and event.incident == key
    assert event.drivers["reopened"] is True
    # (`_resolved_then_event` comes `after` minutes after the minute past the resolution)
    assert event.summary.startswith("Back after 141 calm minutes.")
    assert event.drivers["calm_minutes"] == 141
    incident = t.open["acme/p"]
    assert len(t.history) == 1 and incident.reopened == [incident.last_event_minute]


def test_a_new_storm_on_that_key_after_the_return_window_opens_its_own() -> None:
    t, event, key = _resolved_then_event(_alert(ratio=2.5, key_ratio=8.0), after=RETURN_MINUTES)
    assert event is not None and event.event == "opened" and event.incident != key
    assert len(t.history) == 2 and t.history[0].reopened == []


def test_a_reopened_incident_resolves_and_reopens_again() -> None:
    t, event, key = _resolved_then_event(_alert(ratio=2.5, key_ratio=8.0), after=30)
    assert event is not None and event.event == "escalated"
    calm = Assessment(
        score=0.0, raw_score=0.0, ratio=0.4, key_ratio=0.8, growth=0.0, volume=0.0,
        benign=None, alerting=False, normal_rate=0.5,
    )  # fmt: skip
    minute = t.open["acme/p"].last_event_minute + 1
    kinds = []
    while len(kinds) < 2:
        e = t.observe("acme/p", brand="acme", thread_id="p", minute=minute,
                      evidence=lambda: (0.0, {}), a=calm)  # fmt: skip
        if e is not None:
            kinds.append(e.event)
            e = t.observe("acme/p", brand="acme", thread_id="p", minute=minute + 200,
                          evidence=lambda: (0.0, {}), a=_alert(2.5, 8.0))  # fmt: skip
            assert e is not None
            kinds.append(e.event)
        minute += 1
    assert kinds == ["resolved", "escalated"] and e.incident == key
    assert len(t.history[0].reopened) == 2


def test_a_checkpoint_from_before_reopening_restores() -> None:
    t = tracker()
    state = t.__dict__.copy()
    del state["resolved"], state["returning"]
    restored = IncidentTracker.__new__(IncidentTracker)
    restored.__setstate__(state)
    assert restored.resolved == {} and restored.returning == {}
    assert restored.observe("acme", brand="acme", thread_id=None, minute=5,
                            evidence=lambda: (0.0, {}),
                            a=_alert(ratio=3.0, key_ratio=3.0)) is not None  # fmt: skip


def test_a_minute_its_key_alerts_in_is_not_calm() -> None:
    """A slow storm at a busy brand can run under twice the brand's normal while its
    tests alert: those minutes do not count towards its calm, the others do."""
    t = tracker()
    evidence = lambda: (0.0, {})  # noqa: E731
    rate = 0.8  # negatives a minute: 30 calm minutes resolve (see above)
    t.observe(
        "acme", brand="acme", thread_id=None, minute=1000, evidence=evidence,
        a=assessment(20.0, alerting=True, normal_rate=rate),
    )  # fmt: skip
    low_but_alerting = assessment(1.2, alerting=True, normal_rate=rate)
    calm = assessment(1.2, alerting=False, normal_rate=rate)
    events = []
    for n in range(1, 200):
        a = low_but_alerting if n % 20 == 0 else calm  # an alerting minute every 20
        event = t.observe(
            "acme", brand="acme", thread_id=None, minute=1000 + n, evidence=evidence, a=a
        )
        events.append(None if event is None else event.event)
    assert "resolved" not in events  # 19 calm minutes at most between two alerting
    resolved_at = None
    for n in range(200, 240):
        event = t.observe(
            "acme", brand="acme", thread_id=None, minute=1000 + n, evidence=evidence, a=calm
        )
        if event is not None and event.event == "resolved":
            resolved_at = n
    assert resolved_at == 210  # 30 calm minutes after the last alerting one, 180


def _brand_resolved() -> tuple[IncidentTracker, int]:
    """A brand-wide incident opened and calmed until it resolved; the minute after."""
    t, minute, _ = _opened_then_resolved(None)
    return t, minute


def test_a_post_storming_soon_after_reopens_its_brands_incident_naming_it() -> None:
    t, minute = _brand_resolved()
    event = t.reopen_with_thread("acme", "p1", minute=minute + 15, evidence=lambda: (0.0, {}),
                                 a=_alert(ratio=2.5, key_ratio=8.0))  # fmt: skip
    assert event is not None and event.event == "escalated" and event.drivers["reopened"]
    assert event.summary.startswith("Back after 16 calm minutes. Spread to post p1.")
    assert t.open["acme"].threads == ["p1"] and len(t.history) == 1


def test_a_posts_tail_or_a_late_storm_does_not_reopen_its_brands_incident() -> None:
    t, minute = _brand_resolved()
    tail = _alert(ratio=0.7, key_ratio=3.0)
    assert t.reopen_with_thread("acme", "p1", minute=minute + 15,
                                evidence=lambda: (0.0, {}), a=tail) is None  # fmt: skip
    storm = _alert(ratio=2.5, key_ratio=8.0)
    assert t.reopen_with_thread("acme", "p1", minute=minute + RETURN_MINUTES,
                                evidence=lambda: (0.0, {}), a=storm) is None  # fmt: skip
    assert not t.open


def test_a_brand_alert_soon_after_a_posts_incident_resolved_reopens_it_as_spread() -> None:
    evidence = lambda: (0.0, {})  # noqa: E731
    t, minute, _ = _opened_then_resolved("p")
    event = t.observe("acme", brand="acme", thread_id=None, minute=minute + 175,
                      evidence=evidence, a=_alert(ratio=4.0, key_ratio=4.0))  # fmt: skip
    assert event is not None and event.event == "escalated" and event.drivers["reopened"]
    assert event.thread_id == "p" and event.kind == "spreading"
    # On the brand's key, where the storm now alerts and is judged each minute: the
    # post calmed long ago and nothing may judge its key again (real volume, PFE seed
    # 31: reopened on the post's key, it stayed open for six weeks).
    assert list(t.open) == ["acme"] and len(t.history) == 1
    calm = Assessment(
        score=0.0, raw_score=0.0, ratio=0.4, key_ratio=0.8, growth=0.0, volume=0.0,
        benign=None, alerting=False, normal_rate=0.5,
    )  # fmt: skip
    at = minute + 176
    while "acme" in t.open and at < minute + 176 + 400:
        t.observe("acme", brand="acme", thread_id=None, minute=at, evidence=evidence, a=calm)
        at += 1
    assert not t.open and t.history[0].reopened == [minute + 175]
    # Past the window, the brand's storm is its own.
    late, n, _ = _opened_then_resolved("p")
    event = late.observe("acme", brand="acme", thread_id=None, minute=n + RETURN_MINUTES,
                         evidence=evidence, a=_alert(ratio=4.0, key_ratio=4.0))  # fmt: skip
    assert event is not None and event.event == "opened" and event.thread_id is None


def test_the_tests_at_rest_do_not_settle_a_share_still_high() -> None:
    """The evidence is the smaller of the rate and share tests': a rate test at rest says
    nothing of the share. Past `SETTLE_MINUTES`, with both tests' evidence low, twice the
    usual share or more keeps the incident open; a rise of negatives that the comments
    carry (the same share) settles it."""
    rate = 0.1
    evidence = lambda: (0.0, {})  # noqa: E731

    def resolved_at(key_ratio: float, volume_ratio: float) -> int | None:
        t = tracker()
        t.observe("acme", brand="acme", thread_id=None, minute=0, evidence=evidence,
                  a=assessment(20.0, alerting=True, normal_rate=rate))  # fmt: skip
        a = Assessment(
            score=0.1, raw_score=0.1, ratio=key_ratio, key_ratio=key_ratio, growth=0.0,
            volume=0.0, benign=None, alerting=False, normal_rate=rate,
            volume_ratio=volume_ratio,
        )  # fmt: skip
        for minute in range(1, 400):
            event = t.observe("acme", brand="acme", thread_id=None, minute=minute,
                              evidence=evidence, a=a)  # fmt: skip
            if event is not None and event.event == "resolved":
                return minute
        return None

    assert resolved_at(6.0, 4.0) == SETTLE_MINUTES + 29  # 1.5x the usual share
    assert resolved_at(6.0, 2.5) is None  # 2.4x
    assert resolved_at(3.0, 0.5) is None  # fewer comments than usual, 3x the negatives


def test_a_busy_day_at_its_brand_lets_a_posts_incident_resolve() -> None:
    """A post's incident is held open while its brand's minute is not settled: a swell
    moves from post to post. A busy day after the storm is not that: past
    `SETTLE_MINUTES`, its brand talking 4x as much, no more negatively, no longer holds
    the calmed post's incident open; a brand whose share of negatives is still 4x its
    usual does."""
    from stormwatch.alerts.decisions import IncidentDecisions
    from stormwatch.detectors.judge import BrandVerdict, Judge

    rate = 0.1
    evidence = lambda: (0.0, {})  # noqa: E731

    def resolved_at(volume_ratio: float) -> int | None:
        decisions = IncidentDecisions(Judge(), emit=lambda event: None, clock=lambda: 0.0)
        t = decisions.tracker = tracker()  # explains nothing
        t.observe("acme/p", brand="acme", thread_id="p", minute=0, evidence=evidence,
                  a=assessment(20.0, alerting=True, normal_rate=rate))  # fmt: skip
        post_calm = assessment(0.5, alerting=False, normal_rate=rate)
        brand = BrandVerdict(
            "acme", None, assessment(4.0, alerting=False, normal_rate=rate, score=0.1,
                                     volume_ratio=volume_ratio),
            False, 100, 10, 0.1,
        )  # fmt: skip
        for minute in range(1, 400):
            decisions.hold_open(minute, [], [brand])
            event = t.observe("acme/p", brand="acme", thread_id="p", minute=minute,
                              evidence=evidence, a=post_calm)  # fmt: skip
            if event is not None and event.event == "resolved":
                return minute
        return None

    assert SETTLE_MINUTES < (resolved_at(4.0) or 0) <= SETTLE_MINUTES + 30
    assert resolved_at(1.0) is None
