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

Between the storms (from day `first_day + every_days / 2`, one every `every_days`) come
the family's four benign look-alikes, in the same rated texts, each of which must open
nothing: a post drawing a flood of praise (snippets rated +1 or above, negative ones at
half the brand's share), a launch of two to five posts at 1.3x the brand's negative
share, a bot burst (two to six accounts posting 100 to 400 rewrites of two strongly
negative snippets within minutes, `scenario.variation.rewrite`) and one angry customer
(12 to 35 strongly negative snippets from one account over one to three hours). Their
texts were written by people, not by the generator whose vocabulary the guards were
built on. And in the day before each storm's a templated campaign (`_campaign`): three
strongly negative snippets rewritten by many new accounts, which must alert like a
storm and should say "campaign" (the bot burst is the same kind of text from a few
accounts).

Any labelled texts can stand in for the snippets (`Snippets.from_labelled`, `evaluate
real-volume --texts`): a brand's own comments that people labelled, or a rated set of
comments addressed to brands such as the airline tweets; without ratings, every
negative text may be a storm's.
"""

from __future__ import annotations

import bisect
import math
import random
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from stormwatch.config import Settings
from stormwatch.evaluation.label_matching import LabelOutcome, alerts_said_campaign, match_labels
from stormwatch.evaluation.nab import REALTWEETS_DIR, load_file
from stormwatch.evaluation.scenario.spec import BREAKOUT_FACTOR, EVIDENCE_NEGATIVES
from stormwatch.evaluation.scenario.variation import rewrite
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
POSITIVE_AT = 1.0  # praise: rated this or higher
BENIGN_KINDS = ("viral_positive", "product_launch", "bot_burst", "angry_customer")
VIRAL_PEAK_MAX = 300.0  # comments a minute at most, at a viral post's peak
LAUNCH_PEAK_MAX = 150.0  # ... over all of a launch's posts
CAMPAIGN_DOUBLINGS_MIN = (5.0, 10.0, 15.0)  # organised: faster than most storms
CAMPAIGN_POPULARITY = (0.6, 0.3, 0.1)  # how often each of its three messages is posted


@dataclass(frozen=True, slots=True)
class Snippets:
    """The rated texts, split the way the streams use them."""

    negative: tuple[str, ...]  # mean rating under -0.05
    strong: tuple[str, ...]  # -1 or below
    other: tuple[str, ...]  # the rest
    positive: tuple[str, ...] = ()  # +1 or above (of `other`)

    @classmethod
    def load(cls, path: Path | None = None) -> Snippets:
        negative: list[str] = []
        strong: list[str] = []
        other: list[str] = []
        positive: list[str] = []
        with open(path or SNIPPETS_PATH / SNIPPETS_FILE, encoding="utf-8") as fh:
            for row in fh:
                parts = row.rstrip("\r\n").split("\t")
                if len(parts) < 3 or not parts[2].strip():
                    continue
                rating = float(parts[1])
                (negative if rating < NEGATIVE_BELOW else other).append(parts[2])
                if rating <= STRONG_AT:
                    strong.append(parts[2])
                elif rating >= POSITIVE_AT:
                    positive.append(parts[2])
        return cls(tuple(negative), tuple(strong), tuple(other), tuple(positive))

    @classmethod
    def from_labelled(cls, path: Path) -> Snippets:
        """Texts people labelled (JSONL: `text`, `label` negative, neutral or positive),
        in place of the rated snippets: every negative one may be a storm's, as there is
        no rating to tell the strong ones. A user's own labelled comments, or a rated
        set such as the airline tweets (`benchmarks/prepare_negativity_data.py`).
        ValueError names what is missing."""
        negative: list[str] = []
        other: list[str] = []
        positive: list[str] = []
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = orjson.loads(line)
                    text, label = row["text"], row["label"]
                except (ValueError, KeyError, TypeError):
                    raise ValueError(
                        f"{path}, line {number}: expected JSON with 'text' and 'label'"
                    ) from None
                if not isinstance(text, str) or not text.strip():
                    continue
                if label == "negative":
                    negative.append(text)
                else:
                    other.append(text)
                    if label == "positive":
                        positive.append(text)
        if not negative or not positive:
            raise ValueError(
                f"{path}: needs texts labelled negative and positive "
                f"(found {len(negative)} negative, {len(positive)} positive)"
            )
        return cls(tuple(negative), tuple(negative), tuple(other), tuple(positive))


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
    # The new post most of it lands on (`ON_NEW_POST`; the rest on recent posts): an
    # open incident's escalation naming it tells of this storm (`label_matching.told`).
    post: str | None = None


@dataclass(frozen=True, slots=True)
class BenignLabel:
    """An injected look-alike that must open nothing, in the shape `match_labels` reads."""

    name: str
    brand: str
    onset: float
    end: float
    kind: str
    thread_id: str | None = None
    must_alert: bool = False
    breakout: float | None = None
    evidence_at: float | None = None


def _growth_times(
    rng: random.Random,
    onset: float,
    start: float,
    peak: float,
    doubling: float,
    plateau: float,
    half_life: float,
    end: float,
) -> Iterator[float]:
    """The times of a Poisson process whose rate (per second) grows from `start`, doubling
    every `doubling` seconds, to `peak`, holds it for `plateau` seconds and halves every
    `half_life` seconds until `end`; by thinning. A generator, so that what the caller
    draws for each time comes between its own draws (a storm's comments have always been
    drawn in that order: the same seed gives the same storms)."""
    grow = doubling * math.log2(peak / start)
    at = onset
    while True:
        at += rng.expovariate(peak)
        if at >= end:
            return
        x = at - onset
        if x < grow:
            rate = start * 2.0 ** (x / doubling)
        elif x < grow + plateau:
            rate = peak
        else:
            rate = peak * 0.5 ** ((x - grow - plateau) / half_life)
        if rng.random() < rate / peak:
            yield at


Row = tuple[float, str, str, str]
_Made = tuple[list[Row], BenignLabel]  # a look-alike's rows and label


def _crisis_rows(
    rng: random.Random,
    k: int,
    times: Iterator[float],
    where: Callable[[float], str],
    negative: Callable[[], tuple[str, str]],
    snippets: Snippets,
) -> tuple[list[Row], float | None]:
    """The rows of the `k`-th crisis (a storm or a campaign) at `times`: each on the
    post `where` picks, `STORM_NEGATIVE` of them a negative text and its author from
    `negative`, the rest a defender's other snippet; and when its tenth negative came
    (`EVIDENCE_NEGATIVES`). The draws in the order storms have always made them."""
    rows: list[Row] = []
    negatives, evidence_at = 0, None
    for at in times:
        post = where(at)
        if rng.random() < STORM_NEGATIVE:
            text, author = negative()
            negatives += 1
            if negatives == EVIDENCE_NEGATIVES:
                evidence_at = at
        else:
            text, author = rng.choice(snippets.other), f"d{k}-{rng.randrange(10**7)}"
        rows.append((at, text, author, post))
    return rows, evidence_at


@dataclass(frozen=True, slots=True)
class _Brand:
    """What every look-alike of a brand is made from: its name, its comments a minute and
    negative share, the rated texts, its recent posts at a time and one of its regular
    accounts."""

    name: str
    per_min: float
    negative_share: float
    snippets: Snippets
    recent_posts: Callable[[float, int], list[str]]
    regular: Callable[[], str]


def _viral(k: int, rng: random.Random, onset: float, brand: _Brand) -> _Made:
    """Praise flooding one new post: mostly positive snippets, at half the brand's
    negative share, from new accounts and a few of the brand's own."""
    post = f"{brand.name}-viral{k}"
    peak = min(VIRAL_PEAK_MAX, max(10.0, rng.uniform(8.0, 30.0) * brand.per_min)) / 60.0
    start = max(0.2, 0.5 * brand.per_min) / 60.0
    doubling, plateau, half_life = 300.0, rng.uniform(900.0, 2400.0), 2400.0
    end = onset + doubling * math.log2(peak / start) + plateau + 4.0 * half_life
    snippets = brand.snippets
    rows: list[Row] = []
    for at in _growth_times(rng, onset, start, peak, doubling, plateau, half_life, end):
        r = rng.random()
        if r < 0.5 * brand.negative_share:
            text = rng.choice(snippets.negative)
        else:
            text = rng.choice(snippets.positive if rng.random() < 0.7 else snippets.other)
        who = brand.regular() if rng.random() < 0.1 else f"v{k}-{rng.randrange(10**7)}"
        rows.append((at, text, who, post))
    name = f"{brand.name}-viral{k}"
    return rows, BenignLabel(name, brand.name, onset, end, "viral_positive", thread_id=post)


def _launch(k: int, rng: random.Random, onset: float, brand: _Brand) -> _Made:
    """A launch over two to five new posts: more of everything, at 1.3x the brand's
    negative share, half of it from new accounts."""
    n_posts = rng.randint(2, 5)
    offsets = [0.0]
    for _ in range(n_posts - 1):
        offsets.append(offsets[-1] + rng.uniform(300.0, 1200.0))
    weights = [rng.gammavariate(2.0, 1.0) for _ in range(n_posts)]
    total = sum(weights)
    peak_all = min(LAUNCH_PEAK_MAX, max(5.0, rng.uniform(4.0, 12.0) * brand.per_min)) / 60.0
    doubling, plateau, half_life = 240.0, 1800.0, 3600.0
    # New accounts from a pool of half the launch's expected comments, as the family's.
    expected = peak_all * (doubling / math.log(2.0) + plateau + half_life / math.log(2.0))
    pool = max(200, int(0.5 * expected))
    snippets = brand.snippets
    rows: list[Row] = []
    end = onset
    for j, (offset, w) in enumerate(zip(offsets, weights, strict=True)):
        peak = peak_all * w / total
        start = 0.05 * peak
        at0 = onset + offset
        post_end = at0 + doubling * math.log2(peak / start) + plateau + 4.0 * half_life
        end = max(end, post_end)
        post = f"{brand.name}-launch{k}-{j}"
        for at in _growth_times(rng, at0, start, peak, doubling, plateau, half_life, post_end):
            if rng.random() < 1.3 * brand.negative_share:
                text = rng.choice(snippets.negative)
            else:
                text = rng.choice(snippets.other)
            who = brand.regular() if rng.random() < 0.5 else f"l{k}-{rng.randrange(pool)}"
            rows.append((at, text, who, post))
    return rows, BenignLabel(f"{brand.name}-product{k}", brand.name, onset, end, "product_launch")


def _bot_burst(k: int, rng: random.Random, onset: float, brand: _Brand) -> _Made:
    """Two to six accounts posting 100-400 rewrites of two strongly negative snippets
    on one to three recent posts within 8-20 minutes."""
    n, accounts = rng.randint(100, 400), rng.randint(2, 6)
    length = rng.uniform(8.0, 20.0) * 60.0
    posts = brand.recent_posts(onset, rng.choice((1, 1, 2, 3)))
    bases = [rng.choice(brand.snippets.strong) for _ in range(2)]
    tags = (f"#boycott{brand.name}", f"#{brand.name}fail")
    rows: list[Row] = []
    for _ in range(n):
        base = bases[int(rng.random() < 0.3)]
        text = rewrite(base, rng, "en", brand.name, tags)
        at = onset + rng.uniform(0.0, length)
        rows.append((at, text, f"b{k}-{rng.randrange(accounts)}", rng.choice(posts)))
    thread = posts[0] if len(posts) == 1 else None
    label = BenignLabel(
        f"{brand.name}-bot{k}", brand.name, onset, onset + length, "bot_burst", thread_id=thread
    )
    return rows, label


def _angry_customer(k: int, rng: random.Random, onset: float, brand: _Brand) -> _Made:
    """One account writing 12-35 strongly negative snippets on one or two recent posts
    over one to three hours."""
    n = rng.randint(12, 35)
    length = rng.uniform(1.0, 3.0) * 3600.0
    posts = brand.recent_posts(onset, rng.choice((1, 2)))
    rows: list[Row] = []
    for _ in range(n):
        at = onset + rng.uniform(0.0, length)
        rows.append((at, rng.choice(brand.snippets.strong), f"a{k}", rng.choice(posts)))
    thread = posts[0] if len(posts) == 1 else None
    label = BenignLabel(
        f"{brand.name}-angry{k}", brand.name, onset, onset + length, "angry_customer",
        thread_id=thread,
    )  # fmt: skip
    return rows, label


# Each benign kind's maker: its rows and label, sizes as the family draws them
# (`evaluation.family.benign_event`); in the order of `BENIGN_KINDS`.
BENIGN_MAKERS: dict[str, Callable[[int, random.Random, float, _Brand], _Made]] = {
    "viral_positive": _viral,
    "product_launch": _launch,
    "bot_burst": _bot_burst,
    "angry_customer": _angry_customer,
}


def _campaign(
    k: int,
    rng: random.Random,
    brand: str,
    onset: float,
    negative_per_min: float,
    snippets: Snippets,
    recent_posts: Callable[[float, int], list[str]],
) -> tuple[list[Row], StormLabel]:
    """A templated campaign (the family's `campaign`, in rated texts): three strongly
    negative snippets handed out, posted with each person's own changes
    (`scenario.variation.rewrite`) by many new accounts, one or two comments each, on one
    to twelve of the brand's recent posts; it grows, peaks and decays as a storm does.
    Must alert, and should say "campaign"."""
    doubling = CAMPAIGN_DOUBLINGS_MIN[k % len(CAMPAIGN_DOUBLINGS_MIN)] * 60.0
    ratio = math.exp(rng.uniform(*(math.log(r) for r in PEAK_RATIOS)))
    peak = max(PEAK_FLOOR, ratio * negative_per_min) / 60.0
    start = START_RATIO * negative_per_min / 60.0
    doublings = math.log2(peak / start)
    end = onset + doubling * doublings + PLATEAU_S + HALF_LIFE_S * doublings
    breakout = onset + doubling * math.log2(BREAKOUT_FACTOR / START_RATIO)
    templates = [rng.choice(snippets.strong) for _ in CAMPAIGN_POPULARITY]
    posts = recent_posts(onset, rng.randint(1, 12))
    tags = (f"#boycott{brand}", f"#{brand}lies")
    expected = peak * (doubling / math.log(2.0) + PLATEAU_S + HALF_LIFE_S / math.log(2.0))
    pool = max(300, int(0.8 * expected / STORM_NEGATIVE))

    def copy() -> tuple[str, str]:
        base = rng.choices(templates, CAMPAIGN_POPULARITY)[0]
        return rewrite(base, rng, "en", brand, tags), f"c{k}-{rng.randrange(pool)}"

    times = _growth_times(rng, onset, start, peak, doubling, PLATEAU_S, HALF_LIFE_S, end)
    rows, evidence_at = _crisis_rows(
        rng, k, times, lambda _: rng.choice(posts), copy, snippets
    )  # fmt: skip
    label = StormLabel(
        f"{brand}-campaign{k}", brand, onset, breakout, end, doubling / 60.0,
        peak * 60.0 / negative_per_min, kind="campaign", evidence_at=evidence_at,
    )  # fmt: skip
    return rows, label


def _counts(csv_path: Path) -> list[tuple[float, int]]:
    """(epoch seconds, comments) per row of a NAB file, read by the NAB loader (its
    timestamps are naive UTC)."""
    f = load_file(csv_path, csv_path.name, [])
    seconds = f.timestamps.astype("datetime64[s]").astype("int64")
    counts = [(float(t), int(v)) for t, v in zip(seconds, f.values, strict=True)]
    if not any(n > 0 for _, n in counts):  # no brand to put storms on, nor a rate to scale
        raise ValueError(f"{csv_path}: no comments (no rows, or every count is 0)")
    return counts


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
    benign: bool = False,
    campaigns: bool = False,
) -> tuple[list[bytes], list[StormLabel | BenignLabel], float, float]:
    """The comments of one NAB file (its first `max_days` when given) as JSONL lines in
    event-time order, the labels (the storms', then with `benign` the look-alikes', then
    with `campaigns` the campaigns'), the brand's mean comments a day and the days the
    stream spans."""
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

    def newest_post(ts: float) -> int:
        """The index of the brand's newest post at `ts`."""
        return bisect.bisect_right(posts, ts) - 1

    def post_at(ts: float) -> str:
        newest = newest_post(ts)
        back = rng.choices((0, 1, 2), (0.6, 0.3, 0.1))[0]
        return f"{brand}-p{max(0, newest - back)}"

    def regular(r: random.Random) -> str:
        """One of the brand's own accounts: a few write much, most once or twice."""
        return f"u{int(authors * r.random() ** 2)}"

    rows: list[Row] = []
    for ts, n in counts:
        for _ in range(n):
            at = ts + rng.uniform(0.0, 300.0)
            pool = snippets.negative if rng.random() < negative_share else snippets.other
            rows.append((at, rng.choice(pool), regular(rng), post_at(at)))
    labels: list[StormLabel | BenignLabel] = []
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
        times = _growth_times(rng, onset, start, peak, doubling, PLATEAU_S, HALF_LIFE_S, end)
        more, evidence_at = _crisis_rows(
            rng, k, times,
            lambda at, post=post: post if rng.random() < ON_NEW_POST else post_at(at),
            lambda k=k: (rng.choice(snippets.strong), f"s{k}-{rng.randrange(10**7)}"),
            snippets,
        )  # fmt: skip
        rows.extend(more)
        labels.append(
            StormLabel(
                f"{brand}-storm{k}", brand, onset, breakout, end, doubling / 60.0,
                peak * 60.0 / negative_per_min, evidence_at=evidence_at, post=post,
            )
        )  # fmt: skip
        day += every_days

    def recent_posts(ts: float, n: int) -> list[str]:
        newest = newest_post(ts)
        return [f"{brand}-p{i}" for i in range(newest, max(-1, newest - n), -1)]

    def inject(
        day: float, span: float, rng: random.Random,
        make: Callable[[int, float], tuple[list[Row], StormLabel | BenignLabel]],
    ) -> None:  # fmt: skip
        """One event every `every_days` from `day`, each at a random time in the first
        `span` of its day, made by `make(k, onset)`; none that would outlast the stream."""
        while t_start + (day + 1) * 86400.0 <= t_end:
            onset = t_start + day * 86400.0 + rng.uniform(0.0, span * 86400.0)
            more, label = make(len(labels) + 1, onset)
            if label.end > t_end:
                break
            rows.extend(more)
            labels.append(label)
            day += every_days

    if benign:
        # Their own generator: the storms of a seed stay what they were without them.
        brng = random.Random(f"benign:{seed}:{brand}")
        look_alike = _Brand(
            brand, daily / 1440.0, negative_share, snippets, recent_posts, lambda: regular(brng)
        )
        turn = brng.randrange(len(BENIGN_KINDS))
        inject(
            first_day + every_days / 2.0, 1.0, brng,
            lambda k, onset: BENIGN_MAKERS[BENIGN_KINDS[(turn + k) % len(BENIGN_KINDS)]](
                k, brng, onset, look_alike
            ),
        )  # fmt: skip
    if campaigns:
        # In the first 0.6 of the day before each storm's: over before that day begins.
        crng = random.Random(f"campaigns:{seed}:{brand}")
        inject(
            first_day + every_days - 1.0, 0.6, crng,
            lambda k, onset: _campaign(
                k, crng, brand, onset, negative_per_min, snippets, recent_posts
            ),
        )  # fmt: skip
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
    lines: list[bytes],
    labels: Sequence[StormLabel | BenignLabel],
    settings: Settings | None = None,
) -> dict[str, Any]:
    """One stream through a pipeline wired as `stormwatch run` wires it: what it caught,
    how early, whether a campaign's alerts said "campaign", which look-alikes opened an
    incident, and what opened where nothing was."""
    from stormwatch.alerts.sinks import MemoryAlertSink
    from stormwatch.evaluation.scenario_run import replay

    settings = settings or Settings()
    alerts = MemoryAlertSink()
    pipeline, stats, seconds = replay(lines, settings, sinks=[alerts])
    outcomes, unexplained = match_labels(
        list(pipeline.tracker.history), labels, lateness=settings.lateness_seconds
    )
    # How long the longest incident stayed open, to its last event (its resolution) or,
    # still open, to the stream's end: one stuck open swallows every later storm as an
    # update (a post's incident reopened on its idle key stayed open for six weeks).
    end = int(pipeline.windows.max_event_time // 60) if stats.processed else 0
    still_open = {id(i) for i in pipeline.tracker.open.values()}
    spans = [
        ((end if id(i) in still_open else i.last_event_minute) - i.opened_minute) / 60.0
        for i in pipeline.tracker.history
    ]

    def crisis(o: LabelOutcome) -> dict[str, Any]:
        label = o.label
        assert isinstance(label, StormLabel)
        return {
            "name": label.name,
            "doubling_minutes": label.doubling_minutes,
            "peak_ratio": round(label.peak_ratio, 1),
            "caught": o.caught,
            "by_escalation": o.by_escalation,
            "incidents": len(o.incidents),
            "lead_minutes": None if o.lead_seconds is None else round(o.lead_seconds / 60, 1),
            "said_campaign": alerts_said_campaign(o, alerts.events),
            **evidence_figures(o),
        }

    return {
        "comments": stats.processed,
        "dead_lettered": stats.dead_lettered,
        "late": stats.late,
        "seconds": round(seconds, 1),
        "storms": [crisis(o) for o in outcomes if o.label.kind == "storm"],
        "campaigns": [crisis(o) for o in outcomes if o.label.kind == "campaign"],
        "benign": [
            {"name": o.label.name, "kind": o.label.kind, "incidents": len(o.incidents)}
            for o in outcomes
            if isinstance(o.label, BenignLabel)
        ],
        "false_alarms": [
            {"key": i.key, "kind": i.kind, "severity": i.severity} for i in unexplained
        ],
        "longest_incident_hours": round(max(spans), 1) if spans else None,
    }


def _run_file(
    csv_path: Path,
    seed: int,
    storms: bool,
    benign: bool,
    campaigns: bool,
    settings: Settings | None,
    snippets: Snippets,
) -> dict[str, Any]:
    lines, labels, daily, days = build_stream(
        csv_path, snippets, seed=seed, storms=storms, benign=benign, campaigns=campaigns
    )
    figures = run_stream(lines, labels, settings)
    figures.update(brand=csv_path.stem.removeprefix("Twitter_volume_"))
    figures.update(per_day=round(daily, 1), days=round(days, 2))
    return figures


def _opened(benign: list[dict[str, Any]]) -> int:
    """How many of these look-alikes opened an incident."""
    return sum(1 for b in benign if b["incidents"])


def _leads(storms: list[dict[str, Any]]) -> list[float]:
    return [s["lead_minutes"] for s in storms if s["lead_minutes"] is not None]


def evaluate_real_volume(
    directory: Path | None = None,
    *,
    console: Console,
    settings: Settings | None = None,
    seed: int = 1,
    storms: bool = True,
    benign: bool = True,
    campaigns: bool = True,
    jobs: int = 1,
    texts: Path | None = None,
) -> dict[str, Any]:
    """Every NAB file of `directory` (default: the vendored realTweets) as one brand's
    stream; prints a row per brand and the pooled figures by size band. `texts`:
    labelled JSONL to draw the comments from instead of the Amazon snippets
    (`Snippets.from_labelled`; ValueError when unusable)."""
    root = directory or REALTWEETS_DIR
    # DIR/realTweets, or the NAB repository's own layout as `evaluate nab` takes it.
    data = next(
        (d for d in (root / "realTweets", root / "data" / "realTweets") if d.is_dir()),
        root / "realTweets",
    )
    files = sorted(data.glob("*.csv")) if data.is_dir() else []
    if not files:
        raise FileNotFoundError(f"no NAB data files in {data}")
    snippets = Snippets.load() if texts is None else Snippets.from_labelled(texts)
    console.print(f"{len(files)} streams, seed {seed}; scoring ...", style="dim")
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            n = len(files)
            runs = list(
                pool.map(
                    _run_file, files, [seed] * n, [storms] * n, [benign] * n,
                    [campaigns] * n, [settings] * n, [snippets] * n,
                )
            )  # fmt: skip
    else:
        runs = [_run_file(f, seed, storms, benign, campaigns, settings, snippets) for f in files]
    runs.sort(key=lambda r: r["per_day"])

    table = Table(title=f"Real volume (NAB realTweets), real texts, seed {seed}")
    for col in ("brand", "a day", "lost/\nlate", "storms\ncaught", "lead\nmedian",
                "lead\nworst", "incid.\n/storm", "look-\nalikes\nopened",
                "false\nalarms"):  # fmt: skip
        table.add_column(col, justify="right")
    for r in runs:
        leads = _leads(r["storms"])
        caught = [s for s in r["storms"] if s["caught"]]
        table.add_row(
            escape(r["brand"]), f"{r['per_day']:,.0f}", f"{r['dead_lettered']}/{r['late']}",
            f"{len(caught)}/{len(r['storms'])}", cell(known_median(leads)),
            cell(min(leads) if leads else None),
            cell(round(sum(s["incidents"] for s in caught) / len(caught), 2) if caught else None),
            f"{_opened(r['benign'])}/{len(r['benign'])}",
            str(len(r["false_alarms"])),
        )  # fmt: skip
    console.print(table)

    by_band: dict[str, dict[str, Any]] = {}
    for band, _, _ in SIZE_BANDS:
        members = [r for r in runs if size_band(r["per_day"]) == band]
        all_storms = [s for r in members for s in r["storms"]]
        all_campaigns = [s for r in members for s in r["campaigns"]]
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
            "caught_by_escalation": sum(s["by_escalation"] for s in all_storms),
            "campaigns": len(all_campaigns),
            "campaigns_caught": sum(s["caught"] for s in all_campaigns),
            "campaign_lead_median": known_median(_leads(all_campaigns)),
            "campaigns_said_campaign": sum(s["said_campaign"] for s in all_campaigns),
            "storms_said_campaign": sum(s["said_campaign"] for s in all_storms),
            "benign": sum(len(r["benign"]) for r in members),
            "benign_opened": sum(_opened(r["benign"]) for r in members),
            "longest_incident_hours": max(
                (
                    r["longest_incident_hours"]
                    for r in members
                    if r["longest_incident_hours"] is not None
                ),
                default=None,
            ),  # fmt: skip
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
             "after_evidence_median": "alert after the 10th negative, median",
             "campaigns_said_campaign": 'campaigns said "campaign"',
             "storms_said_campaign": 'storms said "campaign"',
             "benign": "look-alikes", "benign_opened": "look-alikes with an incident",
             "longest_incident_hours": "longest incident, hours",
             "caught_by_escalation": "caught by an escalation naming its post"}  # fmt: skip
    for name in ("brands", "brand_days", "storms", "caught", "caught_by_escalation",
                 "lead_median", "lead_worst",
                 "evidence_lead_median", "after_evidence_median", "campaigns",
                 "campaigns_caught", "campaign_lead_median", "campaigns_said_campaign",
                 "storms_said_campaign", "benign", "benign_opened", "longest_incident_hours",
                 "false_alarms", "false_alarms_per_brand_day"):  # fmt: skip
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
    by_kind = {
        kind: {
            "events": sum(1 for r in runs for b in r["benign"] if b["kind"] == kind),
            "opened": sum(_opened([b for b in r["benign"] if b["kind"] == kind]) for r in runs),
        }
        for kind in BENIGN_KINDS
    }
    campaigns = [c for r in runs for c in r["campaigns"]]
    if campaigns:
        caught = [c for c in campaigns if c["caught"]]
        console.print(
            f"campaigns caught {len(caught)}/{len(campaigns)}, "
            f'{sum(c["said_campaign"] for c in caught)} of them said "campaign"'
        )
    if any(k["events"] for k in by_kind.values()):
        console.print(
            "look-alikes with an incident: "
            + ", ".join(f"{kind} {k['opened']}/{k['events']}" for kind, k in by_kind.items())
        )
    return {
        "seed": seed,
        "per_brand": runs,
        "by_band": by_band,
        "benign_by_kind": by_kind,
        "lead_median_from_500": lead_from_500,
    }
