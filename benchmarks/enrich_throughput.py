"""Enrichment throughput per negativity backend: language, negativity and topics of every
comment of the scenario text mix (the stream of `throughput.py`), on one core.

A fresh enricher, and so an empty text cache, per repeat: the rate includes reading each
distinct text once; repeated texts (common in storms) come from the cache. The model's
word weights are shared by every pipeline of a process, so they are warmed once before
the clock starts, as in a running service.

    python benchmarks/enrich_throughput.py [--comments 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.negativity import build_scorer
from stormwatch.evaluation.scenario import generate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import workload  # noqa: E402  (the same stream as the pipeline benchmark)

BACKENDS = {
    "lexicon (en, de)": {"en": "lexicon", "de": "lexicon"},
    "model (en, de)": {"en": "model", "de": "model"},
}


def rate(texts: list[str], backends: dict[str, str], repeat: int) -> float:
    """Best comments/s over `repeat` runs, each with a fresh enricher."""
    build_scorer(backends).score("warm up the shared model reader", "en")
    best = float("inf")
    for _ in range(repeat):
        enrich = Enricher(build_scorer(backends)).enrich
        start = time.perf_counter()
        for text in texts:
            enrich(text, None)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = [c["text"] for c in generate(workload(args.comments)).comments][: args.comments]
    table = Table(title=f"{len(texts):,} comments, {len(set(texts)):,} distinct texts")
    table.add_column("negativity backend")
    table.add_column("comments/s", justify="right")
    for name, backends in BACKENDS.items():
        table.add_row(name, f"{rate(texts, backends, args.repeat):,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
