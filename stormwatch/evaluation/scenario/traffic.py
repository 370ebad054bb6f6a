"""A brand's normal traffic: the daily rhythm, its posts and authors, background comments."""

from __future__ import annotations

import hashlib
import math
import random
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from stormwatch.evaluation.scenario.spec import DAY, PLATFORMS, BrandSpec, ScenarioSpec
from stormwatch.evaluation.scenario.texts import TextMaker

_PLATFORM_WEIGHTS = np.array([0.36, 0.26, 0.2, 0.12, 0.06])  # in PLATFORMS order

# ------------------------------------------------------------------- daily rhythm

# Relative activity per local hour (00:00..23:00): night trough around 03:00-04:00,
# a lunch peak and a higher evening peak. Smoothed by keeping 4 Fourier harmonics,
# which also keeps the daily mean at exactly 1 (so comments_per_day is honoured).
_HOURLY_SHAPE = np.array(
    [0.62, 0.42, 0.3, 0.26, 0.26, 0.32, 0.47, 0.7, 0.9, 1.0, 1.15, 1.4]
    + [1.65, 1.55, 1.25, 1.1, 1.15, 1.35, 1.7, 2.0, 2.05, 1.75, 1.3, 0.9]
)
_HARMONICS = np.fft.rfft(_HOURLY_SHAPE / _HOURLY_SHAPE.mean())[1:5] / 24.0
_WEEKEND_SHIFT_H = 1.5  # people start later on Saturday and Sunday ...
_WEEKEND_LEVEL = 0.9  # ... and comment a little less


def _hour_profile(hours: np.ndarray) -> np.ndarray:
    out = np.ones_like(hours, dtype=float)
    for k, coef in enumerate(_HARMONICS, start=1):
        angle = 2.0 * np.pi * k * hours / 24.0
        out += 2.0 * (coef.real * np.cos(angle) - coef.imag * np.sin(angle))
    return out


def activity_profile(t: np.ndarray | float, tz_offset_h: float = 0.0) -> np.ndarray:
    """Relative comment activity at epoch times `t` (weekday daily mean 1, ~0.2..~2)."""
    local = np.asarray(t, dtype=float) + tz_offset_h * 3600.0
    hours = (local % DAY) / 3600.0
    weekday = (np.floor(local / DAY).astype(np.int64) + 3) % 7  # 1970-01-01: Thursday
    weekend = weekday >= 5
    prof = _hour_profile(np.where(weekend, hours - _WEEKEND_SHIFT_H, hours))
    return np.where(weekend, _WEEKEND_LEVEL * prof, prof)


_TONE_KIND = {"negative": "neg", "positive": "pos", "neutral": "neu", "mixed": "mixed"}
_MIXED_SHARE = 0.02  # background comments that praise and complain at once


def rngs(seed: int, source: str) -> tuple[np.random.Generator, random.Random]:
    """Independent random streams per source, so one source never shifts another."""
    key = zlib.crc32(source.encode())
    return np.random.default_rng([seed, key]), random.Random(f"{seed}:{source}")


def hex_id(*parts: object, size: int = 5) -> str:
    return hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=size).hexdigest()


@dataclass
class Thread:
    id: str
    created: float
    platform: str
    lang: str
    popularity: float
    tau: float  # seconds: how fast interest in the post fades


@dataclass
class Rows:
    """One source's comments in time order, column-wise."""

    source: str
    brand: str
    t: np.ndarray
    thread: list[str]
    parent: np.ndarray  # index of the parent row in this source, -1 = top level
    platform: list[str]
    author: list[str]
    followers: list[int]
    lang: list[str]
    text: list[str]
    tone: list[str]


