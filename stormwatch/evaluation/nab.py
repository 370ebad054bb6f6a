"""Numenta Anomaly Benchmark (NAB) scoring, reimplemented from the written specification.

Why a reimplementation: stormwatch needs to score its own detectors on NAB's realTweets
corpus (Twitter mention volumes, the closest public benchmark to social-media firestorms)
without pulling in NAB's code. The rules follow ``SCORING.md`` in the vendored NAB data
folder (``REALTWEETS_DIR``); ``tests/test_nab.py`` checks them against NAB's published
per-file scores.

The model, in short:

* every data row ``i`` has a weight ``c_i``: what a detection there is worth. Inside an
  anomaly window it falls along a scaled sigmoid from ``+A_TP`` (first row) to ~0 (last row);
  outside it is a false-positive cost that is ~0 just after a window and ``-A_FP`` far from it;
* a file's raw score adds every false positive, the best (= earliest) detection of each
  window, and ``-A_FN`` for each missed window; the probationary rows are never scored;
* one threshold per detector and profile is chosen to maximise the corpus sum, and the
  sum is normalised so that the null detector scores 0 and the perfect detector 100.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "PROFILES",
    "REALTWEETS_DIR",
    "CorpusScore",
    "CostProfile",
    "FileScore",
    "NabFile",
    "ThresholdSweep",
    "get_profile",
    "load_anomaly_scores",
    "load_corpus",
    "load_detector_scores",
    "normalize",
    "optimize_threshold",
    "probation_length",
    "scaled_sigmoid",
    "score_corpus",
    "score_file",
    "sweep_thresholds",
]

#: NAB's realTweets corpus (data, labels, scoreboard), vendored with NAB's MIT licence:
#: what `stormwatch evaluate nab` scores when no directory is given.
REALTWEETS_DIR = Path(__file__).resolve().parent / "data" / "nab"

#: Fraction of each file (capped at ``PROBATION_FRACTION * 5000`` rows) that detectors may
#: use to warm up and that is never scored.
PROBATION_FRACTION = 0.15
#: NAB's "no detection at all" threshold; above every score in [0, 1].
NO_DETECTION_THRESHOLD = 1.1


# --------------------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class CostProfile:
    """Application profile: how much a true positive earns and each kind of error costs.

    ``a_tn`` is kept because NAB's ``profiles.json`` defines it, but NAB's scorer never uses it.
    """

    name: str
    a_tp: float
    a_fp: float
    a_fn: float
    a_tn: float = 1.0


STANDARD = CostProfile("standard", a_tp=1.0, a_fp=0.11, a_fn=1.0, a_tn=1.0)
REWARD_LOW_FP_RATE = CostProfile("reward_low_FP_rate", a_tp=1.0, a_fp=0.22, a_fn=1.0, a_tn=1.0)
REWARD_LOW_FN_RATE = CostProfile("reward_low_FN_rate", a_tp=1.0, a_fp=0.11, a_fn=2.0, a_tn=1.0)

PROFILES: dict[str, CostProfile] = {
    p.name: p for p in (STANDARD, REWARD_LOW_FP_RATE, REWARD_LOW_FN_RATE)
}


def get_profile(profile: CostProfile | str) -> CostProfile:
    """Accept a profile or its NAB name, so callers can pass ``"standard"``."""
    if isinstance(profile, CostProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown NAB profile {profile!r}; known: {sorted(PROFILES)}") from None


# --------------------------------------------------------------------------- weights


def scaled_sigmoid(y: float | np.ndarray) -> float | np.ndarray:
    """NAB's scaled sigmoid ``2/(1+exp(5y)) - 1``, forced to -1 for ``y > 3``.

    Strictly decreasing: +0.987 at y=-1 (window start), 0 at y=0 (window end), -> -1 after.
    ``y`` is clipped before ``exp`` so that far-away rows cannot overflow.
    """
    arr = np.asarray(y, dtype=np.float64)
    val = np.where(arr > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(arr, 3.0))) - 1.0)
    if np.ndim(y) == 0:
        return float(val)
    return val


_SIGMOID_AT_MINUS_ONE = float(scaled_sigmoid(-1.0))


def probation_length(n_rows: int, fraction: float = PROBATION_FRACTION) -> int:
    """Rows at the start of a file that are never scored: ``min(floor(0.15 n), 750)``."""
    return int(min(math.floor(fraction * n_rows), fraction * 5000))


def _unit_weights(n: int, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row window id (-1 outside) and the profile-free weight of a detection.

    Inside window k the unit weight is ``f(y)/f(-1)`` (to be scaled by A_TP); outside it is
    ``f(y)`` after the most recent ended window, or -1 before any window (scaled by A_FP).
    Rows in the probationary period get weights too: only the scorer ignores them.
    """
    window_id = np.full(n, -1, dtype=np.int64)
    unit = np.full(n, -1.0, dtype=np.float64)
    if len(windows) == 0:
        return window_id, unit
    left, right = windows[:, 0], windows[:, 1]
    width = right - left + 1
    for k, (lo, hi) in enumerate(windows):
        window_id[lo : hi + 1] = k
    rows = np.arange(n, dtype=np.int64)
    inside = window_id >= 0

    k = window_id[inside]
    y_in = -(right[k] - rows[inside] + 1) / width[k]
    unit[inside] = scaled_sigmoid(y_in) / _SIGMOID_AT_MINUS_ONE

    out_rows = rows[~inside]
    prev = np.searchsorted(right, out_rows, side="left") - 1  # largest j with right[j] < i
    after = prev >= 0
    j = prev[after]
    # A one-row window would divide by zero; NAB's data has none, so any guard is a choice.
    y_out = (out_rows[after] - right[j]) / np.maximum(width[j] - 1, 1)
    unit_out = np.full(out_rows.shape, -1.0)
    unit_out[after] = scaled_sigmoid(y_out)
    unit[~inside] = unit_out
    return window_id, unit


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, eq=False)
class NabFile:
    """One NAB data file with its label windows mapped to inclusive row ranges.

    Build it with :meth:`build`, which also precomputes the per-row window ids and unit
    weights, so scoring a threshold is a handful of numpy operations.
    """

    name: str  # NAB key, e.g. "realTweets/Twitter_volume_AAPL.csv"
    timestamps: np.ndarray  # datetime64[us] (or row numbers for synthetic files)
    values: np.ndarray  # float64
    windows: np.ndarray  # int64, shape (k, 2): inclusive [first_row, last_row]
    probation: int
    window_id: np.ndarray  # int64 per row, -1 outside every window
    unit_weight: np.ndarray  # float64 per row, see _unit_weights

    @classmethod
    def build(
        cls,
        name: str,
        timestamps: Sequence | np.ndarray,
        values: Sequence[float] | np.ndarray,
        window_rows: Iterable[tuple[int, int]] | np.ndarray,
        probation: int | None = None,
    ) -> NabFile:
        """Validate windows (sorted, disjoint, inside the file) and precompute weights."""
        ts = np.asarray(timestamps)
        vals = np.asarray(values, dtype=np.float64)
        n = len(vals)
        if len(ts) != n:
            raise ValueError(f"{name}: {len(ts)} timestamps but {n} values")
        win = np.asarray(list(window_rows), dtype=np.int64).reshape(-1, 2)
        for k, (lo, hi) in enumerate(win):
            if not 0 <= lo <= hi < n:
                raise ValueError(f"{name}: window {k} rows [{lo}, {hi}] not inside 0..{n - 1}")
            if k and lo <= win[k - 1, 1]:
                raise ValueError(f"{name}: windows must be sorted and disjoint (window {k})")
        p = probation_length(n) if probation is None else int(probation)
        window_id, unit = _unit_weights(n, win)
        return cls(name, ts, vals, win, p, window_id, unit)

    @property
    def n_rows(self) -> int:
        return len(self.values)

    @property
    def scorable(self) -> np.ndarray:
        """Boolean per window: does it have at least one row past the probationary period?"""
        if len(self.windows) == 0:
            return np.zeros(0, dtype=bool)
        return self.windows[:, 1] >= self.probation

    def weights(self, profile: CostProfile | str) -> np.ndarray:
        """``c_i`` for every row: what a detection at row i would add under ``profile``."""
        prof = get_profile(profile)
        return np.where(
            self.window_id >= 0, prof.a_tp * self.unit_weight, prof.a_fp * self.unit_weight
        )


