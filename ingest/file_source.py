"""File and stdin source: JSONL lines, read as bytes so that encoding errors reach the
decoder (and the dead-letter output) instead of stopping the read.

With `speed`, lines are paced in event time (60 = an hour of comments per minute) so a
dashboard can be watched filling up; without it, a file is read at full speed, which is
what a backtest over last month's data wants.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from stormwatch.ingest.decode import (
    DEAD_LETTER_BYTES,
    MAX_RECORD_BYTES,
    Oversized,
    parse_event_time,
)

UTF8_BOM = b"\xef\xbb\xbf"
MAX_PACE_WAIT_S = 60.0  # the longest a paced line waits: a longer gap is cut to this
RE_ANCHOR_AFTER_S = 3600.0  # wall seconds a paced line may be due behind the clock


class FileSource:
    def __init__(
        self,
        path: str | Path,
        *,
        speed: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_line_bytes: int = MAX_RECORD_BYTES,
    ) -> None:
        self.path = str(path)
        self.max_line_bytes = max_line_bytes
        self.speed = speed
        self.sleep = sleep
        self.clock = clock
        self.bytes_read = 0

    @property
    def name(self) -> str:
        return "stdin" if self.path == "-" else Path(self.path).name

    def size(self) -> int | None:
        """Total bytes, for a progress bar; None for stdin."""
        if self.path == "-":
            return None
        return os.path.getsize(self.path)

    def lines(self) -> Iterator[bytes]:
        """The lines without their line ends. A line longer than `max_line_bytes` is
        never held whole: its first 4 KiB come out as `Oversized`, with its size, for
        the decoder to dead-letter as `too_large`; the rest is skipped while reading."""
        stream: BinaryIO = sys.stdin.buffer if self.path == "-" else open(self.path, "rb")  # noqa: SIM115
        try:
            pace = self._pacer() if self.speed else None
            readline = stream.readline
            limit = self.max_line_bytes + 2  # room for the line end
            first = True
            while line := readline(limit):
                self.bytes_read += len(line)
                if first:
                    first = False
                    # A byte order mark (Excel, Notepad, PowerShell) made the first
                    # comment a dead letter: orjson refuses it, rightly, inside JSON.
                    line = line.removeprefix(UTF8_BOM)
                if len(line) == limit and not line.endswith(b"\n"):
                    yield self._skip_rest(readline, line)
                    continue
                if line.endswith(b"\n"):
                    line = line[:-1]
                    if line.endswith(b"\r"):
                        line = line[:-1]
                if pace is not None:
                    pace(line)
                yield line
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()

    def _skip_rest(self, readline: Callable[[int], bytes], head: bytes) -> Oversized:
        size = len(head)
        head = head[:DEAD_LETTER_BYTES]
        while chunk := readline(1 << 20):
            self.bytes_read += len(chunk)
            size += len(chunk)
            end = 0
            if chunk.endswith(b"\n"):
                end = 2 if chunk.endswith(b"\r\n") else 1
                size -= end
            if len(head) < DEAD_LETTER_BYTES:  # a limit below 4 KiB: the copy keeps 4 KiB
                head += chunk[: len(chunk) - end][: DEAD_LETTER_BYTES - len(head)]
            if end:
                break
        return Oversized(head, size)

    def _pacer(self) -> Callable[[bytes], None]:
        assert self.speed
        speed = self.speed
        start_wall: float | None = None
        start_event = 0.0

        def pace(line: bytes) -> None:
            nonlocal start_wall, start_event
            try:
                event_time = parse_event_time(orjson.loads(line).get("created_at"))
            except Exception:  # noqa: BLE001 - bad lines are the decoder's business
                return
            if start_wall is None:
                start_wall, start_event = self.clock(), event_time
                return
            due = start_wall + (event_time - start_event) / speed
            delay = due - self.clock()
            if delay > 0:
                self.sleep(min(delay, MAX_PACE_WAIT_S))
            if delay > MAX_PACE_WAIT_S or delay < -RE_ANCHOR_AFTER_S:
                # A gap cut to a minute is a minute: the lines after it are paced from
                # here (measured from the old start, each waited another minute until
                # the whole gap was served). A first line stamped years behind the rest
                # (a stray) made every later line due years ahead; after one stamped far
                # ahead, the lines after it are as far behind: a gap no real pause
                # explains, either way, starts the pace again from here.
                start_wall, start_event = self.clock(), event_time

        return pace
