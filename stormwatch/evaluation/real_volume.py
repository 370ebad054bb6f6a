"""Real volume and real texts: NAB's tweet counts as brands' comment volume, Amazon
review snippets rated by people as the comments, storms injected on top.

The scenario family measures detection on streams of stormwatch's own generator, whose
vocabulary shaped the crisis terms. Here the generator writes nothing: each brand's
volume is one NAB realTweets file (55 days of 5-minute counts of tweets naming a
company, 104 to 24,639 a day, with their real daily cycles, news bursts and collection
gaps), and each comment's text is one of 3,708 Amazon review snippets that about ten
people rated (VADER's ground truth, `data/vader_amazon/`), negative ones at a fixed
share. The share never changes outside the injected storms, so an incident that matches
no storm is a false alarm, whatever the volume did.

A storm (one every `every_days` from day `first_day`, at a random time of that day)
rises from 0.3x the brand's mean rate of negative comments, doubling every 5, 10, 20, 40
or 60 minutes in turn, to a peak of 20 to 60 times that rate (at least one a minute),
holds it half an hour and decays with a half-life of half an hour; 85 % of its comments
are strongly negative snippets (rated -1 or below) from accounts new to the brand, 15 %
not negative (defenders), 70 % on a new post and the rest on the brand's latest ones.
Its breakout is when its rate reaches `BREAKOUT_FACTOR` (10) times the brand's mean
negative rate, as for the family's crises; and as there, the report says how long before
its breakout its tenth negative comment came (the lead the storm allowed a detector
that needs ten) and how long after that the alert came.
"""

from __future__ import annotations

import bisect
import math
import random
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from stormwatch.config import Settings
from stormwatch.evaluation.label_matching import match_labels
from stormwatch.evaluation.nab import REALTWEETS_DIR, load_file
from stormwatch.evaluation.scenario.spec import BREAKOUT_FACTOR, EVIDENCE_NEGATIVES
from stormwatch.evaluation.scenario_scoring import (
    SIZE_BANDS,
    cell,
    evidence_figures,
    known_median,
    size_band,
)

__all__ = ["Snippets", "StormLabel", "build_stream", "evaluate_real_volume", "run_stream"]

SNIPPETS_PATH = Path(__file__).resolve().parent / "data" / "vader_amazon"
SNIPPETS_FILE = "amazonReviewSnippets_GroundTruth.txt"
NEGATIVE_BELOW = -0.05  # VADER's convention: a mean rating under this is negative
STRONG_AT = -1.0  # storm comments: rated this or lower
DOUBLINGS_MIN = (5.0, 10.0, 20.0, 40.0, 60.0)
START_RATIO = 0.3  # a storm starts at this x the brand's mean negative rate
PEAK_RATIOS = (20.0, 60.0)  # ... and peaks at a log-uniform multiple in this range
PEAK_FLOOR = 1.0  # negatives per minute at least, at the peak
PLATEAU_S = 1800.0
HALF_LIFE_S = 1800.0
STORM_NEGATIVE = 0.85
ON_NEW_POST = 0.7


@dataclass(frozen=True, slots=True)
class Snippets:
    """The rated texts, split the way the streams use them."""

    negative: tuple[str, ...]  # mean rating under -0.05
    strong: tuple[str, ...]  # -1 or below
    other: tuple[str, ...]  # the rest

    @classmethod
    def load(cls, path: Path | None = None) -> Snippets:
        negative: list[str] = []
        strong: list[str] = []
        other: list[str] = []
        with open(path or SNIPPETS_PATH / SNIPPETS_FILE, encoding="utf-8") as fh:
            for row in fh:
                parts = row.rstrip("\r\n").split("\t")
                if len(parts) < 3 or not parts[2].strip():
                    continue
                rating = float(parts[1])
                (negative if rating < NEGATIVE_BELOW else other).append(parts[2])
                if rating <= STRONG_AT:
                    strong.append(parts[2])
        return cls(tuple(negative), tuple(strong), tuple(other))


@dataclass(frozen=True, slots=True)
class StormLabel:
    """An injected storm, in the shape `match_labels` reads."""

    name: str
    brand: str
    onset: float
    breakout: float
    end: float
    doubling_minutes: float
    peak_ratio: float
    kind: str = "storm"
    thread_id: str | None = None
    must_alert: bool = True
    evidence_at: float | None = None  # its tenth negative comment (`EVIDENCE_NEGATIVES`)


def _counts(csv_path: Path) -> list[tuple[float, int]]:
    """(epoch seconds, comments) per row of a NAB file, read by the NAB loader (its
    timestamps are naive UTC)."""
    f = load_file(csv_path, csv_path.name, [])
    seconds = f.timestamps.astype("datetime64[s]").astype("int64")
    return [(float(t), int(v)) for t, v in zip(seconds, f.values, strict=True)]


