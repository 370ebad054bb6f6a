"""The built-in demo scenario that `stormwatch run` replays when given no input.

Three days, five fictional brands with a daily rhythm, two real firestorms (English on
one post, German on one post), one spreading firestorm across many posts, and the four
benign look-alikes a detector must sit through quietly: a viral positive post, a product
launch, a bot burst at night and one very angry customer of a tiny shop.
"""

from __future__ import annotations

from stormwatch.evaluation.scenario import (
    DEFAULT_START,
    BrandSpec,
    EventSpec,
    Scenario,
    ScenarioSpec,
    generate,
)

__all__ = ["demo_scenario", "demo_spec"]

_H = 3600.0
_D = 24 * _H


def demo_spec(seed: int = 7) -> ScenarioSpec:
    """The demo as data: about 134,000 comments from Monday 00:00 UTC for three days."""
    brands = (
        BrandSpec("nestor", 9000, lang="mixed", negative_share=0.08, threads_per_day=24,
                  tz_offset_h=1, domain="food", display_name="Nestor"),
        BrandSpec("valuemart", 12000, lang="en", negative_share=0.1, threads_per_day=40,
                  tz_offset_h=-5, domain="retail", display_name="ValueMart"),
        BrandSpec("starbrew", 7000, lang="en", negative_share=0.06, threads_per_day=20,
                  tz_offset_h=-5, domain="coffee", display_name="Starbrew"),
        BrandSpec("bahnwerk", 6000, lang="de", negative_share=0.15, threads_per_day=16,
                  tz_offset_h=1, domain="rail", display_name="Bahnwerk"),
        BrandSpec("kleinrad", 150, lang="de", negative_share=0.05, threads_per_day=2,
                  tz_offset_h=1, domain="bikes", display_name="Kleinrad"),
    )  # fmt: skip
    events = (
        # Monday 09:00 UTC: a new cereal line, posted on four channels.
        EventSpec("product_launch", "nestor", 9 * _H, 8 * _H, lang="mixed",
                  name="nestor-launch", n_threads=4, product="Nestor Cocoa Crunch"),
        # Monday 23:30 UTC (18:30 in the brand's evening): a barista video goes viral.
        EventSpec("viral_positive", "starbrew", 23.5 * _H, 5 * _H, name="starbrew-viral"),
        # Tuesday 07:30 UTC (02:30 local): bots paste boycott calls under one post.
        EventSpec("bot_burst", "valuemart", _D + 7.5 * _H, 15 * 60, name="valuemart-bots",
                  n_comments=320, n_accounts=5, topics=("boycott", "labor")),
        # Tuesday 10:00 UTC: the palm-oil video; deleting critics makes it worse.
        EventSpec("firestorm", "nestor", _D + 10 * _H, 6 * _H, lang="en",
                  name="nestor-palmoil", peak_rate_per_min=45, start_rate_per_min=0.4,
                  doubling_time_s=540, plateau_s=1800, decay_half_life_s=3600,
                  topics=("environment", "censorship", "boycott")),
        # Tuesday 18:00 UTC: one customer of the tiny bike shop loses patience.
        EventSpec("angry_customer", "kleinrad", _D + 18 * _H, _H, name="kleinrad-angry",
                  n_comments=28),
        # Wednesday 13:00 UTC (08:00 local): wage and price anger over many posts.
        EventSpec("spreading_firestorm", "valuemart", 2 * _D + 13 * _H, 5 * _H,
                  name="valuemart-wages", n_threads=30, peak_rate_per_min=45,
                  start_rate_per_min=1.0, doubling_time_s=900, plateau_s=2400,
                  decay_half_life_s=3600, topics=("labor", "prices", "boycott")),
        # Wednesday 16:00 UTC: video of staff throwing out a passenger; German firestorm.
        EventSpec("firestorm", "bahnwerk", 2 * _D + 16 * _H, 5 * _H, lang="de",
                  name="bahnwerk-rauswurf", peak_rate_per_min=30, start_rate_per_min=0.5,
                  doubling_time_s=480, plateau_s=1800, decay_half_life_s=2700,
                  topics=("misconduct", "censorship", "boycott")),
    )  # fmt: skip
    return ScenarioSpec(
        name="demo",
        start=DEFAULT_START,
        duration_s=3 * _D,
        brands=brands,
        events=events,
        seed=seed,
    )


def demo_scenario(seed: int = 7) -> Scenario:
    """The generated demo (a couple of seconds)."""
    return generate(demo_spec(seed))
