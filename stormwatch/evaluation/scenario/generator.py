"""`generate`: a scenario spec to its comment stream in delivery order, and its labels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from stormwatch.evaluation.scenario.events import EVENT_GENERATORS, ResolvedEvent
from stormwatch.evaluation.scenario.spec import (
    DAY,
    EVIDENCE_NEGATIVES,
    MUST_ALERT,
    BrandSpec,
    EventLabel,
    Scenario,
    ScenarioSpec,
)
from stormwatch.evaluation.scenario.traffic import BrandTraffic, Rows, background, rngs


def traffic_start(spec: ScenarioSpec, brand: BrandSpec) -> float:
    """When a brand's comments begin: the scenario start, or `history_days` before its
    first event (not before the scenario start)."""
    starts = [ev.start for ev in spec.events if ev.brand == brand.name]
    if not starts or math.isinf(brand.history_days):
        return spec.start
    return max(spec.start, spec.start + min(starts) - brand.history_days * DAY)


def _to_dicts(
    spec: ScenarioSpec, sources: list[Rows]
) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, list[str]]]:
    """Contract dicts in delivery order, tones by id, and the ids each delivery fault hit.

    Format choices and delays are drawn per source so that a source's comments look the
    same whatever else is in the scenario; the collector's faults come from streams of
    their own, so a clean delivery is the same stream with them switched off."""
    d = spec.delivery
    faulty = d.very_late_share > 0 or d.duplicate_share > 0
    ts, keys, fields, dup_keys, dup_of = [], [], [], [], []
    very_late: list[np.ndarray] = []
    offset = 0
    for rows in sources:
        n = len(rows.t)
        if n == 0:
            continue
        rng, _ = rngs(spec.seed, f"{rows.source}/delivery")
        late = rng.random(n) < d.late_share  # real streams deliver some comments late
        delay = np.where(late, rng.uniform(0.0, d.late_max_s, n), 0.0)
        draws = rng.random((n, 4))
        if faulty:
            frng, _ = rngs(spec.seed, f"{rows.source}/faults")
            p_very = d.very_late_share / max(1e-12, 1.0 - d.late_share)
            very = ~late & (frng.random(n) < p_very)
            delay = np.where(very, frng.uniform(d.late_max_s, d.very_late_max_s, n), delay)
            very_late.append(offset + np.flatnonzero(very))
            dup = np.flatnonzero(frng.random(n) < d.duplicate_share)
            # A retried webhook or a re-polled page: the same record again, later.
            dup_keys.append(rows.t[dup] + delay[dup] + frng.uniform(1.0, 600.0, len(dup)))
            dup_of.append(offset + dup)
        ts.append(rows.t)
        keys.append(rows.t + delay)
        fields.append((rows, draws))
        offset += n
    if not ts:
        return [], {}, {}
    t_all = np.concatenate(ts)
    stamped = t_all + _misstamps(spec, fields, len(t_all))
    iso = np.datetime_as_string(np.floor(stamped).astype(np.int64).astype("datetime64[s]"))
    flat: list[tuple[Rows, int, np.ndarray]] = []
    for rows, draws in fields:
        flat.extend((rows, i, draws[i]) for i in range(len(rows.t)))
    which = np.arange(len(t_all))
    if dup_of:
        which = np.concatenate([which, *dup_of])
        order = np.argsort(np.concatenate([*keys, *dup_keys]), kind="stable")
    else:
        order = np.argsort(np.concatenate(keys), kind="stable")
    comments: list[dict[str, Any]] = []
    tones: dict[str, str] = {}
    made: dict[int, dict[str, Any]] = {}
    width = {rows.source: max(6, len(str(len(rows.t)))) for rows, _ in fields}
    for g in which[order]:
        g = int(g)
        if g in made:  # a second delivery: the same record (its key sorts after the first)
            comments.append(dict(made[g]))
            continue
        rows, i, (u_time, u_lang, u_followers, u_parent) = flat[g]
        w = width[rows.source]
        cid = f"{rows.source}#{i:0{w}d}"
        t = float(stamped[g])
        # ~90% ISO 8601, the rest epoch seconds (half int, half float).
        if u_time < 0.9:
            created: str | int | float = str(iso[g]) + "Z"
        elif u_time < 0.95:
            created = int(t)
        else:
            created = round(t, 3)
        c: dict[str, Any] = {
            "id": cid,
            "text": rows.text[i],
            "created_at": created,
            "brand": rows.brand,
            "thread_id": rows.thread[i],
        }
        p = int(rows.parent[i])
        if p >= 0:
            c["parent_id"] = f"{rows.source}#{p:0{w}d}"
        elif u_parent < 0.1:
            c["parent_id"] = None
        c["platform"] = rows.platform[i]
        c["author_id"] = rows.author[i]
        if u_followers < 0.93:
            c["author_followers"] = rows.followers[i]
        elif u_followers < 0.96:
            c["author_followers"] = None
        if u_lang < 0.6:  # many platforms tag a language, many do not
            c["lang"] = rows.lang[i]
        elif u_lang < 0.63:
            c["lang"] = None
        comments.append(c)
        tones[cid] = rows.tone[i]
        if dup_of:
            made[g] = c
    faults: dict[str, list[str]] = {}
    if faulty or d.misstamped:

        def ids(idx: np.ndarray) -> list[str]:
            out = []
            for g in idx:
                rows, i, _ = flat[int(g)]
                out.append(f"{rows.source}#{i:0{width[rows.source]}d}")
            return out

        gaps = stamped - t_all
        faults = {
            "very_late": ids(np.concatenate(very_late)) if very_late else [],
            "duplicate": ids(np.concatenate(dup_of)) if dup_of else [],
            "misstamped": ids(np.flatnonzero(gaps != 0.0)),
        }
    return comments, tones, faults


def _misstamps(spec: ScenarioSpec, fields: list[tuple[Rows, np.ndarray]], n: int) -> np.ndarray:
    """Per comment, how far its `created_at` is off: zero except for `misstamped` records
    of the brands' own traffic, picked by volume, each hours or days ahead or behind."""
    shift = np.zeros(n)
    d = spec.delivery
    if not d.misstamped:
        return shift
    rng, _ = rngs(spec.seed, f"{spec.name}/misstamps")
    brands = {b.name for b in spec.brands}
    starts, sizes, offset = [], [], 0
    for rows, _ in fields:
        if rows.source in brands:
            starts.append(offset)
            sizes.append(len(rows.t))
        offset += len(rows.t)
    total = sum(sizes)
    if not total:
        return shift
    picks = rng.choice(total, size=min(d.misstamped, total), replace=False)
    bounds = np.cumsum(sizes)
    for k in picks:
        j = int(np.searchsorted(bounds, k, side="right"))
        g = starts[j] + int(k - (bounds[j] - sizes[j]))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        shift[g] = sign * float(np.exp(rng.uniform(np.log(d.misstamp_min_s),
                                                   np.log(d.misstamp_max_s))))  # fmt: skip
    return shift


