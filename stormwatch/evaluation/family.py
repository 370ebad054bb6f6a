"""The scenario family: a new, wide exam of the detector for every seed.

`stormwatch evaluate suite` writes it; `stormwatch evaluate scenarios` scores it. One
seed gives 21 brands in 7 streams of two to three days, with sizes drawn log-uniformly
from 40 to 40,000 comments a day (stratified, so each seed has seven brands in each
size band: below 500, 500 to 5,000, above 5,000), and about 22 labelled events:

- must alert: firestorms on one post (fast, doubling every 5-9 minutes, and slow,
  every 20-35), spreading storms over many posts, slow swells (the brand's negativity
  rising over 6-24 hours across many posts), templated campaigns (hundreds to
  thousands of accounts posting near-identical outraged texts with their own inserted
  words, reordered phrases, emoji and links, like the Nestlé/Greenpeace Facebook
  campaign), and crises on a brand's first or second day of monitoring;
- must stay quiet: bot bursts (a few accounts, near-identical texts with the same
  kinds of variation as campaigns), viral praise, product launches, one angry customer.

Every event is sized against its brand (a storm on a 40-a-day shop is a few comments a
minute, on a 40,000-a-day brand hundreds), so the breakout (the event's negative rate
reaching 10x the brand's normal negative rate) always happens, and a detector is
judged in every size band. The streams arrive the way collectors deliver them
(`COLLECTOR_DELIVERY`): ~15 % of comments late by up to 4 minutes, 2 % by up to 40
minutes, 0.5 % delivered twice, and four records per stream with a wrong but valid
clock (hours to days ahead or behind).

Seeds: tune on `TUNING_SEEDS` (1-5) only; report on `HELD_OUT_SEEDS` (101-110), which
nobody looks at while changing a detector. A seed is about 250,000-350,000 comments
(264,000-310,000 over seeds 1-5, 255,000-351,000 over 101-110); generating and scoring
one takes about a minute on two cores.

Beside each stream's `NAME.jsonl` and `NAME.labels.json`, `NAME.brands.json` holds
the brands (one `BrandSpec` per line) so the scoring can band brands by nominal size.
"""

from __future__ import annotations

import io
import math
import random
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from stormwatch.config import Settings
from stormwatch.evaluation.scenario import (
    COLLECTOR_DELIVERY,
    DEFAULT_START,
    DOMAINS,
    BrandSpec,
    EventSpec,
    ScenarioSpec,
    generate,
    write_brands,
    write_jsonl,
)

__all__ = [
    "HELD_OUT_SEEDS",
    "TUNING_SEEDS",
    "benign_event",
    "build_family",
    "crisis_event",
    "evaluate_seeds",
    "parse_seeds",
    "write_family",
]

TUNING_SEEDS = range(1, 6)
HELD_OUT_SEEDS = range(101, 111)

_H = 3600.0
_D = 24 * _H
_STREAMS = 7
_BRANDS_PER_STREAM = 3
_MIN_SIZE, _MAX_SIZE = 40.0, 40_000.0
_MAX_RATE = 200.0  # comments/min: keeps the biggest events (and the suite) affordable
_TOPICS = ("censorship", "boycott", "environment", "labor", "health", "misconduct",
           "greenwashing", "prices")  # fmt: skip
_CRISES = ("fast", "fast", "fast", "slow", "slow", "spreading", "spreading", "swell",
           "swell", "campaign", "campaign")  # fmt: skip
_BENIGN = ("bot_burst", "bot_burst", "bot_burst", "viral_positive", "viral_positive",
           "product_launch", "product_launch", "angry_customer", "angry_customer")  # fmt: skip


MAX_SEEDS = 10_000  # a seed takes about 1.5 min to score: more is a typo


