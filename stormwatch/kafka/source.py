"""Reading from Kafka: a consumer-group member, and a reader of compacted topics.

No kafka-python type leaves this module: the worker sees partitions as ints, batches as
plain lists of offsets, keys and values, and the group's rebalances as two callbacks
with lists of partition numbers.

Offsets are never committed automatically: `commit()` is called by the worker's
checkpoint, after the work the offsets cover is safe.

`read_latest()` reads one partition of a compacted topic to its end and keeps the latest
value per key (what compaction would leave). Its end is the high watermark that fetch
responses carry, not `end_offsets()`: against some Kafka-protocol brokers the latter
lags behind what a fetch returns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from stormwatch.kafka.exceptions import BrokerError, BrokerUnavailable

Partitions = Callable[[list[int]], None]


@dataclass(slots=True)
class Batch:
    """Consecutive records of one partition, in offset order."""

    partition: int
    offsets: list[int]
    keys: list[bytes | None]
    values: list[bytes]

    @property
    def next_offset(self) -> int:
        return self.offsets[-1] + 1


class _Listener(ConsumerRebalanceListener):
    def __init__(self, topic: str, revoked: Partitions, assigned: Partitions, lost: Partitions):
        self.topic = topic
        self.revoked, self.assigned, self.lost = revoked, assigned, lost

    def _numbers(self, tps: Any) -> list[int]:
        return sorted(tp.partition for tp in tps if tp.topic == self.topic)

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.revoked(self._numbers(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.assigned(self._numbers(assigned))

    def on_partitions_lost(self, lost: Any) -> None:
        self.lost(self._numbers(lost))


def _connect(client_options: Mapping[str, Any], **config: Any) -> KafkaConsumer:
    try:
        return KafkaConsumer(**client_options, **config)
    except KafkaError as exc:
        servers = ",".join(client_options.get("bootstrap_servers", []))
        raise BrokerUnavailable(f"no Kafka broker answered at {servers}") from exc


class KafkaSource:
    """One member of a consumer group reading `topic`.

    `on_revoked` runs before partitions leave this member (checkpoint and commit them
    there), `on_assigned` after new ones arrive, and `on_lost` when the group already
    gave them away (drop them, commit nothing). All three run while the caller waits in
    `poll()`, but on kafka-python's IO thread: they must not call blocking consumer
    methods (`committed`, `commit` with wait). Pause new partitions in `on_assigned` and
    restore them after `poll()` returns, on the caller's thread."""

    def __init__(
        self,
        client_options: Mapping[str, Any],
        *,
        topic: str,
        group: str,
        on_revoked: Partitions,
        on_assigned: Partitions,
        on_lost: Partitions | None = None,
        max_poll_records: int = 2000,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 1_000,
        max_poll_interval_ms: int = 300_000,
    ) -> None:
        self.topic = topic
        self._consumer = _connect(
            client_options,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            max_poll_interval_ms=max_poll_interval_ms,
            fetch_max_wait_ms=200,
            # Full fetch requests every time: with incremental fetch sessions (KIP-227) a
            # Kafka-protocol broker we test against (Tansu 0.6) stopped returning one
            # partition's tail; a full fetch costs a few bytes per partition.
            enable_incremental_fetch_sessions=False,
        )
        listener = _Listener(topic, on_revoked, on_assigned, on_lost or on_revoked)
        self._consumer.subscribe([topic], listener=listener)
        self._tps: dict[int, TopicPartition] = {}

    def _tp(self, partition: int) -> TopicPartition:
        tp = self._tps.get(partition)
        if tp is None:
            tp = self._tps[partition] = TopicPartition(self.topic, partition)
        return tp

    def poll(self, timeout_s: float) -> list[Batch]:
        """Records fetched so far (at most `max_poll_records`), one batch per partition."""
        try:
            fetched = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        except KafkaError as exc:
            raise BrokerError(f"poll of {self.topic} failed: {exc}") from exc
        batches = []
        for tp, records in fetched.items():
            if records:
                batches.append(
                    Batch(
                        tp.partition,
                        [r.offset for r in records],
                        [r.key for r in records],
                        [r.value for r in records],
                    )
                )
        return batches

    def assignment(self) -> list[int]:
        return sorted(tp.partition for tp in self._consumer.assignment())

    def seek(self, partition: int, offset: int) -> None:
        self._consumer.seek(self._tp(partition), offset)

    def committed(self, partition: int) -> int | None:
        return self._consumer.committed(self._tp(partition))

    def commit(self, offsets: Mapping[int, int], *, wait: bool = True) -> None:
        """Commit `partition -> next offset to read`. `wait=False` from rebalance
        callbacks: they run on kafka-python's IO thread, where blocking calls fail."""
        if not offsets:
            return
        request = {self._tp(p): OffsetAndMetadata(o, "", -1) for p, o in offsets.items()}
        try:
            if wait:
                self._consumer.commit(request)
            else:
                self._consumer.commit_async(request)
        except KafkaError as exc:
            raise BrokerError(f"offset commit for {self.topic} failed: {exc}") from exc

    def pause(self, partitions: Sequence[int]) -> None:
        """Fetch nothing from `partitions` until `resume()` (safe in rebalance callbacks)."""
        if partitions:
            self._consumer.pause(*(self._tp(p) for p in partitions))

    def paused(self) -> list[int]:
        return sorted(tp.partition for tp in self._consumer.paused())

    def resume(self, partitions: Sequence[int]) -> None:
        if partitions:
            self._consumer.resume(*(self._tp(p) for p in partitions))

    def lag(self, partition: int) -> int | None:
        """Records between our position and the partition's end, as of the last fetch."""
        tp = self._tp(partition)
        try:
            end = self._consumer.highwater(tp)
            position = self._consumer.position(tp, timeout_ms=0)
        except (KafkaError, AssertionError, ValueError):
            return None
        if end is None or position is None:
            return None
        return max(0, end - position)

    def close(self) -> None:
        """Leave the group (the revoke callback runs once more) and close the connection."""
        self._consumer.close(autocommit=False)


