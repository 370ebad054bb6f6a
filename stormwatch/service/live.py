"""The pipeline of `stormwatch serve`, live: one thread that owns it, fed through a
bounded intake, closing minutes on wall-clock idleness, checkpointed to the store.

- Intake: HTTP handlers `offer()` batches of raw records; the intake holds at most
  `max_records`; a batch that does not fit is refused (the caller answers 429), so a
  flood costs memory bounded by the limit, and nothing accepted is dropped.
- Event time comes from the records. When no input arrived for `lateness + 60` seconds
  of wall clock, the pipeline is asked to close the minutes up to wall clock minus the
  lateness (`Pipeline.advance_to`), so a storm on a quiet stream still closes its minutes.
- Every `checkpoint_seconds` (default: the setting of that name; and at stop) the
  pipeline's state is written to the store (`stormwatch/stored_checkpoint.py`, shared
  with `stormwatch run --db`); `start()` restores it, so a restart resumes open
  incidents without warming up again.
- People's readings of comments (Slack's Negative / Not negative) are handed to the
  pipeline thread (`learn_label`), which teaches its enricher before its next batch
  (the enricher is not thread-safe): comments after it are read with the correction.
- `stop()`: intake is already closed by the caller (the HTTP server stopped); what was
  accepted is processed, the state checkpointed, the sinks closed. The minute in
  progress stays open in the checkpoint and continues after a restart.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from stormwatch.alerts.event import AlertEvent
from stormwatch.alerts.store import IncidentStore
from stormwatch.detectors.explain import load_in_background
from stormwatch.detectors.negativity_feedback import Label
from stormwatch.model import Comment, DeadLetter
from stormwatch.pipeline import IDLE_EXTRA_SECONDS, Pipeline
from stormwatch.stored_checkpoint import CHECKPOINT_NAME, StoredCheckpoint

__all__ = ["CHECKPOINT_NAME", "LivePipeline"]

log = logging.getLogger(__name__)

STALL_SECONDS = 30.0  # no loop pass for this long: not ready


@dataclass(slots=True)
class Batch:
    lines: Sequence[bytes]
    source: str
    decoded: Sequence[Comment | DeadLetter] | None = None  # one per line, when given


class LivePipeline:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        store: IncidentStore | None = None,
        max_records: int = 100_000,
        checkpoint_seconds: float | None = None,
        idle_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
        tick: float = 1.0,
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.max_records = max_records
        self.checkpoint_seconds = (
            pipeline.settings.checkpoint_seconds
            if checkpoint_seconds is None
            else checkpoint_seconds
        )
        self.checkpoints = StoredCheckpoint(store, clock=clock) if store is not None else None
        lateness = pipeline.settings.lateness_seconds
        self.lateness = lateness
        self.idle_seconds = lateness + IDLE_EXTRA_SECONDS if idle_seconds is None else idle_seconds
        self.clock = clock
        self.tick = tick
        self._queue: deque[Batch] = deque()
        self._labels: deque[Label] = deque()  # for the pipeline thread to learn
        self._queued = 0  # records in the intake
        self._cond = threading.Condition()
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._heartbeat = time.monotonic()
        self.last_input = clock()  # when input last moved the stream's event time on
        self._newest_event = -math.inf
        self.accepted = 0  # records taken into the intake
        self.failed = 0  # records whose processing raised
        self.error: str | None = None

    # -- intake (any thread) ------------------------------------------------------------

    def offer(
        self,
        lines: Sequence[bytes],
        source: str,
        decoded: Sequence[Comment | DeadLetter] | None = None,
    ) -> bool:
        """Queue a batch for the pipeline; False when the intake is full (or stopping).
        `decoded`: the lines decoded already, one each (by the pipeline's decoder), so
        the pipeline thread does not decode them again."""
        n = len(lines)
        if not n:
            return True
        with self._cond:
            if not self.has_room(n):
                return False
            self._queue.append(Batch(lines, source, decoded))
            self._queued += n
            self.accepted += n
            self._cond.notify()
        return True

    def has_room(self, n: int = 1) -> bool:
        """Whether a batch of `n` records would be taken now (`offer` decides; this lets
        a caller refuse a request before it spends time decoding it)."""
        # Counted until processed (`_run`), so the batch the pipeline works on counts
        # too (the next one was taken while it was worked on). An idle intake takes a
        # batch larger than it holds, or a collector's page that large would wait for
        # ever; `POST /ingest` refuses such requests itself (413).
        queued = self._queued
        return not self._stopping and (not queued or queued + n <= self.max_records)

    def learn_label(self, label: Label) -> None:
        """Have the pipeline learn a person's reading of one comment, on its own thread."""
        with self._cond:
            self._labels.append(label)
            self._cond.notify()

    @property
    def queued(self) -> int:
        return self._queued

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> LivePipeline:
        self.restore()
        self._thread = threading.Thread(target=self._run, name="pipeline", daemon=True)
        self._thread.start()
        load_in_background()  # the first alert then need not import scikit-learn
        return self

    def stop(self, timeout: float = 60.0) -> None:
        """Process what was accepted, checkpoint, close the sinks (once)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._stopping = True
            self._cond.notify()
        # Never started (the restore failed): no checkpoint, or the empty pipeline would
        # replace the one it could not read.
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                log.error("the pipeline did not finish its intake within %.0f s", timeout)
                return
            self.checkpoint()
            if waiting := self._pending():
                log.error(
                    "%d alert events are not recorded yet (the store refused them): kept "
                    "in the checkpoint, they are recorded at the next start",
                    len(waiting),
                )
        for sink in self.pipeline.sinks:
            try:
                sink.close()
            except Exception:
                log.exception("closing alert sink %r failed", sink)
        if self.pipeline.dead_letters is not None:
            self.pipeline.dead_letters.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ready(self) -> tuple[bool, str]:
        if not self.running:
            return False, "pipeline not running"
        stalled = time.monotonic() - self._heartbeat
        if stalled > STALL_SECONDS:
            return False, f"pipeline busy for {stalled:.0f} s"
        return True, "pipeline running"

    # -- the pipeline thread ------------------------------------------------------------

    def _take(self) -> Batch | None:
        with self._cond:
            if not self._queue and not self._labels and not self._stopping:
                self._cond.wait(self.tick)
            if not self._queue:
                return None
            return self._queue.popleft()  # still counted in `_queued` until processed

    def _run(self) -> None:
        feed = self.pipeline.feed
        feed_decoded = self.pipeline.feed_decoded
        last_checkpoint = time.monotonic()
        while True:
            self._heartbeat = time.monotonic()
            self._learn_labels()
            batch = self._take()
            if batch is not None:
                decoded = batch.decoded
                for n, raw in enumerate(batch.lines, 1):
                    try:
                        if decoded is None:
                            feed(raw, f"{batch.source}:{n}")
                        else:
                            feed_decoded(decoded[n - 1], raw, f"{batch.source}:{n}")
                    except Exception:  # one bad record never stops the service
                        self.failed += 1
                        if self.failed == 1 or self.failed % 1000 == 0:
                            log.exception("processing a record from %s failed", batch.source)
                with self._cond:
                    self._queued -= len(batch.lines)
                # Input that moves the stream on: late, duplicate or malformed records
                # do not, and a trickle of them held a quiet stream's minutes open.
                newest = self.pipeline.windows.max_event_time
                if newest > self._newest_event:
                    self._newest_event = newest
                    self.last_input = self.clock()
            elif self._stopping:
                return
            now = self.clock()
            if batch is None:
                self.flush_sinks()  # (a store that failed: its events are retried)
                # The input paused: the comment that tips a storm may be the last for a
                # while, and no later one comes to pass the next early look's tick.
                self._check_early()
                if now - self.last_input >= self.idle_seconds:
                    self._close_idle(now - self.lateness)
            if time.monotonic() - last_checkpoint >= self.checkpoint_seconds:
                last_checkpoint = time.monotonic()
                self.checkpoint()

    def _learn_labels(self) -> None:
        enricher = self.pipeline.enricher
        while self._labels:
            label = self._labels.popleft()
            try:
                enricher.learn_label(label.brand, label.text, label.lang, negative=label.negative)
            except Exception:  # it is in the store: the next start learns it
                log.exception("learning a comment label of %s failed", label.brand)

    def _check_early(self) -> None:
        try:
            self.pipeline.check_early()
        except Exception:
            log.exception("an early look at the open minutes failed")

    def _close_idle(self, event_time: float) -> None:
        try:
            self.pipeline.advance_to(event_time)
        except Exception:
            log.exception("closing idle minutes failed")

    # -- checkpoints ----------------------------------------------------------------------

    def checkpoint(self) -> bool:
        """Write the pipeline's state to the store (call on the pipeline thread, or after
        it stopped); False when there is no store or the write failed (logged; the next
        one retries). Alert events waiting for the store go first (`flush_sinks`)."""
        self.flush_sinks()
        return self.checkpoints is not None and self.checkpoints.save(
            self.pipeline, pending=self._pending()
        )

    def _pending(self) -> list[AlertEvent]:
        """Alert events the sinks keep because the store refused them so far."""
        return [e for sink in self.pipeline.sinks for e in getattr(sink, "pending", ())]

    def flush_sinks(self) -> None:
        """Sinks that keep events the store could not take yet record them now."""
        for sink in self.pipeline.sinks:
            flush = getattr(sink, "flush", None)
            if flush is not None:
                flush()

    def restore(self) -> bool:
        """Load the latest checkpoint into the pipeline; False when there is none. The
        alert events it kept unrecorded wait in the sink again, recorded first."""
        if self.checkpoints is None or not self.checkpoints.restore(self.pipeline):
            return False
        waiting = self.checkpoints.pending_alerts
        sink = next((s for s in self.pipeline.sinks if hasattr(s, "pending")), None)
        if waiting and sink is not None:
            sink.pending.extendleft(reversed(waiting))
            self.flush_sinks()
        return True

    @property
    def restored(self) -> bool:
        return self.checkpoints is not None and self.checkpoints.restored
