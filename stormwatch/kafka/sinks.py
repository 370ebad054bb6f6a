"""Where a worker's pipelines write: the alert gate (incident store first, then the
outbox), the dead-letter topic, and the worker's status log."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.store import IncidentStore
from stormwatch.kafka.producer import TopicWriter
from stormwatch.model import DeadLetter
from stormwatch.ports import AlertSink, DeadLetterSink

__all__ = ["ALERTS_TARGET", "AlertGate", "DeadLetterTopic", "StatusLog"]

ALERTS_TARGET = "kafka"  # the outbox target whose rows go to the alerts topic


class StatusLog:
    """Machine-readable lifecycle lines (assigned, restored, checkpoint, alert, stopped),
    one JSON object each, flushed per line so that a SIGKILL loses at most the last."""

    def __init__(self, path: str | Path | None) -> None:
        self._file: IO[bytes] | None = open(path, "ab") if path else None  # noqa: SIM115

    def write(self, event: str, **fields: Any) -> None:
        if self._file is not None:
            self._file.write(orjson.dumps({"event": event, "at": time.time(), **fields}) + b"\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class AlertGate:
    """The pipeline's only alert sink: persist, and pass on only what is new."""

    def __init__(
        self,
        store: IncidentStore,
        *,
        local: Sequence[AlertSink] = (),
        targets: Sequence[str] = (ALERTS_TARGET,),
        status: StatusLog | None = None,
    ) -> None:
        self.store = store
        self.local = list(local)
        self.targets = tuple(targets)
        self.status = status
        self.recorded = 0
        self.repeated = 0
        self.queued = False  # recorded since the outbox was last drained

    def emit(self, event: AlertEvent) -> None:
        if not self.store.record(event, targets=self.targets):
            self.repeated += 1
            for sink in self.local:  # a file complete on its own (`JsonlAlertSink`)
                if getattr(sink, "skips_known", False):
                    sink.emit(event)
            return
        self.recorded += 1
        self.queued = True
        for sink in self.local:
            sink.emit(event)
        if self.status is not None:
            self.status.write("alert", incident=event.incident, kind=event.event)

    def close(self) -> None:
        for sink in self.local:
            sink.close()


class DeadLetterTopic:
    """Undecodable records to the dead-letter topic: the original bytes as the value, the
    reason, detail and source (topic:partition:offset) as headers."""

    def __init__(
        self, writer: TopicWriter, topic: str, *, local: DeadLetterSink | None = None
    ) -> None:
        self.writer = writer
        self.topic = topic
        self.local = local
        self.count = 0

    def write(self, letter: DeadLetter) -> None:
        self.writer.send(
            self.topic,
            # Keyed by where it came from: a worker that resumes after a crash replays the
            # records since its last checkpoint, and their dead letters come again; by
            # key, a consumer (or compaction) keeps one of each.
            key=letter.source.encode("utf-8", "replace") if letter.source else None,
            value=letter.raw,
            headers=(
                ("reason", letter.reason.encode()),
                ("detail", letter.detail[:1000].encode("utf-8", "replace")),
                ("source", letter.source.encode("utf-8", "replace")),
            ),
        )
        self.count += 1
        if self.local is not None:
            self.local.write(letter)

    def flush(self) -> None:
        flush = getattr(self.local, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        if self.local is not None:
            self.local.close()