def parse_seeds(text: str) -> list[int]:
    """`"1-5"`, `"1,3,7"`, `"tuning"` (1-5) or `"held-out"` (101-110) to a seed list."""
    named = {"tuning": TUNING_SEEDS, "held-out": HELD_OUT_SEEDS}
    if text in named:
        return list(named[text])
    wrong = ValueError(f"seeds {text!r}: use e.g. 1-5, 1,3,7, tuning or held-out")
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            first, last = int(lo), int(hi or lo)
            # Every part names a seed at least ("1-3,5-1" ran 1-3 and dropped "5-1"),
            # and no more than a run could score (one of 1-99999999999 was a MemoryError).
            if first < 0 or last < first or len(seeds) + last - first >= MAX_SEEDS:
                raise wrong
            seeds.extend(range(first, last + 1))
    except ValueError:
        raise wrong from None
    return list(dict.fromkeys(seeds))  # "1-3,3-5" scored seed 3 twice, in both pools


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _brands(rng: random.Random) -> list[BrandSpec]:
    n = _STREAMS * _BRANDS_PER_STREAM
    # Stratified log-uniform sizes: every seed covers the whole range evenly.
    sizes = [_MIN_SIZE * (_MAX_SIZE / _MIN_SIZE) ** ((i + rng.random()) / n) for i in range(n)]
    brands = []
    for i, size in enumerate(sizes):
        lang = rng.choices(("en", "de", "mixed"), (0.55, 0.25, 0.2))[0]
        tz = rng.choice((-8.0, -5.0, 0.0, 1.0, 1.0, 2.0, 5.5, 9.0))
        if lang != "en":
            tz = rng.choice((0.0, 1.0, 2.0))
        brands.append(
            BrandSpec(
                f"b{i:02d}",
                round(size, 1),
                lang=lang,
                negative_share=round(rng.uniform(0.04, 0.15), 3),
                threads_per_day=round(
                    min(80.0, max(1.0, size / 150 * _log_uniform(rng, 0.5, 2))), 1
                ),
                tz_offset_h=tz,
                domain=rng.choice(sorted(DOMAINS)),
            )
        )
    return brands


def _peak(brand: BrandSpec, ratio: float, share: float, floor: float) -> float:
    """Comments/min for an event whose negative rate peaks at `ratio` x the brand's
    normal negative rate (at least `floor`, at most `_MAX_RATE`)."""
    return min(_MAX_RATE, max(floor, ratio * brand.negative_rate_per_min / share))


def crisis_event(rng: random.Random, kind: str, b: BrandSpec, start: float, lang: str) -> EventSpec:
    """One crisis of `kind` (fast, slow, spreading, swell, campaign) at brand `b`, its
    size drawn relative to the brand's normal negatives."""
    topics = tuple(rng.sample(_TOPICS, 3))
    neg = b.negative_rate_per_min
    if kind in ("fast", "slow"):
        peak = _peak(b, _log_uniform(rng, 25, 200), 0.8, rng.uniform(1.5, 5.0))
        doubling = rng.uniform(300, 540) if kind == "fast" else rng.uniform(1200, 2100)
        return EventSpec(
            "firestorm", b.name, start, rng.uniform(4, 6) * _H, lang=lang,
            name=f"{b.name}-{kind}-storm", peak_rate_per_min=peak,
            start_rate_per_min=max(0.05, peak * _log_uniform(rng, 0.005, 0.03)),
            doubling_time_s=doubling, plateau_s=rng.uniform(1200, 2400),
            decay_half_life_s=rng.uniform(1800, 3600), topics=topics,
        )  # fmt: skip
    if kind == "spreading":
        peak = _peak(b, _log_uniform(rng, 25, 120), 0.75, rng.uniform(2.0, 6.0))
        return EventSpec(
            "spreading_firestorm", b.name, start, rng.uniform(4, 6) * _H, lang=lang,
            name=f"{b.name}-spreading", n_threads=rng.randint(8, 30), peak_rate_per_min=peak,
            start_rate_per_min=max(0.05, peak * _log_uniform(rng, 0.01, 0.04)),
            doubling_time_s=rng.uniform(600, 1500), plateau_s=rng.uniform(1800, 3000),
            decay_half_life_s=3600, topics=topics,
        )  # fmt: skip
    if kind == "swell":
        growth = rng.uniform(6, 24) * _H
        ratio = rng.uniform(15, 40)
        peak = _peak(b, ratio, 0.6, 0.2)
        start_rate = 0.5 * neg / 0.6
        doublings = max(1.0, math.log2(peak / start_rate))
        plateau = rng.uniform(1, 3) * _H
        return EventSpec(
            "slow_swell", b.name, start, growth + plateau + 4 * _H, lang=lang,
            name=f"{b.name}-swell", peak_rate_per_min=peak, start_rate_per_min=start_rate,
            doubling_time_s=growth / doublings, plateau_s=plateau,
            decay_half_life_s=rng.uniform(2, 4) * _H, n_threads=rng.randint(12, 40),
            topics=topics[:2],
        )  # fmt: skip
    if kind == "campaign":
        peak = _peak(b, _log_uniform(rng, 30, 300), 0.85, rng.uniform(4.0, 10.0))
        return EventSpec(
            "campaign", b.name, start, rng.uniform(4, 6) * _H, lang=lang,
            name=f"{b.name}-campaign", peak_rate_per_min=peak,
            start_rate_per_min=max(0.1, peak * _log_uniform(rng, 0.01, 0.04)),
            doubling_time_s=rng.uniform(300, 900), plateau_s=rng.uniform(1800, 3600),
            decay_half_life_s=rng.uniform(2400, 4800), n_threads=rng.randint(1, 12),
            topics=(rng.choice(("environment", "labor", "health", "greenwashing")), "boycott"),
        )  # fmt: skip
    raise ValueError(kind)