def _evidence_at(rows: Rows) -> float | None:
    """When the event's comments first held `EVIDENCE_NEGATIVES` negative ones."""
    times = np.sort(rows.t[np.asarray(rows.tone) == "negative"])
    return float(times[EVIDENCE_NEGATIVES - 1]) if len(times) >= EVIDENCE_NEGATIVES else None


def generate(spec: ScenarioSpec) -> Scenario:
    """Generate the scenario's comment stream and labels; a pure function of `spec`."""
    brands = {b.name: BrandTraffic(spec, b, traffic_start(spec, b)) for b in spec.brands}
    sources = [background(brand) for brand in brands.values()]
    labels = []
    for ev, name in zip(spec.events, spec.event_names(), strict=True):
        e = ResolvedEvent(spec, ev, name, brands[ev.brand])
        rows, thread_id, breakout = EVENT_GENERATORS[ev.kind](e)
        sources.append(rows)
        must_alert = MUST_ALERT[ev.kind]
        labels.append(
            EventLabel(
                name=name,
                kind=ev.kind,
                brand=ev.brand,
                thread_id=thread_id,
                must_alert=must_alert,
                onset=e.onset,
                breakout=breakout if must_alert else None,
                end=e.end,
                lang=e.lang,
                evidence_at=_evidence_at(rows) if must_alert else None,
            )
        )
    comments, tones, faults = _to_dicts(spec, sources)
    return Scenario(spec=spec, comments=comments, labels=labels, tones=tones, faults=faults)
