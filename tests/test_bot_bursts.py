"""Bot bursts at small brands whose talk has ordinary negatives every hour or two.

The guards profile the accounts of a key's whole excursion, and at a small brand the
share test's excursion can start hours before a burst, on a few ordinary negatives
from different people: those made a bot burst's first comments look like a crowd (a
family stream of fresh seed 1110 opened a firestorm on one; here, before the guards
looked at a burst's own last half hour, seed 113's burst opened one, 577 minutes into
its brand's excursion). Each burst is drawn as the evaluation family draws one (100-400
comments of 2-6 accounts within 8-20 minutes, rewritten as campaigns rewrite them) on
a brand's second day.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from stormwatch.evaluation.family import build_family
from stormwatch.evaluation.scenario import BrandSpec, EventSpec
from tests.seeded_runs import one_brand_stream, run_specs

H = 3600.0
SEEDS = range(1, 151)


@pytest.mark.slow
def test_bot_bursts_at_brands_of_100_to_300_a_day_stay_quiet() -> None:
    rng = random.Random("bot burst at a small brand")
    specs = []
    for seed in SEEDS:
        per_day = rng.uniform(100, 300)
        brand = BrandSpec(
            "shop", per_day, lang=rng.choice(("en", "de")),
            negative_share=rng.uniform(0.08, 0.18), threads_per_day=1,
        )  # fmt: skip
        event = _burst(rng, accounts=(2, 6), threads=(1, 1, 2, 3), topic="environment")
        specs.append(one_brand_stream("battery-small-bots", brand, event, hours=40, seed=seed))
    # The brands' ordinary talk may raise false alarms within the budget (one per brand
    # and month; these are 250 brand-days): seed 31's, 15 hours before its burst.
    _assert_quiet(run_specs(specs), max_unexplained=3)


def _burst(
    rng: random.Random, *, accounts: tuple[int, int], threads: tuple[int, ...], topic: str
) -> EventSpec:
    """A bot burst on a brand's second day, as the family draws one: 100-400 comments
    of a few accounts within 8-20 minutes, rewritten as campaigns rewrite them."""
    return EventSpec(
        "bot_burst", "shop", rng.uniform(28, 36) * H, rng.uniform(8, 20) * 60,
        name="bots", n_comments=rng.randint(100, 400), n_accounts=rng.randint(*accounts),
        n_threads=rng.choice(threads), variation="rewrite", topics=(topic,),
    )  # fmt: skip


def _assert_quiet(runs: list, *, max_unexplained: int) -> None:  # type: ignore[type-arg]
    loud = [r.seed for r in runs if r.label("bots").incidents]
    assert not loud, f"bursts opened in seeds {loud}"
    unexplained = [r.seed for r in runs if r.unexplained]
    assert len(unexplained) <= max_unexplained, f"incidents nothing explains in {unexplained}"


@pytest.mark.slow
def test_bot_bursts_over_several_posts_at_brands_of_40_to_150_a_day_stay_quiet() -> None:
    """Bots that paste over two or three posts write two comments or fewer on each in
    their first minutes, and one post's share of them looks like five people: on fresh
    seed 2705 six accounts wrote 24 negatives on three posts of a brand of 58 comments
    a day, on its first day, within three minutes, and one post's 8, from 5 of the
    accounts, opened a firestorm. The brand's window counts them together
    (`Judge._spread_bots`)."""
    rng = random.Random("bots over several posts")
    specs = []
    for seed in range(1, 81):
        brand = BrandSpec(
            "shop", rng.uniform(40, 150), lang=rng.choice(("en", "de")),
            negative_share=rng.uniform(0.08, 0.18), threads_per_day=3,
        )  # fmt: skip
        event = EventSpec(
            "bot_burst", "shop", rng.uniform(10, 36) * H, rng.uniform(10, 20) * 60,
            name="bots", n_comments=rng.randint(100, 250), n_accounts=rng.randint(5, 7),
            n_threads=rng.choice((2, 3)), variation="rewrite", topics=("environment",),
        )  # fmt: skip
        specs.append(one_brand_stream("battery-spread-bots", brand, event, hours=40, seed=seed))
    runs = run_specs(specs)
    loud = [r.seed for r in runs if r.label("bots").incidents]
    # Without the brand's window four of these 80 opened (seeds 14, 44, 47, 73). Seed 47
    # then still did: its first four negatives, from three of the five accounts, came in
    # for minutes still open and tipped a test that four ordinary complaints of the
    # hours before had brought half-way (`Judge._may_fire_early`).
    assert not loud, f"bursts opened in seeds {loud}"


@pytest.mark.slow
def test_bot_bursts_at_busy_brands_do_not_fire_early_as_a_crowd() -> None:
    """At a brand of thousands a day a bot burst's first seconds sit among other
    people's negatives: on fresh seed 3242 six accounts rewording their texts, two or
    three negatives each so far, made ten accounts with a few people's in the minutes
    still open, and firing early on them opened a firestorm; two minutes later the
    guards read a bot burst. Early firing now wants a crowd's one comment per account
    there too (`Judge._may_fire_early`). Of these 80 bursts two opened before (seeds 3
    and 67); over 150 seeds three before and one after (seed 125: seven bots at 38
    comments a minute, one or two each within the first seconds beside a few people's,
    fired early on closed minutes at zero)."""
    rng = random.Random("bot burst at a busy brand")
    specs = []
    for seed in range(1, 81):
        brand = BrandSpec(
            "shop", rng.uniform(1000, 6000), lang=rng.choice(("en", "de")),
            negative_share=rng.uniform(0.05, 0.15), threads_per_day=rng.uniform(10, 60),
        )  # fmt: skip
        event = _burst(rng, accounts=(4, 7), threads=(1, 2, 3), topic="boycott")
        specs.append(one_brand_stream("battery-busy-bots", brand, event, hours=40, seed=seed))
    _assert_quiet(run_specs(specs), max_unexplained=3)


@pytest.mark.slow
def test_bot_bursts_of_fresh_family_seeds_stay_quiet() -> None:
    """Every bot burst at a brand under 5,000 a day in the family's seeds 2801-2810
    (20 of them), each brand replayed alone, as the family draws and delivers it. On
    seed 2804 three accounts pasting over three posts of a brand of 407 a day opened a
    firestorm at the close of the burst's first minute: six negatives from the three
    accounts beside two people's of the half hour read as five people, while the
    minutes still open already held the same accounts' next twenty (the guards now read
    those too)."""
    specs = []
    for seed in range(2801, 2811):
        for spec in build_family(seed):
            for brand in spec.brands:
                events = tuple(e for e in spec.events if e.brand == brand.name)
                if brand.comments_per_day < 5000 and any(e.kind == "bot_burst" for e in events):
                    name = f"{spec.name}-{brand.name}"
                    specs.append(replace(spec, name=name, brands=(brand,), events=events))
    runs = run_specs(specs)
    loud = [
        (r.scenario, lab.name)
        for r in runs
        for lab in r.labels
        if lab.kind == "bot_burst" and lab.incidents
    ]
    assert len(specs) >= 15 and not loud, f"bursts opened: {loud}"


@pytest.mark.slow
def test_a_bot_burst_at_a_busy_brand_is_judged_on_its_last_minutes_too() -> None:
    """At a brand of 5,427 a day (fresh family seed 3554, replayed alone as the family
    draws and delivers it) six accounts pasted copies for three minutes among the
    everyday negatives of the half hour before: the guards' half hour read 32 negatives
    from 23 accounts, 56 % of the texts distinct, a crowd, and a brand-wide incident
    opened. Its last ten minutes alone read a bot burst (`BURST_GUARD_MINUTES`)."""
    spec = next(s for s in build_family(3554) if any(b.name == "b14" for b in s.brands))
    brand = next(b for b in spec.brands if b.name == "b14")
    events = tuple(e for e in spec.events if e.brand == brand.name)
    assert [e.kind for e in events] == ["bot_burst"]
    (run,) = run_specs([replace(spec, name=f"{spec.name}-b14", brands=(brand,), events=events)])
    assert not run.label(events[0].name).incidents
    assert not run.unexplained


def test_a_bot_burst_is_not_learned_as_the_brands_normal_talk() -> None:
    """Five accounts' 325 negatives in half an hour at a brand of about 560 a day: the
    tests, which count an account twice at most, stayed at zero, while its baseline
    learned every comment, and the brand's usual negative share rose from 9 % to 42 %
    (a campaign of 280 people the next morning read as no more negative than usual)."""
    import orjson

    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.pipeline import Pipeline
    from tests.seeded_runs import background_comments

    comments = background_comments("fizz", 560, 30, seed=4)
    start = comments[0]["created_at"] + 20 * 3600
    texts = ("Scam company, they steal your money", "Total scam, they stole my money!!",
             "scam scam scam, stole my money")  # fmt: skip
    burst = [
        {"id": f"bot{i}", "text": f"{texts[i % 3]} {i}", "created_at": start + i * 5.5,
         "brand": "fizz", "thread_id": f"fizz-p{i % 2}", "author_id": f"bot{i % 5}"}
        for i in range(325)
    ]  # fmt: skip
    stream = sorted(comments + burst, key=lambda c: c["created_at"])
    pipeline = Pipeline(sinks=[MemoryAlertSink()])
    before = None
    for c in stream:
        if before is None and c["created_at"] >= start:
            minute = int(start // 60)
            before = pipeline.judge.brand_state("fizz").expected(minute).neg_share
        pipeline.feed(orjson.dumps(c))
    pipeline.finish()
    after = pipeline.judge.brand_state("fizz").expected(int(start // 60) + 120).neg_share
    assert before is not None and after < 1.5 * before, (before, after)
    assert not pipeline.tracker.history


def test_one_comment_does_not_open_an_incident_after_a_day_of_misread_ones() -> None:
    """At a brand of 55 a day, a giveaway's and a fan campaign's comments the model
    misread as negative (one each, from 39 accounts over the day) kept its share test
    over zero all day; the account guard, looking back the whole day, counted a crowd,
    and one comment from one account opened an incident: "1 in the last 3 hours ...
    from 1 accounts". A stream of a held-out generator (helper-written, 2026-12-07)."""
    import gzip
    from pathlib import Path

    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.pipeline import Pipeline

    path = Path(__file__).parent / "data" / "held_out" / "one_account_after_a_misread_day.jsonl.gz"
    memory = MemoryAlertSink()
    pipeline = Pipeline(sinks=[memory])
    with gzip.open(path) as lines:
        for line in lines:
            pipeline.feed(line)
    pipeline.finish()
    assert [e.summary for e in memory.events if e.event == "opened"] == []
