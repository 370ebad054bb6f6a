"""CPU time of the embedded pipeline on the throughput benchmark's stream, with every
comment moved onto one of many threads: what thread keys cost, measured in process CPU
seconds (steadier than wall time on a shared machine). Run it on two checkouts to
compare them.

    python benchmarks/thread_keys.py [--comments 100000] [--threads 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import relabel, workload  # noqa: E402

from stormwatch.config import Settings  # noqa: E402
from stormwatch.detectors.enrich import Enricher  # noqa: E402
from stormwatch.evaluation.scenario import generate, write_jsonl  # noqa: E402
from stormwatch.gc_settings import tune_for_streaming
from stormwatch.pipeline import Pipeline  # noqa: E402
from stormwatch.runtime import negativity_scorer  # noqa: E402


def main() -> None:
    tune_for_streaming()  # the garbage collector as every `stormwatch` command runs it
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=100_000, help="0: keep the stream's own")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "comments.jsonl"
        write_jsonl(generate(workload(args.comments)), path, Path(tmp) / "labels.json")
        lines = path.read_bytes().splitlines()[: args.comments]
    if args.threads:
        lines = relabel(lines, threads=args.threads)
    settings = Settings()
    pipeline = Pipeline(settings, enricher=Enricher(negativity_scorer(settings)))
    started = time.process_time()
    pipeline.feed_lines(lines)
    pipeline.finish()
    cpu = time.process_time() - started
    print(
        f"{len(lines):,} comments on {args.threads or 'their own'} threads: "
        f"{cpu:.1f} s CPU ({len(lines) / cpu:,.0f}/s), "
        f"{len(pipeline.tracker.history)} incidents, "
        f"{len(pipeline.judge.threads):,} thread monitors at the end"
    )


if __name__ == "__main__":
    main()
