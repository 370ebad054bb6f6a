"""A brand's usual negative share does not learn a storm growing on one of its posts.

The brand's own tests may be far from their thresholds while one post's storm builds
for hours (a post carries a small part of a busy brand's talk): its minutes were learned
in full, the storm's negatives raised the brand's "usual" share, and the post then had
to grow further to stand out. While a thread's test is half-way to its threshold the
brand learns its level and rhythm, not its share (as while its own tests are).
"""

from __future__ import annotations

import orjson
import pytest

from stormwatch.alerts.sinks import MemoryAlertSink
from stormwatch.detectors.judge import SHARE_FREEZE_MAX_MINUTES, Judge
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.pipeline import Pipeline

H = 3600.0


def _slow_post_storm(seed: int) -> ScenarioSpec:
    """A 3,000-a-day brand; from hour 26 one post's storm doubles every 90 minutes."""
    brand = BrandSpec("acme", 3000.0, lang="en", negative_share=0.08, threads_per_day=20.0)
    storm = EventSpec("firestorm", "acme", 26 * H, 12 * H, name="storm", peak_rate_per_min=20.0,
                      start_rate_per_min=0.1, doubling_time_s=5400.0, plateau_s=1800.0,
                      decay_half_life_s=2700.0)  # fmt: skip
    return ScenarioSpec("slow-post", brands=(brand,), events=(storm,), duration_s=40 * H, seed=seed)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_usual_share_stands_still_while_a_thread_builds(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    learned: list[tuple[int, bool, float, float]] = []
    plain = Judge.learn

    def learn(self: Judge, verdict, minute: int, *, disturbed: bool) -> None:  # type: ignore[no-untyped-def]
        state = self.brands.get(verdict.brand)
        before = state.baseline.share() if state is not None else 0.0
        plain(self, verdict, minute, disturbed=disturbed)
        if state is not None and not verdict.rested and not disturbed:
            building = state.thread_building == minute
            if state.share_frozen < SHARE_FREEZE_MAX_MINUTES:
                learned.append((minute, building, before, state.baseline.share()))

    monkeypatch.setattr(Judge, "learn", learn)
    pipeline = Pipeline(sinks=[MemoryAlertSink()])
    for c in generate(_slow_post_storm(seed)).comments:
        pipeline.feed(orjson.dumps(c))
    pipeline.finish()

    building = [row for row in learned if row[1]]
    assert len(building) >= 10, len(building)  # the storm's post built for a while
    moved = [row for row in building if row[3] != row[2]]
    assert not moved, moved[:5]
    assert any(row[3] != row[2] for row in learned if not row[1])  # it learns otherwise
    assert len(pipeline.tracker.history) == 1, pipeline.tracker.history  # the storm
