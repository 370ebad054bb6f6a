"""The labelled evaluation suite: seeded, varied scenarios for `stormwatch evaluate`.

Why a suite of its own beside the demo: one hand-made scenario invites tuning to it. The
suite draws every event's timing, size, growth and language from the seed, so a new seed
is a new exam of the same kinds: firestorms fast and slow, English and German, on one
post or spread over many; big benign surges (viral praise, launches); single grumblers;
bot bursts; nights, weekends and the daily rhythm; brands from 100 to 50,000 comments a
day; and a brand with no history at all. Five scenarios with 16 labelled events and
about 250,000 comments per seed (249,294 / 252,480 / 248,557 for seeds 1 / 2 / 3).
Since the scenario family (`family.py`) this is `stormwatch evaluate suite --classic`.

Layout written by `write_suite(dir, seed)`: per scenario `NAME.jsonl` (comments, the
input contract, delivery order), `NAME.labels.json` (one `EventLabel` JSON object per
line) and `NAME.brands.json` (the brands' nominal sizes, for the size bands), which is
what `stormwatch evaluate scenarios DIR` reads.
"""

from __future__ import annotations

import random
from pathlib import Path

from stormwatch.evaluation.scenario import (
    DEFAULT_START,
    BrandSpec,
    EventSpec,
    ScenarioSpec,
    generate,
    write_brands,
    write_jsonl,
)

__all__ = ["build_suite", "write_suite"]

_H = 3600.0
_D = 24 * _H
_SATURDAY = DEFAULT_START + 5 * _D


