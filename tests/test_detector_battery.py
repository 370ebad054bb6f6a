"""One battery over every detector estimator, river-style, and hard cases for the judge.

1. river's own `check_estimator` on each registered estimator. Its dataset checks
   (learn_one purity, pickling, shuffled, emerging and disappearing features, scoring
   before any learning, no aliasing, bounded memory, ROC AUC) normally run on river's
   downloaded datasets; here `river.checks._yield_datasets` is replaced by a labelled
   stream of minute counts of our own (y = a storm minute), so they run offline and on
   the data these detectors are for.
2. Overlapping minute counts over ten seeds: storms of 1.5-3x a bursty key's normal
   rate, where a minute's raw count alone separates storm from normal minutes poorly
   (AUC about 0.65). The sequential tests must beat that raw count in every seed, and
   the share test must tell a storm from a positive viral surge that brings the same
   extra negatives (which the rate test alone cannot).
3. Whole-pipeline cases that overlap on raw counts, over five seeds each: a templated
   campaign from many accounts against a bot burst of the same size from five accounts
   (both with inserted words, reordered phrases, emoji and links); a firestorm against
   a viral post with the same comment volume; a slow swell over twelve hours; and a
   firestorm at a 100-a-day shop and at a 20,000-a-day brand.
"""

from __future__ import annotations

import copy
import math
import pickle
import statistics
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from river import checks
from river.base import AnomalyDetector
from sklearn.metrics import roc_auc_score

from stormwatch.detectors.sequential import BinomialCusum, PoissonCusum
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec
from tests.seeded_runs import RunResult, run_specs, spread

# Every detector estimator of stormwatch.detectors: add new ones here.
DETECTORS: dict[str, Callable[[], AnomalyDetector]] = {
    "poisson_cusum": PoissonCusum,
    "binomial_cusum": BinomialCusum,
}
SEEDS = range(1, 11)

# --------------------------------------------------------------------- minute counts


def minute_stream(
    seed: int,
    minutes: int = 1200,
    *,
    normal_rate: float = 0.6,
    dispersion: float = 1.5,
    share: float = 0.1,
    ratios: tuple[float, float] = (1.5, 3.0),
    viral: bool = False,
) -> list[tuple[dict[str, float], bool]]:
    """Minutes of one key: x carries what both CUSUMs read (the count of negatives and
    its expectation and dispersion; negatives `k` of `n` comments and the usual share),
    y says whether the minute is inside a storm.

    Negative counts are negative-binomial (variance `dispersion` times the mean), as on
    real keys. Storms of 30-120 minutes at 1.5-3x the normal rate come every 10-25
    hours. With `viral`, every other surge is a positive viral one instead (label
    False): the same extra negatives, but with many times the comments, so the share
    of negatives stays as usual.
    """
    rng = np.random.default_rng(seed)
    others_per_min = normal_rate / share - normal_rate
    out: list[tuple[dict[str, float], bool]] = []
    next_start = int(rng.integers(300, 900))
    end, ratio, kind = -1, 1.0, "storm"
    surges = 0
    for t in range(minutes):
        if t == next_start:
            end = t + int(rng.integers(30, 120))
            ratio = float(rng.uniform(*ratios))
            kind = "viral" if viral and surges % 2 == 1 else "storm"
            surges += 1
            next_start = end + int(rng.integers(600, 1500))
        surging = t < end
        mean = normal_rate * (ratio if surging else 1.0)
        size = mean / (dispersion - 1.0)
        k = int(rng.negative_binomial(size, size / (size + mean)))
        others = others_per_min * (ratio if surging and kind == "viral" else 1.0)
        n = k + int(rng.poisson(others))
        x = {
            "count": k,
            "expected": normal_rate,
            "dispersion": dispersion,
            "k": k,
            "n": n,
            "share": share,
        }
        out.append((x, surging and kind == "storm"))
    return out


def prequential_scores(
    detector: AnomalyDetector, stream: list[tuple[dict[str, float], bool]]
) -> list[float]:
    """Score each minute before learning it, as river's check_roc_auc does."""
    scores = []
    for x, _ in stream:
        scores.append(detector.score_one(x))
        detector.learn_one(x)
    return scores


# ----------------------------------------------------------- river's own checks


@pytest.fixture(params=sorted(DETECTORS))
def detector_name(request: pytest.FixtureRequest) -> str:
    return request.param


