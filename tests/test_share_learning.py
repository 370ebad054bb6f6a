"""A brand's usual negative share does not learn a storm growing on one of its posts.

The brand's own tests may be far from their thresholds while one post's storm builds
for hours (a post carries a small part of a busy brand's talk): its minutes were learned
in full, the storm's negatives raised the brand's "usual" share, and the post then had
to grow further to stand out. While a thread's test is half-way to its threshold the
brand learns its level and rhythm, not its share (as while its own tests are).
"""

from __future__ import annotations

import random

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


NEGATIVE = (
    "my order never arrived and nobody answers",
    "worst service ever, still waiting for a refund",
    "the app keeps crashing, this is useless",
    "charged twice and support ignores me",
    "delayed again, terrible experience",
    "broken on arrival, so disappointed",
)
PLAIN = (
    "what time do you open on sunday",
    "do you ship to austria?",
    "is the blue one back in stock",
    "thanks for the quick reply",
    "love the new colours",
    "where can i find the size chart",
)


def _lasting_shift(seed: int, hours: int = 96, shift_hour: int = 24) -> list[bytes]:
    """Two comments a minute, 8 % negative for a day, then 45 % for good (everyday talk
    that has turned into complaints, not a storm that ends)."""
    rng = random.Random(seed)
    t, i, out = 0.0, 0, []
    while t < hours * H:
        t += rng.expovariate(2.0 / 60.0)
        share = 0.08 if t < shift_hour * H else 0.45
        text = rng.choice(NEGATIVE if rng.random() < share else PLAIN)
        i += 1
        out.append(orjson.dumps({
            "id": f"c{i}", "text": text + rng.choice(("", "!", " ?", " :(", " pls")),
            "created_at": 1_772_582_400.0 + t, "brand": "acme", "thread_id": f"p{int(t // 7200)}",
            "author_id": f"a{rng.randrange(100_000)}", "lang": "en",
        }))  # fmt: skip
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_a_lasting_change_is_learned_and_its_incident_closes(seed: int) -> None:
    # An incident holds its brand's baseline still, so that a storm never becomes its
    # normal; unbounded, an incident on a change that lasts never closed (the baseline
    # could not learn what would make it calm) and swallowed every later storm.
    pipeline = Pipeline(sinks=[MemoryAlertSink()])
    for line in _lasting_shift(seed):
        pipeline.feed(line)
    pipeline.finish()
    assert pipeline.stats.events["opened"] >= 1  # the change itself was news
    assert not pipeline.tracker.open, [i.opened_minute for i in pipeline.tracker.open.values()]
    assert pipeline.judge.brands["acme"].baseline.share() > 0.3
