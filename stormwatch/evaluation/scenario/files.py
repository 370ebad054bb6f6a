"""A generated scenario on disk: comments and labels as JSONL."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import orjson

from stormwatch.evaluation.scenario.spec import EventLabel, Scenario


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
    """Labels written by `write_jsonl`."""
    with open(path, "rb") as fh:
        return [EventLabel(**orjson.loads(line)) for line in fh if line.strip()]
