"""The events a scenario can hold: firestorms, slow swells, campaigns and their benign
look-alikes, one generator per kind, each returning its rows, its thread (when it has
one) and its breakout time."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from stormwatch.evaluation.scenario.spec import BREAKOUT_FACTOR, PLATFORMS, EventSpec, ScenarioSpec
from stormwatch.evaluation.scenario.texts import TEXT_KINDS, TextMaker
from stormwatch.evaluation.scenario.traffic import (
    BrandTraffic,
    Rows,
    Thread,
    hex_id,
    make_rows,
    reply_parents,
    rngs,
)
from stormwatch.evaluation.scenario.variation import punctuation_variant, rewrite


@dataclass(frozen=True)
class _Curve:
    """An event's comments/min over time: exponential growth from `start` with a doubling
    time up to `peak`, a plateau, then exponential decay. Pure, so the breakout label
    can be computed from it exactly rather than from the noisy sample."""

    start: float
    peak: float
    doubling_s: float
    plateau_s: float
    half_life_s: float

    @property
    def growth_s(self) -> float:
        """Seconds from onset to the peak."""
        return (
            self.doubling_s * math.log2(self.peak / self.start) if self.peak > self.start else 0.0
        )

    def scaled(self, factor: float) -> _Curve:
        return _Curve(
            self.start * factor, self.peak * factor, self.doubling_s, self.plateau_s,
            self.half_life_s,
        )  # fmt: skip

    def __call__(self, tau: np.ndarray) -> np.ndarray:
        t_peak = self.growth_s
        growth = self.start * np.exp2(np.minimum(tau, t_peak) / self.doubling_s)
        after = np.maximum(tau - t_peak - self.plateau_s, 0.0)
        decay = self.peak * np.exp2(-after / self.half_life_s)
        rate = np.where(
            tau < t_peak, growth, np.where(tau < t_peak + self.plateau_s, self.peak, decay)
        )
        return np.where(tau >= 0, rate, 0.0)


def _sample_times(
    rng: np.random.Generator,
    onset: float,
    length_s: float,
    rate: Callable[[np.ndarray], np.ndarray],
    bin_s: float = 10.0,
) -> np.ndarray:
    """Inhomogeneous Poisson arrivals in [onset, onset + length_s) for a rate per minute."""
    if length_s <= 0:
        return np.zeros(0)
    edges = np.arange(0.0, length_s, bin_s)
    widths = np.minimum(bin_s, length_s - edges)
    counts = rng.poisson(rate(edges + widths / 2) * widths / 60.0)
    tau = np.repeat(edges, counts) + rng.random(counts.sum()) * np.repeat(widths, counts)
    return np.sort(onset + tau)


def _expected_count(rate: Callable[[np.ndarray], np.ndarray], length_s: float) -> float:
    tau = np.arange(0.0, max(length_s, 1.0), 10.0) + 5.0
    return float(rate(tau).sum() * 10.0 / 60.0)


def _breakout(
    onset: float, length_s: float, negative_rate: Callable[[np.ndarray], np.ndarray], thr: float
) -> float | None:
    """First second at which the event's negative rate function reaches `thr`."""
    tau = np.arange(0.0, length_s, 1.0)
    hit = np.flatnonzero(negative_rate(tau) >= thr)
    return onset + float(tau[hit[0]]) if hit.size else None


def _langs(rng: random.Random, lang: str, n: int, other_share: float = 0.0) -> list[str]:
    """Per-comment language: 'mixed' means half and half."""
    if lang == "mixed":
        return ["de" if rng.random() < 0.5 else "en" for _ in range(n)]
    other = "en" if lang == "de" else "de"
    return [other if rng.random() < other_share else lang for _ in range(n)]