def build_stream(
    csv_path: Path,
    snippets: Snippets,
    *,
    seed: int = 1,
    negative_share: float = 0.1,
    storms: bool = True,
    first_day: float = 3.0,
    every_days: float = 5.0,
    max_days: float | None = None,
) -> tuple[list[bytes], list[StormLabel], float, float]:
    """The comments of one NAB file (its first `max_days` when given) as JSONL lines in
    event-time order, the storms' labels, the brand's mean comments a day and the days
    the stream spans."""
    brand = csv_path.stem.removeprefix("Twitter_volume_")
    # zlib.crc32, not hash(): the same stream in every process.
    rng = random.Random(seed * 1_000_003 + zlib.crc32(brand.encode()))
    counts = _counts(csv_path)
    if max_days is not None:
        counts = [row for row in counts if row[0] < counts[0][0] + max_days * 86400.0]
    t_start, t_end = counts[0][0], counts[-1][0] + 300.0
    days = (t_end - t_start) / 86400.0
    daily = sum(v for _, v in counts) / days
    negative_per_min = daily * negative_share / 1440.0
    authors = max(2000, int(5 * daily))
    posts: list[float] = []
    t = t_start
    while t < t_end:
        posts.append(t)
        t += rng.uniform(3600.0, 5 * 3600.0)

    def post_at(ts: float) -> str:
        newest = bisect.bisect_right(posts, ts) - 1
        back = rng.choices((0, 1, 2), (0.6, 0.3, 0.1))[0]
        return f"{brand}-p{max(0, newest - back)}"

    rows: list[tuple[float, str, str, str]] = []
    for ts, n in counts:
        for _ in range(n):
            at = ts + rng.uniform(0.0, 300.0)
            pool = snippets.negative if rng.random() < negative_share else snippets.other
            # A few accounts write much, most once or twice.
            rows.append((at, rng.choice(pool), f"u{int(authors * rng.random() ** 2)}", post_at(at)))
    labels: list[StormLabel] = []
    day = first_day
    while storms and t_start + (day + 1) * 86400.0 <= t_end:
        k = len(labels) + 1
        onset = t_start + day * 86400.0 + rng.uniform(0.0, 86400.0)
        doubling = DOUBLINGS_MIN[(k - 1) % len(DOUBLINGS_MIN)] * 60.0
        ratio = math.exp(rng.uniform(*(math.log(r) for r in PEAK_RATIOS)))
        peak = max(PEAK_FLOOR, ratio * negative_per_min) / 60.0  # per second
        start = START_RATIO * negative_per_min / 60.0
        doublings = math.log2(peak / start)
        grow = doubling * doublings
        end = onset + grow + PLATEAU_S + HALF_LIFE_S * doublings
        if end > t_end:
            break
        breakout = onset + doubling * math.log2(BREAKOUT_FACTOR / START_RATIO)
        post = f"{brand}-storm{k}"
        at = onset
        negatives, evidence_at = 0, None
        while True:  # a Poisson process of rate(t) <= peak, by thinning
            at += rng.expovariate(peak)
            if at >= end:
                break
            x = at - onset
            if x < grow:
                rate = start * 2.0 ** (x / doubling)
            elif x < grow + PLATEAU_S:
                rate = peak
            else:
                rate = peak * 0.5 ** ((x - grow - PLATEAU_S) / HALF_LIFE_S)
            if rng.random() >= rate / peak:
                continue
            thread = post if rng.random() < ON_NEW_POST else post_at(at)
            if rng.random() < STORM_NEGATIVE:
                text, author = rng.choice(snippets.strong), f"s{k}-{rng.randrange(10**7)}"
                negatives += 1
                if negatives == EVIDENCE_NEGATIVES:
                    evidence_at = at
            else:
                text, author = rng.choice(snippets.other), f"d{k}-{rng.randrange(10**7)}"
            rows.append((at, text, author, thread))
        labels.append(
            StormLabel(
                f"{brand}-storm{k}", brand, onset, breakout, end, doubling / 60.0,
                peak * 60.0 / negative_per_min, evidence_at=evidence_at,
            )
        )  # fmt: skip
        day += every_days
    rows.sort(key=lambda r: r[0])
    lines = [
        orjson.dumps(
            {
                "id": f"{brand}-{i}",
                "brand": brand,
                "text": text,
                "created_at": round(at, 3),
                "author_id": author,
                "thread_id": thread,
                "platform": "twitter",
                "lang": "en",
            }
        )
        for i, (at, text, author, thread) in enumerate(rows)
    ]
    return lines, labels, daily, days


def run_stream(
    lines: list[bytes], labels: list[StormLabel], settings: Settings | None = None
) -> dict[str, Any]:
    """One stream through a pipeline wired as `stormwatch run` wires it; what it caught,
    how early, and what opened where no storm was."""
    from stormwatch.evaluation.scenario_run import replay

    settings = settings or Settings()
    pipeline, stats, seconds = replay(lines, settings)
    outcomes, unexplained = match_labels(
        list(pipeline.tracker.history), labels, lateness=settings.lateness_seconds
    )
    return {
        "comments": stats.processed,
        "dead_lettered": stats.dead_lettered,
        "late": stats.late,
        "seconds": round(seconds, 1),
        "storms": [
            {
                "name": o.label.name,
                "doubling_minutes": o.label.doubling_minutes,  # type: ignore[attr-defined]
                "peak_ratio": round(o.label.peak_ratio, 1),  # type: ignore[attr-defined]
                "caught": o.caught,
                "incidents": len(o.incidents),
                "lead_minutes": None if o.lead_seconds is None else round(o.lead_seconds / 60, 1),
                **evidence_figures(o),
            }
            for o in outcomes
        ],
        "false_alarms": [
            {"key": i.key, "kind": i.kind, "severity": i.severity} for i in unexplained
        ],
    }


