"""Dead-letter output: every record that could not be decoded, as it came, with a reason.

JSONL, one object per record: `reason` (machine-readable code), `detail`, `source`
(file and line, or topic/partition/offset) and `line`, the original text; a record that
is not valid UTF-8 keeps its exact bytes in `line_base64` instead. A record longer than
4 KiB keeps only its first 4 KiB, with `truncated: true` and its `size` in bytes.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Callable
from dataclasses import replace as replace_letter
from pathlib import Path
from typing import IO, Any

import orjson

from stormwatch.ingest.decode import DEAD_LETTER_BYTES
from stormwatch.model import DeadLetter

# The value of an "author_id" key in a record that did not parse: a string (perhaps cut
# off by truncation) or a bare number.
_AUTHOR_VALUE = re.compile(rb'("author_id"\s*:\s*)("(?:[^"\\]|\\.)*(?:"|\\?$)|-?[0-9][0-9.eE+-]*)')


# Anything in a record's bytes that looks like an author key: `"author_id":`, a Python
# repr's `'author_id':`, an escaped `"author\u005fid":`, `"authorId":`.
_AUTHOR_KEY = re.compile(rb"""author[^"'\s:,{}]{0,16}["']\s*:""", re.IGNORECASE)


def pseudonymize_letter(letter: DeadLetter, pseudonymize: Callable[[str], str]) -> DeadLetter:
    """The dead letter with its author id replaced by the pseudonym ingest would have
    given it (privacy on): see `pseudonymize_record`. Fails closed: a record that still
    names an author after that (a Python repr, an author object in a record cut at 4 KiB
    or broken by a stray comma) is withheld, its reason, detail, source and size kept."""
    new = pseudonymize_record(letter.raw, pseudonymize)
    if new is None:
        size = len(letter.raw) if letter.size is None else letter.size
        return replace_letter(letter, raw=b"", size=size, withheld=True)
    if new is letter.raw:
        return letter
    return replace_letter(letter, raw=new, size=letter.size)


def pseudonymize_record(raw: bytes, pseudonymize: Callable[[str], str]) -> bytes | None:
    """The record's bytes with its author id replaced by the pseudonym ingest would have
    given it: a record that parses (NaN and integers of any size as they are, a JSON
    string holding a record too) gets the id at its `author_id` key, at any depth; one
    that does not (invalid JSON, cut to 4 KiB, not UTF-8) wherever an `"author_id"` key
    with a plain value shows in its bytes. `raw` itself (the same object) when there was
    nothing to replace; None when an author may still show (withhold it)."""
    if b"author" not in raw.lower():
        return raw
    try:
        # The standard parser, not orjson: integers past 64 bits stay exact (orjson read
        # them as floats, and the author got another pseudonym than ingest gives it),
        # and NaN parses (a record refused for it still had its author replaced).
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        obj = None
    if isinstance(obj, str):  # a record encoded twice: its author sits inside the string
        inner = pseudonymize_record(obj.encode("utf-8", "surrogatepass"), pseudonymize)
        if inner is None:
            return None
        return raw if inner == obj.encode("utf-8", "surrogatepass") else _dumps(inner.decode())
    if isinstance(obj, dict | list):
        # At any depth, whatever its type: a producer that wraps its comments
        # ({"comment": {...}}) or sends the author as {"id", "name"} leaked them all.
        if not _pseudonymize_authors(obj, pseudonymize):
            return raw if b"author_id" not in raw else None
        return _dumps(obj)
    if obj is not None:  # a number, true, null: nothing in it names anyone
        return raw

    replaced = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal replaced
        replaced += 1
        value = match.group(2)
        try:
            author = json.loads(value)
        except ValueError:
            author = value.decode("utf-8", "replace").lstrip('"')  # cut off
        return match.group(1) + orjson.dumps(pseudonymize(str(author)))

    new = _AUTHOR_VALUE.sub(replace, raw)
    if len(_AUTHOR_KEY.findall(new)) > replaced:
        return None  # an author key this could not replace: fail closed
    return raw if new == raw else new


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def _pseudonymize_authors(value: Any, pseudonymize: Callable[[str], str]) -> bool:
    """Replace, in place, every `author_id` in `value` by its pseudonym (a value that is
    no string by that of its JSON); whether any was."""
    changed = False
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "author_id" and item is not None:
                text = (
                    item
                    if isinstance(item, str)
                    # exact for integers past 64 bits (orjson refuses them)
                    else json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                )
                value[key] = pseudonymize(text)
                changed = True
            else:
                changed |= _pseudonymize_authors(item, pseudonymize)
    elif isinstance(value, list):
        for item in value:
            changed |= _pseudonymize_authors(item, pseudonymize)
    return changed


def appendable(path: Path) -> Path:
    """`path`, its directory made, opened once for appending: a dead-letter file that
    could not be written stopped a collector at its first dead letter, after its page
    was sent and before its cursor was committed. OSError when it cannot be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab"):
        pass
    return path


def dead_letter_json(letter: DeadLetter) -> dict[str, str | int | bool]:
    out: dict[str, str | int | bool] = {
        "reason": letter.reason,
        "detail": letter.detail,
        "source": letter.source,
    }
    if letter.withheld:
        out["withheld"] = True
        out["size"] = len(letter.raw) if letter.size is None else letter.size
        return out
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
    """Dead letters appended to a JSONL file (or written to stdout for `-`).

    Appended, never truncated, like the alerts file: a run or service resumed from a
    checkpoint goes on counting dead letters from the checkpoint's count, so the file
    must still hold the letters written before the restart. A run without a checkpoint
    appends too (one rule, and nothing a person kept is ever wiped); start a fresh file
    by giving a new path."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._file: IO[bytes] = (
            sys.stdout.buffer if self.path == "-" else open(self.path, "ab")  # noqa: SIM115
        )
        self.count = 0

    def write(self, letter: DeadLetter) -> None:
        self._file.write(orjson.dumps(dead_letter_json(letter)) + b"\n")
        self.count += 1

    def flush(self) -> None:
        """Before a checkpoint counts the records as done: letters still in the buffer
        at a crash were lost, and the restart resumed after their records."""
        self._file.flush()

    def close(self) -> None:
        self._file.flush()
        if self.path != "-":
            self._file.close()