class BrandTraffic:
    """Per-brand state shared by its background and its events: threads and authors."""

    def __init__(self, spec: ScenarioSpec, brand: BrandSpec, traffic_start: float) -> None:
        self.spec = spec
        self.brand = brand
        self.traffic_start = traffic_start
        self.end = spec.start + spec.duration_s
        self._rng, _ = rngs(spec.seed, f"{brand.name}/threads")
        self.threads: list[Thread] = []
        self._make_threads()
        # Authors: a Zipf-like pool with a flattened head (a few regulars, a long tail
        # of one-off commenters), reach log-normal with a sprinkle of influencers.
        arng, _ = rngs(spec.seed, f"{brand.name}/authors")
        size = int(max(300, 2 * brand.comments_per_day))
        weights = 1.0 / (np.arange(size) + 50.0)
        self.author_p = weights / weights.sum()
        followers = arng.lognormal(math.log(150), 1.4, size)
        followers[arng.random(size) < 0.01] *= 50
        self.author_followers = followers.astype(np.int64)
        self._author_ids: dict[int, str] = {}

    def author_id(self, k: int) -> str:
        aid = self._author_ids.get(k)
        if aid is None:
            aid = self._author_ids[k] = "u" + hex_id(self.spec.seed, self.brand.name, k)
        return aid

    def _thread_lang(self) -> str:
        if self.brand.lang == "mixed":
            return "de" if self._rng.random() < 0.55 else "en"
        return self.brand.lang

    def new_thread(self, created: float, platform: str | None = None) -> Thread:
        rng = self._rng
        th = Thread(
            id=f"{self.brand.name}_{hex_id(self.spec.seed, self.brand.name, len(self.threads))}",
            created=created,
            platform=platform or str(rng.choice(PLATFORMS, p=_PLATFORM_WEIGHTS)),
            lang=self._thread_lang(),
            popularity=float(rng.lognormal(0.0, 1.0)),
            tau=float(6 * 3600 * rng.lognormal(0.0, 0.5)),
        )
        self.threads.append(th)
        return th

    def _make_threads(self) -> None:
        """Posts appear with the daily rhythm; an established brand has posts from the
        day before, so the stream does not start with an empty page."""
        brand = self.brand
        new_brand = brand.history_days == 0
        t0 = self.traffic_start - (0.0 if new_brand else DAY)
        self.new_thread(self.traffic_start if new_brand else self.traffic_start - 3600.0)
        edges = np.arange(t0, self.end, 3600.0)
        expected = brand.threads_per_day / 24.0 * activity_profile(edges + 1800, brand.tz_offset_h)
        counts = self._rng.poisson(expected)
        created = np.sort(np.repeat(edges, counts) + self._rng.random(counts.sum()) * 3600.0)
        for c in created:
            self.new_thread(float(c))
        self.threads.sort(key=lambda th: th.created)

    def recent_threads(self, at: float, n: int, rng: np.random.Generator) -> list[Thread]:
        """`n` distinct posts that are live at `at`, busier ones more likely."""
        cands = [th for th in self.threads if at - 3 * DAY <= th.created <= at - 300.0]
        picked: list[Thread] = []
        if cands:
            w = np.array([th.popularity * math.exp(-(at - th.created) / th.tau) for th in cands])
            w = w + 1e-3 * w.max() + 1e-12
            k = min(n, len(cands))
            idx = rng.choice(len(cands), size=k, replace=False, p=w / w.sum())
            picked = [cands[i] for i in idx]
        while len(picked) < n:
            created = max(self.traffic_start, at - float(rng.uniform(600.0, 6 * 3600.0)))
            picked.append(self.new_thread(min(created, at)))
        return picked


def _assign_threads(rng: np.random.Generator, t: np.ndarray, threads: list[Thread]) -> np.ndarray:
    """Thread index per comment: live posts weighted by popularity x exponential decay."""
    created = np.array([th.created for th in threads])
    pop = np.array([th.popularity for th in threads])
    tau = np.array([th.tau for th in threads])
    out = np.zeros(len(t), dtype=np.int64)
    for lo in range(0, len(t), 8192):
        tc = t[lo : lo + 8192]
        # Only posts created before the chunk ends and not faded out by its start.
        live = np.flatnonzero((created <= tc[-1]) & (tc[0] - created < 12 * tau))
        if live.size == 0:
            live = np.array([int(np.argmin(created))])
        age = tc[:, None] - created[live][None, :]
        w = np.where(age >= 0, pop[live] * np.exp(-np.maximum(age, 0) / tau[live]), 0.0)
        cum = np.cumsum(w, axis=1)
        total = cum[:, -1]
        u = rng.random(len(tc)) * total
        pick = np.minimum((cum < u[:, None]).sum(axis=1), live.size - 1)
        # A comment before every live post (cannot happen after _make_threads, but keep
        # the invariant explicit) goes to the oldest one.
        pick[total <= 0] = 0
        out[lo : lo + 8192] = live[pick]
    return out


