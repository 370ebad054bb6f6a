"""Tests for stormwatch.evaluation.nab: hand-computed rules, then NAB's published realTweets
figures.

The golden numbers come from the vendored NAB data (`stormwatch/evaluation/data/nab/`:
SCORING.md section 9, scoreboard.json) and NAB's published per-row anomaly scores for
`numenta` and `windowedGaussian` (`tests/data/nab/`): scored at the published thresholds,
they must give the published per-file raw scores. `STORMWATCH_NAB_DIR` points the tests at
another copy in the same layout (with `nab_results_realTweets/` inside it).
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import numpy as np
import pytest

from stormwatch.evaluation import nab

NAB_DIR = Path(os.environ.get("STORMWATCH_NAB_DIR", nab.REALTWEETS_DIR))
RESULTS_DIR = (
    NAB_DIR / "nab_results_realTweets"
    if "STORMWATCH_NAB_DIR" in os.environ
    else Path(__file__).resolve().parent / "data" / "nab" / "nab_results_realTweets"
)
DETECTORS = ("numenta", "windowedGaussian")
PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def f_ref(y: float) -> float:
    """Independent form of NAB's sigmoid: 2/(1+exp(5y)) - 1 == -tanh(5y/2) for y <= 3."""
    return -1.0 if y > 3 else -math.tanh(2.5 * y)


# --------------------------------------------------------------------------- sigmoid, profiles


def test_sigmoid_reference_values() -> None:
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.9866142981514305, abs=1e-12)
    assert nab.scaled_sigmoid(1.0) == pytest.approx(-0.9866142981514303, abs=1e-12)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.848283640, abs=1e-9)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(3.0) == pytest.approx(f_ref(3.0), abs=1e-15)
    assert nab.scaled_sigmoid(3.0001) == -1.0
    assert nab.scaled_sigmoid(1e6) == -1.0  # no overflow warning far from windows
    ys = np.linspace(-1, 3, 101)
    vals = nab.scaled_sigmoid(ys)
    assert np.all(np.diff(vals) < 0)
    assert vals == pytest.approx([f_ref(y) for y in ys], abs=1e-15)


def test_profiles_match_spec() -> None:
    assert nab.get_profile("standard") == nab.CostProfile("standard", 1.0, 0.11, 1.0, 1.0)
    lo_fp = nab.get_profile("reward_low_FP_rate")
    lo_fn = nab.get_profile("reward_low_FN_rate")
    assert (lo_fp.a_tp, lo_fp.a_fp, lo_fp.a_fn, lo_fp.a_tn) == (1.0, 0.22, 1.0, 1.0)
    assert (lo_fn.a_tp, lo_fn.a_fp, lo_fn.a_fn, lo_fn.a_tn) == (1.0, 0.11, 2.0, 1.0)
    with pytest.raises(ValueError, match="unknown NAB profile"):
        nab.get_profile("nope")


def test_probation_length() -> None:
    assert nab.probation_length(15902) == 750
    assert nab.probation_length(4000) == 600
    assert nab.probation_length(101) == 15


# --------------------------------------------------------------------------- hand-computed windows

N, P = 40, 10
WIN = (20, 24)  # inclusive, w = 5


def synthetic(windows=(WIN,), n: int = N, probation: int = P) -> nab.NabFile:
    return nab.NabFile.build("cat/syn.csv", np.arange(n), np.zeros(n), windows, probation)


def detect_at(rows, n: int = N) -> np.ndarray:
    s = np.zeros(n)
    s[list(rows)] = 1.0
    return s


def raw(rows, profile="standard", f: nab.NabFile | None = None) -> float:
    f = f or synthetic()
    return nab.score_file(detect_at(rows, f.n_rows), f, profile, 0.5).raw


def test_weights_table_for_a_397_row_window() -> None:
    """SCORING.md section 3, AAPL-sized window (w = 397), standard profile."""
    lo, hi = 1000, 1396
    f = nab.NabFile.build("cat/w397.csv", np.arange(3000), np.zeros(3000), [(lo, hi)], 0)
    c = f.weights("standard")
    table = {
        lo: 1.0,
        lo + 99: 0.967132,
        lo + 198: 0.860685,
        lo + 297: 0.565430,
        hi: 0.006383,
        hi + 1: -0.000694,
        hi + 99: -0.061006,
        hi + 198: -0.093311,
        hi + 396: -0.108528,
        hi + 792: -0.109990,
        hi + 1189: -0.11,
        lo - 1: -0.11,  # before any window
        0: -0.11,
    }
    for row, expected in table.items():
        assert c[row] == pytest.approx(expected, abs=1e-6), row