class ResolvedEvent:
    """Resolved knobs and random streams for generating one event."""

    def __init__(self, spec: ScenarioSpec, ev: EventSpec, name: str, brand: BrandTraffic) -> None:
        self.spec, self.ev, self.name, self.brand = spec, ev, name, brand
        self.b = brand.brand
        self.onset = spec.start + ev.start
        self.end = min(self.onset + ev.duration_s, spec.start + spec.duration_s)
        self.length = self.end - self.onset
        self.lang = ev.lang or self.b.lang
        self.rng, self.prng = rngs(spec.seed, name)
        self.maker = TextMaker(self.prng, self.b.domain, self.b.label)
        self.threshold = BREAKOUT_FACTOR * self.b.negative_rate_per_min

    def knob(self, value: float, default: float) -> float:
        return value if value > 0 else default

    def share(self, default: float) -> float:
        return self.ev.negative_share if self.ev.negative_share >= 0 else default

    def curve(
        self, peak: float, start: float, doubling: float, plateau: float, half_life: float
    ) -> _Curve:
        """The event's rate curve: the spec's knobs where set, else these defaults."""
        ev = self.ev
        return _Curve(
            start=self.knob(ev.start_rate_per_min, start),
            peak=self.knob(ev.peak_rate_per_min, peak),
            doubling_s=self.knob(ev.doubling_time_s, doubling),
            plateau_s=ev.plateau_s if ev.plateau_s >= 0 else plateau,
            half_life_s=self.knob(ev.decay_half_life_s, half_life),
        )

    def outsiders(
        self, n: int, pool: int, skew: float, brand_share: float
    ) -> tuple[list[str], list[int]]:
        """Authors from outside the brand's regulars (activists, passers-by), plus some
        regulars; high-reach accounts join in at a few percent."""
        rng = self.rng
        w = 1.0 / (np.arange(pool) + 3.0) ** skew
        k = rng.choice(pool, size=n, p=w / w.sum())
        followers = rng.lognormal(math.log(250), 1.5, pool)
        high = rng.random(pool) < 0.03
        followers[high] = rng.lognormal(math.log(50_000), 1.0, int(high.sum()))
        regular = rng.random(n) < brand_share
        rk = rng.choice(len(self.brand.author_p), size=n, p=self.brand.author_p)
        ids, fol = [], []
        for i in range(n):
            if regular[i]:
                ids.append(self.brand.author_id(int(rk[i])))
                fol.append(int(self.brand.author_followers[rk[i]]))
            else:
                ids.append("u" + hex_id(self.spec.seed, self.name, int(k[i])))
                fol.append(int(followers[k[i]]))
        return ids, fol

    def tones(self, n: int, negative_share: float) -> list[str]:
        u = self.rng.random(n)
        return ["negative" if x < negative_share else "other" for x in u]

    def pick(self, choices: Sequence[tuple[str, float]]) -> str:
        x = self.prng.random() * sum(w for _, w in choices)
        for kind, w in choices:
            x -= w
            if x < 0:
                return kind
        return choices[-1][0]


def _firestorm(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """One post, many distinct angry authors, growth with a doubling time."""
    rate = e.curve(peak=40.0, start=0.5, doubling=600.0, plateau=1200.0, half_life=2400.0)
    share = e.share(0.8)
    t = _sample_times(e.rng, e.onset, e.length, rate)
    n = len(t)
    (thread,) = e.brand.recent_threads(e.onset, 1, e.rng)
    topics = e.ev.topics or ("censorship", "boycott", "environment")
    expected = _expected_count(rate, e.length)
    authors, followers = e.outsiders(n, int(max(200, 0.8 * expected)), 0.7, 0.12)
    t_peak = max(60.0, rate.growth_s)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            # The trigger topic first; the others join as the storm spreads.
            progress = min(1.0, (t[i] - e.onset) / t_peak)
            kind = "crisis_" + e.pick([(topics[0], 1.0)] + [(x, progress) for x in topics[1:]])
        else:
            kind = e.pick([("defend_neu", 0.4), ("defend_pos", 0.25), ("neu", 0.15), ("pos", 0.2)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i]))
    idx = np.zeros(n, dtype=np.int64)
    parents = reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.3)
    rows = make_rows(
        e.name, e.brand, t, [thread], idx, parents, authors, followers, langs, texts, tones
    )
    breakout = _breakout(e.onset, e.length, lambda tau: share * rate(tau), e.threshold)
    return rows, thread.id, breakout


def _spreading_firestorm(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """Negativity over many posts at once; no single post stands out."""
    rate = e.curve(peak=50.0, start=1.0, doubling=900.0, plateau=1800.0, half_life=3600.0)
    share = e.share(0.75)
    t = _sample_times(e.rng, e.onset, e.length, rate)
    n = len(t)
    n_threads = e.ev.n_threads or 25
    threads = e.brand.recent_threads(e.onset, n_threads, e.rng)
    # Each post joins at some point during the growth phase, then keeps its share.
    joins = np.sort(e.rng.uniform(0.0, 0.6 * max(rate.growth_s, 600.0), n_threads))
    joins[0] = 0.0
    weights = e.rng.dirichlet(np.full(n_threads, 4.0))
    tau = t - e.onset
    w = np.where(tau[:, None] >= joins[None, :], weights[None, :], 0.0)
    cum = np.cumsum(w, axis=1)
    u = e.rng.random(n) * cum[:, -1]
    idx = np.minimum((cum < u[:, None]).sum(axis=1), n_threads - 1)
    topics = e.ev.topics or ("labor", "prices", "boycott")
    expected = _expected_count(rate, e.length)
    authors, followers = e.outsiders(n, int(max(300, 0.8 * expected)), 0.7, 0.2)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            kind = "crisis_" + e.prng.choice(topics)
        else:
            kind = e.pick([("defend_neu", 0.3), ("defend_pos", 0.2), ("neu", 0.25), ("pos", 0.25)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i]))
    parents = reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.3)
    rows = make_rows(
        e.name, e.brand, t, threads, idx, parents, authors, followers, langs, texts, tones
    )
    breakout = _breakout(e.onset, e.length, lambda tau: share * rate(tau), e.threshold)
    return rows, None, breakout


