"""What a runtime plugs into the pipeline: alert sinks, a dead-letter sink, an observer
(metrics), a playbook matcher. The embedded runtime (`runtime.py`) and the Kafka worker
(`kafka/`) wire different implementations into the same `Pipeline`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from stormwatch.alerts.event import AlertEvent
from stormwatch.detectors.crisis import Assessment
from stormwatch.model import Comment, DeadLetter


class AlertSink(Protocol):
    def emit(self, event: AlertEvent) -> None: ...

    def close(self) -> None: ...


class DeadLetterSink(Protocol):
    def write(self, letter: DeadLetter) -> None: ...

    def close(self) -> None: ...


class PipelineObserver(Protocol):
    """Hooks for metrics: called synchronously, so implementations must be cheap.

    Optional: an observer with a `window_minutes` attribute (an int) reads a brand's
    last that many minutes only: it sees a resting brand's minute only when its figures
    change (`Pipeline._observe_resting`), not every brand every minute, and its `x` holds
    only the expectation and that window's counts (`features.window_counts`). One with a
    `minute_done(minute)` method has it called once per closed minute, after its
    brands."""

    def comment(self, c: Comment, *, duplicate: bool, late: bool) -> None: ...

    def dead_letter(self, letter: DeadLetter) -> None: ...

    def minute_closed(
        self, brand: str, minute: int, x: dict[str, float], a: Assessment
    ) -> None: ...

    def alert(self, event: AlertEvent) -> None: ...

    def keys(self, *, brands: int, threads: int, evicted: int) -> None: ...


class PlaybookMatcher(Protocol):
    def __call__(
        self, *, topics: Sequence[str], severity: str, platform: str | None, brand: str
    ) -> str | None: ...
