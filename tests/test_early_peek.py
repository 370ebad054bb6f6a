"""What an early look reads from the minutes still open (`KeyMonitor.peek`): never less
than the closes of those minutes will compute on the counts already in, and nothing
learned."""

from __future__ import annotations

import copy

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stormwatch.detectors.monitor import TOLERANCE, KeyMonitor

LAM, DISPERSION, SHARE = 0.5, 1.0, 0.1


def warmed(history: list[tuple[int, int]]) -> KeyMonitor:
    """A monitor stepped through closed minutes 0.. of (negatives, comments)."""
    monitor = KeyMonitor()
    for minute, (k, n) in enumerate(history):
        for i in range(k):
            monitor.note_negative(f"h{minute}-{i}", minute)
        monitor.step(minute, n=max(n, k), lam=LAM, dispersion=DISPERSION, share=SHARE)
    return monitor


def with_open_minutes(
    monitor: KeyMonitor, start: int, counts: list[tuple[int, int]]
) -> dict[int, int]:
    """Negatives noted for the open minutes from `start` on; returns their comments."""
    comments = {}
    for offset, (k, n) in enumerate(counts):
        minute = start + offset
        for i in range(k):
            monitor.note_negative(f"o{minute}-{i}", minute)
        if max(n, k):
            comments[minute] = max(n, k)
    return comments


def peek(monitor: KeyMonitor, minute: int, comments: dict[int, int]) -> tuple[float, float]:
    return monitor.peek(minute, comments, lam=LAM, dispersion=DISPERSION, share=SHARE)


minutes = st.tuples(st.integers(0, 12), st.integers(0, 30))


@settings(max_examples=200, deadline=None)
@given(st.lists(minutes, max_size=20), st.lists(minutes, min_size=1, max_size=4))
def test_a_look_reads_at_least_what_the_closes_will_and_learns_nothing(history, ahead) -> None:  # type: ignore[no-untyped-def]
    monitor = warmed(history)
    closed = len(history) - 1
    comments = with_open_minutes(monitor, closed + 1, ahead)
    before = (list(monitor.rate.sums), list(monitor.share.sums), dict(monitor.pending))
    rate, share = peek(monitor, closed, comments)
    assert (list(monitor.rate.sums), list(monitor.share.sums), dict(monitor.pending)) == before
    # The closes, one by one, on the same counts (a copy: what the stream will do).
    closes = copy.deepcopy(monitor)
    top_rate, top_share = closes.rate.statistic, closes.share.statistic
    for offset in range(len(ahead)):
        minute = closed + 1 + offset
        closes.step(minute, n=comments.get(minute, 0), lam=LAM, dispersion=DISPERSION, share=SHARE)
        top_rate = max(top_rate, closes.rate.statistic)
        top_share = max(top_share, closes.share.statistic)
    assert rate >= top_rate - 1e-9
    assert share >= top_share - 1e-9


def test_a_storms_fullest_minute_is_not_charged_for_the_minute_just_begun() -> None:
    """Eight negatives in the oldest open minute, one comment so far in the newest: the
    look reads what the close of the oldest will, not that minus the newest's normal."""
    monitor = warmed([(0, 5)] * 30 + [(3, 8)] * 3)
    closed = 32
    comments = with_open_minutes(monitor, closed + 1, [(8, 12), (0, 0), (0, 0), (0, 1)])
    rate, _ = peek(monitor, closed, comments)
    close = copy.deepcopy(monitor)
    close.step(closed + 1, n=12, lam=LAM, dispersion=DISPERSION, share=SHARE)
    # All in at once over the two minutes with comments: the newest's expectation paid.
    expected = 2 * LAM * (1 + TOLERANCE)
    lumped = monitor.rate.score_one({"count": 8, "expected": expected, "dispersion": 1.0})
    assert rate == close.rate.statistic > lumped


@settings(max_examples=300, deadline=None)
# Five negatives of five comments at a usual share of 2 %: the share test's larger design
# gains nearly log 8 for each, its smaller one under log 2.5.
@example([], [(5, 5)], 30.0, 9.0, 5.0, 1.0, 0.02)
@given(
    st.lists(minutes, max_size=20),
    st.lists(minutes, min_size=1, max_size=4),
    st.floats(2.0, 30.0),
    st.floats(2.0, 30.0),
    st.floats(0.01, 5.0),
    st.floats(1.0, 5.0),
    st.floats(0.02, 0.6),
)
def test_a_key_that_may_not_reach_a_threshold_reads_under_both(  # type: ignore[no-untyped-def]
    history, ahead, h_rate, h_share, lam, dispersion, share
) -> None:
    """`may_reach` False (the judge then skips the look ahead): whatever the open
    minutes' negatives and comments, the look reads both tests under their thresholds."""
    monitor = warmed(history)
    closed = len(history) - 1
    comments = with_open_minutes(monitor, closed + 1, ahead)
    rate, share_stat = monitor.peek(closed, comments, lam=lam, dispersion=dispersion, share=share)
    if not monitor.may_reach(closed, h_rate, h_share):
        assert rate < h_rate
        assert share_stat < h_share
    if monitor.rate.statistic >= h_rate or monitor.share.statistic >= h_share:
        assert monitor.may_reach(closed, h_rate, h_share)
