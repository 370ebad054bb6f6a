"""The usual negative share a brand's baseline learns: a minute clipped for its volume
(winsorised) keeps its own share, so busy talk at the usual share never makes the brand
look more negative than it is, and a storm's negatives are still clipped."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stormwatch.detectors.baseline import BrandBaseline


def _brand(minutes: int, per_minute: int, negative_every: int) -> BrandBaseline:
    baseline = BrandBaseline()
    for m in range(minutes):
        baseline.learn(m, n=per_minute, neg=1 if m % negative_every == 0 else 0)
    return baseline


def test_busy_minutes_at_the_usual_share_leave_it_where_it_was() -> None:
    # Two comments a minute, 10 % negative; then twenty minutes at twenty times the
    # volume, 10 % negative too (a launch, a busy news hour). Clipping their comments
    # alone learned them as 50 % negative and took the usual share to 0.15.
    baseline = _brand(600, 2, 5)
    before = baseline.share()
    for m in range(600, 620):
        baseline.learn(m, n=40, neg=4)
    assert abs(baseline.share() - before) < 0.002


def test_a_stream_that_starts_late_in_its_first_minute_learns_its_real_share() -> None:
    # The first minute holds one comment, so the level starts near one a minute and the
    # next minutes' twenty comments are clipped to a few while they are learned.
    baseline = BrandBaseline()
    baseline.learn(0, n=1, neg=0)
    for m in range(1, 30):
        baseline.learn(m, n=20, neg=2 if m % 2 else 3)
    assert baseline.share() < 0.125  # the minutes' own share is 0.125, the prior 0.1


def test_a_storm_minute_is_still_clipped_on_its_negatives() -> None:
    baseline = _brand(600, 2, 5)
    before = baseline.share()
    baseline.learn(600, n=40, neg=40)
    # In full it would take the share to about (0.1 * 1200 + 40) / 1240 = 0.129.
    assert baseline.share() - before < 0.01


def _learned_share(baseline: BrandBaseline) -> float:
    """The share the baseline learned from its minutes, before the prior is blended in
    (`share()` then weighs the prior less as comments are learned, so it may rise when
    a brand turns out more negative than the prior said)."""
    return baseline.neg.weighted / baseline.total.weighted


@settings(max_examples=300, deadline=None)
@given(
    history=st.lists(st.tuples(st.integers(1, 50), st.floats(0.0, 1.0)), min_size=1, max_size=120),
    n=st.integers(1, 5000),
    share=st.floats(0.0, 1.0),
)
def test_a_minute_no_more_negative_than_learned_never_raises_the_learned_share(
    history: list[tuple[int, float]], n: int, share: float
) -> None:
    baseline = BrandBaseline()
    for m, (count, negative) in enumerate(history):
        baseline.learn(m, n=count, neg=int(count * negative))
    learned = _learned_share(baseline)
    neg = min(n, int(n * min(share, learned)))  # at most the learned share of this minute
    baseline.learn(len(history), n=n, neg=neg)
    assert _learned_share(baseline) <= learned * (1 + 1e-12) + 1e-15