@dataclass(slots=True, frozen=True)
class KeyedValue:
    offset: int
    value: bytes | None  # None: a tombstone
    headers: dict[str, bytes]


def read_latest(
    client_options: Mapping[str, Any],
    *,
    topic: str,
    partitions: Sequence[int],
    timeout_s: float = 30.0,
) -> dict[int, dict[bytes, KeyedValue]]:
    """The latest value per key in each of `partitions` of `topic`, read from the start
    up to the high watermark. A partition is read to its end only once a fetch answer
    has shown its watermark (0 for an empty one): a broker slow to answer is waited for
    (up to `timeout_s`, then `BrokerError`), never taken for an empty changelog, which
    would restore a worker cold and overwrite its saved state."""
    out: dict[int, dict[bytes, KeyedValue]] = {p: {} for p in partitions}
    if not partitions:
        return out
    consumer = _connect(client_options, enable_auto_commit=False, fetch_max_wait_ms=100)
    try:
        tps = {TopicPartition(topic, p): p for p in partitions}
        consumer.assign(list(tps))
        consumer.seek_to_beginning(*tps)
        open_tps = set(tps)
        deadline = time.monotonic() + timeout_s
        while open_tps:
            if time.monotonic() > deadline:
                raise BrokerError(f"reading {topic} {sorted(tps[t] for t in open_tps)} timed out")
            fetched = consumer.poll(timeout_ms=200, max_records=5000)
            for tp, records in fetched.items():
                latest = out[tps[tp]]
                for r in records:
                    if r.key is not None:
                        latest[r.key] = KeyedValue(r.offset, r.value, dict(r.headers or ()))
            open_tps = {tp for tp in open_tps if not _read_to_end(consumer, tp)}
        return out
    except KafkaError as exc:
        raise BrokerError(f"reading {topic} failed: {exc}") from exc
    finally:
        consumer.close(autocommit=False)


def _read_to_end(consumer: KafkaConsumer, tp: TopicPartition) -> bool:
    """Whether the consumer's position has reached the partition's high watermark, as
    the last fetch answer gave it (unknown until one came: not at the end).

    The watermark of the fetch answers, not `end_offsets`: Tansu answers ListOffsets
    with an offset short of the end when records came in one batch."""
    end = consumer.highwater(tp)
    return end is not None and consumer.position(tp) >= end


def scan(
    client_options: Mapping[str, Any],
    *,
    topic: str,
    partition: int,
    start: int,
    timeout_s: float = 30.0,
) -> list[tuple[int, bytes | None, bytes | None]]:
    """(offset, key, value) of one partition from `start` to its high watermark (waited
    for, as in `read_latest`, up to `timeout_s`, then `BrokerError`)."""
    consumer = _connect(client_options, enable_auto_commit=False, fetch_max_wait_ms=100)
    out: list[tuple[int, bytes | None, bytes | None]] = []
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, start)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            fetched = consumer.poll(timeout_ms=200, max_records=5000)
            for records in fetched.values():
                out.extend((r.offset, r.key, r.value) for r in records)
            if _read_to_end(consumer, tp):
                return out
        raise BrokerError(f"reading {topic}[{partition}] from {start} timed out")
    except KafkaError as exc:
        raise BrokerError(f"reading {topic}[{partition}] failed: {exc}") from exc
    finally:
        consumer.close(autocommit=False)