def _viral_positive(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """One new post draws a flood of praise: volume explodes, negativity does not."""
    base = e.b.rate_per_min
    rate = e.curve(
        peak=max(20.0, 20.0 * base), start=max(0.2, 0.5 * base),
        doubling=300.0, plateau=1800.0, half_life=2400.0,
    )  # fmt: skip
    share = e.share(0.5 * e.b.negative_share)
    t = _sample_times(e.rng, e.onset, e.length, rate)
    n = len(t)
    platform = str(e.rng.choice(["instagram", "facebook", "twitter", "youtube"]))
    thread = e.brand.new_thread(e.onset - 60.0, platform)
    expected = _expected_count(rate, e.length)
    authors, followers = e.outsiders(n, int(max(300, 1.2 * expected)), 0.3, 0.1)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            kind = "neg"
        else:
            kind = e.pick([("viral", 0.7), ("viral_neu", 0.2), ("pos", 0.05), ("neu", 0.05)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i]))
    idx = np.zeros(n, dtype=np.int64)
    parents = reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.2)
    rows = make_rows(
        e.name, e.brand, t, [thread], idx, parents, authors, followers, langs, texts, tones
    )
    return rows, thread.id, None


def _product_launch(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """A campaign of new posts, staggered; lots of curiosity, a little grumbling."""
    base = e.b.rate_per_min
    n_threads = e.ev.n_threads or 4
    peak = max(8.0, 8.0 * base)
    # Rates in the spec are totals over all launch posts; each post gets its share.
    rate = e.curve(peak=peak, start=0.05 * peak, doubling=240.0, plateau=1800.0, half_life=3600.0)
    offsets = np.r_[0.0, np.cumsum(e.rng.uniform(300.0, 1200.0, n_threads - 1))]
    weights = e.rng.dirichlet(np.full(n_threads, 2.0))
    platforms = e.rng.permutation(np.array(PLATFORMS[:4] * 3))[:n_threads]
    threads = [
        e.brand.new_thread(e.onset + float(o), str(p))
        for o, p in zip(offsets, platforms, strict=True)
    ]
    parts = []
    for j in range(n_threads):
        shape = rate.scaled(float(weights[j]))
        tj = _sample_times(e.rng, e.onset + offsets[j], e.length - offsets[j], shape)
        parts.append((tj, np.full(len(tj), j)))
    t = np.concatenate([p[0] for p in parts])
    order = np.argsort(t, kind="stable")
    t, idx = t[order], np.concatenate([p[1] for p in parts])[order]
    n = len(t)
    share = e.share(min(1.0, 1.3 * e.b.negative_share))
    product = e.ev.product or f"{e.b.label} One"
    authors, followers = e.outsiders(n, int(max(200, 0.5 * n)), 0.5, 0.5)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            kind = e.pick([("launch_neg", 0.6), ("neg", 0.4)])
        else:
            kind = e.pick([("launch_pos", 0.5), ("launch_neu", 0.35), ("pos", 0.08), ("neu", 0.07)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i], {"L": product}))
    parents = reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.25)
    rows = make_rows(
        e.name, e.brand, t, threads, idx, parents, authors, followers, langs, texts, tones
    )
    return rows, threads[0].id if n_threads == 1 else None, None