def benign_event(rng: random.Random, kind: str, b: BrandSpec, start: float, lang: str) -> EventSpec:
    """One benign look-alike of `kind` (bot_burst, viral_positive, product_launch,
    angry_customer) at brand `b`."""
    rate = b.rate_per_min
    name = f"{b.name}-{kind.split('_')[0]}"
    if kind == "bot_burst":
        return EventSpec(
            kind, b.name, start, rng.uniform(8, 20) * 60, lang=lang, name=name,
            n_comments=rng.randint(100, 400), n_accounts=rng.randint(2, 6),
            n_threads=rng.choice((1, 1, 2, 3)), variation="rewrite",
            topics=(rng.choice(_TOPICS),),
        )  # fmt: skip
    if kind == "viral_positive":
        return EventSpec(
            kind, b.name, start, rng.uniform(3, 5) * _H, lang=lang, name=name,
            peak_rate_per_min=min(_MAX_RATE, max(10.0, rate * rng.uniform(8, 30))),
            plateau_s=rng.uniform(900, 2400),
        )  # fmt: skip
    if kind == "product_launch":
        return EventSpec(
            kind, b.name, start, rng.uniform(5, 8) * _H, lang=lang, name=name,
            peak_rate_per_min=min(_MAX_RATE / 2, max(5.0, rate * rng.uniform(4, 12))),
            n_threads=rng.randint(2, 5),
        )  # fmt: skip
    if kind == "angry_customer":
        return EventSpec(
            kind, b.name, start, rng.uniform(1, 3) * _H, lang=lang, name=name,
            n_comments=rng.randint(12, 35), n_threads=rng.choice((1, 2)),
        )  # fmt: skip
    raise ValueError(kind)


def _event_lang(rng: random.Random, b: BrandSpec) -> str:
    return rng.choice(("en", "de")) if b.lang == "mixed" else b.lang


def build_family(seed: int) -> list[ScenarioSpec]:
    """The family's streams for one seed; a pure function of it."""
    rng = random.Random(f"family:{seed}")
    brands = _brands(rng)
    third = len(brands) // 3  # sizes come sorted: the thirds are about the size bands
    bands = [brands[k * third : (k + 1) * third] for k in range(3)]
    for band in bands:
        rng.shuffle(band)
    # Crises: spread over the bands round robin; then one first-day and one second-day
    # crisis of a random kind; then the benign events on the brands left, or before a
    # crisis on the same brand (a day apart).
    crises = list(_CRISES)
    rng.shuffle(crises)
    plan: dict[str, list[tuple[str, str]]] = {b.name: [] for b in brands}
    order = [band[i] for i in range(7) for band in bands]
    slots = iter(order)
    for kind in crises:
        plan[next(slots).name].append(("crisis", kind))
    first_day, second_day = next(slots), next(slots)
    plan[first_day.name].append(
        ("first_day", rng.choice(("fast", "slow", "spreading", "campaign")))
    )
    plan[second_day.name].append(
        ("second_day", rng.choice(("fast", "slow", "spreading", "campaign")))
    )
    rest = [b for b in order if not plan[b.name]]
    hosts = rest + [b for b in order if plan[b.name] and plan[b.name][0][0] == "crisis"
                    and plan[b.name][0][1] != "swell"]  # fmt: skip
    for kind, host in zip(_BENIGN, hosts, strict=False):
        plan[host.name].append(("benign", kind))

    by_name = {b.name: b for b in brands}
    names = sorted(by_name, key=lambda _: rng.random())
    specs = []
    for s in range(_STREAMS):
        members = [by_name[n] for n in names[s * 3 : (s + 1) * 3]]
        start = DEFAULT_START + rng.randrange(7) * _D  # any weekday
        events: list[EventSpec] = []
        stream_brands = []
        duration = 2 * _D
        for b in members:
            lang = _event_lang(rng, b)
            history = math.inf
            for role, kind in plan[b.name]:
                if role == "benign":
                    # Day one when the brand also has a crisis (day two), else any time
                    # after the first half-day of history.
                    has_crisis = any(r != "benign" for r, _ in plan[b.name])
                    at = rng.uniform(6 * _H, 14 * _H if has_crisis else 40 * _H)
                    events.append(benign_event(rng, kind, b, at, lang))
                    continue
                if role == "first_day":
                    at = _D + rng.uniform(6, 20) * _H
                    history = rng.choice((0.0, rng.uniform(0.1, 0.8)))
                elif role == "second_day":
                    at = _D + rng.uniform(12, 16) * _H
                    history = rng.uniform(1.0, 1.4)
                elif kind == "swell":
                    at = rng.uniform(18, 30) * _H
                else:
                    at = _D + rng.uniform(4, 21) * _H
                ev = crisis_event(rng, kind, b, at, lang)
                events.append(ev)
                duration = max(duration, math.ceil((at + ev.duration_s) / _H) * _H)
            stream_brands.append(replace(b, history_days=history))
        specs.append(
            ScenarioSpec(
                name=f"family-{seed}-{s}",
                start=start,
                duration_s=min(duration, 3 * _D),
                brands=tuple(stream_brands),
                events=tuple(events),
                seed=seed,
                delivery=COLLECTOR_DELIVERY,
            )
        )
    return specs