MAX_COUNT = 1e12  # per row: NAB's busiest file holds tens of thousands


def _read_columns(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, [])]
        rows = [r for r in reader if r]
    if not header:
        raise ValueError(f"{path}: empty (a NAB file starts with its header, timestamp,value)")
    return header, rows


def _column(path: Path, header: list[str], rows: list[list[str]], name: str) -> list[str]:
    try:
        idx = header.index(name)
    except ValueError:
        raise ValueError(f"{path}: no column {name!r} (columns: {header})") from None
    for n, row in enumerate(rows, 2):
        if len(row) <= idx:
            raise ValueError(f"{path}:{n}: no {name} in this row")
    return [r[idx] for r in rows]


def _to_datetime(stamps: Sequence[str], where: object = "") -> np.ndarray:
    """NAB timestamps are naive 'YYYY-MM-DD HH:MM:SS[.ffffff]' strings; keep them naive."""
    try:
        return np.array([s.strip().replace(" ", "T") for s in stamps], dtype="datetime64[us]")
    except ValueError as exc:
        raise ValueError(f"{where}: a timestamp is not a date and time ({exc})") from None


def _find_window_files(root: Path) -> list[Path]:
    """NAB repo layout (labels/combined_windows.json) or a flat *combined_windows.json."""
    for candidate in (root / "labels" / "combined_windows.json", root / "combined_windows.json"):
        if candidate.is_file():
            return [candidate]
    found = sorted(root.glob("*combined_windows.json"))
    if not found:
        raise FileNotFoundError(f"no combined_windows.json under {root}")
    return found