def _run_file(csv_path: Path, seed: int, storms: bool, settings: Settings | None) -> dict[str, Any]:
    lines, labels, daily, days = build_stream(csv_path, Snippets.load(), seed=seed, storms=storms)
    figures = run_stream(lines, labels, settings)
    figures.update(brand=csv_path.stem.removeprefix("Twitter_volume_"))
    figures.update(per_day=round(daily, 1), days=round(days, 2))
    return figures


def _leads(storms: list[dict[str, Any]]) -> list[float]:
    return [s["lead_minutes"] for s in storms if s["lead_minutes"] is not None]


def evaluate_real_volume(
    directory: Path | None = None,
    *,
    console: Console,
    settings: Settings | None = None,
    seed: int = 1,
    storms: bool = True,
    jobs: int = 1,
) -> dict[str, Any]:
    """Every NAB file of `directory` (default: the vendored realTweets) as one brand's
    stream; prints a row per brand and the pooled figures by size band."""
    data = (directory or REALTWEETS_DIR) / "realTweets"
    files = sorted(data.glob("*.csv")) if data.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no NAB data files in {data}")
    console.print(f"{len(files)} streams, seed {seed}; scoring ...", style="dim")
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            n = len(files)
            runs = list(pool.map(_run_file, files, [seed] * n, [storms] * n, [settings] * n))
    else:
        runs = [_run_file(f, seed, storms, settings) for f in files]
    runs.sort(key=lambda r: r["per_day"])

    table = Table(title=f"Real volume (NAB realTweets), real texts, seed {seed}")
    for col in ("brand", "a day", "lost", "late", "storms\ncaught", "lead\nmedian",
                "lead\nworst", "incidents\n/storm", "false\nalarms"):  # fmt: skip
        table.add_column(col, justify="right")
    for r in runs:
        leads = _leads(r["storms"])
        caught = [s for s in r["storms"] if s["caught"]]
        table.add_row(
            r["brand"], f"{r['per_day']:,.0f}", str(r["dead_lettered"]), str(r["late"]),
            f"{len(caught)}/{len(r['storms'])}", cell(known_median(leads)),
            cell(min(leads) if leads else None),
            cell(round(sum(s["incidents"] for s in caught) / len(caught), 2) if caught else None),
            str(len(r["false_alarms"])),
        )  # fmt: skip
    console.print(table)

    by_band: dict[str, dict[str, Any]] = {}
    for band, _, _ in SIZE_BANDS:
        members = [r for r in runs if size_band(r["per_day"]) == band]
        all_storms = [s for r in members for s in r["storms"]]
        leads = _leads(all_storms)
        brand_days = sum(r["days"] for r in members)
        false_alarms = sum(len(r["false_alarms"]) for r in members)
        by_band[band] = {
            "brands": len(members),
            "brand_days": round(brand_days, 1),
            "storms": len(all_storms),
            "caught": sum(s["caught"] for s in all_storms),
            "lead_median": known_median(leads),
            "lead_worst": min(leads) if leads else None,
            "evidence_lead_median": known_median([s["evidence_lead_minutes"] for s in all_storms]),
            "after_evidence_median": known_median(
                [s["after_evidence_minutes"] for s in all_storms]
            ),
            "false_alarms": false_alarms,
            "false_alarms_per_brand_day": round(false_alarms / brand_days, 4)
            if brand_days
            else None,
        }
    pooled = Table(title="By brand size (comments a day)")
    pooled.add_column("figure")
    for band in by_band:
        pooled.add_column(band, justify="right")
    names = {"evidence_lead_median": "10th negative before breakout, median",
             "after_evidence_median": "alert after the 10th negative, median"}  # fmt: skip
    for name in ("brands", "brand_days", "storms", "caught", "lead_median", "lead_worst",
                 "evidence_lead_median", "after_evidence_median", "false_alarms",
                 "false_alarms_per_brand_day"):  # fmt: skip
        label = names.get(name, name.replace("_", " "))
        pooled.add_row(label, *(cell(b[name]) for b in by_band.values()))
    console.print(pooled)
    # The brands the lead target is set on (500 comments a day or more), pooled.
    small = SIZE_BANDS[0][0]
    from_500 = _leads([s for r in runs if size_band(r["per_day"]) != small for s in r["storms"]])
    lead_from_500 = known_median(from_500)
    console.print(
        f"brands of 500 comments a day or more: median lead {cell(lead_from_500)} min"
        f" over {len(from_500)} storms caught"
    )
    return {
        "seed": seed,
        "per_brand": runs,
        "by_band": by_band,
        "lead_median_from_500": lead_from_500,
    }