def write_family(directory: str | Path, seed: int) -> list[Path]:
    """Generate the family for `seed` into `directory` (comments, labels, brands)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in build_family(seed):
        scenario = generate(spec)
        comments = out / f"{spec.name}.jsonl"
        write_jsonl(scenario, comments, out / f"{spec.name}.labels.json")
        write_brands(spec, out / f"{spec.name}.brands.json")
        written.append(comments)
    return written


def _run_seed(seed: int, directory: Path, settings: Settings | None) -> dict[str, Any]:
    """Write and score one seed; its figures, timings, and the tables as text."""
    from stormwatch.evaluation.scenario_scoring import evaluate_scenarios_dir

    started = time.perf_counter()
    written = write_family(directory, seed)
    generated = time.perf_counter()
    text = io.StringIO()
    # The streams written now, not every one in the folder: an --out used before (a
    # `--classic` run, another family) left streams there that were pooled into the
    # seed's figures without a word.
    figures = evaluate_scenarios_dir(
        directory, console=Console(file=text, width=140), settings=settings, streams=written
    )
    (directory / "report.txt").write_text(text.getvalue())
    figures["seed"] = seed
    figures["generate_seconds"] = round(generated - started, 1)
    figures["total_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def _spread(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    med = statistics.median(known)
    return f"{med:.3g} [{min(known):.3g}, {max(known):.3g}]"


def evaluate_seeds(
    seeds: list[int],
    out_dir: str | Path,
    *,
    console: Console,
    settings: Settings | None = None,
    jobs: int = 1,
) -> dict[str, Any]:
    """Write and score the family for each seed (in `out_dir/seed-N/`, each with its
    `report.txt`); print one row per seed, the spread across seeds (median [min, max])
    and the pooled per-band table. Returns the figures for `--json`, each event's row
    among them."""
    from stormwatch.evaluation.scenario_scoring import (
        SIZE_BANDS,
        band_figures,
        band_table,
        cell,
        figures_from_500,
        said_campaign,
    )

    out = Path(out_dir)
    dirs = [out / f"seed-{seed}" for seed in seeds]
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            runs = list(pool.map(_run_seed, seeds, dirs, [settings] * len(seeds)))
    else:
        runs = [_run_seed(seed, d, settings) for seed, d in zip(seeds, dirs, strict=True)]

    print_per_seed(console, runs)

    bands = [band for band, _, _ in SIZE_BANDS]
    spread_rows = {
        "recall": lambda b: b["recall"],
        "lead median, min": lambda b: b["lead_minutes"]["median"],
        "lead p10, min": lambda b: b["lead_minutes"]["p10"],
        "lead worst, min": lambda b: b["lead_minutes"]["worst"],
        # What the events allowed and how long the alerts took after it (`EventLabel.evidence_at`).
        "10th negative before breakout, min": lambda b: b["evidence_lead_minutes_median"],
        "alert after the 10th negative, min": lambda b: b["after_evidence_minutes_median"],
        "incidents per crisis": lambda b: b["incidents_per_crisis"],
        "false alarms per brand-day": lambda b: b["false_alarms_per_brand_day"],
    }
    spread_table = Table(title=f"Spread over seeds {_seed_text(seeds)}: median \\[min, max]")
    spread_table.add_column("figure")
    for band in bands:
        spread_table.add_column(band, justify="right")
    spread: dict[str, dict[str, list[float | None]]] = {}
    for name, get in spread_rows.items():
        spread[name] = {band: [get(f["by_band"][band]) for f in runs] for band in bands}
        spread_table.add_row(name, *(_spread(spread[name][band]) for band in bands))
    console.print(spread_table)

    events = [dict(e, seed=f["seed"]) for f in runs for e in f["per_event"]]
    brands = [dict(b, seed=f["seed"]) for f in runs for b in f["per_brand"]]
    pooled = band_figures(events, brands)
    console.print(band_table(pooled, f"All seeds pooled ({len(seeds)} seeds)"))
    from_500 = figures_from_500(events)
    seeds_from_500 = [figures_from_500(f["per_event"])["lead_minutes"]["median"] for f in runs]
    median_from_500 = cell(from_500["lead_minutes"]["median"])
    console.print(
        f"brands of 500 comments a day or more: median lead {median_from_500}"
        f" min over {from_500['caught']} crises caught of {from_500['must_alert']}"
        f" (seeds' medians {_spread(seeds_from_500)})"
    )
    said = said_campaign(events)
    console.print(
        f'alerts saying "campaign": campaigns {said["campaigns_said_campaign"]} / '
        f"{said['campaigns_caught']}, other crises {said['others_said_campaign']} / "
        f"{said['others_caught']}"
    )
    console.print(f"per-seed tables: {out}/seed-N/report.txt")
    keep = ("seed", "comments", "generate_seconds", "total_seconds", "recall", "lead_minutes",
            "incidents_per_crisis", "false_alarms_per_brand_day", "benign_incidents",
            "benign_incidents_by_kind", "campaigns", "campaigns_caught",
            "campaigns_said_campaign", "others_said_campaign", "others_caught",
            "bot_bursts_as_firestorm", "by_band", "by_kind")  # fmt: skip
    return {
        "seeds": seeds,
        "per_seed": [{k: f[k] for k in keep} for f in runs],
        "spread": spread,
        "pooled_by_band": pooled,
        "pooled_from_500": from_500,
        "seeds_lead_median_from_500": seeds_from_500,
        "pooled_said_campaign": said,
        # Every event's row (seed, scenario, band, result, lead, the minutes its tenth
        # negative allowed): two trees' runs compare event by event, not only pooled.
        "per_event": events,
    }


PER_SEED_TABLE_WIDTH = 110  # narrower: the table's figures were cut ("-10…")


def print_per_seed(console: Console, runs: list[dict[str, Any]]) -> None:
    """One row per seed: a table on a wide terminal, a line each otherwise (at 80
    columns, and whenever output is piped, the table cut its figures)."""
    from stormwatch.evaluation.scenario_scoring import cell

    rows = [
        (
            str(f["seed"]), str(f["comments"]),
            f"{f['generate_seconds']}+{round(f['total_seconds'] - f['generate_seconds'], 1)}",
            cell(f["recall"]), cell(f["lead_minutes"]["median"]),
            cell(f["lead_minutes"]["worst"]), cell(f["incidents_per_crisis"]),
            cell(f["false_alarms_per_brand_day"]), str(f["benign_incidents"]),
            f"{f['campaigns_caught']}/{f['campaigns']}", str(f["bot_bursts_as_firestorm"]),
        )
        for f in runs
    ]  # fmt: skip
    if console.width >= PER_SEED_TABLE_WIDTH:
        table = Table(title="Per seed")
        cols = ("seed", "comments", "seconds", "recall", "lead median", "lead worst",
                "incidents/crisis", "false alarms/brand-day", "benign events alerted",
                "campaigns caught", "bots as firestorm")  # fmt: skip
        for col in cols:
            table.add_column(col, justify="right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    console.print("Per seed:")
    for seed, comments, seconds, recall, median, worst, per_crisis, fa, benign, camp, bots in rows:
        console.print(
            f"seed {seed}: {comments} comments, {seconds} s, recall {recall}, lead median "
            f"{median} worst {worst} min, {per_crisis} incidents/crisis, {fa} false "
            f"alarms/brand-day, {benign} benign events alerted, campaigns caught {camp}, "
            f"bots as firestorm {bots}",
            markup=False, highlight=False,
        )  # fmt: skip


def _seed_text(seeds: list[int]) -> str:
    if seeds == list(range(seeds[0], seeds[-1] + 1)) and len(seeds) > 2:
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(map(str, seeds))