def _load_windows(paths: Sequence[Path]) -> dict[str, list[list[str]]]:
    merged: dict[str, list[list[str]]] = {}
    for path in paths:
        try:
            labels = json.loads(path.read_text())
        except ValueError as exc:  # also UnicodeDecodeError
            raise ValueError(f"{path}: not a NAB label file ({exc})") from None
        if not isinstance(labels, dict):
            raise ValueError(f"{path}: not a NAB label file (an object of windows per file)")
        for key, wins in labels.items():
            if key in merged and merged[key] != wins:
                raise ValueError(f"{path}: windows for {key} disagree with another label file")
            merged[key] = wins
    return merged


def _rows_for_window(name: str, ts: np.ndarray, start: str, end: str) -> tuple[int, int]:
    """Rows whose timestamp lies in [start, end]; NAB windows are inclusive at both ends."""
    lo_t, hi_t = _to_datetime([start, end], f"{name}: window [{start}, {end}]")
    lo = int(np.searchsorted(ts, lo_t, side="left"))
    hi = int(np.searchsorted(ts, hi_t, side="right")) - 1
    if lo > hi:
        raise ValueError(f"{name}: window [{start}, {end}] contains no rows")
    return lo, hi


def load_file(path: str | Path, name: str, window_times: Sequence[Sequence[str]]) -> NabFile:
    """Read one ``timestamp,value`` CSV and map its label windows to row ranges."""
    path = Path(path)
    header, rows = _read_columns(path)
    ts = _to_datetime(_column(path, header, rows, "timestamp"), path)
    if len(ts) > 1 and not np.all(ts[1:] > ts[:-1]):
        raise ValueError(f"{path}: timestamps must be strictly increasing")
    try:
        values = np.array(_column(path, header, rows, "value"), dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{path}: a value is not a number ({exc})") from None
    # Counts of tweets: a negative, NaN or infinite one is no count (NaN and 1e308 ended
    # in tracebacks far from here, a negative one was taken without a word).
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0) | (values > MAX_COUNT))
    if bad.size:
        raise ValueError(
            f"{path}:{int(bad[0]) + 2}: value {rows[bad[0]][header.index('value')]!r} "
            f"is not a count (0 to {MAX_COUNT:.0e})"
        )
    window_rows = [_rows_for_window(name, ts, w[0], w[1]) for w in window_times]
    return NabFile.build(name, ts, values, window_rows)