def _firestorm(
    rng: random.Random, brand: str, start: float, *, fast: bool, **kw: object
) -> EventSpec:
    """A firestorm on one post: fast ones double every 5-9 minutes, slow ones 20-35."""
    doubling = rng.uniform(300, 540) if fast else rng.uniform(1200, 2100)
    return EventSpec(
        "firestorm",
        brand,
        start,
        rng.uniform(4, 6) * _H,
        peak_rate_per_min=kw.pop("peak", rng.uniform(20, 50)),  # type: ignore[arg-type]
        start_rate_per_min=rng.uniform(0.2, 0.6),
        doubling_time_s=doubling,
        plateau_s=rng.uniform(1200, 2400),
        decay_half_life_s=rng.uniform(1800, 3600),
        topics=tuple(rng.sample(("censorship", "boycott", "environment", "labor", "health",
                                 "misconduct", "greenwashing", "prices"), 3)),
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def build_suite(seed: int = 1) -> list[ScenarioSpec]:
    """The suite's scenarios for one seed; a pure function of it."""
    rng = random.Random(seed)

    def at(day: float, lo_h: float, hi_h: float) -> float:
        return day * _D + rng.uniform(lo_h, hi_h) * _H

    big = ScenarioSpec(
        name="large-brand-fast-en",
        duration_s=2 * _D,
        seed=seed,
        brands=(
            BrandSpec("megamart", 50_000, lang="en", negative_share=0.1, threads_per_day=60,
                      tz_offset_h=-5, domain="retail"),
            BrandSpec("brewhaus", 6_000, lang="en", negative_share=0.06, threads_per_day=20,
                      tz_offset_h=-5, domain="coffee"),
        ),
        events=(
            _firestorm(rng, "megamart", at(1, 13, 18), fast=True, peak=rng.uniform(60, 90),
                       lang="en", name="megamart-storm"),
            EventSpec("viral_positive", "brewhaus", at(0, 14, 20), 5 * _H,
                      name="brewhaus-viral", peak_rate_per_min=rng.uniform(40, 80)),
        ),
    )  # fmt: skip
    slow_de = ScenarioSpec(
        name="slow-german",
        duration_s=2 * _D,
        seed=seed,
        brands=(
            BrandSpec("bahnhof", 5_000, lang="de", negative_share=0.15, threads_per_day=16,
                      tz_offset_h=1, domain="rail"),
            BrandSpec("nordkost", 9_000, lang="mixed", negative_share=0.08, threads_per_day=24,
                      tz_offset_h=1, domain="food"),
        ),
        events=(
            _firestorm(rng, "bahnhof", at(1, 8, 14), fast=False, lang="de", name="bahnhof-storm"),
            EventSpec("product_launch", "nordkost", at(0, 8, 12), 8 * _H, lang="mixed",
                      name="nordkost-launch", n_threads=4),
            _firestorm(rng, "nordkost", at(1, 15, 19), fast=True, lang="de",
                       name="nordkost-storm"),
        ),
    )  # fmt: skip
    spreading = ScenarioSpec(
        name="spreading-and-bots",
        duration_s=2 * _D,
        seed=seed,
        brands=(
            BrandSpec("valuechain", 12_000, lang="en", negative_share=0.1, threads_per_day=40,
                      tz_offset_h=-5, domain="retail"),
            BrandSpec("quickcafe", 4_000, lang="en", negative_share=0.06, threads_per_day=12,
                      tz_offset_h=0, domain="coffee"),
        ),
        events=(
            EventSpec("spreading_firestorm", "valuechain", at(1, 12, 17), 5 * _H,
                      name="valuechain-wages", n_threads=rng.randint(15, 30),
                      peak_rate_per_min=rng.uniform(30, 50), start_rate_per_min=1.0,
                      doubling_time_s=rng.uniform(600, 1200), plateau_s=2400,
                      decay_half_life_s=3600, topics=("labor", "prices", "boycott")),
            EventSpec("bot_burst", "valuechain", at(0, 6, 9), 15 * 60, name="valuechain-bots",
                      n_comments=rng.randint(250, 400), n_accounts=rng.randint(3, 6),
                      topics=("boycott",)),
            EventSpec("bot_burst", "quickcafe", at(1, 2, 5), 20 * 60, lang="en",
                      name="quickcafe-bots", n_comments=rng.randint(150, 300),
                      n_accounts=rng.randint(2, 5), n_threads=2, topics=("health",)),
        ),
    )  # fmt: skip
    small = ScenarioSpec(
        name="tiny-small-and-new",
        duration_s=2 * _D,
        seed=seed,
        brands=(
            BrandSpec("radladen", 100, lang="de", negative_share=0.05, threads_per_day=2,
                      tz_offset_h=1, domain="bikes"),
            BrandSpec("corner", 500, lang="en", negative_share=0.08, threads_per_day=4,
                      tz_offset_h=-5, domain="coffee"),
            BrandSpec("newco", 2_000, lang="en", negative_share=0.08, threads_per_day=8,
                      history_days=0, domain="food"),
        ),
        events=(
            EventSpec("angry_customer", "radladen", at(0, 15, 20), _H, name="radladen-angry",
                      n_comments=rng.randint(20, 35)),
            _firestorm(rng, "corner", at(1, 14, 20), fast=True, peak=rng.uniform(8, 15),
                       lang="en", name="corner-storm"),
            _firestorm(rng, "newco", at(1, 10, 14), fast=bool(rng.random() < 0.5),
                       peak=rng.uniform(15, 30), lang="en", name="newco-storm"),
            EventSpec("angry_customer", "corner", at(0, 12, 18), 2 * _H, name="corner-angry",
                      n_comments=rng.randint(15, 30), n_threads=2),
        ),
    )  # fmt: skip
    weekend = ScenarioSpec(
        name="weekend",
        start=_SATURDAY,
        duration_s=2 * _D,
        seed=seed,
        brands=(
            BrandSpec("sportsco", 8_000, lang="mixed", negative_share=0.08, threads_per_day=20,
                      tz_offset_h=1, domain="retail"),
            BrandSpec("snackly", 3_000, lang="en", negative_share=0.07, threads_per_day=10,
                      tz_offset_h=-5, domain="food"),
        ),
        events=(
            EventSpec("viral_positive", "sportsco", at(0, 16, 20), 5 * _H, lang="de",
                      name="sportsco-viral", peak_rate_per_min=rng.uniform(30, 60)),
            EventSpec("product_launch", "snackly", at(0, 13, 16), 8 * _H,
                      name="snackly-launch", n_threads=3),
            _firestorm(rng, "snackly", at(1, 18, 22), fast=False, lang="en",
                       peak=rng.uniform(15, 30), name="snackly-storm"),
            EventSpec("spreading_firestorm", "sportsco", at(1, 9, 13), 5 * _H, lang="de",
                      name="sportsco-spreading", n_threads=rng.randint(10, 20),
                      peak_rate_per_min=rng.uniform(25, 40), start_rate_per_min=0.8,
                      doubling_time_s=rng.uniform(900, 1500), plateau_s=1800,
                      decay_half_life_s=3600, topics=("misconduct", "boycott")),
        ),
    )  # fmt: skip
    return [big, slow_de, spreading, small, weekend]


def write_suite(directory: str | Path, seed: int = 1) -> list[Path]:
    """Generate the suite into `directory` (the layout in the module docstring)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in build_suite(seed):
        scenario = generate(spec)
        comments = out / f"{spec.name}.jsonl"
        write_jsonl(scenario, comments, out / f"{spec.name}.labels.json")
        # Brands banded by their nominal size: measured from the stream, a storm's own
        # comments put a brand of 2,000 a day in the >5,000 band.
        write_brands(spec, out / f"{spec.name}.brands.json")
        written.append(comments)
    return written
