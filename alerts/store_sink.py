"""Alert sink that persists incidents and their events in the incident store (SQLite in
the embedded runtime, PostgreSQL for workers). Re-recording an event is a no-op, so a
replay after a crash leaves one row per event."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.store import IncidentStore


class StoreSink:
    def __init__(self, store: IncidentStore, *, targets: Sequence[str] = ()) -> None:
        self.store = store
        self.targets = tuple(targets)
        self.recorded = 0
        self.repeated = 0
        self.last_new = True  # whether the last event emitted was new to the store

    @classmethod
    def open(cls, url: str | Path, *, targets: Sequence[str] = ()) -> StoreSink:
        return cls(IncidentStore.open(url), targets=targets)

    def emit(self, event: AlertEvent) -> None:
        self.last_new = self.store.record(event, targets=self.targets)
        if self.last_new:
            self.recorded += 1
        else:
            self.repeated += 1

    def close(self) -> None:
        self.store.close()
