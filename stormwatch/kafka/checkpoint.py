"""Per-partition pipeline state, snapshotted to a compacted changelog topic and restored.

A worker runs one `Pipeline` per input partition. Its state — windows, brand baselines
and detectors, open incidents, the ids seen within the lateness horizon, the run counts —
is pure Python; `snapshot()` takes exactly those attributes (not the sinks, observer,
enricher, decoder, clock or playbook matcher, which the new owner wires itself) and
`restore()` puts them into a freshly built pipeline.

A snapshot also carries `next_offset`, the first input offset it does not cover. On
restore the worker seeks there, whatever the committed group offset says: a crash
between writing the changelog and committing offsets then costs nothing, the state and
its position always travel together.

Layout in changelog partition p (same number as the input partition), compaction-safe:
- chunk records, key `p/slot/i`: the zlib-compressed pickle, cut into pieces under the
  broker's message size limit;
- then one manifest record, key `p`: JSON with the sequence number, slot, chunk count,
  SHA-256 and `next_offset`.
Successive checkpoints alternate between two slots, so the chunks the latest manifest
points at are never overwritten by a checkpoint that crashed before its own manifest
(compaction keeps only the latest record per key; a single slot could lose them). A
checkpoint with fewer chunks than its slot held before writes tombstones (no value) for
the chunks past its own: else those older chunks, with the comments in them, would stay
in the compacted topic for good.

Trust: the state is a pickle. Only stormwatch workers may write the changelog topic
(grant write on it to their principal alone, as for Kafka Streams' internal topics).
"""

from __future__ import annotations

import hashlib
import pickle
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from stormwatch.detectors.monitor import ThresholdTable
from stormwatch.exceptions import ConfigError, StormwatchError
from stormwatch.key_window import MINUTE
from stormwatch.model import dedupe_key, platform_name
from stormwatch.pipeline import Pipeline, RunStats

FORMAT = 1
CHUNK_BYTES = 900_000  # below the 1 MB default message.max.bytes, with room for headers
SEQ_HEADER = "stormwatch-seq"


class CheckpointError(StormwatchError):
    """A checkpoint could not be written or restored; nothing was committed."""


def snapshot(pipeline: Pipeline) -> dict[str, Any]:
    """The picklable state of a pipeline (references shared between parts are kept)."""
    return {
        "windows": pipeline.windows,
        "brands": pipeline.brands,
        # Detection's state: brand baselines and tests, thread tests, which brands sleep.
        "judge": pipeline.judge,
        "open": pipeline.tracker.open,
        "history": pipeline.tracker.history,
        # Recent resolutions: a storm's tail is not a new incident, and a storm back
        # within half a day reopens its incident (`IncidentTracker._tail`, `_reopen`).
        "resolved": pipeline.tracker.resolved,
        "returning": pipeline.tracker.returning,
        "seen_ids": pipeline.seen_ids,
        "bare_ids_until": pipeline.bare_ids_until,
        "platforms_folded": True,  # platforms in lower case (`_platforms_read_as_now`)
        "stats": pipeline.stats,
        "suppressed": pipeline.decisions.suppressed,
        "suppressing": pipeline.decisions.suppressing,
        # The bar a surge like a dismissed one keeps while it lasts: recomputed after a
        # restart from the drifted surge, it could fall to 0 and the surge page.
        "dismissed_bars": pipeline.decisions._dismissed_bars,
        "next_eviction_minute": pipeline._next_eviction_minute,
        # Keys waiting for an early look, so a replay looks when the first run did.
        "early": (pipeline.early_brands, pipeline.early_threads, pipeline.early_at),
        # Whether the authors in it are pseudonyms (`restore` refuses a mix).
        "pseudonymized": pipeline.pseudonymize is not None,
    }


