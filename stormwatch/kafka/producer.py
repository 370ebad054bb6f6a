"""Writing to Kafka: a producer that says when records are safe, and `stormwatch produce`.

`TopicWriter` wraps kafka-python's producer with acks=all and retries, and keeps the
futures of what was sent since the last `flush()`: `flush()` returns only once every one
of them is acknowledged and raises `ProduceError` if any failed. The worker's checkpoint
relies on that: it commits offsets only after a flush that did not raise.

`publish_comments` is the `produce` command: it validates each JSONL line against the
input contract, sends the valid ones keyed by brand (so one partition, and one worker,
owns a brand's windows) with the original bytes as the value, and reports the invalid
ones instead of sending them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from stormwatch.ingest.decode import Decoder
from stormwatch.ingest.file_source import FileSource
from stormwatch.kafka.exceptions import BrokerUnavailable, ProduceError
from stormwatch.model import DeadLetter

MAX_REQUEST_BYTES = 1_000_000  # the broker default message.max.bytes is about 1 MB
EXAMPLES = 10  # invalid lines shown in a report


class Receipt:
    """Where a sent record landed; readable once a `flush()` returned without error."""

    __slots__ = ("_future",)

    def __init__(self, future: Any) -> None:
        self._future = future

    @property
    def partition(self) -> int:
        return self._future.value.partition

    @property
    def offset(self) -> int:
        return self._future.value.offset


class TopicWriter:
    """A producer whose `flush()` means "all of it is on the broker, or an exception"."""

    def __init__(
        self,
        client_options: Mapping[str, Any],
        *,
        linger_ms: int = 5,
        batch_size: int = 64 * 1024,
        max_request_size: int = MAX_REQUEST_BYTES,
    ) -> None:
        try:
            self._producer = KafkaProducer(
                **client_options,
                acks="all",
                retries=2_147_483_647,
                linger_ms=linger_ms,
                batch_size=batch_size,
                max_request_size=max_request_size,
            )
        except KafkaError as exc:
            servers = ",".join(client_options.get("bootstrap_servers", []))
            raise BrokerUnavailable(f"no Kafka broker answered at {servers}") from exc
        self._pending: list[Any] = []
        self.sent = 0

    def send(
        self,
        topic: str,
        *,
        value: bytes | None,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
        partition: int | None = None,
    ) -> Receipt:
        try:
            future = self._producer.send(
                topic, value=value, key=key, headers=list(headers) or None, partition=partition
            )
        except KafkaError as exc:
            raise ProduceError(f"cannot send to {topic}: {exc}") from exc
        self._pending.append(future)
        return Receipt(future)

    def flush(self, timeout_s: float = 60.0) -> int:
        """Wait for every record sent since the last flush; returns how many there were."""
        pending, self._pending = self._pending, []
        if not pending:
            return 0
        try:
            self._producer.flush(timeout=timeout_s)
        except KafkaError as exc:
            raise ProduceError(f"flush failed: {exc}") from exc
        failed = [f for f in pending if not f.is_done or f.failed()]
        if failed:
            first = failed[0]
            reason = first.exception if first.is_done else "not acknowledged in time"
            raise ProduceError(f"{len(failed)} of {len(pending)} records not written: {reason}")
        self.sent += len(pending)
        return len(pending)

    def close(self, timeout_s: float = 10.0) -> None:
        """Closes even when records cannot be delivered (the broker is gone): callers
        close in `finally`, and kafka-python's flush error there replaced the one-line
        error that said why with a traceback. What was not acknowledged was never
        counted as written (`flush` says so)."""
        try:
            self._producer.close(timeout=timeout_s)
        except KafkaError:
            # kafka-python has no public way to drop records it cannot deliver: its
            # sender is stopped by force (the records fail), and the close then finds
            # nothing left to flush.
            sender = getattr(self._producer, "_sender", None)
            if sender is not None:
                sender.force_close()
                sender.join(timeout_s)
            try:
                self._producer.close(timeout=0)
            except KafkaError:
                pass


@dataclass(slots=True)
class PublishReport:
    sent: int = 0
    invalid: Counter[str] = field(default_factory=Counter)
    examples: list[DeadLetter] = field(default_factory=list)  # the first few invalid lines

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid.values())


def publish_comments(
    path: str | Path,
    *,
    topic: str,
    writer: TopicWriter,
    decoder: Decoder | None = None,
    console: Console | None = None,
    flush_every: int = 50_000,
) -> PublishReport:
    """Send each valid comment of a JSONL file (or `-` for stdin) to `topic`, keyed by
    brand, value untouched. Invalid lines are counted by reason, not sent."""
    decoder = decoder or Decoder()
    source = FileSource(path)
    report = PublishReport()
    console = console or Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    with progress:
        task = progress.add_task(f"producing {source.name} → {topic}", total=source.size())
        send = writer.send
        for n, line in enumerate(source.lines(), 1):
            decoded = decoder.decode(line, f"{source.name}:{n}")
            if isinstance(decoded, DeadLetter):
                report.invalid[decoded.reason] += 1
                if len(report.examples) < EXAMPLES:
                    report.examples.append(decoded)
                continue
            send(topic, key=decoded.brand.encode("utf-8"), value=line)
            report.sent += 1
            if report.sent % flush_every == 0:
                writer.flush()
            if n % 2000 == 0:
                progress.update(task, completed=source.bytes_read)
        writer.flush()
        progress.update(task, completed=source.bytes_read)
    return report