def load_corpus(
    root: str | Path,
    categories: Iterable[str] | None = None,
    windows_path: str | Path | Sequence[str | Path] | None = None,
) -> dict[str, NabFile]:
    """Load a NAB-format directory into ``{"<category>/<file>.csv": NabFile}``.

    Supported layouts: the NAB repository (``ROOT/data/<category>/*.csv`` with
    ``ROOT/labels/combined_windows.json``) and a flat one (``ROOT/<category>/*.csv`` with
    ``ROOT/combined_windows.json`` or ``ROOT/*combined_windows.json``, e.g. the shared
    ``realTweets_combined_windows.json``). The label file defines the corpus; ``categories``
    defaults to every labelled category whose folder exists. Missing or unlabelled CSVs in a
    chosen category are errors, because a silently dropped file changes the normalised score.
    """
    root = Path(root)
    if windows_path is None:
        label_files = _find_window_files(root)
    elif isinstance(windows_path, str | Path):
        label_files = [Path(windows_path)]
    else:
        label_files = [Path(p) for p in windows_path]
    labels = _load_windows(label_files)
    data_root = root / "data" if (root / "data").is_dir() else root

    by_cat: dict[str, list[str]] = {}
    for key in labels:
        cat, _, _ = key.rpartition("/")
        by_cat.setdefault(cat, []).append(key)
    if categories is None:
        chosen = sorted(c for c in by_cat if (data_root / c).is_dir())
        if not chosen:
            raise FileNotFoundError(f"no labelled category folder under {data_root}")
    else:
        chosen = list(categories)
        for cat in chosen:
            if cat not in by_cat:
                raise ValueError(f"category {cat!r} has no labels in {label_files}")

    corpus: dict[str, NabFile] = {}
    for cat in chosen:
        folder = data_root / cat
        on_disk = {p.name for p in folder.glob("*.csv")}
        labelled = {key.rpartition("/")[2] for key in by_cat[cat]}
        if missing := sorted(labelled - on_disk):
            raise FileNotFoundError(f"{folder}: labelled files missing: {missing}")
        if unlabelled := sorted(on_disk - labelled):
            raise ValueError(f"{folder}: files without labels: {unlabelled}")
        for key in sorted(by_cat[cat]):
            corpus[key] = load_file(data_root / key, key, labels[key])
    return dict(sorted(corpus.items()))


def load_anomaly_scores(path: str | Path) -> np.ndarray:
    """The ``anomaly_score`` column of a NAB results CSV (full or score-only format)."""
    path = Path(path)
    header, rows = _read_columns(path)
    return np.array(_column(path, header, rows, "anomaly_score"), dtype=np.float64)


def load_detector_scores(
    results_root: str | Path, detector: str, data: Mapping[str, NabFile]
) -> dict[str, np.ndarray]:
    """Published per-row scores of ``detector`` for every file in ``data``.

    Looks for ``<root>/<detector>/<category>/<detector>_<file>`` (NAB's ``results/`` layout)
    and ``<root>/<detector>/<detector>_<file>`` (the shared flat copy).
    """
    root = Path(results_root)
    out: dict[str, np.ndarray] = {}
    for key, f in data.items():
        cat, _, fname = key.rpartition("/")
        candidates = [
            root / detector / cat / f"{detector}_{fname}",
            root / detector / f"{detector}_{fname}",
        ]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise FileNotFoundError(f"no {detector} results for {key} under {root}")
        scores = load_anomaly_scores(path)
        if len(scores) != f.n_rows:
            raise ValueError(f"{path}: {len(scores)} scores for {f.n_rows} data rows")
        out[key] = scores
    return out


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True, slots=True)
class FileScore:
    """Raw NAB score of one file at one threshold, with the parts it is made of.

    Counts cover non-probationary rows only (TP/FP = detected rows inside/outside windows,
    FN = undetected window rows); like ``a_tn`` they are reported, not scored.
    """

    name: str
    raw: float
    fp_total: float  # sum of c_i over detections outside windows
    window_rows: tuple[int | None, ...]  # counted (earliest) detection per window, or None
    window_values: tuple[float, ...]  # that detection's c_i, -A_FN if missed, 0 if unscorable
    tp: int
    fp: int
    fn: int
    tn: int