def restore(pipeline: Pipeline, state: Mapping[str, Any]) -> None:
    """Put a snapshot's state into `pipeline`, built with this process's wiring.
    ConfigError, changing nothing, for a checkpoint written with privacy off into a
    pipeline with it on: its windows, mentions, incidents and held alerts carry the
    authors as they came, and new alerts showed them beside the pseudonyms."""
    if pipeline.pseudonymize is not None and state.get("pseudonymized") is False:
        raise ConfigError(
            "the checkpoint was written with pseudonymize_authors off and holds author ids "
            "as they came: resume with it off, or start with it on from a new store"
        )
    pipeline.windows = state["windows"]
    # This process's settings, not those the checkpoint's objects were built with: a
    # changed `min_accounts`, `lateness_seconds` or false-alarm budget was ignored by
    # every restored partition, and saved again with each later checkpoint.
    settings = pipeline.settings
    pipeline.windows.lateness = settings.lateness_seconds
    pipeline.windows.idle_eviction = settings.thread_idle_seconds
    # Where the next minute closes, as the pipeline that wrote the checkpoint had it: left
    # at its start value, the first record after a restore ran one closing step more than
    # an uninterrupted run (the far-ahead tolerance learned an extra gap), and a record
    # that ran in its own minute came late.
    next_minute = pipeline.windows.next_minute
    if next_minute is not None:
        pipeline._close_at = (next_minute + 1) * MINUTE + pipeline.windows.lateness
    # Privacy on now: held records of an older checkpoint may still carry raw authors.
    pipeline.pseudonymize_held()
    judge = state.get("judge")
    if judge is not None:
        pipeline.judge = judge
    else:  # a checkpoint from before the judge was saved: its brands, all awake
        judge = pipeline.judge
        judge.brands = state["brands"]
        for order, brand_state in enumerate(judge.brands.values(), 1):
            if not hasattr(brand_state, "asleep_since"):
                brand_state.asleep_since = -1
                brand_state.order = order
        judge.awake = dict(judge.brands)
        judge._created = len(judge.brands)
    judge = pipeline.judge
    judge.min_accounts = settings.min_accounts
    if judge.table.budget != settings.false_alarms_per_month:
        judge.table = ThresholdTable(settings.false_alarms_per_month)
        judge.forget_thresholds()
    pipeline.brands = pipeline.judge.brands
    pipeline.decisions.judge = pipeline.judge
    pipeline.tracker.open = state["open"]
    pipeline.note_open_incidents()
    pipeline.tracker.history = state["history"]
    # (A checkpoint from before they were saved: no resolution remembered, as then.)
    pipeline.tracker.resolved = state.get("resolved", {})
    pipeline.tracker.returning = state.get("returning", {})
    pipeline.seen_ids = state["seen_ids"]
    if "bare_ids_until" in state:
        pipeline.bare_ids_until = state["bare_ids_until"]
    else:
        # A checkpoint from before dedupe counted platforms: its ids are bare, whatever the
        # comment's platform. They match an id on any platform (as they did) until they
        # age out; the held ones are keyed anew (platform and id) from what is held.
        pipeline.bare_ids_until = max(pipeline.seen_ids.values(), default=None)
        windows = pipeline.windows
        windows.held_ids = {dedupe_key(record.comment) for _, _, record in windows.held}
    if not state.get("platforms_folded"):
        _platforms_read_as_now(pipeline)
    pipeline.stats = state["stats"]
    pipeline.decisions.suppressed = state["suppressed"]
    pipeline.decisions.suppressing = state["suppressing"]
    pipeline.decisions._dismissed_bars = state.get("dismissed_bars", {})
    pipeline._next_eviction_minute = state["next_eviction_minute"]
    if "early" in state:  # else a checkpoint from before early looks: nothing waits
        pipeline.early_brands, pipeline.early_threads, pipeline.early_at = state["early"]
    hold(pipeline)