def test_detection_at_window_right_end() -> None:
    # y = -1/w = -0.2; worth f(-0.2)/f(-1) = tanh(0.5)/tanh(2.5) = 0.468387
    expected = math.tanh(0.5) / math.tanh(2.5)
    assert expected == pytest.approx(0.468387, abs=1e-6)
    assert raw([24]) == pytest.approx(expected, abs=1e-12)
    assert raw([24], "reward_low_FN_rate") == pytest.approx(expected, abs=1e-12)


def test_detection_at_window_start_is_worth_a_tp() -> None:
    assert raw([20]) == pytest.approx(1.0, abs=1e-15)


def test_only_earliest_detection_in_a_window_counts() -> None:
    expected = f_ref(-4 / 5) / f_ref(-1)  # row 21: y = -(24 - 21 + 1)/5
    assert raw([21]) == pytest.approx(expected, abs=1e-12)
    assert raw([21, 22, 24]) == pytest.approx(expected, abs=1e-12)
    fs = nab.score_file(detect_at([21, 22, 24]), synthetic(), "standard", 0.5)
    assert fs.window_rows == (21,)
    assert (fs.tp, fs.fp, fs.fn, fs.tn) == (3, 0, 2, N - P - 5)


def test_false_positive_just_after_window() -> None:
    # Row 25: y = (25 - 24)/(w - 1) = 0.25, c = A_FP * f(0.25); the window itself is missed.
    fp = f_ref(0.25)
    assert fp == pytest.approx(-0.554600, abs=1e-6)
    assert raw([25]) == pytest.approx(-1.0 + 0.11 * fp, abs=1e-12)
    assert raw([25], "reward_low_FP_rate") == pytest.approx(-1.0 + 0.22 * fp, abs=1e-12)
    assert raw([25], "reward_low_FN_rate") == pytest.approx(-2.0 + 0.11 * fp, abs=1e-12)
    # With the window caught, the FP right after it is almost free.
    assert raw([20, 25]) == pytest.approx(1.0 + 0.11 * fp, abs=1e-12)


def test_false_positives_before_any_window_and_far_after() -> None:
    assert raw([20, 12]) == pytest.approx(1.0 - 0.11, abs=1e-15)
    # Row 37: y = 13/4 > 3, full cost. Every FP counts, no grouping.
    assert raw([20, 37]) == pytest.approx(1.0 - 0.11, abs=1e-15)
    assert raw([20, 12, 13, 37]) == pytest.approx(1.0 - 3 * 0.11, abs=1e-15)


def test_missed_window() -> None:
    assert raw([]) == -1.0
    assert raw([], "reward_low_FN_rate") == -2.0
    fs = nab.score_file(np.zeros(N), synthetic(), "standard", 0.5)
    assert fs.window_rows == (None,) and fs.window_values == (-1.0,)


def test_probationary_rows_are_never_scored() -> None:
    assert raw([3]) == -1.0  # an FP inside probation costs nothing
    # A window straddling the end of probation: row 9 is ignored, row 10 is a TP at y=-3/5.
    f = synthetic(windows=[(8, 12)])
    assert raw([9], f=f) == -1.0
    assert raw([9, 10], f=f) == pytest.approx(f_ref(-0.6) / f_ref(-1), abs=1e-12)
    # A window entirely inside probation is not scorable: no miss, not in the null score.
    f2 = synthetic(windows=[(2, 6), WIN])
    assert raw([], f=f2) == -1.0
    # ...but it still sets the FP weight after it: row 8 is y = 2/4 after window (2, 6).
    assert f2.weights("standard")[8] == pytest.approx(0.11 * f_ref(0.5), abs=1e-15)
    cs = nab.score_corpus({f2.name: np.zeros(N)}, {f2.name: f2}, "standard", 0.5)
    assert (cs.null_raw, cs.perfect_raw) == (-1.0, 2.0)


def test_threshold_is_inclusive() -> None:
    f = synthetic()
    s = np.zeros(N)
    s[20] = 0.7
    assert nab.score_file(s, f, "standard", 0.7).raw == 1.0
    assert nab.score_file(s, f, "standard", np.nextafter(0.7, 1)).raw == -1.0


def test_bad_inputs_are_rejected() -> None:
    f = synthetic()
    with pytest.raises(ValueError, match="expected 40 scores"):
        nab.score_file(np.zeros(39), f, "standard", 0.5)
    with pytest.raises(ValueError, match="NaN"):
        nab.score_file(np.full(N, np.nan), f, "standard", 0.5)
    with pytest.raises(ValueError, match="sorted and disjoint"):
        synthetic(windows=[(20, 24), (24, 30)])
    with pytest.raises(ValueError, match="missing"):
        nab.score_corpus({}, {f.name: f}, "standard", 0.5)


