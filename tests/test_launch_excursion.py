"""A launch is a surge of comments that are mostly not negative; a storm's are mostly
negative. Both can carry the same share-test evidence at a small brand, so the guards
look at the comments over the key's normal since its share test last stood at zero
(`KeyMonitor.excursion_mostly_not_negative`), counted from the brand's volume before
its comments surged (`BrandState.normal_volume`)."""

from __future__ import annotations

import math
import pickle
import random

import pytest

from stormwatch.detectors.baseline import Expectation
from stormwatch.detectors.judge import BrandState
from stormwatch.detectors.monitor import KeyMonitor, ThresholdTable
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec
from tests.seeded_runs import one_brand_stream, run_specs

H = 3600.0


def _run(monitor: KeyMonitor, minutes: int, *, n: int, neg: int, start: int = 0) -> None:
    """`minutes` minutes of `n` comments, `neg` of them negative from distinct accounts,
    at a key whose normal is 1 comment a minute, 10 % negative; the statistics capped
    as the judge caps them (at twice thresholds of 5)."""
    for minute in range(start, start + minutes):
        for i in range(neg):
            monitor.note_negative(f"a{minute}-{i}", minute)
        monitor.step(minute, n=n, lam=0.1, dispersion=1.0, share=0.1)
        monitor.clip_at(5.0, 5.0)


def test_a_launch_is_mostly_not_negative_and_a_storm_is() -> None:
    launch, storm = KeyMonitor(), KeyMonitor()
    _run(launch, 60, n=20, neg=4)  # 20x the volume, 20 % negative: twice the usual share
    _run(storm, 60, n=4, neg=3)  # 4x the volume, 3 of the 3 extra comments negative
    assert launch.share.statistic > 0 and storm.share.statistic > 0
    assert launch.excursion_mostly_not_negative()
    assert not storm.excursion_mostly_not_negative()


def test_a_storm_is_mostly_negative_and_a_launch_is_not() -> None:
    """The rate test may lead a share test half-way to its threshold only when the
    comments over normal are mostly negative (`KeyMonitor.excursion_mostly_negative`):
    a storm's crowd, not a launch's or a busier day's."""
    launch, storm, busier = KeyMonitor(), KeyMonitor(), KeyMonitor()
    _run(launch, 60, n=20, neg=4)  # 19 extra comments a minute, 3.9 extra negatives
    _run(storm, 60, n=4, neg=3)  # 3 extra comments a minute, 2.9 extra negatives
    for minute in range(60):  # twice the talk, a negative every other minute (25 %)
        _run(busier, 1, n=2, neg=minute % 2, start=minute)
    assert storm.share.statistic > 0 and busier.share.statistic > 0
    assert storm.excursion_mostly_negative()
    assert not launch.excursion_mostly_negative()
    assert not busier.excursion_mostly_negative()  # 24 of 60 extra comments negative
    assert storm.excursion_mostly_negative(at_least=10)
    assert not storm.excursion_mostly_negative(at_least=10_000)
    quiet = KeyMonitor()
    _run(quiet, 60, n=1, neg=0)  # nothing over normal: the share test never rises
    assert not quiet.excursion_mostly_negative()


def test_the_share_leads_only_where_the_negatives_came_without_more_talk() -> None:
    """The share test may lead a rate test a quarter of the way to its threshold only
    when the comments that are not negative stayed at their normal
    (`KeyMonitor.excursion_without_more_talk`): a storm's negatives at the usual volume,
    not a launch post's complaints among many more comments of every kind."""
    storm, launch_post, defended = KeyMonitor(), KeyMonitor(), KeyMonitor()
    _run(storm, 60, n=1, neg=1)  # the usual volume, every comment negative
    _run(launch_post, 60, n=6, neg=2)  # 6x the talk, a third of it negative
    _run(defended, 60, n=3, neg=1)  # negatives with as many defenders
    assert storm.share.statistic > 0 and launch_post.share.statistic > 0
    assert storm.excursion_without_more_talk()
    assert not launch_post.excursion_without_more_talk()
    assert not defended.excursion_without_more_talk()


