"""The demo's storms in a stream of their own: each after eight hours of its brand's
traffic instead of inside the demo's three days of five brands (which took a minute
and a half a run on this machine, most of it hours where nothing happens)."""

from __future__ import annotations

from dataclasses import replace

from stormwatch.evaluation.demo import demo_spec
from stormwatch.evaluation.scenario import ScenarioSpec

H = 3600.0
STORMS = ("nestor-palmoil", "valuemart-wages", "bahnwerk-rauswurf")


def storms_spec(seed: int = 7, names: tuple[str, ...] = STORMS) -> ScenarioSpec:
    """The demo's storms (`names`) in one stream of their brands, each after eight
    hours of its brand's traffic, the last ending an hour before the stream does."""
    demo = demo_spec(seed)
    events = [e for e in demo.events if e.name in names]
    brands = {e.brand for e in events}
    starts = (8 * H, 8 * H + 1800.0, 9 * H)
    moved = tuple(replace(e, start=t) for e, t in zip(events, starts, strict=False))
    end = max(e.start + e.duration_s for e in moved) + H
    return ScenarioSpec(
        "demo-storms",
        start=demo.start,
        duration_s=end,
        brands=tuple(b for b in demo.brands if b.name in brands),
        events=moved,
        seed=seed,
    )