def test_river_check_estimator_on_our_labelled_stream(
    detector_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[int] = []

    def our_datasets(model: AnomalyDetector, scale: int = 1) -> Iterator:
        used.append(scale)
        yield iter(minute_stream(len(used), 1200 * scale))

    monkeypatch.setattr(checks, "_yield_datasets", our_datasets)
    model = DETECTORS[detector_name]()
    names = [c.__name__ for c in checks.yield_checks(model)]
    assert "check_roc_auc" in names and "check_bounded_memory_growth" in names
    used.clear()
    checks.check_estimator(model)
    # every dataset check (ROC AUC and bounded memory included) ran on our stream
    assert len(used) >= 12 and 10 in used


def test_score_one_is_pure_and_pickles_mid_storm(detector_name: str) -> None:
    stream = minute_stream(3)
    d = DETECTORS[detector_name]()
    storm_at = next(i for i, (_, y) in enumerate(stream) if y)
    for x, _ in stream[: storm_at + 20]:
        d.learn_one(x)
    x = stream[storm_at + 20][0]
    before, state = copy.deepcopy(x), pickle.dumps(d)
    score = d.score_one(x)
    assert x == before and pickle.dumps(d) == state
    clone = pickle.loads(pickle.dumps(d))
    assert clone.score_one(x) == score and math.isfinite(score) and score > 0


# ------------------------------------------------------- overlapping minute counts


def test_sequential_tests_beat_the_raw_count_on_overlapping_storms(detector_name: str) -> None:
    rows = []
    for seed in SEEDS:
        stream = minute_stream(100 + seed, 6000)
        y = [label for _, label in stream]
        raw = roc_auc_score(y, [x["count"] for x, _ in stream])
        auc = roc_auc_score(y, prequential_scores(DETECTORS[detector_name](), stream))
        rows.append((seed, round(raw, 3), round(auc, 3)))
    report = f"(seed, raw count AUC, {detector_name} AUC): {rows}"
    # The cases overlap: one minute's count is a poor guide ...
    assert max(raw for _, raw, _ in rows) < 0.8, report
    # ... and accumulating evidence over minutes does much better, in every seed.
    assert all(auc > raw + 0.05 for _, raw, auc in rows), report
    assert statistics.median(auc for *_, auc in rows) >= 0.8, report


def test_only_the_share_test_tells_a_storm_from_a_viral_surge() -> None:
    """Half the surges are positive viral ones (as many extra negatives, many more
    comments): the rate test ranks them like storms, the share test does not."""
    rows = []
    for seed in SEEDS:
        stream = minute_stream(200 + seed, 8000, viral=True)
        y = [label for _, label in stream]
        rate = roc_auc_score(y, prequential_scores(PoissonCusum(), stream))
        share = roc_auc_score(y, prequential_scores(BinomialCusum(), stream))
        rows.append((seed, round(rate, 3), round(share, 3)))
    report = f"(seed, rate AUC, share AUC): {rows}"
    assert all(share > rate for _, rate, share in rows), report
    assert statistics.median(share for *_, share in rows) >= 0.8, report


# --------------------------------------------------------------- the whole pipeline

H = 3600.0
CASE_SEEDS = range(1, 6)


def case(seed: int, name: str, brand: BrandSpec, *events: EventSpec, hours: float) -> ScenarioSpec:
    return ScenarioSpec(
        f"battery-{name}", duration_s=hours * H, brands=(brand,), events=events, seed=seed
    )


def cases(seed: int) -> list[ScenarioSpec]:
    shop = BrandSpec("shop", 4000, lang="en", threads_per_day=12)
    return [
        # Same brand, same hour of day, the same ~700 near-identical negative comments
        # in ~90 minutes: a campaign of many people, or five bot accounts.
        case(seed, "campaign", shop,
             EventSpec("campaign", "shop", 10 * H, 2 * H, name="campaign",
                       peak_rate_per_min=12, start_rate_per_min=1, plateau_s=1800,
                       topics=("environment", "boycott")),
             hours=13),
        case(seed, "bots", shop,
             EventSpec("bot_burst", "shop", 10 * H, 1.5 * H, name="bots", n_comments=700,
                       n_accounts=5, variation="rewrite", topics=("environment", "boycott")),
             hours=13),
        # A firestorm and a viral post with about the same comments per minute.
        case(seed, "firestorm", shop,
             EventSpec("firestorm", "shop", 10 * H, 3 * H, name="firestorm",
                       peak_rate_per_min=25, start_rate_per_min=0.5, doubling_time_s=600),
             hours=14),
        case(seed, "viral", shop,
             EventSpec("viral_positive", "shop", 10 * H, 3 * H, name="viral",
                       peak_rate_per_min=25, start_rate_per_min=0.5, doubling_time_s=600),
             hours=14),
        # Negativity creeping up over twelve hours across many posts.
        case(seed, "swell", BrandSpec("creep", 1500, lang="en", threads_per_day=16),
             EventSpec("slow_swell", "creep", 6 * H, 18 * H, name="swell"),
             hours=24),
        # A 100-a-day bike shop (a storm of a few comments a minute) and a
        # 20,000-a-day brand (hundreds a minute).
        case(seed, "small", BrandSpec("tiny", 100, lang="de", threads_per_day=2),
             EventSpec("firestorm", "tiny", 14 * H, 3 * H, name="small", lang="de",
                       peak_rate_per_min=3, start_rate_per_min=0.05, doubling_time_s=900),
             hours=18),
        case(seed, "large", BrandSpec("mega", 20000, lang="en", threads_per_day=40),
             EventSpec("firestorm", "mega", 6 * H, 2 * H, name="large",
                       peak_rate_per_min=300, start_rate_per_min=5, doubling_time_s=480),
             hours=8.5),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def pipeline_cases() -> dict[str, list[RunResult]]:
    runs = run_specs([s for seed in CASE_SEEDS for s in cases(seed)])
    out: dict[str, list[RunResult]] = {}
    for run in runs:
        out.setdefault(run.scenario.removeprefix("battery-"), []).append(run)
    return out


def _summary(runs: list[RunResult]) -> str:
    return ", ".join(
        f"seed {r.seed}: {[(lab.name, lab.incidents) for lab in r.labels]}"
        f"{' +' + str(list(r.unexplained)) if r.unexplained else ''}"
        for r in runs
    )


def _caught(runs: list[RunResult], name: str) -> list[RunResult]:
    return [r for r in runs if r.label(name).incidents >= 1]


@pytest.mark.slow
def test_campaign_alerts_and_says_so_bot_burst_of_the_same_size_does_not(pipeline_cases) -> None:  # type: ignore[no-untyped-def]
    campaign, bots = pipeline_cases["campaign"], pipeline_cases["bots"]
    report = f"campaign: {_summary(campaign)}; bots: {_summary(bots)}"
    caught = _caught(campaign, "campaign")
    assert len(caught) == len(campaign), report
    said = [r.seed for r in caught if r.label("campaign").campaign]
    assert len(said) == len(caught), (f"drivers said campaign in seeds {said}", report)
    assert all(r.label("bots").incidents == 0 and not r.unexplained for r in bots), report


@pytest.mark.slow
def test_firestorm_alerts_viral_post_of_the_same_volume_does_not(pipeline_cases) -> None:  # type: ignore[no-untyped-def]
    storm, viral = pipeline_cases["firestorm"], pipeline_cases["viral"]
    report = f"firestorm: {_summary(storm)}; viral: {_summary(viral)}"
    assert len(_caught(storm, "firestorm")) == len(storm), report
    assert all(r.label("firestorm").incidents == 1 for r in storm), report
    leads = [r.label("firestorm").lead_seconds for r in storm]
    assert all(lead is not None and lead > 0 for lead in leads), (spread(leads, 60.0), report)
    assert all(r.label("viral").incidents == 0 and not r.unexplained for r in viral), report


@pytest.mark.slow
def test_slow_swell_over_twelve_hours_is_caught(pipeline_cases) -> None:  # type: ignore[no-untyped-def]
    runs = pipeline_cases["swell"]
    report = _summary(runs)
    assert len(_caught(runs, "swell")) == len(runs), report
    assert all(r.label("swell").incidents <= 2 for r in runs), report


@pytest.mark.slow
@pytest.mark.parametrize("size", ["small", "large"])
def test_firestorm_is_caught_at_100_and_at_20000_comments_a_day(pipeline_cases, size) -> None:  # type: ignore[no-untyped-def]
    runs = pipeline_cases[size]
    leads = [r.label(size).lead_seconds for r in runs]
    report = f"{_summary(runs)}; lead min/median/max in minutes: {spread(leads, 60.0)}"
    assert len(_caught(runs, size)) == len(runs), report
    assert all(r.label(size).incidents == 1 and not r.unexplained for r in runs), report
    # One post, many different people in their own words: not a campaign, at any size
    # (thousands of negatives at 20,000 a day repeat their texts, without templates).
    assert not any(r.label(size).campaign for r in runs), report


LAUNCH_SEEDS = range(1, 31)


@pytest.mark.slow
def test_a_launch_at_a_46_a_day_brand_stays_quiet() -> None:
    """A launch brings a small brand a month of comments in hours at about its usual
    share (1.3x, the generator's): the share tests are calibrated at the volume that
    comes, so those hours are not a month's chances to wander over the threshold.
    Calibrated at the normal volume instead, 4 of these 30 launches opened an incident
    (10 of seeds 1-60); a firestorm at such a brand is still caught (`small` above)."""
    specs = [
        ScenarioSpec(
            "battery-launch",
            duration_s=48 * H,
            brands=(BrandSpec("bikes", 46, lang="en", threads_per_day=1),),
            events=(EventSpec("product_launch", "bikes", 34 * H, 8 * H, name="launch"),),
            seed=seed,
        )
        for seed in LAUNCH_SEEDS
    ]
    runs = run_specs(specs)
    loud = [r.seed for r in runs if r.label("launch").incidents or r.unexplained]
    assert len(loud) <= 1, (f"incidents in seeds {loud}", _summary(runs))