def test_under_twice_the_volume_the_extra_comments_say_nothing() -> None:
    """A storm at a large brand brings few comments over its normal: their share is
    noise, and the guard stays out of it."""
    monitor = KeyMonitor()
    _run(monitor, 60, n=1, neg=1)  # the usual volume, all of it negative
    assert monitor.share.statistic > 0
    assert not monitor.excursion_mostly_not_negative()


def test_the_excursion_ends_when_the_share_test_is_back_at_zero() -> None:
    monitor = KeyMonitor()
    _run(monitor, 60, n=20, neg=4)
    assert monitor.excursion[0] == 1200
    _run(monitor, 600, n=1, neg=0, start=60)  # calm: the share test falls to zero
    assert monitor.share.statistic == 0.0
    assert monitor.excursion == (0, 0, 0.0, 0.0)
    assert not monitor.excursion_mostly_not_negative()


def test_quiet_minutes_count_what_the_normal_expected() -> None:
    monitor = KeyMonitor()
    _run(monitor, 30, n=20, neg=4)
    before = monitor.excursion
    monitor.quiet(10, 1.0, 1.0, volume_total=10.0)
    assert monitor.excursion == (before[0], before[1], before[2] + 10.0, before[3] + 1.0)


def _thread_minutes(monitor: KeyMonitor, start: int, minutes: int, every: int, neg: bool) -> None:
    """A post's minutes at a normal of 1.1 comments and 0.07 negatives a minute (its
    brand's busiest post), with one comment every `every` minutes, negative or not."""
    for minute in range(start, start + minutes):
        n = 1 if (minute - start) % every == 0 else 0
        if n and neg:
            monitor.note_negative(f"a{minute}", minute)
        monitor.step(minute, n=n, lam=0.07, dispersion=1.0, share=0.062)
        monitor.clip_at(5.0, 5.0)


def test_a_quiet_posts_excursion_counts_normal_only_where_its_share_test_read() -> None:
    """Without comments the share test stands still, so a quiet post's excursion can
    last hours, and each quiet minute of it counted its brand's busiest post's
    negatives as expected: a storm on a post, 14 negatives of 38 comments, read 15.5
    expected where the post itself brought few, and the share test over its threshold
    could not lead for four minutes (family seed 3, 1.7 minutes before the breakout).
    Against the minutes with comments alone, what normal brings to a minute known to
    hold one, it is mostly negative."""
    post = KeyMonitor()
    _thread_minutes(post, 0, 200, every=20, neg=True)  # a complaint every 20 minutes
    _thread_minutes(post, 200, 14, every=1, neg=True)  # then one a minute
    assert post.share.statistic > 0.0 and post.excursion[0] == 24
    assert not post.excursion_mostly_negative(at_least=10)  # 15 expected over 214 minutes
    assert post.excursion_read_mostly_negative(at_least=10)
    calm = KeyMonitor()
    _thread_minutes(calm, 0, 200, every=20, neg=True)
    _thread_minutes(calm, 200, 14, every=1, neg=False)  # then one a minute, none negative
    assert not calm.excursion_read_mostly_negative(at_least=10)


def test_a_sparse_keys_minutes_with_comments_expect_a_comment_each() -> None:
    """A key that expects a comment an hour still has one in each minute its share test
    reads (a Poisson count given that it is not zero): 40 such comments at its usual
    share are not 40 comments over normal, of which the few negatives would be too few."""
    sparse = KeyMonitor()
    for minute in range(0, 40 * 30, 30):
        sparse.note_negative(f"a{minute}", minute)  # its first comment negative: the share rises
        sparse.step(minute, n=1, lam=0.0017, dispersion=1.0, share=0.1)
        for quiet in range(minute + 1, minute + 30):
            sparse.step(quiet, n=1 if quiet == minute + 15 else 0, lam=0.0017, dispersion=1.0,
                        share=0.1)  # fmt: skip
    assert sparse.share.statistic > 0.0
    read_comments, read_negatives = sparse.excursion_read
    comments = sparse.excursion[0]
    assert comments <= read_comments < 1.01 * comments


