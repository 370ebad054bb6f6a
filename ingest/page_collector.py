"""Collectors that hand over one page at a time and remember where they are.

A page collector (Mastodon, Bluesky) yields `Page`s: the records of one API page in the
input contract, and the items of that page it could not map (`DeadLetter`s with a
reason). The caller delivers a page, then calls `commit()`, which writes the collector's
cursor (`CursorFile`, replaced atomically) as it stood after that page. So a restart goes
on after the last delivered page: nothing is lost, and nothing is read twice except the
one page delivered but not yet committed when a process died (the pipeline dedupes ids).

`run_page_collector` is that loop for `stormwatch collect`: pages to the destination,
dead letters appended to a JSONL file, one summary line per poll.
"""

from __future__ import annotations

import importlib.util
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson
from rich.console import Console
from rich.markup import escape

from stormwatch.exceptions import StormwatchError
from stormwatch.ingest.dead_letters import dead_letter_json
from stormwatch.ingest.decode import MAX_TEXT_CHARS, record_json
from stormwatch.model import DeadLetter


class CollectorError(StormwatchError):
    """A platform refused or failed a request (the message says which and why)."""


@dataclass(slots=True)
class Page:
    """One API page: what maps to the input contract, and what does not."""

    records: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)


class PageCollector(Protocol):
    def pages(self) -> Iterator[Page]: ...

    def commit(self) -> None: ...


class CursorFile:
    """A collector's cursor as a JSON object in a file, written atomically (a crash leaves
    the old cursor or the new one, never half of one)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise CollectorError(f"cursor file {self.path} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise CollectorError(f"cursor file {self.path} does not hold a JSON object")
        return data

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cursor-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)


def missing_client(module: str) -> str | None:
    """Why a collector cannot run here, in one line: its platform's client library (the
    `collectors` extra) is not installed. Checked before the first poll, which would
    otherwise fail with an import traceback at every poll while serve looks healthy."""
    if importlib.util.find_spec(module) is None:
        return f"the {module} package is not installed: pip install 'stormwatch[collectors]'"
    return None


def dead_letter_item(item: Any, reason: str, detail: str, source: str) -> DeadLetter:
    """A dead letter holding an API item as JSON (dates and odd values as strings)."""
    return DeadLetter(orjson.dumps(item, default=str), reason, detail, source)


def withheld_item_letter(letter: DeadLetter) -> dict[str, str | int | bool]:
    """A collector's dead letter without the platform's item, for a pipeline that
    pseudonymises authors. The item is the platform's own JSON: its accounts sit in
    fields of each API's making (a YouTube channel id and display name, a Mastodon
    account, a Bluesky handle and DID, a Reddit user name), not the input contract's
    `author_id` that ingest pseudonymises, so no pseudonym could be trusted to cover
    them all; the reason, detail and source say what went wrong and where."""
    size = len(letter.raw) if letter.size is None else letter.size
    return {
        "reason": letter.reason,
        "detail": letter.detail,
        "source": letter.source,
        "withheld": True,
        "size": size,
    }


class Delivery(Protocol):
    def send(self, records: list[dict[str, Any]]) -> None: ...


@dataclass(slots=True)
class PollReport:
    records: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        letters = sum(self.dead_letters.values())
        reasons = ", ".join(f"{r}={n}" for r, n in self.dead_letters.most_common())
        return f"{self.records} new records, {letters} dead-lettered" + (
            f" ({reasons})" if reasons else ""
        )


def poll_once(
    collector: PageCollector,
    destination: Delivery,
    dead_letter_path: Path | None,
    *,
    withhold_items: bool = False,
) -> PollReport:
    """Every page the collector has now: delivered, dead letters written, then committed.

    `withhold_items`: dead letters keep their reason, detail and source but not the
    platform's item (`withheld_item_letter`), for a pipeline that pseudonymises authors."""
    report = PollReport()
    for page in collector.pages():
        destination.send(page.records)
        if page.dead_letters and dead_letter_path is not None:
            with open(dead_letter_path, "ab") as out:
                for letter in page.dead_letters:
                    line = (
                        withheld_item_letter(letter) if withhold_items else dead_letter_json(letter)
                    )
                    out.write(record_json(line) + b"\n")
        collector.commit()
        report.records += len(page.records)
        report.dead_letters.update(letter.reason for letter in page.dead_letters)
    return report


def run_page_collector(
    collector: PageCollector,
    destination: Delivery,
    *,
    dead_letter_path: Path | None,
    every: float,
    console: Console,
) -> int:
    """Poll until interrupted (or once when `every` is 0); the exit code: 1 when a poll
    failed and there is no next poll to retry it."""
    while True:
        try:
            report = poll_once(collector, destination, dead_letter_path)
            console.print(escape(report.line()), highlight=False)
        except StormwatchError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
            if not every:
                return 1
        if not every:
            return 0
        time.sleep(every)


# What a collector keeps of a longer text: a record must also stay under the decoder's
# MAX_RECORD_BYTES with its other fields, whatever the script of its text.
COLLECTED_TEXT_BYTES = 48 * 1024


def collected_text(text: str) -> str:
    """A platform's text cut to what the input contract takes (MAX_TEXT_CHARS, and
    COLLECTED_TEXT_BYTES as JSON), its end marked "…". A Reddit self-post or a full-text
    feed entry past 20,000 characters was dead-lettered `too_large`: the post a storm
    starts from was never counted, when its start says what it is about."""
    if len(text) * 6 + 2 <= COLLECTED_TEXT_BYTES:  # short: even all escaped it fits
        return text
    try:
        size = len(orjson.dumps(text))
    except TypeError:  # a lone surrogate: kept whole (`record_json` writes it)
        return text
    if len(text) <= MAX_TEXT_CHARS and size <= COLLECTED_TEXT_BYTES:
        return text
    cut = text[: MAX_TEXT_CHARS - 1]
    while (size := len(orjson.dumps(cut))) > COLLECTED_TEXT_BYTES - 3:  # "…": 3 bytes
        cut = cut[: int(len(cut) * (COLLECTED_TEXT_BYTES - 3) / size)]
    return cut + "…"
