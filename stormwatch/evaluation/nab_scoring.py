"""`stormwatch evaluate nab`: the pipeline's brand volume test, scored with NAB's rules.

Why NAB: its realTweets files are real Twitter mention counts of companies, the closest
public labelled data to a brand's comment volume. NAB has no text, so what it can judge
is the volume test of a brand (`detectors/volume.py::VolumeTest`: a Poisson CUSUM
against `BrandBaseline`'s seasonal expectation, restarted after a signal).

Nothing here is built for the evaluation: each NAB row (a 5-minute count) is one closed
minute of one brand, judged and learned by the pipeline's own `Judge`
(`Judge.judge_brands`, then `Judge.learn`, exactly as `Pipeline._close_minute` calls
them for a brand with no negative comments and no open incident), built with the
pipeline's default settings (`Settings().false_alarms_per_month`). The anomaly score
NAB sees for the row is the test's evidence: its statistic over its threshold, at most
1 (1 is the test's own signal). NAB's protocol then picks one threshold on that score
per profile for the whole corpus; the figures at the test's own signal (evidence 1)
are printed next to them. No parameter of the detector is chosen on NAB's labels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from stormwatch.config import Settings
from stormwatch.detectors.judge import Judge
from stormwatch.evaluation import nab
from stormwatch.key_window import Bucket, KeyWindow

__all__ = [
    "evaluate_nab_dir",
    "published_reference",
    "volume_evidence",
]

BRAND = "nab"  # one NAB file is one brand
PROFILE_NAMES = tuple(nab.PROFILES)
SIGNAL = 1.0  # evidence at which the volume test signals
_SHORT = {"standard": "std", "reward_low_FP_rate": "lowFP", "reward_low_FN_rate": "lowFN"}


def _minute_of(stamp: np.datetime64) -> int:
    """Minutes since the epoch: what the baseline's hour-of-day slots index."""
    return int(stamp.astype("datetime64[m]").astype(np.int64))


def volume_evidence(
    f: nab.NabFile,
    *,
    false_alarms_per_month: float | None = None,
    minutes_per_row: int = 1,
) -> np.ndarray:
    """The volume test's evidence for every row of one file, as the pipeline computes it.

    Each row is `minutes_per_row` closed minutes of one brand (default 1: one row, one
    step; with 5 its count is spread over the 5 minutes it covers and the row's evidence
    is the largest of theirs). Each minute goes through `Judge.judge_brands` and is
    learned by `Judge.learn`. `false_alarms_per_month` defaults to the pipeline's.

    >>> f = nab.NabFile.build("cat/flat.csv", np.arange(0, 400 * 300, 300).astype(
    ...     "datetime64[s]"), [10.0] * 300 + [60.0] * 100, [])
    >>> e = volume_evidence(f)
    >>> float(e[100:300].max()) < 1.0, float(e[300:].max())
    (True, 1.0)
    """
    if minutes_per_row < 1:
        raise ValueError("minutes_per_row must be >= 1")
    if false_alarms_per_month is None:
        false_alarms_per_month = Settings().false_alarms_per_month
    judge = Judge(false_alarms_per_month=false_alarms_per_month)
    # Rows arrive as closed minutes, not as comments noted one by one, and five minutes
    # apart: the minutes between two rows are not quiet ones, so the brand never rests.
    judge.lazy = False
    judge.rests = False
    state = judge.brand_state(BRAND)
    window: KeyWindow | None = None
    windows: dict[str, KeyWindow] = {}
    no_incidents: dict[str, object] = {}
    out = np.zeros(f.n_rows, dtype=np.float64)
    last = None
    for i, (stamp, value) in enumerate(zip(f.timestamps, f.values, strict=True)):
        per_minute, extra = divmod(int(round(value)), minutes_per_row)
        first = _minute_of(stamp) - (minutes_per_row - 1)
        evidence = 0.0
        for j in range(minutes_per_row):
            minute = first + j if last is None else max(first + j, last + 1)
            last = minute
            if window is None:
                window = windows[BRAND] = KeyWindow(BRAND, BRAND, None, minute)
            bucket = Bucket()  # the minute's comments, as the windows hold them
            bucket.n = per_minute + (1 if j < extra else 0)
            window.open[minute] = bucket
            for verdict in judge.judge_brands(minute, windows, no_incidents):
                judge.learn(verdict, minute, disturbed=False)
            evidence = max(evidence, state.volume_evidence)
        out[i] = evidence
    return out


def published_reference(directory: Path) -> dict[str, dict[str, float]]:
    """The comparison rows: ARTime on realTweets at NAB's corpus thresholds, and ARTime
    re-tuned on realTweets, from `scoreboard.json` (or parsed from SCOREBOARD.md)."""
    board = directory / "scoreboard.json"
    if board.is_file():
        artime = json.loads(board.read_text())["detectors"]["ARTime"]
        corpus = artime["realTweets_normalized_corpus_threshold_derived"]
        tuned = artime["realTweets_reoptimized_computed_here"]
        return {
            "ARTime (corpus thresholds)": {p: float(corpus[p]) for p in PROFILE_NAMES},
            "ARTime (re-tuned on realTweets)": {
                p: float(tuned[p]["normalized"]) for p in PROFILE_NAMES
            },
        }
    md = directory / "SCOREBOARD.md"
    if not md.is_file():
        return {}
    return _parse_scoreboard_md(md.read_text())


