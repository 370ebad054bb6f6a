"""Dead-letter output: every record that could not be decoded, as it came, with a reason.

JSONL, one object per record: `reason` (machine-readable code), `detail`, `source`
(file and line, or topic/partition/offset) and `line`, the original text; a record that
is not valid UTF-8 keeps its exact bytes in `line_base64` instead.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import IO

import orjson

from stormwatch.model import DeadLetter


def dead_letter_json(letter: DeadLetter) -> dict[str, str]:
    out = {"reason": letter.reason, "detail": letter.detail, "source": letter.source}
    try:
        out["line"] = letter.raw.decode("utf-8")
    except UnicodeDecodeError:
        out["line_base64"] = base64.b64encode(letter.raw).decode("ascii")
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