@dataclass(frozen=True, slots=True)
class CorpusScore:
    """Corpus result for one detector, profile and threshold, raw and normalised to 0-100."""

    profile: CostProfile
    threshold: float
    raw: float
    null_raw: float
    perfect_raw: float
    normalized: float
    files: dict[str, FileScore]


def _as_scores(scores: Sequence[float] | np.ndarray, f: NabFile) -> np.ndarray:
    arr = np.asarray(scores, dtype=np.float64)
    if arr.shape != (f.n_rows,):
        raise ValueError(f"{f.name}: expected {f.n_rows} scores, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{f.name}: anomaly scores contain NaN")
    return arr


def score_file(
    scores: Sequence[float] | np.ndarray,
    f: NabFile,
    profile: CostProfile | str,
    threshold: float,
) -> FileScore:
    """Raw score of one file: FPs add up, each window counts once (best detection or miss).

    A detection is ``score >= threshold`` on a non-probationary row.
    """
    prof = get_profile(profile)
    s = _as_scores(scores, f)
    c = f.weights(prof)
    p = f.probation
    detected = s >= threshold
    detected[:p] = False
    inside = f.window_id >= 0

    fp_mask = detected & ~inside
    fp_total = float(c[fp_mask].sum())
    hit_rows: list[int | None] = []
    hit_vals: list[float] = []
    for (lo, hi), scorable in zip(f.windows, f.scorable, strict=True):
        if not scorable:
            hit_rows.append(None)
            hit_vals.append(0.0)
            continue
        start = max(int(lo), p)
        rows = start + np.flatnonzero(detected[start : hi + 1])
        if len(rows) == 0:
            hit_rows.append(None)
            hit_vals.append(-prof.a_fn)
        else:
            best = int(rows[np.argmax(c[rows])])  # c falls across a window: the earliest
            hit_rows.append(best)
            hit_vals.append(float(c[best]))

    scored = np.arange(f.n_rows) >= p
    tp = int(np.count_nonzero(detected & inside))
    fp = int(np.count_nonzero(fp_mask))
    fn = int(np.count_nonzero(~detected & inside & scored))
    tn = int(np.count_nonzero(scored)) - tp - fp - fn
    return FileScore(
        name=f.name,
        raw=fp_total + float(sum(hit_vals)),
        fp_total=fp_total,
        window_rows=tuple(hit_rows),
        window_values=tuple(hit_vals),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
    )


def _baselines(data: Mapping[str, NabFile], prof: CostProfile) -> tuple[float, float]:
    """(S_null, S_perfect): null never fires; perfect fires on every window's first row."""
    n_scorable = sum(int(f.scorable.sum()) for f in data.values())
    n_windows = sum(len(f.windows) for f in data.values())
    return -prof.a_fn * n_scorable, prof.a_tp * n_windows


def normalize(raw: float, null_raw: float, perfect_raw: float) -> float:
    """Map raw to 0 (null detector) .. 100 (perfect detector); NaN if they coincide."""
    span = perfect_raw - null_raw
    if span == 0:
        return float("nan")
    return 100.0 * (raw - null_raw) / span


def _check_keys(scores_by_file: Mapping[str, object], data: Mapping[str, NabFile]) -> list[str]:
    missing = sorted(set(data) - set(scores_by_file))
    extra = sorted(set(scores_by_file) - set(data))
    if missing or extra:
        raise ValueError(f"scores/data files differ: missing {missing}, unknown {extra}")
    return list(data)


