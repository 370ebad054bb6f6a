"""One battery of checks over every detector, river-style."""

from __future__ import annotations

import copy
import pickle
import random

import pytest

from stormwatch.detectors.surge import GrowthDetector, NegativeSurgeDetector
from stormwatch.detectors.volume import VolumeAnomalyDetector

DETECTORS = {
    "surge": lambda: NegativeSurgeDetector(),
    "surge_raw": lambda: NegativeSurgeDetector("neg"),
    "growth": lambda: GrowthDetector(),
    "volume": lambda: VolumeAnomalyDetector(grace=30),
}


def minute_features(rng: random.Random, *, storm: bool) -> dict[str, float]:
    """Window features of a normal minute, or of a growing negative storm."""
    base = 0.4
    blocks = [rng.randint(0, 4) for _ in range(3)]
    x = {
        "expected_neg_per_min": base,
        "expected_volume_per_min": 5.0,
        "dispersion": 1.2,
        "eff_block_0": blocks[0],
        "eff_block_1": blocks[1],
        "eff_block_2": blocks[2],
    }
    if storm:
        grow = rng.uniform(1.5, 3.0)
        x["eff_block_2"], x["eff_block_1"] = rng.randint(3, 8), rng.randint(8, 20)
        x["eff_block_0"] = int(x["eff_block_1"] * grow)
    eff5 = x["eff_block_0"]
    for prefix in ("eff", "neg"):
        x[f"{prefix}_5"] = eff5
        x[f"{prefix}_10"] = eff5 + x["eff_block_1"]
        x[f"{prefix}_30"] = x[f"{prefix}_10"] + x["eff_block_2"] + rng.randint(0, 6)
    x["n_10"] = (x["neg_10"] * 4 if storm else 50) + rng.randint(0, 10)
    return x


def auc(scores_pos: list[float], scores_neg: list[float]) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in scores_pos for n in scores_neg)
    return wins / (len(scores_pos) * len(scores_neg))


@pytest.fixture(params=sorted(DETECTORS))
def detector_name(request: pytest.FixtureRequest) -> str:
    return request.param


def warmed(name: str, rng: random.Random):  # type: ignore[no-untyped-def]
    d = DETECTORS[name]()
    for _ in range(60):
        d.learn_one(minute_features(rng, storm=False))
    return d


def test_score_one_does_not_mutate_input(detector_name: str) -> None:
    rng = random.Random(1)
    d = warmed(detector_name, rng)
    x = minute_features(rng, storm=True)
    before = copy.deepcopy(x)
    d.score_one(x)
    assert x == before


def test_pickle_round_trip_scores_the_same(detector_name: str) -> None:
    rng = random.Random(2)
    d = warmed(detector_name, rng)
    clone = pickle.loads(pickle.dumps(d))
    for storm in (False, True):
        x = minute_features(rng, storm=storm)
        assert clone.score_one(x) == d.score_one(x)


def test_learn_one_returns_none_and_scores_are_finite(detector_name: str) -> None:
    rng = random.Random(3)
    d = DETECTORS[detector_name]()
    for _ in range(40):
        x = minute_features(rng, storm=False)
        assert d.learn_one(x) is None
        s = d.score_one(x)
        assert s == s and abs(s) < 1e6


def test_roc_auc_on_labelled_replay(detector_name: str) -> None:
    rng = random.Random(4)
    d = warmed(detector_name, rng)
    normal = [d.score_one(minute_features(rng, storm=False)) for _ in range(200)]
    storm = [d.score_one(minute_features(rng, storm=True)) for _ in range(50)]
    assert auc(storm, normal) >= 0.8