def hold(pipeline: Pipeline) -> None:
    """`pipeline`'s open incidents are this process's now (restored, or a partition back):
    the metrics observer's open-incident gauge counts them, and its event-time and key
    gauges start from the restored stream (not from zero: the dashboards' event-time lag
    read 56 years after a restart, until the next comment)."""
    held = getattr(pipeline.observer, "incidents_held", None)
    if held is not None:
        held(pipeline.tracker.open.values())
    restored = getattr(pipeline.observer, "stream_restored", None)
    if restored is not None:
        windows = pipeline.windows
        restored(
            newest_event=windows.max_event_time,
            brands=len(windows.brands),
            threads=len(windows.threads),
        )


def let_go(pipeline: Pipeline) -> None:
    """A worker gave up `pipeline`'s partition: its open incidents are its new owner's."""
    let_go = getattr(pipeline.observer, "incidents_let_go", None)
    if let_go is not None:
        let_go(pipeline.tracker.open.values())
    brands_let_go = getattr(pipeline.observer, "brands_let_go", None)
    if brands_let_go is not None:
        brands_let_go(list(pipeline.windows.brands))


@dataclass(slots=True, frozen=True)
class Record:
    key: bytes
    value: bytes | None  # None: a tombstone
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(slots=True)
class Checkpoint:
    """A decoded checkpoint of one partition."""

    partition: int
    seq: int
    next_offset: int
    state: dict[str, Any]

    @property
    def stats(self) -> RunStats:
        return self.state["stats"]


def manifest_key(partition: int) -> bytes:
    return str(partition).encode()


def encode(
    partition: int,
    *,
    seq: int,
    next_offset: int,
    state: Mapping[str, Any],
    chunk_bytes: int = CHUNK_BYTES,
    chunks_before: int = 0,
) -> list[Record]:
    """The records of checkpoint `seq` of `partition`, chunks first, manifest last.
    `chunks_before`: how many chunks its slot holds from an earlier checkpoint; those
    past this one's own get tombstones (`chunks_written` counts this one's)."""
    blob = zlib.compress(pickle.dumps(dict(state), protocol=pickle.HIGHEST_PROTOCOL), 1)
    slot = seq % 2
    pieces = [blob[i : i + chunk_bytes] for i in range(0, len(blob), chunk_bytes)] or [b""]
    seq_header = (SEQ_HEADER, str(seq).encode())
    records = [
        Record(f"{partition}/{slot}/{i}".encode(), piece, (seq_header,))
        for i, piece in enumerate(pieces)
    ]
    records.extend(
        Record(f"{partition}/{slot}/{i}".encode(), None, (seq_header,))
        for i in range(len(pieces), chunks_before)
    )
    stats: RunStats = state["stats"]
    manifest = {
        "format": FORMAT,
        "partition": partition,
        "seq": seq,
        "slot": slot,
        "chunks": len(pieces),
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "next_offset": next_offset,
        # Readable without unpickling, for operators and tests.
        "read": stats.read,
        "processed": stats.processed,
        "dead_lettered": stats.dead_lettered,
    }
    records.append(Record(manifest_key(partition), orjson.dumps(manifest), (seq_header,)))
    return records


def chunks_written(records: list[Record]) -> int:
    """How many chunks the records of one `encode` hold (tombstones and manifest aside)."""
    return sum(1 for r in records[:-1] if r.value is not None)


def chunks_held(
    partition: int, latest: Mapping[bytes, tuple[bytes | None, Mapping[str, bytes]]]
) -> list[int]:
    """Per slot, how many chunk keys of `partition` hold a value in `latest` (one past
    the highest such index): what the next checkpoint in that slot may leave behind."""
    held = [0, 0]
    prefix = f"{partition}/".encode()
    for key, (value, _) in latest.items():
        if value is None or not key.startswith(prefix):
            continue
        parts = key[len(prefix) :].split(b"/")
        if len(parts) == 2 and parts[0] in (b"0", b"1") and parts[1].isdigit():
            slot = int(parts[0])
            held[slot] = max(held[slot], int(parts[1]) + 1)
    return held