def test_a_checkpoint_from_before_the_excursion_restores() -> None:
    monitor = KeyMonitor()
    _run(monitor, 5, n=20, neg=4)
    state = monitor.__reduce_ex__(2)
    slots = state[2][1]
    del slots["excursion"]
    restored = pickle.loads(pickle.dumps(monitor))
    restored.__setstate__((None, slots))
    assert restored.excursion == (0, 0, 0.0, 0.0)
    assert restored.share.statistic == monitor.share.statistic


def test_a_checkpoint_from_before_the_read_minutes_restores_with_the_excursions() -> None:
    monitor = KeyMonitor()
    _run(monitor, 5, n=20, neg=4)
    slots = monitor.__reduce_ex__(2)[2][1]
    del slots["excursion_read"]
    restored = KeyMonitor()
    restored.__setstate__((None, slots))
    assert restored.excursion_read == monitor.excursion[2:]


def test_extra_comments_count_from_the_volume_before_the_surge() -> None:
    """The level learns a launch's volume within the hour; the excursion keeps counting
    from what was normal before, while the brand's volume test says it surges."""
    state = BrandState()
    calm = Expectation(volume_per_min=2.0, neg_share=0.1, dispersion=1.0, minutes_seen=600)
    learned = Expectation(volume_per_min=30.0, neg_share=0.1, dispersion=1.0, minutes_seen=660)
    assert state.normal_volume(calm) == 2.0
    # Its volume test half-way to the exact threshold or more: a surge runs.
    table = ThresholdTable()
    for minute in range(3):
        state.volume.step(20, expected=2.0, dispersion=1.0, table=table, minute=minute)
    assert state.volume.surging
    assert state.normal_volume(learned) == 2.0
    minute = 3
    while state.volume.statistic >= 0.5 * state.volume.exact:  # over
        state.volume.step(0, expected=2.0, dispersion=1.0, table=table, minute=minute)
        minute += 1
    assert not state.volume.surging
    assert state.normal_volume(learned) == 30.0


def test_a_launch_hour_with_a_cluster_of_complaints_is_mostly_not_negative() -> None:
    """40 minutes of a launch at 3 comments a minute, a negative every five minutes,
    then three minutes of 5 comments, 3 of them negative: the hour stays a launch's,
    though the share test's excursion is the cluster's alone."""
    monitor = KeyMonitor()
    _run(monitor, 120, n=1, neg=0)
    assert not monitor.hour_mostly_not_negative()  # no surge at all
    for minute in range(120, 160):
        _run(monitor, 1, n=3, neg=1 if minute % 5 == 0 else 0, start=minute)
    assert monitor.share.statistic == 0.0
    _run(monitor, 3, n=5, neg=3, start=160)
    assert not monitor.excursion_mostly_not_negative()  # the cluster's own excursion
    assert monitor.hour_mostly_not_negative()


def test_a_storm_hour_is_not() -> None:
    monitor = KeyMonitor()
    _run(monitor, 120, n=1, neg=0)
    _run(monitor, 20, n=3, neg=1, start=120)  # 2 extra comments a minute, half negative
    assert not monitor.hour_mostly_not_negative()


def test_a_storm_hour_is_mostly_negative_and_a_launch_hour_is_not() -> None:
    """`KeyMonitor.hour_mostly_negative`: what lets the rate test lead while the brand's
    comments surge (a storm that is most of a small brand's talk)."""
    storm, launch = KeyMonitor(), KeyMonitor()
    for monitor in (storm, launch):
        _run(monitor, 120, n=1, neg=0)
    _run(storm, 20, n=4, neg=3, start=120)  # 3 extra comments a minute, 2.9 negative
    _run(launch, 20, n=20, neg=4, start=120)  # 19 extra a minute, 3.9 negative
    assert storm.hour_mostly_negative(at_least=10)
    assert not storm.hour_mostly_negative(at_least=10_000)
    assert not launch.hour_mostly_negative()
    assert launch.hour_mostly_not_negative()


def test_a_launch_fades_from_the_hour() -> None:
    """A storm two hours after a launch is judged on its own: the launch's comments
    weigh a quarter, and after an hour of the storm's they no longer hold it back."""
    monitor = KeyMonitor()
    _run(monitor, 300, n=5, neg=1)  # a five-hour launch
    assert monitor.hour_mostly_not_negative()
    monitor.quiet(120, 12.0, 1.0, volume_total=120.0)
    _run(monitor, 60, n=2, neg=2, start=420)  # a storm: every extra comment negative
    assert not monitor.hour_mostly_not_negative()