def _bot_burst(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """A few accounts paste the same accusation hundreds of times within minutes."""
    n = e.ev.n_comments or 300
    n_accounts = e.ev.n_accounts or 5
    threads = e.brand.recent_threads(e.onset, e.ev.n_threads or 1, e.rng)
    t = np.sort(e.onset + e.rng.uniform(0.0, e.length, n))
    lang = e.lang if e.lang != "mixed" else e.prng.choice(["en", "de"])
    topics = e.ev.topics or ("boycott",)
    bases = [e.maker.text("crisis_" + e.prng.choice(topics), lang) for _ in range(2)]
    tags = _campaign_tags(e, topics)
    texts = []
    for i in range(n):
        base = bases[int(e.prng.random() < 0.3)]
        if e.ev.variation == "rewrite":  # what real scripts do
            texts.append(rewrite(base, e.prng, lang, e.b.label, tags))
        else:
            texts.append(punctuation_variant(base, i, e.prng))
    accounts = ["u" + hex_id(e.spec.seed, e.name, k) for k in range(n_accounts)]
    acc_followers = e.rng.integers(0, 40, n_accounts)
    who = e.rng.integers(0, n_accounts, n)
    idx = e.rng.integers(0, len(threads), n)
    rows = make_rows(
        e.name, e.brand, t, threads, idx, np.full(n, -1, dtype=np.int64),
        [accounts[k] for k in who], acc_followers[who], [lang] * n, texts, ["negative"] * n,
    )  # fmt: skip
    return rows, threads[0].id if len(threads) == 1 else None, None


def _templates(e: ResolvedEvent, topics: Sequence[str], lang: str, k: int) -> list[str]:
    """`k` distinct crisis messages to copy, for one language."""
    out: list[str] = []
    for _ in range(20 * k):
        text = e.maker.text("crisis_" + e.prng.choice(list(topics)), lang)
        if text not in out:
            out.append(text)
        if len(out) == k:
            break
    return out


def _campaign_tags(e: ResolvedEvent, topics: Sequence[str]) -> list[str]:
    label = e.b.label.replace(" ", "")
    tags = {"en": [f"#Boycott{label}", f"#{label}Kills", "#StopTheDestruction"],
            "de": [f"#Boykott{label}", f"#{label}Skandal", "#StopptDieZerstörung"]}  # fmt: skip
    return tags["de" if e.lang == "de" else "en"] + [f"#{t.capitalize()}" for t in topics[:1]]


def _campaign(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """Templated outrage from many real accounts (the Nestlé/Greenpeace Facebook case):
    an organisation hands out a few messages and hundreds to thousands of people post
    them on the brand's pages, each with their own small changes. Must alert."""
    base = e.b.rate_per_min
    rate = e.curve(
        peak=max(8.0, 30.0 * e.b.negative_rate_per_min / 0.85), start=max(0.1, 0.3 * base),
        doubling=480.0, plateau=2400.0, half_life=3600.0,
    )  # fmt: skip
    share = e.share(0.85)
    t = _sample_times(e.rng, e.onset, e.length, rate)
    n = len(t)
    n_threads = e.ev.n_threads or 6
    threads = e.brand.recent_threads(e.onset, n_threads, e.rng)
    weights = e.rng.dirichlet(np.full(n_threads, 1.5))
    idx = e.rng.choice(n_threads, size=n, p=weights)
    topics = e.ev.topics or ("environment", "boycott")
    expected = _expected_count(rate, e.length)
    pool = e.ev.n_accounts or int(max(300, 0.8 * expected))
    # Mostly one or two comments per person: a flat account distribution.
    authors, followers = e.outsiders(n, pool, 0.2, 0.05)
    langs = _langs(e.prng, e.lang, n)
    tags = _campaign_tags(e, topics)
    templates = {lang: _templates(e, topics, lang, 3) for lang in sorted(set(langs))}
    popularity = [0.6, 0.3, 0.1]
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            options = templates[langs[i]]
            j = e.pick([(str(k), popularity[k]) for k in range(len(options))])
            texts.append(rewrite(options[int(j)], e.prng, langs[i], e.b.label, tags))
        else:
            kind = e.pick([("defend_neu", 0.4), ("defend_pos", 0.3), ("neu", 0.3)])
            tones[i] = TEXT_KINDS[kind]
            texts.append(e.maker.text(kind, langs[i]))
    parents = reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.1)
    rows = make_rows(
        e.name, e.brand, t, threads, idx, parents, authors, followers, langs, texts, tones
    )
    breakout = _breakout(e.onset, e.length, lambda tau: share * rate(tau), e.threshold)
    return rows, threads[0].id if n_threads == 1 else None, breakout


def _slow_swell(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """The brand's negativity creeping up over 6-24 hours across many posts (a quality
    problem, a policy change people keep finding out about): no minute looks like a
    storm, the day does. Must alert; breakout as for every kind (10x normal negatives)."""
    neg = e.b.negative_rate_per_min
    share = e.share(0.6)
    # Defaults: from half the brand's normal negative rate to 25x over about 12 hours.
    rate = e.curve(
        peak=25.0 * neg / share, start=0.5 * neg / share,
        doubling=12 * 3600.0 / math.log2(50.0), plateau=2 * 3600.0, half_life=3 * 3600.0,
    )  # fmt: skip
    t = _sample_times(e.rng, e.onset, e.length, rate, bin_s=60.0)
    n = len(t)
    # The complaint reaches post after post: each phase of the growth brings the posts
    # that are live then (new ones included), and the earlier ones keep their share.
    n_threads = e.ev.n_threads or 24
    phases = 4
    span = max(rate.growth_s, 3600.0)
    threads: list[Thread] = []
    joins: list[float] = []
    for k in range(phases):
        at = e.onset + k * span / phases
        for th in e.brand.recent_threads(at, max(1, n_threads // phases), e.rng):
            if th not in threads:
                threads.append(th)
                joins.append(at - e.onset)
    join = np.array(joins)
    weights = e.rng.dirichlet(np.full(len(threads), 3.0))
    tau = t - e.onset
    w = np.where(tau[:, None] >= join[None, :], weights[None, :], 0.0)
    cum = np.cumsum(w, axis=1)
    u = e.rng.random(n) * cum[:, -1]
    idx = np.minimum((cum < u[:, None]).sum(axis=1), len(threads) - 1)
    topics = e.ev.topics or ("prices", "health")
    expected = _expected_count(rate, e.length)
    authors, followers = e.outsiders(n, int(max(200, 0.9 * expected)), 0.5, 0.35)
    langs = _langs(e.prng, e.lang, n)
    tones = e.tones(n, share)
    texts = []
    for i in range(n):
        if tones[i] == "negative":
            kind = e.pick([("neg", 0.5), ("crisis_" + e.prng.choice(topics), 0.5)])
        else:
            kind = e.pick([("neu", 0.5), ("defend_neu", 0.2), ("pos", 0.2), ("mixed", 0.1)])
            tones[i] = TEXT_KINDS[kind]
        texts.append(e.maker.text(kind, langs[i]))
    parents = reply_parents(e.rng, idx, e.ev.reply_share if e.ev.reply_share >= 0 else 0.3)
    rows = make_rows(
        e.name, e.brand, t, threads, idx, parents, authors, followers, langs, texts, tones
    )
    breakout = _breakout(e.onset, e.length, lambda tau: share * rate(tau), e.threshold)
    return rows, None, breakout


def _ordinal_en(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _angry_customer(e: ResolvedEvent) -> tuple[Rows, str | None, float | None]:
    """One customer, one grievance, many messages: loud but not a crisis."""
    n = e.ev.n_comments or 25
    threads = e.brand.recent_threads(e.onset, e.ev.n_threads or 1, e.rng)
    t = np.sort(e.onset + e.rng.uniform(0.0, e.length, n))
    t[0] = e.onset
    pool = len(e.brand.author_p)
    k = int(e.rng.integers(min(100, pool - 1), pool))  # an ordinary customer, not a regular
    author = e.brand.author_id(k)
    followers = int(e.rng.integers(5, 400))
    lang = e.lang if e.lang != "mixed" else e.prng.choice(["en", "de"])
    order_no = f"#{e.prng.randint(100000, 999999)}"
    texts = []
    for i in range(n):
        nth = _ordinal_en(i + 2) if lang == "en" else f"{i + 2}."
        extra = {"order_no": order_no, "nth": nth, "day_n": str(1 + i // 8)}
        texts.append(e.maker.text("angry", lang, extra))
    idx = np.where(e.rng.random(n) < 0.75, 0, e.rng.integers(0, len(threads), n))
    parents = np.full(n, -1, dtype=np.int64)
    last: dict[int, int] = {}
    for i in range(n):
        j = int(idx[i])
        if j in last and e.rng.random() < 0.4:  # replying to their own earlier comment
            parents[i] = last[j]
        last[j] = i
    rows = make_rows(
        e.name, e.brand, t, threads, idx, parents,
        [author] * n, [followers] * n, [lang] * n, texts, ["negative"] * n,
    )  # fmt: skip
    return rows, threads[0].id if len(threads) == 1 else None, None


EVENT_GENERATORS: dict[str, Callable[[ResolvedEvent], tuple[Rows, str | None, float | None]]] = {
    "firestorm": _firestorm,
    "spreading_firestorm": _spreading_firestorm,
    "viral_positive": _viral_positive,
    "product_launch": _product_launch,
    "bot_burst": _bot_burst,
    "angry_customer": _angry_customer,
    "slow_swell": _slow_swell,
    "campaign": _campaign,
}