def score_corpus(
    scores_by_file: Mapping[str, Sequence[float] | np.ndarray],
    data: Mapping[str, NabFile],
    profile: CostProfile | str,
    threshold: float,
) -> CorpusScore:
    """Score a detector on every file of ``data`` at one shared threshold.

    ``scores_by_file`` must have exactly the keys of ``data`` (one score per data row), so
    that the null/perfect baselines and the score cover the same files.
    """
    prof = get_profile(profile)
    names = _check_keys(scores_by_file, data)
    files = {n: score_file(scores_by_file[n], data[n], prof, threshold) for n in names}
    raw = float(sum(fs.raw for fs in files.values()))
    null_raw, perfect_raw = _baselines(data, prof)
    return CorpusScore(
        profile=prof,
        threshold=float(threshold),
        raw=raw,
        null_raw=null_raw,
        perfect_raw=perfect_raw,
        normalized=normalize(raw, null_raw, perfect_raw),
        files=files,
    )


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True, slots=True)
class ThresholdSweep:
    """Corpus raw score at every candidate threshold, thresholds in descending order.

    ``thresholds[0]`` is the no-detection sentinel; the others are the distinct scores seen
    on non-probationary rows. Scoring at any other value equals the next higher candidate.
    """

    thresholds: np.ndarray
    raw: np.ndarray

    def best_index(self) -> int:
        """Largest raw score; ties go to the highest threshold (the first one), as in NAB."""
        return int(np.argmax(self.raw))


def sweep_thresholds(
    scores_by_file: Mapping[str, Sequence[float] | np.ndarray],
    data: Mapping[str, NabFile],
    profile: CostProfile | str,
) -> ThresholdSweep:
    """Raw corpus score for every candidate threshold in one O(N log N) pass.

    Lowering the threshold past a row adds ``c_i`` if the row is outside windows. Inside a
    window only the running best detection counts, so the row adds the increase of that
    window's running maximum (plus ``A_FN`` for the first detection, which cancels the
    miss). Pooling these increments over all files, sorting by score descending and taking
    a cumulative sum at the end of each run of equal scores gives the whole curve.
    """
    prof = get_profile(profile)
    names = _check_keys(scores_by_file, data)
    score_parts: list[np.ndarray] = []
    delta_parts: list[np.ndarray] = []
    null_raw, _ = _baselines(data, prof)
    top = -np.inf
    for name in names:
        f = data[name]
        s = _as_scores(scores_by_file[name], f)
        c = f.weights(prof)
        p = f.probation
        if p < f.n_rows:
            top = max(top, float(s[p:].max()))
        outside = f.window_id[p:] < 0
        score_parts.append(s[p:][outside])
        delta_parts.append(c[p:][outside])
        for (lo, hi), scorable in zip(f.windows, f.scorable, strict=True):
            if not scorable:
                continue
            start = max(int(lo), p)
            ws, wc = s[start : hi + 1], c[start : hi + 1]
            order = np.argsort(-ws, kind="stable")
            running = np.maximum.accumulate(wc[order])
            delta = np.empty_like(running)
            delta[0] = running[0] + prof.a_fn
            delta[1:] = np.diff(running)
            score_parts.append(ws[order])
            delta_parts.append(delta)

    all_s = np.concatenate(score_parts) if score_parts else np.zeros(0)
    all_d = np.concatenate(delta_parts) if delta_parts else np.zeros(0)
    order = np.argsort(-all_s, kind="stable")
    s_sorted = all_s[order]
    cum = np.cumsum(all_d[order])
    ends = np.flatnonzero(np.append(s_sorted[1:] != s_sorted[:-1], True)) if len(s_sorted) else []
    sentinel = NO_DETECTION_THRESHOLD if top < NO_DETECTION_THRESHOLD else np.nextafter(top, np.inf)
    thresholds = np.concatenate([[sentinel], s_sorted[ends]])
    raw = null_raw + np.concatenate([[0.0], cum[ends]])
    return ThresholdSweep(thresholds=thresholds, raw=raw)


def optimize_threshold(
    scores_by_file: Mapping[str, Sequence[float] | np.ndarray],
    data: Mapping[str, NabFile],
    profile: CostProfile | str,
) -> CorpusScore:
    """NAB's threshold choice: the single corpus-wide threshold with the best summed score.

    Uses the exhaustive sweep of current NAB (not the pre-2019 hill climb behind the
    published thresholds), then rescores at that threshold for the per-file breakdown.
    """
    sweep = sweep_thresholds(scores_by_file, data, profile)
    best = float(sweep.thresholds[sweep.best_index()])
    return score_corpus(scores_by_file, data, profile, best)