def _platform_key(key: str) -> str:
    r"""A dedupe key with its platform as ingest reads it now (lower case, no surrounding
    spaces; `ingest.decode`).

    >>> _platform_key("Facebook \x00c-1"), _platform_key("c-2"), _platform_key(" \x00c-3")
    ('facebook\x00c-1', 'c-2', 'c-3')
    """
    platform, sep, rest = key.partition("\x00")
    if not sep:
        return key
    name = platform_name(platform)
    return name + sep + rest if name else rest


def _platforms_read_as_now(pipeline: Pipeline) -> None:
    """Remembered ids and held comments of a checkpoint written before platforms were
    read in lower case: "Facebook" kept, a redelivery as "facebook" was not recognised
    for the week the id is remembered, and counted twice. (Called only for such a
    checkpoint: the rewrite reads every remembered id, up to a million.)"""
    pipeline.seen_ids = {_platform_key(key): minute for key, minute in pipeline.seen_ids.items()}
    windows = pipeline.windows
    for _, _, record in windows.held:
        platform = record.comment.platform
        if platform is not None:
            record.comment.platform = platform_name(platform)
    windows.held_ids = {_platform_key(key) for key in windows.held_ids}


def decode(
    partition: int, latest: Mapping[bytes, tuple[bytes | None, Mapping[str, bytes]]]
) -> Checkpoint | None:
    """The latest complete checkpoint of `partition` from the latest value per key of
    its changelog partition (`key -> (value, headers)`); None when there is none."""
    entry = latest.get(manifest_key(partition))
    if entry is None or entry[0] is None:
        return None
    # A damaged changelog is one line naming the partition, never a traceback.
    try:
        manifest = orjson.loads(entry[0])
    except orjson.JSONDecodeError:
        raise CheckpointError(
            f"checkpoint of partition {partition}: its manifest is not JSON"
        ) from None
    if not isinstance(manifest, dict):
        raise CheckpointError(f"checkpoint of partition {partition}: its manifest is not an object")
    if manifest.get("format") != FORMAT:
        raise CheckpointError(
            f"checkpoint of partition {partition} has format {manifest.get('format')}, "
            f"this stormwatch reads format {FORMAT}"
        )
    missing = [k for k in ("seq", "slot", "chunks", "sha256", "next_offset") if k not in manifest]
    if missing:
        raise CheckpointError(
            f"checkpoint of partition {partition}: its manifest has no {', '.join(missing)}"
        )
    seq, slot = manifest["seq"], manifest["slot"]
    for field in ("seq", "chunks", "next_offset"):
        if type(manifest[field]) is not int or manifest[field] < 0:
            raise CheckpointError(
                f"checkpoint of partition {partition}: its {field} is not a count "
                f"({manifest[field]!r})"
            )
    pieces = []
    for i in range(manifest["chunks"]):
        chunk = latest.get(f"{partition}/{slot}/{i}".encode())
        if chunk is None or chunk[0] is None or chunk[1].get(SEQ_HEADER) != str(seq).encode():
            raise CheckpointError(f"checkpoint {seq} of partition {partition}: chunk {i} missing")
        pieces.append(chunk[0])
    blob = b"".join(pieces)
    if hashlib.sha256(blob).hexdigest() != manifest["sha256"]:
        raise CheckpointError(f"checkpoint {seq} of partition {partition}: checksum mismatch")
    try:
        state = pickle.loads(zlib.decompress(blob))  # noqa: S301 - our own changelog, see module doc
    except Exception as error:  # noqa: BLE001 - whatever it is, one line naming the partition
        # Not zlib, not a pickle, or one of another stormwatch version (a class it names
        # that this one lacks, after a rollback): one line, not a traceback.
        raise CheckpointError(
            f"checkpoint {seq} of partition {partition} cannot be read by this stormwatch: "
            f"{type(error).__name__}: {error}"
        ) from None
    return Checkpoint(partition, seq, manifest["next_offset"], state)
