"""Bounded load test of `POST /ingest` on 127.0.0.1: a real `stormwatch serve` process,
httpx clients posting batches of comments in the input contract for a fixed time.

    python benchmarks/ingest_load.py [--seconds 15] [--clients 4] [--batch 500]

The comments are the scenario mix `throughput.py` measures (`--comments` of them, their
as generated), sent in order, each once.

Reports, as one JSON line: requests and their outcomes, comments accepted per second
(202 answers; 429 answers are retried after `Retry-After` and not counted), latency
percentiles of all answers, how many comments the pipeline had read when the load
stopped, and how many CPU cores the `serve` process used meanwhile. Stops by itself:
after `--seconds` or when the stream is sent, then SIGTERM to the server (exit 0
expected).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from throughput import workload

from stormwatch.evaluation.scenario import generate, write_jsonl
from stormwatch.retry_after import retry_after_seconds

TOKEN = "bench-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream(comments: int) -> list[bytes]:
    """The scenario mix `throughput.py` measures (five brands, English and German, one
    day, a firestorm and a viral surge), as its records."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stream.jsonl"
        write_jsonl(generate(workload(comments)), path, Path(tmp) / "labels.json")
        return path.read_bytes().splitlines()[:comments]


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process so far (Linux `/proc`): how many cores
    `serve` used during the load, its HTTP side and pipeline thread together."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bodies(lines: list[bytes], clients: int, batch: int) -> list[list[bytes]]:
    """Pre-built bodies per client (the clients' cost stays out of the measurement):
    the stream in event-time order, batch after batch dealt round the clients."""
    per_client: list[list[bytes]] = [[] for _ in range(clients)]
    for n, at in enumerate(range(0, len(lines), batch)):
        per_client[n % clients].append(b"\n".join(lines[at : at + batch]))
    return per_client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--comments", type=int, default=400_000, help="the stream; sending stops when it is sent"
    )
    parser.add_argument("--queue", type=int, default=100_000, help="ingest.queue_records")
    args = parser.parse_args()

    per_client = bodies(stream(args.comments), args.clients, args.batch)
    tmp = Path(tempfile.mkdtemp(prefix="stormwatch-bench-"))
    config = tmp / "stormwatch.toml"
    config.write_text(f"[ingest]\nqueue_records = {args.queue}\nmax_body_bytes = 16777216\n")
    port = free_port()
    env = {**os.environ, "STORMWATCH_INGEST_TOKEN": TOKEN}
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "META_APP_SECRET"):
        env.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "stormwatch.cli", "serve", "--port", str(port),
         "--db", str(tmp / "bench.sqlite3"), "--config", str(config)],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stderr is not None
    while "listening on" not in (line := server.stderr.readline()):
        if not line:
            raise SystemExit("stormwatch serve did not start")
    url = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    outcomes: dict[int, int] = {}
    accepted = 0
    lock = threading.Lock()
    deadline = time.monotonic() + args.seconds

    def client(k: int) -> None:
        nonlocal accepted
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
            i = 0
            while time.monotonic() < deadline:
                if i >= len(per_client[k]):
                    return  # the stream is sent
                body = per_client[k][i]
                t = time.perf_counter()
                r = c.post("/ingest", content=body)
                dt = time.perf_counter() - t
                with lock:
                    latencies.append(dt)
                    outcomes[r.status_code] = outcomes.get(r.status_code, 0) + 1
                    if r.status_code == 202:
                        accepted += r.json()["accepted"]
                if r.status_code == 429:
                    time.sleep(retry_after_seconds(r.headers.get("retry-after"), 1.0) / 10)
                else:
                    i += 1

    cpu_before = cpu_seconds(server.pid)
    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    serve_cores = (cpu_seconds(server.pid) - cpu_before) / elapsed
    metrics = httpx.get(url + "/metrics").text
    read = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("stormwatch_comments_total{")
    )
    server.send_signal(signal.SIGTERM)
    rc = server.wait(timeout=300)
    latencies.sort()

    def pct(p: float) -> float:
        return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

    print(
        json.dumps(
            {
                "seconds": round(elapsed, 1),
                "clients": args.clients,
                "batch": args.batch,
                "requests": len(latencies),
                "outcomes": {str(k): v for k, v in sorted(outcomes.items())},
                "accepted_comments_per_s": round(accepted / elapsed),
                "pipeline_read_per_s_during_load": round(read / elapsed),
                "latency_ms": {"p50": pct(0.5), "p99": pct(0.99), "max": pct(1.0)},
                "comments_in_stream": args.comments,
                "serve_cpu_cores_during_load": round(serve_cores, 2),
                "serve_exit_code": rc,
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
