"""The distributed runtime: the embedded pipeline as one member of a Kafka consumer group.

Each assigned input partition gets its own `Pipeline`, so each has its own watermark and
state, and the input being keyed by brand means one worker owns a brand's windows and
detectors. The rules that make incidents exactly-once over at-least-once input:

- Alert events are persisted first: `IncidentStore.record()` stores the event and, in
  the same transaction, an outbox row for the alerts topic. It returns False for an
  event recorded before, which is how a replay after a crash is recognised: such an
  event is not written to the local sinks nor queued for the topic again.
- The alerts topic is fed from that outbox (claim, produce, wait for acks, mark sent),
  so an event recorded just before a crash is still published, by whoever drains next.
- A checkpoint flushes what was produced (dead letters, alerts), writes each dirty
  partition's state with its next offset to the changelog, waits for the acks, and only
  then commits the offsets. Any failure aborts it, nothing is committed, and the worker
  stops: a restart resumes from the last complete checkpoint.
- On revoke, the revoked partitions are checkpointed and committed before they go; on
  assign, state is restored from the changelog and reading resumes at the offset stored
  with it, so the new owner needs no warm-up.
- A partition a poll brings no records for has paused: it looks early at its waiting
  keys, and once it has been without records for lateness + 60 s with none waiting, it
  closes its minutes on the wall clock (`Worker._quiet`). What a pause decides is
  checkpointed at once, so a replay after a crash starts after it instead of deciding
  it again at another moment.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from stormwatch.alerts.event import event_identity
from stormwatch.alerts.store import Delivery, IncidentStore
from stormwatch.config import Settings
from stormwatch.detectors.explain import load_in_background
from stormwatch.exceptions import StormwatchError
from stormwatch.kafka import checkpoint
from stormwatch.kafka.producer import TopicWriter
from stormwatch.kafka.settings import KafkaSettings
from stormwatch.kafka.sinks import ALERTS_TARGET, AlertGate, DeadLetterTopic, StatusLog
from stormwatch.kafka.source import KafkaSource, read_latest, scan
from stormwatch.kafka.topics import partition_for_key, worker_topics
from stormwatch.pipeline import IDLE_EXTRA_SECONDS, Pipeline, RunStats
from stormwatch.ports import AlertSink, DeadLetterSink, PipelineObserver

log = logging.getLogger("stormwatch.kafka.worker")

POLL_SECONDS = 0.5
LAG_EVERY_SECONDS = 1.0
KEYS_CHECKED = 20  # a partition's first records whose key is compared with their brand


def misrouted(keys: Sequence[bytes | None], values: Sequence[bytes | None]) -> tuple | None:
    """The first (key, brand) of up to `KEYS_CHECKED` records whose key is not its brand:
    input keyed otherwise (by comment id, or not at all) spreads a brand over partitions,
    each with a pipeline of its own, and one storm opened an incident on each of three.

    >>> misrouted([b"acme", b"acme"], [b'{"brand": "acme"}', b'{"brand": "acme"}']) is None
    True
    >>> misrouted([b"c-17"], [b'{"brand": "acme", "id": "c-17"}'])
    (b'c-17', 'acme')
    >>> misrouted([None], [b'{"brand": "acme"}'])
    (None, 'acme')
    """
    for key, value in zip(keys[:KEYS_CHECKED], values[:KEYS_CHECKED], strict=False):
        try:
            brand = orjson.loads(value).get("brand") if value else None
        except (orjson.JSONDecodeError, AttributeError):
            continue  # the pipeline dead-letters it
        if isinstance(brand, str) and (key is None or key != brand.encode("utf-8")):
            return key, brand
    return None


class WorkerError(StormwatchError):
    """The worker cannot go on safely; it stops without committing what is not safe."""


@dataclass(slots=True)
class PartitionTask:
    partition: int
    pipeline: Pipeline
    next_offset: int | None = None  # first offset not yet fed; None = nothing read yet
    seq: int = 0  # sequence number of the last checkpoint written
    # Per checkpoint slot, the chunks the changelog holds there (`checkpoint.encode`).
    chunks: list[int] = field(default_factory=lambda: [0, 0])
    dirty: bool = False
    # Worker clock when records last moved the partition's event time on (or it was
    # assigned): late, duplicate or malformed records do not, and a trickle of them
    # held a quiet partition's minutes open for good.
    last_input: float = 0.0
    newest_event: float = -math.inf
    looked: bool = False  # looked early on this pause already (once per pause)
    keys_checked: int = 0  # of its first records, how many keys were compared (`misrouted`)


@dataclass(slots=True)
class WorkerSummary:
    partitions: dict[int, RunStats] = field(default_factory=dict)  # held at stop
    alerts_recorded: int = 0
    alerts_repeated: int = 0
    alerts_published: int = 0
    dead_letters: int = 0
    checkpoints: int = 0
    records_fed: int = 0  # by this process (a replay after a takeover counts again)
    reason: str = ""
    first_input_at: float | None = None  # wall clock of the first records polled
    last_input_at: float | None = None  # wall clock once the last records were fed


PipelineFactory = Callable[[Sequence[AlertSink], DeadLetterSink], Pipeline]


class Worker:
    def __init__(
        self,
        kafka: KafkaSettings,
        *,
        store: IncidentStore,
        new_pipeline: PipelineFactory,
        local_alerts: Sequence[AlertSink] = (),
        local_dead_letters: DeadLetterSink | None = None,
        extra_targets: Sequence[str] = (),
        metrics: Any | None = None,  # StormwatchMetrics: consumer lag per partition
        status: StatusLog | None = None,
        clock: Callable[[], float] = time.monotonic,
        idle_seconds: float | None = None,
        resume_cold: bool = False,
    ) -> None:
        self.kafka = kafka
        # A partition with committed offsets and no checkpoint resumes there without its
        # state only when asked (`--resume-cold`); otherwise the worker stops.
        self.resume_cold = resume_cold
        # No input on a partition for this long: its minutes up to wall clock − lateness
        # close anyway, as in `stormwatch serve` (None: lateness + 60 s).
        self.idle_seconds = idle_seconds
        self.store = store
        self.new_pipeline = new_pipeline
        self.metrics = metrics
        self.status = status or StatusLog(None)
        self.clock = clock
        self.client = kafka.client_options()
        self.writer = TopicWriter(self.client, max_request_size=checkpoint.CHUNK_BYTES + 64_000)
        self.gate = AlertGate(
            store,
            local=local_alerts,
            targets=(ALERTS_TARGET, *extra_targets),
            status=self.status,
        )
        self.dead_letters = DeadLetterTopic(
            self.writer, kafka.dead_letter_topic, local=local_dead_letters
        )
        self.tasks: dict[int, PartitionTask] = {}
        self._parked: dict[int, PartitionTask] = {}  # revoked, kept in case they come back
        self._arrived: list[int] = []  # assigned and paused, restored after poll() returns
        self._lost: list[int] = []
        self._failure: BaseException | None = None  # raised in a rebalance callback
        self._aborted = False  # the loop failed: commit nothing more on the way out
        self._stop = threading.Event()
        self.summary = WorkerSummary()
        self.last_loop = clock()
        self.source: KafkaSource | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def run(self, *, stop_when_idle: float | None = None) -> WorkerSummary:
        """Consume until stopped (SIGTERM/SIGINT, `stop()`, or `stop_when_idle` seconds
        without input once partitions are assigned); returns what was done."""
        k = self.kafka
        worker_topics(
            self.client,
            topic=k.topic,
            alerts_topic=k.alerts_topic,
            dead_letter_topic=k.dead_letter_topic,
            changelog_topic=k.changelog_topic,
            partitions=k.partitions,
            replication_factor=k.replication_factor,
            create=k.create_topics,
        )
        self._install_signals()
        load_in_background()  # the first alert then need not import scikit-learn
        self.source = KafkaSource(
            self.client,
            topic=k.topic,
            group=k.group,
            on_revoked=self._guard(self._on_revoked),
            on_assigned=self._guard(self._on_assigned),
            on_lost=self._guard(self._on_lost),
            max_poll_records=k.max_poll_records,
            session_timeout_ms=k.session_timeout_ms,
            heartbeat_interval_ms=k.heartbeat_interval_ms,
        )
        verdicts = len(getattr(self.new_pipeline, "verdicts", ()))
        self.status.write("started", group=k.group, topic=k.topic, verdicts=verdicts)
        reason = "stopped"
        try:
            reason = self._loop(stop_when_idle)
            self.checkpoint(list(self.tasks))
            self.drain_outbox()
        except BaseException:
            # A batch may be half fed: its state must not be checkpointed. The last
            # complete checkpoint stays the point a successor resumes from.
            self._aborted = True
            reason = "failed"
            raise
        finally:
            self._close(reason)
        return self.summary

    def stop(self) -> None:
        self._stop.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stop.set())

    def _close(self, reason: str) -> None:
        s = self.summary
        s.reason = reason
        s.partitions = {p: t.pipeline.stats for p, t in self.tasks.items()}
        if self.source is not None:
            if self._aborted or self._failure is not None:
                self.tasks.clear()  # so that the revoke on close checkpoints nothing
            try:
                self.source.close()  # the revoke callback checkpoints what is held
            except Exception as exc:  # noqa: BLE001 - closing is best effort
                log.warning("closing the consumer: %s", exc)
        try:
            self.writer.close()
        except Exception as exc:  # noqa: BLE001
            log.warning("closing the producer: %s", exc)
        self.gate.close()
        self.dead_letters.close()
        s.alerts_recorded, s.alerts_repeated = self.gate.recorded, self.gate.repeated
        s.dead_letters = self.dead_letters.count
        self.status.write(
            "stopped",
            reason=reason,
            partitions={
                str(p): {"read": st.read, "processed": st.processed, "dead": st.dead_lettered}
                for p, st in s.partitions.items()
            },
            alerts_recorded=s.alerts_recorded,
            alerts_repeated=s.alerts_repeated,
            alerts_published=s.alerts_published,
            dead_letters=s.dead_letters,
            checkpoints=s.checkpoints,
            records_fed=s.records_fed,
            first_input_at=s.first_input_at,
            last_input_at=s.last_input_at,
        )

    # -- the loop --------------------------------------------------------------------------

    def _loop(self, stop_when_idle: float | None) -> str:
        assert self.source is not None
        source = self.source
        prefix = f"{self.kafka.topic}:"
        interval = self.kafka.checkpoint_seconds
        last_checkpoint = last_input = last_lag = self.clock()
        assigned_once = False
        while not self._stop.is_set():
            batches = source.poll(POLL_SECONDS)
            now_wall = time.time()
            self._raise_failure()
            now = self.last_loop = self.clock()
            if self._lost or self._arrived:
                self._settle_rebalance()
                # Idle time counts from the assignment: a rebalance is not a quiet topic.
                now = last_input = self.last_loop = self.clock()
            if batches:
                last_input = now
            for batch in batches:
                task = self.tasks.get(batch.partition)
                if task is None:
                    if batch.partition in source.assignment():
                        # Ours without state: never skip records silently, restore first
                        # (the restore seeks, so these are fetched again).
                        source.pause([batch.partition])
                        self._arrived.append(batch.partition)
                    continue  # otherwise fetched before a rebalance took it away
                offsets, keys, values = batch.offsets, batch.keys, batch.values
                if task.next_offset is not None and offsets[0] < task.next_offset:
                    # Fetched before a restore moved the position: never feed twice.
                    keep = [i for i, o in enumerate(offsets) if o >= task.next_offset]
                    if not keep:
                        continue
                    first = keep[0]
                    offsets, keys, values = offsets[first:], keys[first:], values[first:]
                self.summary.records_fed += len(offsets)
                if task.keys_checked < KEYS_CHECKED:
                    wanted = KEYS_CHECKED - task.keys_checked
                    task.keys_checked += min(wanted, len(values))
                    wrong = misrouted(keys[:wanted], values[:wanted])
                    if wrong is not None:
                        task.keys_checked = KEYS_CHECKED  # named once
                        log.warning(
                            "partition %d: a record keyed %r holds brand %r: key the input by"
                            " brand (as `stormwatch produce` does), or a brand's comments"
                            " spread over partitions and one storm opens an incident on each",
                            batch.partition, wrong[0], wrong[1],
                        )  # fmt: skip
                        self.status.write(
                            "misrouted", partition=batch.partition, brand=wrong[1],
                            key=None if wrong[0] is None else wrong[0].decode("utf-8", "replace"),
                        )  # fmt: skip
                feed = task.pipeline.feed
                where = f"{prefix}{batch.partition}:"
                for offset, value in zip(offsets, values, strict=True):
                    feed(value if value is not None else b"", where + str(offset))
                task.next_offset = batch.next_offset
                task.dirty = True
                newest = task.pipeline.windows.max_event_time
                if newest > task.newest_event:
                    task.newest_event, task.last_input = newest, now
                task.looked = False
            if self.tasks:
                self._quiet(now, now_wall, busy={batch.partition for batch in batches})
            if batches:
                self.summary.last_input_at = time.time()
                if self.summary.first_input_at is None:
                    self.summary.first_input_at = now_wall
            if self.gate.queued:
                self.drain_outbox()
            if now - last_checkpoint >= interval:
                self.checkpoint(list(self.tasks), orphans=True)
                last_checkpoint = now
            if self.metrics is not None and now - last_lag >= LAG_EVERY_SECONDS:
                self._report_lag()
                last_lag = now
            if self.tasks and not assigned_once:
                assigned_once, last_input = True, now
            if stop_when_idle is not None and assigned_once and now - last_input >= stop_when_idle:
                self.status.write(
                    "idle",
                    lag={str(p): source.lag(p) for p in self.tasks},
                    next_offsets={str(p): t.next_offset for p, t in self.tasks.items()},
                    paused=source.paused(),
                )
                return "idle"
        return "signal"

    def _quiet(self, now: float, now_wall: float, *, busy: set[int]) -> None:
        """The partitions this poll brought no records for (`busy`: those it did) and
        that are read to their end have paused (one the consumer lags behind on is not
        quiet: its records would all come late): look early at their keys with new
        negatives, so the comment that tips a storm alerts although none follows it;
        and close the minutes of a partition without records for `idle_seconds` up to
        wall clock − lateness. A look that opens nothing leaves the state as it was (the
        keys wait for the next look), so a replay of the same records decides the same;
        a look that opens and a close on the wall clock are checkpointed at once, so a
        replay after a crash starts after them rather than deciding them again."""
        assert self.source is not None
        decided = []
        for p, task in self.tasks.items():
            if p in busy:
                continue
            pipeline = task.pipeline
            lateness = pipeline.settings.lateness_seconds
            idle = lateness + IDLE_EXTRA_SECONDS if self.idle_seconds is None else self.idle_seconds
            changed = 0
            # Only a partition read to its end has paused: one restored a moment ago (lag
            # still unknown) or one the consumer lags behind on has records waiting, and a
            # look there would decide at a point a straight run never looked at (after a
            # crash: a second `opened` event for the storm the first run opened).
            caught_up = self.source.lag(p) == 0
            if pipeline.early_brands and not task.looked and caught_up:
                task.looked = True  # the same keys on the same records: once a pause
                changed = pipeline.check_early(keep_waiting=True)
            if now - task.last_input >= idle and caught_up:
                changed += pipeline.advance_to(now_wall - lateness)
            if changed:
                task.dirty = True
                decided.append(p)
        if decided:
            self.checkpoint(decided)

    def _report_lag(self) -> None:
        assert self.source is not None
        for p in self.tasks:
            lag = self.source.lag(p)
            if lag is not None:
                self.metrics.set_consumer_lag(p, lag)
        # The keys of all its partitions (each pipeline knows only its own).
        windows = [task.pipeline.windows for task in self.tasks.values()]
        self.metrics.tracked_brands.set(sum(len(w.brands) for w in windows))
        self.metrics.tracked_threads.set(sum(len(w.threads) for w in windows))

    # -- checkpoints -------------------------------------------------------------------------

    def checkpoint(
        self, partitions: Sequence[int], *, orphans: bool = False, wait: bool = True
    ) -> None:
        """Make the work on `partitions` safe, then commit it (see the module docstring).
        `orphans`: also publish outbox rows a crashed worker left behind. `wait=False`
        in rebalance callbacks: the commit is then sent without waiting for the answer,
        which is enough because a restore resumes at the offset stored with the state."""
        assert self.source is not None
        tasks = [self.tasks[p] for p in partitions if p in self.tasks and self.tasks[p].dirty]
        if orphans or self.gate.queued:
            self.drain_outbox()
        if not tasks:
            return
        try:
            self.writer.flush()  # dead letters (and anything else produced) acknowledged
            self.dead_letters.flush()  # and written to the local file, if any
            for sink in self.gate.local:
                flush = getattr(sink, "flush", None)
                if flush is not None:
                    flush()
            written = []
            for task in tasks:
                assert task.next_offset is not None
                slot = (task.seq + 1) % 2
                records = checkpoint.encode(
                    task.partition,
                    seq=task.seq + 1,
                    next_offset=task.next_offset,
                    state=checkpoint.snapshot(task.pipeline),
                    chunks_before=task.chunks[slot],
                )
                written.append((slot, checkpoint.chunks_written(records)))
                for r in records:
                    self.writer.send(
                        self.kafka.changelog_topic,
                        key=r.key,
                        value=r.value,
                        headers=r.headers,
                        partition=task.partition,
                    )
            self.writer.flush()
        except Exception as exc:
            raise checkpoint.CheckpointError(
                f"checkpoint aborted, nothing committed: {exc}"
            ) from exc
        offsets = {}
        for task, (slot, chunks) in zip(tasks, written, strict=True):
            task.chunks[slot] = chunks
            task.seq += 1
            task.dirty = False
            offsets[task.partition] = task.next_offset
        self.source.commit(offsets, wait=wait)
        self.summary.checkpoints += 1
        self.status.write(
            "checkpoint",
            offsets={str(p): o for p, o in offsets.items()},
            seqs={str(t.partition): t.seq for t in tasks},
        )

    def drain_outbox(self) -> None:
        """Publish recorded alert events to the alerts topic: claim, produce, await the
        acks, mark sent (with the record's partition:offset). A crash in between leaves
        the rows to come back after the lease; a row claimed before is first looked for
        on the topic, so that the successor does not publish it twice."""
        self.gate.queued = False
        while True:
            rows = self.store.pending_deliveries(
                ALERTS_TARGET, limit=200, lease=self.kafka.outbox_lease_seconds
            )
            if not rows:
                return
            sent = []
            for row in rows:
                found = self._published_before(row) if row.attempts > 1 else None
                if found is not None:
                    self.store.mark_delivered(row.id, found)
                    continue
                if not self.store.held_claims([(row.id, row.attempts)]):
                    # The lease ran out while this worker stood still (a long pause, a
                    # slow topic scan) and another may have claimed and published the
                    # row: a worker stalled 35 s past its 30 s lease published an
                    # `opened` its successor had already published.
                    continue
                receipt = self.writer.send(
                    self.kafka.alerts_topic,
                    key=row.incident.encode("utf-8"),
                    value=orjson.dumps(row.payload),
                )
                sent.append((row, receipt))
            self.writer.flush()
            for row, receipt in sent:
                self.store.mark_delivered(row.id, f"{receipt.partition}:{receipt.offset}")
            self.summary.alerts_published += len(sent)

    def _published_before(self, row: Delivery) -> str | None:
        """partition:offset of `row`'s event on the alerts topic if an earlier claim got it
        there. Only the incident's partition after its last confirmed event is read."""
        key = row.incident.encode("utf-8")
        partition, start = None, 0
        for earlier in self.store.deliveries(row.incident):
            if earlier.target == ALERTS_TARGET and earlier.status == "sent":
                if earlier.external_id and ":" in earlier.external_id:
                    p, o = earlier.external_id.split(":", 1)
                    partition, start = int(p), max(start, int(o) + 1)
        if partition is None:
            partition = partition_for_key(self.client, self.kafka.alerts_topic, key)
        want = event_identity(row.payload)
        for offset, k, value in scan(
            self.client, topic=self.kafka.alerts_topic, partition=partition, start=start
        ):
            if k == key and value is not None and event_identity(orjson.loads(value)) == want:
                return f"{partition}:{offset}"
        return None

    # -- rebalances --------------------------------------------------------------------------

    def _guard(self, callback: Callable[[list[int]], None]) -> Callable[[list[int]], None]:
        """kafka-python logs and swallows exceptions raised in rebalance callbacks; keep
        the first one and raise it from the loop instead."""

        def guarded(partitions: list[int]) -> None:
            if self._failure is not None:
                return
            try:
                callback(partitions)
            except BaseException as exc:  # noqa: BLE001 - re-raised by _raise_failure
                log.error("rebalance handling failed: %s", exc)
                self._failure = exc

        return guarded

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise WorkerError(f"rebalance handling failed: {self._failure}") from self._failure

    def _on_revoked(self, partitions: list[int]) -> None:
        """IO thread, while the loop waits in poll(): checkpoint, then let them go."""
        self.checkpoint(partitions, wait=False)
        for p in partitions:
            task = self.tasks.pop(p, None)
            if task is not None:
                self._parked[p] = task
                checkpoint.let_go(task.pipeline)
            if self.metrics is not None:
                self.metrics.forget_partition(p)
        self.status.write("revoked", partitions=partitions)

    def _on_lost(self, partitions: list[int]) -> None:
        """IO thread, loop waiting in poll(): drop them now, so that the assignment that
        follows in the same poll() sees them as new and restores them."""
        for p in partitions:
            task = self.tasks.pop(p, None)
            if task is not None:
                checkpoint.let_go(task.pipeline)
            self._parked.pop(p, None)  # let go when it was parked
        self._lost.extend(partitions)

    def _on_assigned(self, partitions: list[int]) -> None:
        """IO thread: hold the new partitions until their state is back (next loop turn)."""
        arrived = [p for p in partitions if p not in self.tasks]
        assert self.source is not None
        self.source.pause(arrived)
        self._arrived.extend(arrived)

    def _settle_rebalance(self) -> None:
        """Loop thread, after poll(): drop lost partitions, restore arrived ones."""
        assert self.source is not None
        lost, self._lost = self._lost, []
        for p in lost:
            task = self.tasks.pop(p, None)
            if task is not None:
                checkpoint.let_go(task.pipeline)
            self._parked.pop(p, None)
            if self.metrics is not None:
                self.metrics.forget_partition(p)
        if lost:
            self.status.write("lost", partitions=lost)
        arrived, self._arrived = sorted(set(self._arrived)), []
        assigned = set(self.source.assignment())
        arrived = [p for p in arrived if p in assigned]
        restore = []
        # The new tasks are published together once all are set up: the probes read
        # `tasks` from another thread, and a worker half-way through its partitions'
        # restores said it was ready with the first of them.
        settled: dict[int, PartitionTask] = {}
        for p in arrived:
            parked = self._parked.pop(p, None)
            # Back to us with nobody having committed since: our copy is current.
            if parked is not None and self.source.committed(p) == parked.next_offset:
                settled[p] = parked
                checkpoint.hold(parked.pipeline)
                parked.last_input = self.clock()  # a rebalance is not a quiet partition
                if parked.next_offset is not None:
                    self.source.seek(p, parked.next_offset)
            else:
                restore.append(p)
        self._parked.clear()
        latest = read_latest(self.client, topic=self.kafka.changelog_topic, partitions=restore)
        for p in restore:
            values = {k: (v.value, v.headers) for k, v in latest[p].items()}
            saved = checkpoint.decode(p, values)
            task = PartitionTask(p, self.new_pipeline([self.gate], self.dead_letters))
            task.chunks = checkpoint.chunks_held(p, values)
            if saved is not None:
                checkpoint.restore(task.pipeline, saved.state)
                task.seq, task.next_offset = saved.seq, saved.next_offset
                self.source.seek(p, saved.next_offset)
                self.status.write("restored", partition=p, offset=saved.next_offset, seq=saved.seq)
            else:
                committed = self.source.committed(p)
                if committed is not None and not self.resume_cold:
                    # Offsets without state: the changelog was lost or deleted. Resumed
                    # cold, a storm under way opened a second incident while its first
                    # stayed open in the store for good.
                    raise checkpoint.CheckpointError(
                        f"partition {p} has offsets committed up to {committed} but no "
                        f"checkpoint in {self.kafka.changelog_topic} (lost or deleted): "
                        "resuming there without its state would judge its brands afresh and"
                        " open their running incidents again; start with --resume-cold to"
                        " do so anyway"
                    )
                if committed is not None:
                    log.warning("partition %d: no checkpoint, resuming at %d cold", p, committed)
                    self.source.seek(p, committed)
                    task.next_offset = committed
                self.status.write("fresh", partition=p, offset=committed)
            task.last_input = self.clock()
            settled[p] = task
        self.tasks.update(settled)
        self.source.resume(arrived)
        self.status.write("assigned", partitions=sorted(self.tasks))
        self.drain_outbox()

    # -- probes ----------------------------------------------------------------------------

    def healthy(self) -> bool:
        return self.clock() - self.last_loop < max(60.0, 10 * self.kafka.checkpoint_seconds)

    def ready(self) -> tuple[bool, str]:
        if not self.tasks:
            return False, "no partitions assigned"
        try:
            self.store.get_incident("")
        except Exception as exc:  # noqa: BLE001 - the reason is the answer
            return False, f"incident store unreachable: {exc}"
        return True, f"ready: partitions {sorted(self.tasks)}"


class VerdictLoadingFactory:
    """Pipelines wired like the embedded runtime's (enrichment, topics, playbooks,
    pseudonyms), sharing those stateless parts; sinks are the worker's. Like `stormwatch
    run --db`, every pipeline learns the verdicts people gave (Slack buttons, `stormwatch
    feedback`), read from the incident store once, at start-up. Verdicts are not part of
    a checkpoint, so a restored partition keeps them too."""

    def __init__(self, settings: Settings, *, observer: PipelineObserver | None = None) -> None:
        from dataclasses import replace

        from stormwatch.runtime import build_pipeline, read_verdicts

        self.settings = settings
        self.observer = observer
        # env={} and no store: the worker delivers through its own outbox gate, not
        # through the runtime's sinks; the verdicts are read here instead.
        self.template = build_pipeline(replace(settings, database_url=None), env={})
        self.verdicts = read_verdicts(settings.database_url) if settings.database_url else []
        if settings.database_url:  # people's readings of comments, shared by every partition
            from stormwatch.runtime import load_negativity_labels

            load_negativity_labels(self.template.enricher, settings.database_url)

    def __call__(self, sinks: Sequence[AlertSink], dead_letters: DeadLetterSink) -> Pipeline:
        from stormwatch.runtime import remember_verdicts

        template = self.template
        pipeline = Pipeline(
            self.settings,
            sinks=sinks,
            dead_letters=dead_letters,
            enricher=template.enricher,
            playbook_for=template.playbook_for,
            decoder=template.decoder,
            pseudonymize=template.pseudonymize,
            observer=self.observer,
        )
        remember_verdicts(pipeline, self.verdicts)
        return pipeline


def pipeline_factory(
    settings: Settings, *, observer: PipelineObserver | None = None
) -> VerdictLoadingFactory:
    """New pipelines for a worker's partitions: see `VerdictLoadingFactory`."""
    return VerdictLoadingFactory(settings, observer=observer)


def read_checkpoints(
    kafka: KafkaSettings, partitions: Sequence[int]
) -> dict[int, checkpoint.Checkpoint | None]:
    """The latest checkpoint of each partition (for operators, tests and audits)."""
    latest = read_latest(
        kafka.client_options(), topic=kafka.changelog_topic, partitions=list(partitions)
    )
    return {
        p: checkpoint.decode(p, {k: (v.value, v.headers) for k, v in latest[p].items()})
        for p in partitions
    }


def summary_json(summary: WorkerSummary) -> dict[str, Any]:
    return {
        "reason": summary.reason,
        "partitions": {
            str(p): {"read": s.read, "processed": s.processed, "dead_lettered": s.dead_lettered}
            for p, s in summary.partitions.items()
        },
        "alerts_recorded": summary.alerts_recorded,
        "alerts_repeated": summary.alerts_repeated,
        "alerts_published": summary.alerts_published,
        "dead_letters": summary.dead_letters,
        "checkpoints": summary.checkpoints,
        "records_fed": summary.records_fed,
        "first_input_at": summary.first_input_at,
        "last_input_at": summary.last_input_at,
    }


__all__ = [
    "Worker",
    "WorkerError",
    "VerdictLoadingFactory",
    "WorkerSummary",
    "pipeline_factory",
    "read_checkpoints",
]
