"""Dead-letter output: every record that could not be decoded, as it came, with a reason.

JSONL, one object per record: `reason` (machine-readable code), `detail`, `source`
(file and line, or topic/partition/offset) and `line`, the original text; a record that
is not valid UTF-8 keeps its exact bytes in `line_base64` instead. A record longer than
4 KiB keeps only its first 4 KiB, with `truncated: true` and its `size` in bytes.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import IO

import orjson

from stormwatch.ingest.decode import DEAD_LETTER_BYTES
from stormwatch.model import DeadLetter


def dead_letter_json(letter: DeadLetter) -> dict[str, str | int | bool]:
    out: dict[str, str | int | bool] = {
        "reason": letter.reason,
        "detail": letter.detail,
        "source": letter.source,
    }
    raw = letter.raw
    size = len(raw) if letter.size is None else letter.size
    truncated = size > len(raw) or len(raw) > DEAD_LETTER_BYTES
    if truncated:
        raw = raw[:DEAD_LETTER_BYTES]
        out["truncated"] = True
        out["size"] = size
    try:
        out["line"] = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut may split the last character: drop its bytes, not the whole line.
        if truncated and exc.start >= len(raw) - 3:
            out["line"] = raw[: exc.start].decode("utf-8", "replace")
        else:
            out["line_base64"] = base64.b64encode(raw).decode("ascii")
    return out


class JsonlDeadLetters:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._file: IO[bytes] = (
            sys.stdout.buffer if self.path == "-" else open(self.path, "wb")  # noqa: SIM115
        )
        self.count = 0

    def write(self, letter: DeadLetter) -> None:
        self._file.write(orjson.dumps(dead_letter_json(letter)) + b"\n")
        self.count += 1

    def close(self) -> None:
        self._file.flush()
        if self.path != "-":
            self._file.close()