def _parse_scoreboard_md(text: str) -> dict[str, dict[str, float]]:
    """ARTime rows of sections B (corpus thresholds) and C (re-tuned) of SCOREBOARD.md."""
    out: dict[str, dict[str, float]] = {}
    sections = {"## B.": "ARTime (corpus thresholds)", "## C.": "ARTime (re-tuned on realTweets)"}
    current = None
    for line in text.splitlines():
        for prefix, name in sections.items():
            if line.startswith(prefix):
                current = name
        if current and line.startswith("| ARTime |") and current not in out:
            cells = [c for c in line.split("|")[2:] if c.strip()]
            nums = [float(re.findall(r"-?\d+\.\d+", c)[0]) for c in cells[:3]]
            out[current] = dict(zip(PROFILE_NAMES, nums[:3], strict=True))
    return out


def _detections(result: nab.CorpusScore) -> tuple[int, int, int]:
    files = result.files.values()
    detected = sum(1 for fs in files for w in fs.window_rows if w is not None)
    windows = sum(len(fs.window_rows) for fs in files)
    return detected, windows, sum(fs.fp for fs in files)


def evaluate_nab_dir(
    directory: str | Path | None = None,
    *,
    console: Console,
    threshold: float | None = None,
    minutes_per_row: int = 1,
    false_alarms_per_month: float | None = None,
) -> dict[str, Any]:
    """Score the pipeline's volume test on every labelled NAB file under `directory`
    (default: the vendored realTweets corpus, `nab.REALTWEETS_DIR`).

    `threshold` fixes the evidence threshold for every profile (1.0: the test's own
    signal); None lets NAB's protocol pick the best one per profile. `minutes_per_row`
    and `false_alarms_per_month` (default: the pipeline's) are for sweeps. Returns the figures
    for `--json`: per profile the normalised score, its threshold, the raw score,
    windows detected and detections outside windows; and the scores at the signal.
    """
    directory = nab.REALTWEETS_DIR if directory is None else Path(directory)
    corpus = nab.load_corpus(directory)
    if not any(len(f.windows) for f in corpus.values()):  # every score would be NaN
        raise ValueError(f"{directory}: no labelled anomaly window to score")
    if false_alarms_per_month is None:
        false_alarms_per_month = Settings().false_alarms_per_month
    raw = {
        name: volume_evidence(
            f, false_alarms_per_month=false_alarms_per_month, minutes_per_row=minutes_per_row
        )
        for name, f in corpus.items()
    }
    figures: dict[str, Any] = {
        "files": len(corpus),
        "minutes_per_row": minutes_per_row,
        "false_alarms_per_month": false_alarms_per_month,
        "profiles": {},
        "at_signal": {},
    }
    for profile in PROFILE_NAMES:
        if threshold is None:
            result = nab.optimize_threshold(raw, corpus, profile)
        else:
            result = nab.score_corpus(raw, corpus, profile, threshold)
        detected, windows, outside = _detections(result)
        figures["profiles"][profile] = {
            "score": round(result.normalized, 2),
            "threshold": round(result.threshold, 6),
            "raw": round(result.raw, 4),
            "windows_detected": detected,
            "windows": windows,
            "detections_outside_windows": outside,
        }
        at_signal = nab.score_corpus(raw, corpus, profile, SIGNAL)
        detected, windows, outside = _detections(at_signal)
        figures["at_signal"][profile] = {
            "score": round(at_signal.normalized, 2),
            "windows_detected": detected,
            "detections_outside_windows": outside,
        }
    reference = published_reference(directory)
    figures["published"] = {
        name: {p: round(v, 2) for p, v in row.items()} for name, row in reference.items()
    }
    figures["standard"] = figures["profiles"]["standard"]["score"]
    _print_table(console, figures, reference, tuned=threshold is None)
    return figures


def _print_table(
    console: Console,
    figures: dict[str, Any],
    reference: Mapping[str, Mapping[str, float]],
    *,
    tuned: bool,
) -> None:
    how = "NAB's threshold per profile" if tuned else "fixed threshold"
    table = Table(title=f"NAB score, {figures['files']} files ({how}); null 0, perfect 100")
    table.add_column("detector")
    for profile in PROFILE_NAMES:
        table.add_column(_SHORT[profile], justify="right")
    table.add_column("threshold (std)", justify="right")
    ours = figures["profiles"]
    table.add_row(
        "[bold]stormwatch volume test[/bold]",
        *(f"[bold]{ours[p]['score']:.2f}[/bold]" for p in PROFILE_NAMES),
        f"{ours['standard']['threshold']:.3f}",
    )
    signal = figures["at_signal"]
    table.add_row(
        "stormwatch volume test, at its signal",
        *(f"{signal[p]['score']:.2f}" for p in PROFILE_NAMES),
        f"{SIGNAL:.3f}",
    )
    for name, row in reference.items():
        table.add_row(name, *(f"{row[p]:.2f}" for p in PROFILE_NAMES), "")
    console.print(table)
    std, sig = ours["standard"], signal["standard"]
    console.print(
        f"standard profile: {std['windows_detected']}/{std['windows']} windows detected, "
        f"{std['detections_outside_windows']} detections outside windows; at its signal "
        f"{sig['windows_detected']}/{std['windows']} and {sig['detections_outside_windows']}. "
        f"One row = {figures['minutes_per_row']} closed minute(s) of the pipeline's Judge, "
        f"{figures['false_alarms_per_month']:g} false alarm(s) per brand-month budget."
    )
