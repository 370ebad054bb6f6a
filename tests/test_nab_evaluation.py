"""`stormwatch evaluate nab`: it scores exactly the pipeline's brand volume test, and
its figures on the vendored realTweets data hold (a regression guard, not a target)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from stormwatch.evaluation import nab
from stormwatch.evaluation.nab_scoring import (
    _parse_scoreboard_md,
    evaluate_nab_dir,
    volume_evidence,
)
from stormwatch.pipeline import Pipeline

NAB_DIR = Path(os.environ.get("STORMWATCH_NAB_DIR", nab.REALTWEETS_DIR))
START = 1_700_000_000 // 60 * 60  # a whole minute, epoch seconds
# Measured on the vendored realTweets (standard, reward_low_FP, reward_low_FN): NAB's
# best threshold per profile, and at the test's own signal (evidence 1).
MEASURED = {"standard": 74.05, "reward_low_FP_rate": 65.21, "reward_low_FN_rate": 78.66}
AT_SIGNAL = {"standard": 74.05, "reward_low_FP_rate": 65.21, "reward_low_FN_rate": 78.66}


def _counts() -> list[int]:
    """Comments per minute of one brand: a quiet, noisy hour pattern, then a surge."""
    rng = np.random.default_rng(7)
    quiet = rng.poisson(4.0, 400).tolist()
    return quiet[:300] + [30] * 15 + quiet[300:]


class _Recorder:
    """A pipeline observer that reads the brand's volume evidence as each minute closes."""

    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None
        self.evidence: dict[int, float] = {}

    def minute_closed(self, brand, minute, x, a) -> None:
        state = self.pipeline.brands[brand]
        # A brand at rest was not judged this minute: it has no evidence of its own then.
        self.evidence[minute] = state.volume_evidence if state.asleep_since < 0 else None

    def comment(self, c, *, duplicate, late) -> None: ...

    def dead_letter(self, letter) -> None: ...

    def alert(self, event) -> None: ...

    def keys(self, *, brands, threads, evicted) -> None: ...


def test_evidence_is_the_pipelines_own() -> None:
    """The same counts as comments through `Pipeline` and as NAB rows through
    `volume_evidence` give the same evidence, minute by minute: nothing in the
    evaluation sits between the pipeline's volume test and NAB. The minutes the
    pipeline rests through (no comments in them, nothing building, and comments
    in for a later minute) it does not judge: NAB's evidence there stays under the
    signal, and the pipeline's after them is NAB's again."""
    counts = _counts()
    recorder = _Recorder()
    pipeline = Pipeline(observer=recorder)
    recorder.pipeline = pipeline
    for m, n in enumerate(counts):
        for i in range(n):
            record = {
                "id": f"c{m}-{i}",
                "text": "thanks, lovely update",
                "created_at": START + 60 * m + 1 + (58 * i) // max(n, 1),
                "brand": "acme",
                "author_id": f"a{m}-{i}",
            }
            pipeline.feed(json.dumps(record).encode())
    pipeline.finish()
    # The pipeline also closes the minutes of its allowed lateness before the first
    # comment: the same minutes, empty, as rows.
    minutes = sorted(recorder.evidence)
    first = START // 60
    rows = [counts[m - first] if m >= first else 0 for m in minutes]
    stamps = (np.array(minutes) * 60 + 30).astype("datetime64[s]")
    ours = volume_evidence(nab.NabFile.build("cat/acme.csv", stamps, rows, []))
    judged = np.array([recorder.evidence[m] is not None for m in minutes])
    theirs = np.array([recorder.evidence[m] or 0.0 for m in minutes])
    assert minutes[-1] >= first + len(counts) - 1
    assert theirs[first - minutes[0] + 300 :][:15].max() == 1.0  # the surge signals
    assert judged.mean() > 0.95
    assert ours[judged] == pytest.approx(theirs[judged], abs=1e-12)
    assert (ours[~judged] < 1.0).all()


def test_rows_spread_over_minutes() -> None:
    stamps = (np.arange(200) * 300 + START).astype("datetime64[s]")
    f = nab.NabFile.build("cat/x.csv", stamps, [20.0] * 150 + [200.0] * 50, [])
    e = volume_evidence(f, minutes_per_row=5)
    assert e.shape == (200,) and 0.0 <= e.min() and e.max() == 1.0
    assert e[150:].max() == 1.0
    with pytest.raises(ValueError, match="minutes_per_row"):
        volume_evidence(f, minutes_per_row=0)


def test_scoreboard_markdown_rows_parse() -> None:
    text = (
        "## B. realTweets only\n| ARTime | **81.84** | 70.08 | 87.89 | 21.0155 |\n"
        "## C. re-optimised\n| ARTime | 83.17 (0.380959) | 74.58 | 88.78 |\n"
    )
    rows = _parse_scoreboard_md(text)
    assert rows["ARTime (corpus thresholds)"]["standard"] == 81.84
    assert rows["ARTime (re-tuned on realTweets)"] == {
        "standard": 83.17,
        "reward_low_FP_rate": 74.58,
        "reward_low_FN_rate": 88.78,
    }


def test_volume_test_on_real_tweets() -> None:
    out = io.StringIO()
    figures = evaluate_nab_dir(NAB_DIR, console=Console(file=out, width=140))
    assert set(figures["profiles"]) == set(MEASURED)
    assert figures["files"] == 10
    for profile, score in MEASURED.items():
        assert figures["profiles"][profile]["score"] == pytest.approx(score, abs=0.01), profile
        assert figures["at_signal"][profile]["score"] == pytest.approx(AT_SIGNAL[profile], abs=0.01)
        assert 0.0 <= figures["profiles"][profile]["threshold"] <= nab.NO_DETECTION_THRESHOLD
    assert figures["standard"] == figures["profiles"]["standard"]["score"]
    assert figures["published"]["ARTime (re-tuned on realTweets)"]["standard"] == pytest.approx(
        83.17, abs=0.01
    )
    assert "stormwatch volume test" in out.getvalue()