def test_sweep_ties_go_to_highest_threshold() -> None:
    f = synthetic()
    s = np.zeros(N)
    s[20], s[22], s[30] = 0.9, 0.5, 0.3  # 0.9 and 0.5 both give +1; 0.3 adds an FP
    sweep = nab.sweep_thresholds({f.name: s}, {f.name: f}, "standard")
    assert list(sweep.thresholds) == [1.1, 0.9, 0.5, 0.3, 0.0]
    assert sweep.raw[:3] == pytest.approx([-1.0, 1.0, 1.0], abs=1e-15)
    best = nab.optimize_threshold({f.name: s}, {f.name: f}, "standard")
    assert best.threshold == 0.9 and best.raw == 1.0 and best.normalized == 100.0


# --------------------------------------------------------------------------- loading


@pytest.fixture(scope="module")
def corpus() -> dict[str, nab.NabFile]:
    return nab.load_corpus(NAB_DIR)


@pytest.fixture(scope="module")
def scoreboard() -> dict:
    return json.loads((NAB_DIR / "scoreboard.json").read_text())


@pytest.fixture(scope="module")
def published_scores(corpus) -> dict[str, dict[str, np.ndarray]]:
    return {det: nab.load_detector_scores(RESULTS_DIR, det, corpus) for det in DETECTORS}


def test_load_realtweets(corpus) -> None:
    assert len(corpus) == 10
    assert sum(len(f.windows) for f in corpus.values()) == 33
    assert all(f.probation == 750 for f in corpus.values())
    aapl = corpus["realTweets/Twitter_volume_AAPL.csv"]
    assert aapl.n_rows == 15902
    assert aapl.windows.tolist() == [[1235, 1631], [2920, 3316], [4761, 5157], [9087, 9483]]
    ups = corpus["realTweets/Twitter_volume_UPS.csv"]
    assert ups.windows.tolist()[2] == [1782, 2098]
    assert aapl.timestamps[0] == np.datetime64("2015-02-26T21:42:53")


def test_load_nab_repository_layout(tmp_path: Path) -> None:
    """NAB's own layout: data/<category>/*.csv and labels/combined_windows.json."""
    (tmp_path / "data" / "cat").mkdir(parents=True)
    (tmp_path / "labels").mkdir()
    stamps = [f"2020-01-01 00:{m:02d}:00" for m in range(40)]
    lines = ["timestamp,value"] + [f"{t},{i}" for i, t in enumerate(stamps)]
    (tmp_path / "data" / "cat" / "a.csv").write_text("\n".join(lines) + "\n")
    windows = {"cat/a.csv": [[stamps[20] + ".000000", stamps[24] + ".000000"]], "other/b.csv": []}
    (tmp_path / "labels" / "combined_windows.json").write_text(json.dumps(windows))
    data = nab.load_corpus(tmp_path)
    assert list(data) == ["cat/a.csv"]
    f = data["cat/a.csv"]
    assert f.windows.tolist() == [[20, 24]] and f.probation == 6
    (tmp_path / "data" / "cat" / "extra.csv").write_text("timestamp,value\n")
    with pytest.raises(ValueError, match="without labels"):
        nab.load_corpus(tmp_path)


# --------------------------------------------------------------------------- published figures


def test_aapl_worked_example(corpus, published_scores) -> None:
    """SCORING.md section 4: numenta, AAPL, standard, threshold 0.542187690735."""
    key = "realTweets/Twitter_volume_AAPL.csv"
    fs = nab.score_file(published_scores["numenta"][key], corpus[key], "standard", 0.542187690735)
    assert fs.window_rows == (1432, None, 4831, 9172)
    assert fs.window_values == pytest.approx([0.862456, -1.0, 0.981112, 0.974494], abs=1e-6)
    assert fs.fp == 6
    assert fs.fp_total == pytest.approx(-0.1099996 - 0.1099999 - 3 * 0.11 - 0.004165, abs=1e-6)
    assert fs.raw == pytest.approx(1.26389791486, abs=1e-10)


