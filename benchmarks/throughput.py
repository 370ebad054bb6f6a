"""Throughput of the embedded pipeline on a generated 200,000-comment file.

Prints comments/s of: plain JSON decoding (orjson, the ceiling: nothing can be faster
than reading the records), the contract decoder, the negativity scorer alone, the whole
enrichment step, and the full pipeline (decode → enrich → windows → detectors →
incidents), each on one core, with the ratio to plain decoding.

    python benchmarks/throughput.py [--comments 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from stormwatch.detectors.enrich import Enricher
from stormwatch.detectors.negativity import MultilingualScorer
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate, write_jsonl
from stormwatch.ingest.decode import Decoder
from stormwatch.pipeline import Pipeline


def workload(n_comments: int) -> ScenarioSpec:
    """Five brands, English and German, one day, with a firestorm and a viral surge."""
    per_brand = n_comments / 5.0
    brands = (
        BrandSpec("alpha", per_brand, lang="en"),
        BrandSpec("beta", per_brand, lang="de"),
        BrandSpec("gamma", per_brand, lang="mixed"),
        BrandSpec("delta", per_brand, lang="en", negative_share=0.15),
        BrandSpec("epsilon", per_brand, lang="de"),
    )
    events = (
        EventSpec("firestorm", "alpha", start=13 * 3600, duration_s=3 * 3600),
        EventSpec("viral_positive", "beta", start=15 * 3600, duration_s=2 * 3600),
    )
    return ScenarioSpec("throughput", brands=brands, events=events, duration_s=86400, seed=11)


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        count = fn()
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "comments.jsonl"
        scenario = generate(workload(args.comments))
        write_jsonl(scenario, path, Path(tmp) / "labels.json")
        lines = path.read_bytes().splitlines()[: args.comments]
    n = len(lines)
    decoder = Decoder()
    comments = [decoder.decode(line) for line in lines]
    texts = [(c.text, c.lang) for c in comments]  # type: ignore[union-attr]
    scorer = MultilingualScorer()
    enricher = Enricher()

    def plain_json() -> int:
        loads = orjson.loads
        for line in lines:
            loads(line)
        return n

    def contract_decoder() -> int:
        decode = Decoder().decode
        for line in lines:
            decode(line)
        return n

    def scorer_alone() -> int:
        score = scorer.score
        for text, lang in texts:
            score(text, lang)
        return n

    def enrichment() -> int:
        enrich = enricher.enrich
        for text, lang in texts:
            enrich(text, lang)
        return n

    incidents = 0

    def full_pipeline() -> int:
        nonlocal incidents
        pipeline = Pipeline()
        pipeline.feed_lines(lines)
        pipeline.finish()
        incidents = len(pipeline.tracker.history)
        return pipeline.stats.processed

    table = Table(title=f"Throughput on {n:,} comments, one core (best of {args.repeat})")
    for col in ("stage", "seconds", "comments/s", "vs plain JSON"):
        table.add_column(col, justify="right" if col != "stage" else "left")
    stages = [
        ("plain JSON decoding (orjson)", plain_json),
        ("contract decoder", contract_decoder),
        ("negativity scorer alone", scorer_alone),
        ("enrichment (language+negativity+topics)", enrichment),
        ("full pipeline", full_pipeline),
    ]
    ceiling = None
    for name, fn in stages:
        seconds, count = best_of(args.repeat, fn)
        rate = count / seconds
        ceiling = ceiling or rate
        table.add_row(name, f"{seconds:.2f}", f"{rate:,.0f}", f"{rate / ceiling:.2f}")
    console.print(table)
    console.print(f"incidents opened by the full pipeline: {incidents}")


if __name__ == "__main__":
    main()