def test_quiet_minutes_add_what_the_normal_expected_to_the_hour() -> None:
    """A resting key's catch-up: the same hour as minutes stepped one by one."""
    stepped, rested = KeyMonitor(), KeyMonitor()
    _run(stepped, 30, n=4, neg=1)
    _run(rested, 30, n=4, neg=1)
    _run(stepped, 45, n=0, neg=0, start=30)
    rested.quiet(45, 4.5, 1.0, volume_total=45.0)
    assert rested.hour == pytest.approx(stepped.hour)
    assert rested.hour_volume() == pytest.approx(stepped.hour_volume())
    # A resting brand sums its tests' expectation only as far as takes them to zero
    # (here: none of it); the hour still counts what its normal expected.
    brand = KeyMonitor()
    _run(brand, 30, n=4, neg=1)
    brand.quiet(45, 0.0, 1.0, volume_total=45.0, normal_total=4.5)
    assert brand.hour == pytest.approx(stepped.hour)


def test_a_checkpoint_from_before_the_hour_restores() -> None:
    """A key's monitor from before it kept the hour starts one; a brand's own hour of
    then (its surge and last hour) becomes its monitor's."""
    monitor = KeyMonitor()
    _run(monitor, 5, n=20, neg=4)
    slots = dict(monitor.__reduce_ex__(2)[2][1])
    del slots["hour"]
    restored = KeyMonitor.__new__(KeyMonitor)
    restored.__setstate__((None, slots))
    assert restored.hour == (0, 0, 0.0, 0.0)
    state = BrandState()
    slots = {name: getattr(state, name) for name in BrandState.__slots__}
    slots.update(surge=300.0, last_hour=(10.0, 90.0, 9.0))
    brand = BrandState.__new__(BrandState)
    brand.__setstate__((None, slots))
    assert brand.monitor.hour == (300.0, 10.0, 90.0, 9.0)
    assert brand.monitor.hour_mostly_not_negative()


def _second_day_surge(
    rng: random.Random,
    name: str,
    seed: int,
    per_day: float,
    kinds: tuple[str, ...],
    hours: tuple[float, float],
    threads: tuple[int, int],
) -> ScenarioSpec:
    """One brand of `per_day` comments with a launch or a viral post (one of `kinds`)
    on its second day, lasting `hours`, on `threads` posts, at 4-12x its usual talk."""
    brand = BrandSpec(
        "shop", per_day, lang="en", negative_share=rng.uniform(0.04, 0.15), threads_per_day=1
    )
    kind = rng.choice(kinds) if len(kinds) > 1 else kinds[0]
    event = EventSpec(
        kind,
        "shop",
        rng.uniform(26, 34) * H,
        rng.uniform(*hours) * H,
        name="launch",
        peak_rate_per_min=max(5.0, per_day / 1440 * rng.uniform(4, 12)),
        n_threads=rng.randint(*threads),
    )
    return one_brand_stream(name, brand, event, hours=44, seed=seed)


def _loud(specs: list[ScenarioSpec]) -> list[int]:
    """The seeds whose surge, or anything else, opened an incident."""
    runs = run_specs(specs)
    return [r.seed for r in runs if r.label("launch").incidents or r.unexplained]


SMALL_LAUNCH_SEEDS = range(1, 31)


@pytest.mark.slow
def test_launches_at_brands_of_80_to_170_a_day_stay_quiet() -> None:
    """A launch on a small brand's second day, as the evaluation family draws it. On
    fresh family seeds 3 of 20 such launches opened incidents (brands of 82-168 a day):
    the brand had learned its usual share from a day of some 100 comments (one had 3
    negatives in 89, 3 %, against 15 % in its launch), its level learned the launch's
    volume within the hour, and hours of a launch were evidence enough."""
    rng = random.Random("launch at a small brand")
    specs = []
    for seed in SMALL_LAUNCH_SEEDS:
        per_day = rng.uniform(80, 170)
        specs.append(
            _second_day_surge(
                rng, "battery-small-launch", seed, per_day, ("product_launch",), (5, 8), (2, 5)
            )
        )
    loud = _loud(specs)
    assert len(loud) <= 1, f"incidents in seeds {loud}"


