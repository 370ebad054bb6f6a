"""A generated scenario on disk: comments, labels and brands as JSONL."""

from __future__ import annotations

import math
from dataclasses import asdict, fields
from pathlib import Path

import orjson

from stormwatch.evaluation.scenario.generator import traffic_start
from stormwatch.evaluation.scenario.spec import EventLabel, Scenario, ScenarioSpec


def write_jsonl(
    scenario: Scenario, comments_path: str | Path, labels_path: str | Path | None = None
) -> None:
    """Write the comments (input contract, delivery order) and labels as JSONL."""
    with open(comments_path, "wb") as fh:
        for c in scenario.comments:
            fh.write(orjson.dumps(c) + b"\n")
    if labels_path is not None:
        with open(labels_path, "wb") as fh:
            for lab in scenario.labels:
                fh.write(orjson.dumps(asdict(lab)) + b"\n")


def read_labels(path: str | Path) -> list[EventLabel]:
    """Labels written by `write_jsonl` (or by hand: fields the label does not know are
    left out). ValueError naming the file and line of one that is not a label."""
    known = {f.name for f in fields(EventLabel)}
    labels = []
    with open(path, "rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
                if not isinstance(row, dict):
                    raise TypeError("not a JSON object")
                label = EventLabel(**{k: v for k, v in row.items() if k in known})
                _check_types(label)
                labels.append(label)
            except (orjson.JSONDecodeError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not an event label ({exc})") from None
    return labels


_TIMES = ("onset", "end")
_OPTIONAL_TIMES = ("breakout", "evidence_at")
_TEXTS = ("name", "kind", "brand", "lang")


def _check_types(label: EventLabel) -> None:
    """Its fields of the types the scoring computes with: an `onset` of "soon" was a
    TypeError traceback from deep inside the scoring."""
    for name in _TIMES + _OPTIONAL_TIMES:
        value = getattr(label, name)
        if value is None and name in _OPTIONAL_TIMES:
            continue
        if type(value) not in (int, float) or not math.isfinite(value):
            raise TypeError(f"{name} must be epoch seconds, got {value!r}")
    for name in _TEXTS:
        if not isinstance(getattr(label, name), str):
            raise TypeError(f"{name} must be a string, got {getattr(label, name)!r}")
    if label.thread_id is not None and not isinstance(label.thread_id, str):
        raise TypeError(f"thread_id must be a string or null, got {label.thread_id!r}")
    if type(label.must_alert) is not bool:
        raise TypeError(f"must_alert must be true or false, got {label.must_alert!r}")


def write_brands(spec: ScenarioSpec, path: str | Path) -> None:
    """The scenario's brands, one JSON object per line: the `BrandSpec` fields (an
    unlimited history as null) plus `traffic_start` and `traffic_end` (epoch seconds),
    so a scoring can band brands by nominal size and count their days on air."""
    with open(path, "wb") as fh:
        for b in spec.brands:
            row = asdict(b)
            if math.isinf(row["history_days"]):
                row["history_days"] = None
            row["traffic_start"] = traffic_start(spec, b)
            row["traffic_end"] = spec.start + spec.duration_s
            fh.write(orjson.dumps(row) + b"\n")
