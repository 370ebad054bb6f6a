"""The embedded pipeline's state, checkpointed in the incident store: what lets
`stormwatch run --db` and `stormwatch serve` resume after a restart (SIGKILL included)
with the open incidents, baselines, tests, windows and seen ids they had, without a
warm-up and without opening a storm already open a second time.

The state is the one a Kafka worker writes to its changelog
(`stormwatch.kafka.checkpoint.snapshot`), pickled and compressed into one row of the
store, replaced in one transaction. The pickle is our own, in our own database (trust as
for the changelog topic). Both embedded runtimes share the row `embedded`: on one store
they are one pipeline.
"""

from __future__ import annotations

import logging
import pickle
import time
import zlib
from collections.abc import Callable, Sequence

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.exceptions import StoreError
from stormwatch.alerts.store import IncidentStore
from stormwatch.kafka.checkpoint import restore, snapshot
from stormwatch.pipeline import Pipeline

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "embedded"
CHECKPOINT_FORMAT = 1


class StoredCheckpoint:
    """Saves a pipeline's state to, and restores it from, the store's checkpoint row."""

    def __init__(
        self,
        store: IncidentStore,
        *,
        name: str = CHECKPOINT_NAME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.name = name
        self.clock = clock
        self.seq = 0  # of the last checkpoint written or restored
        self.saved_at = 0.0
        self.restored = False
        self.pending_alerts: list[AlertEvent] = []  # of the checkpoint restored

    def save(self, pipeline: Pipeline, *, pending: Sequence[AlertEvent] = ()) -> bool:
        """Write `pipeline`'s state (call on the thread that feeds it, or once it stopped);
        False when the write failed (logged; the next one retries). `pending`: alert
        events decided but not yet recorded (the store refused them): the state holds
        the decisions, so the events must be kept with it (`pending_alerts` after a
        restore)."""
        # The dead letters of the records the state counts as read reach their file
        # first: buffered letters were lost at a crash, and the restart resumed after.
        flush = getattr(pipeline.dead_letters, "flush", None)
        if flush is not None:
            flush()
        state = {"format": CHECKPOINT_FORMAT, "state": snapshot(pipeline)}
        if pending:
            state["pending_alerts"] = list(pending)
        try:
            blob = zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL), 1)
            self.store.save_checkpoint(self.name, blob, seq=self.seq + 1)
        except StoreError as exc:
            log.warning("checkpoint failed: %s", exc)
            return False
        self.seq += 1
        self.saved_at = self.clock()
        return True

    def restore(self, pipeline: Pipeline) -> bool:
        """Load the latest checkpoint into `pipeline`, freshly built; False when there is
        none or it cannot be read (then the pipeline starts fresh: a warm-up, not a
        failed start)."""
        found = self.store.load_checkpoint(self.name)
        if found is None:
            return False
        seq, blob = found
        try:
            state = pickle.loads(zlib.decompress(blob))  # noqa: S301 - our own store
        except Exception as exc:
            log.error("checkpoint %d is unreadable (%s): starting fresh", seq, exc)
            return False
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            log.error("checkpoint %d has an unknown format: starting fresh", seq)
            return False
        restore(pipeline, state["state"])
        self.pending_alerts = list(state.get("pending_alerts", ()))
        # A perf_counter reading of another process means nothing here.
        pipeline.stats.started = time.perf_counter()
        pipeline.stats.finished = None
        self.seq = seq
        self.restored = True
        log.info(
            "resumed from checkpoint %d: %d comments read, %d incidents open",
            seq,
            pipeline.stats.read,
            len(pipeline.tracker.open),
        )
        return True


class IntervalCheckpoints:
    """Checkpoints of a pipeline fed in a loop (`stormwatch run`): `save_if_due()` is cheap enough
    to ask every few records; `save()` writes one now (and at the end of the input)."""

    def __init__(
        self,
        stored: StoredCheckpoint,
        pipeline: Pipeline,
        *,
        every_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stored = stored
        self.pipeline = pipeline
        self.every_seconds = every_seconds
        self.monotonic = monotonic
        self._next = monotonic() + every_seconds

    def save_if_due(self) -> None:
        if self.monotonic() >= self._next:
            self.save()

    def save(self) -> bool:
        self._next = self.monotonic() + self.every_seconds
        return self.stored.save(self.pipeline)