WIDE_LAUNCH_SEEDS = range(1, 121)


@pytest.mark.slow
def test_launches_and_viral_posts_at_brands_of_40_to_3000_a_day_stay_quiet() -> None:
    """A launch or a positive viral post on a brand's second day, brands log-uniform
    over 40-3,000 a day, at up to twelve times their usual talk. The rate test may
    lead while the brand's comments surge when the key's last hour is mostly negative,
    and not while that hour was a launch's (`Judge._assess`): both read the hour, and
    a launch's complaints must not make it read like a storm's. Measured over 400 such
    streams (this draw, seeds 1-400) at 7ab4943, ac22ab8 and f712088: the same 4 opened an
    incident (viral posts at 140 and 198 a day, launches at 43 and 1,544), the first of
    them in this test's 120. Since complaint reports are read (`detectors/complaints.py`,
    2026-12-06): 6 of the 400, the two more false alarms on the brand's everyday talk at
    brands of 64 and 105 a day on their second day, not incidents of the surge (at 64 a
    day two of the day's complaints, "Online order cancelled without explanation,
    terrible", now read 0.6 instead of 0.23 and 0.17), one of them in this test's 120.
    At 403c339 and at eb740ed (exact rate thresholds) 5 of the 400, the same five
    (seeds 105, 205, 270, 316, 335; only 270's incident is the surge's)."""
    rng = random.Random("launch battery wide")
    specs = []
    for seed in WIDE_LAUNCH_SEEDS:
        per_day = math.exp(rng.uniform(math.log(40), math.log(3000)))
        kinds = ("product_launch", "viral_positive")
        specs.append(
            _second_day_surge(rng, "battery-wide-launch", seed, per_day, kinds, (2, 8), (1, 5))
        )
    loud = _loud(specs)
    assert len(loud) <= 2, f"incidents in seeds {loud}"


def test_spent_rate_evidence_does_not_count_again() -> None:
    """`KeyMonitor.spend_rate`, `rate_gain`: what the rate test may lead with. A launch's
    volume at the usual share keeps the slow rate design over its threshold long after;
    once spent (the judge does so while the share test stands at zero), a later
    cluster of complaints gains it only what it would gain at a calm key."""
    launch, calm = KeyMonitor(), KeyMonitor()
    _run(launch, 120, n=20, neg=2)  # twenty times the talk, the usual share
    assert launch.share.statistic == 0.0 and launch.rate.statistic >= 5.0
    assert launch.rate_gain() == launch.rate.statistic  # nothing spent yet
    launch.spend_rate()
    _run(launch, 60, n=1, neg=0, start=120)
    _run(calm, 180, n=1, neg=0)
    assert launch.rate.statistic >= 5.0  # the slow design, over a threshold of 5
    assert calm.rate.statistic == 0.0
    for monitor in (launch, calm):
        _run(monitor, 3, n=2, neg=1, start=180)  # a cluster of complaints
        assert monitor.share.statistic > 0
    assert calm.rate_gain() == calm.rate.statistic
    assert launch.rate_gain() < 5.0 <= launch.rate.statistic
    assert launch.rate_gain() == pytest.approx(calm.rate_gain(), rel=0.05)
    restored = pickle.loads(pickle.dumps(launch))  # as a checkpoint keeps it
    assert restored.rate_floor == launch.rate_floor
    # A checkpoint from before spending was kept: nothing spent.
    slots = {name: getattr(launch, name) for name in KeyMonitor.__slots__}
    del slots["rate_floor"]
    old = KeyMonitor.__new__(KeyMonitor)
    old.__setstate__((None, slots))
    assert old.rate_gain() == old.rate.statistic
    # Fallen back to zero, nothing is left to spend: all it gains counts again.
    _run(launch, 600, n=1, neg=0, start=183)
    assert launch.rate.statistic == 0.0
    _run(launch, 3, n=2, neg=1, start=783)
    assert launch.rate_gain() == launch.rate.statistic > 0.0