@pytest.mark.parametrize("detector", DETECTORS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_published_per_file_raw_scores(
    corpus, published_scores, scoreboard, detector, profile
) -> None:
    """All 60 published per-file raw scores (2 detectors x 3 profiles x 10 files).

    NAB prints them with ~12 significant digits; we agree to better than 1e-11.
    """
    entry = scoreboard["detectors"][detector]
    threshold = entry["corpus_threshold_from_scores_csv"][profile]
    result = nab.score_corpus(published_scores[detector], corpus, profile, threshold)
    published = entry["realTweets_per_file_raw_published"][profile]
    assert set(published) == set(result.files)
    for key, value in published.items():
        assert result.files[key].raw == pytest.approx(value, rel=1e-9, abs=1e-10), key
    # Normalised realTweets score at the published threshold (SCOREBOARD.md table B).
    derived = entry["realTweets_normalized_corpus_threshold_derived"][profile]
    assert result.normalized == pytest.approx(derived, abs=1e-8)
    assert round(result.normalized, 2) == round(derived, 2)


@pytest.mark.parametrize("detector", DETECTORS)
@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_reoptimised_realtweets_threshold(
    corpus, published_scores, scoreboard, detector, profile
) -> None:
    """Exhaustive sweep on realTweets only (SCOREBOARD.md table C, computed by the spec author)."""
    expected = scoreboard["detectors"][detector]["realTweets_reoptimized_computed_here"][profile]
    best = nab.optimize_threshold(published_scores[detector], corpus, profile)
    assert best.threshold == expected["threshold"]
    assert best.raw == pytest.approx(expected["raw"], rel=1e-9)
    assert best.normalized == pytest.approx(expected["normalized"], abs=1e-8)


def test_table_c_headline_values(corpus, published_scores) -> None:
    """SCORING.md section 9.5, as printed: numenta 69.35 at 0.581621..., windowedGaussian 51.41."""
    numenta = nab.optimize_threshold(published_scores["numenta"], corpus, "standard")
    assert round(numenta.normalized, 2) == 69.35
    assert numenta.threshold == pytest.approx(0.581621, abs=1e-6)
    wg = nab.optimize_threshold(published_scores["windowedGaussian"], corpus, "standard")
    assert round(wg.normalized, 2) == 51.41 and wg.threshold == 1.0


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_null_and_perfect_detectors(corpus, scoreboard, profile) -> None:
    null_scores = {k: np.full(f.n_rows, 0.5) for k, f in corpus.items()}
    null = nab.score_corpus(null_scores, corpus, profile, nab.NO_DETECTION_THRESHOLD)
    assert null.raw == scoreboard["realTweets"]["null_raw"][profile]  # -33 / -33 / -66
    assert null.null_raw == null.raw and null.normalized == 0.0
    best_null = nab.optimize_threshold(null_scores, corpus, profile)
    assert best_null.threshold == nab.NO_DETECTION_THRESHOLD and best_null.normalized == 0.0

    perfect_scores = {}
    for k, f in corpus.items():
        s = np.zeros(f.n_rows)
        s[f.windows[:, 0]] = 1.0
        perfect_scores[k] = s
    perfect = nab.score_corpus(perfect_scores, corpus, profile, 1.0)
    assert perfect.raw == pytest.approx(33.0, abs=1e-12)
    assert perfect.perfect_raw == scoreboard["realTweets"]["perfect_raw"][profile]
    assert perfect.normalized == pytest.approx(100.0, abs=1e-12)
    assert nab.optimize_threshold(perfect_scores, corpus, profile).threshold == 1.0


@pytest.mark.parametrize("detector", DETECTORS)
def test_sweep_matches_direct_scoring(corpus, published_scores, detector) -> None:
    """The O(N log N) sweep equals scoring each candidate threshold from scratch."""
    scores = published_scores[detector]
    sweep = nab.sweep_thresholds(scores, corpus, "reward_low_FP_rate")
    assert np.all(np.diff(sweep.thresholds) < 0)
    picks = np.unique(np.r_[0 : len(sweep.thresholds) : max(1, len(sweep.thresholds) // 150), -1])
    for i in picks:
        direct = nab.score_corpus(scores, corpus, "reward_low_FP_rate", sweep.thresholds[i]).raw
        # Both are float sums of up to ~1.5e5 terms; they differ only by roundoff.
        assert sweep.raw[i] == pytest.approx(direct, rel=1e-11, abs=1e-11)


def test_speed(corpus, published_scores) -> None:
    scores = published_scores["numenta"]
    t0 = time.perf_counter()
    nab.score_corpus(scores, corpus, "standard", 0.5)
    t1 = time.perf_counter()
    for profile in PROFILE_NAMES:
        nab.optimize_threshold(published_scores["windowedGaussian"], corpus, profile)
    t2 = time.perf_counter()
    assert t1 - t0 < 1.0
    assert t2 - t1 < 10.0