def reply_parents(
    rng: np.random.Generator, group: np.ndarray, share: float, window: int = 30
) -> np.ndarray:
    """Parent row per comment (-1 = top level): a recent earlier comment in its thread."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((np.arange(n), group))  # by thread, then time
    g = group[order]
    first = np.r_[True, g[1:] != g[:-1]]
    pos = np.arange(n) - np.maximum.accumulate(np.where(first, np.arange(n), 0))
    is_reply = (rng.random(n) < share) & (pos > 0)
    back = 1 + (rng.random(n) * np.minimum(pos, window)).astype(np.int64)
    parent_sorted = np.where(is_reply, order[np.clip(np.arange(n) - back, 0, n - 1)], -1)
    parents = np.empty(n, dtype=np.int64)
    parents[order] = parent_sorted
    return parents


def make_rows(
    source: str,
    brand: BrandTraffic,
    t: np.ndarray,
    threads: Sequence[Thread],
    thread_idx: np.ndarray,
    parents: np.ndarray,
    authors: list[str],
    followers: Iterable[int],
    langs: list[str],
    texts: list[str],
    tones: list[str],
) -> Rows:
    return Rows(
        source=source,
        brand=brand.brand.name,
        t=t,
        thread=[threads[i].id for i in thread_idx],
        parent=parents,
        platform=[threads[i].platform for i in thread_idx],
        author=authors,
        followers=[int(f) for f in followers],
        lang=langs,
        text=texts,
        tone=tones,
    )


def background(brand: BrandTraffic) -> Rows:
    """The brand's normal day: Poisson arrivals following the daily rhythm."""
    spec, b = brand.spec, brand.brand
    rng, prng = rngs(spec.seed, f"{b.name}/background")
    start, end = brand.traffic_start, brand.end
    edges = np.arange(start, end, 60.0)
    widths = np.minimum(60.0, end - edges)
    expected = b.rate_per_min * activity_profile(edges + widths / 2, b.tz_offset_h) * widths / 60
    counts = rng.poisson(expected)
    t = np.sort(np.repeat(edges, counts) + rng.random(counts.sum()) * np.repeat(widths, counts))
    n = len(t)
    thread_idx = _assign_threads(rng, t, brand.threads)
    parents = reply_parents(rng, thread_idx, 0.25)
    u = rng.random(n)
    neg, mixed = b.negative_share, b.negative_share + _MIXED_SHARE
    pos = mixed + 0.5 * (1.0 - mixed)
    tones = np.where(u < neg, "negative", np.where(u < mixed, "mixed", "positive"))
    tones = np.where(u >= pos, "neutral", tones).tolist()
    k = rng.choice(len(brand.author_p), size=n, p=brand.author_p)
    other_share = {"en": 0.0, "de": 0.03, "mixed": 0.1}[b.lang]
    langs = []
    for i in thread_idx:
        lang = brand.threads[i].lang
        if prng.random() < other_share:
            lang = "en" if lang == "de" else "de"
        langs.append(lang)
    maker = TextMaker(prng, b.domain, b.label)
    texts = [maker.text(_TONE_KIND[tone], lang) for tone, lang in zip(tones, langs, strict=True)]
    return make_rows(
        b.name, brand, t, brand.threads, thread_idx, parents,
        [brand.author_id(int(a)) for a in k], brand.author_followers[k], langs, texts, tones,
    )  # fmt: skip
