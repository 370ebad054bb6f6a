"""A small labelled stream for tests that need a storm but not a long run: one English
brand of 3,000 comments a day over eight hours (about 850 comments), a firestorm on one
post from the sixth hour."""

from __future__ import annotations

import orjson

from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate

BRAND = "shop"


def small_storm_lines(seed: int = 1) -> list[bytes]:
    spec = ScenarioSpec(
        "small-storm",
        duration_s=8 * 3600,
        brands=(BrandSpec(BRAND, 3000, lang="en", threads_per_day=8),),
        events=(EventSpec("firestorm", BRAND, 6 * 3600, 3600),),
        seed=seed,
    )
    return [orjson.dumps(c) for c in generate(spec).comments]
