"""`generate`: a scenario spec to its comment stream in delivery order, and its labels."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from stormwatch.evaluation.scenario.events import EVENT_GENERATORS, ResolvedEvent
from stormwatch.evaluation.scenario.spec import (
    DAY,
    MUST_ALERT,
    BrandSpec,
    EventLabel,
    Scenario,
    ScenarioSpec,
)
from stormwatch.evaluation.scenario.traffic import BrandTraffic, Rows, background, rngs


def _traffic_start(spec: ScenarioSpec, brand: BrandSpec) -> float:
    starts = [ev.start for ev in spec.events if ev.brand == brand.name]
    if not starts or math.isinf(brand.history_days):
        return spec.start
    return max(spec.start, spec.start + min(starts) - brand.history_days * DAY)


def _to_dicts(
    spec: ScenarioSpec, sources: list[Rows]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Contract dicts in delivery order. Format choices are drawn per source so that a
    source's comments look the same whatever else is in the scenario."""
    ts, keys, fields = [], [], []
    for rows in sources:
        n = len(rows.t)
        if n == 0:
            continue
        rng, _ = rngs(spec.seed, f"{rows.source}/delivery")
        late = rng.random(n) < 0.02  # real streams deliver a few comments late
        delay = np.where(late, rng.uniform(0.0, 90.0, n), 0.0)
        ts.append(rows.t)
        keys.append(rows.t + delay)
        fields.append((rows, rng.random((n, 4))))
    if not ts:
        return [], {}
    t_all = np.concatenate(ts)
    iso = np.datetime_as_string(np.floor(t_all).astype(np.int64).astype("datetime64[s]"))
    order = np.argsort(np.concatenate(keys), kind="stable")
    flat: list[tuple[Rows, int, np.ndarray]] = []
    for rows, draws in fields:
        flat.extend((rows, i, draws[i]) for i in range(len(rows.t)))
    comments: list[dict[str, Any]] = []
    tones: dict[str, str] = {}
    width = {rows.source: max(6, len(str(len(rows.t)))) for rows, _ in fields}
    for g in order:
        rows, i, (u_time, u_lang, u_followers, u_parent) = flat[g]
        w = width[rows.source]
        cid = f"{rows.source}#{i:0{w}d}"
        t = float(t_all[g])
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
    return comments, tones


def generate(spec: ScenarioSpec) -> Scenario:
    """Generate the scenario's comment stream and labels; a pure function of `spec`."""
    brands = {b.name: BrandTraffic(spec, b, _traffic_start(spec, b)) for b in spec.brands}
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
            )
        )
    comments, tones = _to_dicts(spec, sources)
    return Scenario(spec=spec, comments=comments, labels=labels, tones=tones)
