"""Alert sinks: where alert events go (JSONL file, memory, the incident store).

All take the same `AlertEvent`; a sink that fails raises, and the caller decides.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

import orjson
from rich.markup import escape

from stormwatch.alerts.event import AlertEvent, event_identity

if TYPE_CHECKING:
    from stormwatch.ports import AlertSink


class RecordingSink(Protocol):
    """A sink that records events in the incident store: whether the last one it
    emitted was recorded for the first time."""

    last_new: bool


def one_line(console: object) -> dict[str, object]:
    """Print options that keep a line on one line, cut to the width, when the output is
    piped or the terminal is narrow (a wrapped alert line breaks `grep` and the eye)."""
    terminal = getattr(console, "is_terminal", True)
    if terminal and getattr(console, "width", 200) >= 100:
        return {}
    return {"no_wrap": True, "overflow": "ellipsis"}


class JsonlAlertSink:
    """Alert events, one JSON object per line, flushed per event (alerts are rare and
    someone may be tailing the file).

    `skip_known` (a file appended to by a run that resumes from a checkpoint): an event
    already in the file is not written again, and every event is offered, not only
    those the store recorded for the first time. The file is then complete on its own:
    an event the store recorded just before a crash, or before the write to the file
    failed (a full disk), is written when the resumed run emits it again, and one
    written just before a crash is not written twice."""

    def __init__(self, path: str | Path, *, append: bool = False, skip_known: bool = False) -> None:
        self.path = str(path)
        self.known: set[tuple[object, ...]] | None = None
        if skip_known and self.path != "-" and _rereadable(Path(self.path)):
            self.known = _written(Path(self.path))
        mode = "ab" if append else "wb"
        self._file: IO[bytes] = (
            sys.stdout.buffer if self.path == "-" else open(self.path, mode)  # noqa: SIM115
        )

    @property
    def skips_known(self) -> bool:
        return self.known is not None

    def emit(self, event: AlertEvent) -> None:
        fields = event.to_json_dict()
        if self.known is not None:
            identity = event_identity(fields)
            if identity in self.known:
                return
            self.known.add(identity)
        self._file.write(orjson.dumps(fields) + b"\n")
        self._file.flush()

    def close(self) -> None:
        if self.path != "-":
            self._file.close()


def _rereadable(path: Path) -> bool:
    """A regular file, or none yet: what a resumed run can read back. Reading a pipe
    (`/dev/stdout` into `| jq`, a FIFO) waited for ever for its own writer."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return True


def _written(path: Path) -> set[tuple[object, ...]]:
    """The identities of the events in an alerts file; a line a crash cut short is cut
    off (the event is written whole when it comes again)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return set()
    whole = data[: data.rfind(b"\n") + 1]
    if len(whole) < len(data) and path.is_file():
        with open(path, "r+b") as torn:
            torn.truncate(len(whole))
    known = set()
    for line in whole.splitlines():
        try:
            fields = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(fields, dict):
            known.add(event_identity(fields))
    return known


class NewEventsOnly:
    """A sink that sees only the events the incident store recorded for the first time
    (`recorder`: the store's sink, which emits before it and says whether its last
    event was new). A run resumed from its checkpoint emits again the events that came
    after it; the store knows them, and a console must not show them twice. A file that
    skips what it holds already (`JsonlAlertSink.skips_known`) sees every event."""

    def __init__(self, sink: AlertSink, recorder: RecordingSink) -> None:
        self.sink = sink
        self.recorder = recorder

    def emit(self, event: AlertEvent) -> None:
        if self.recorder.last_new or getattr(self.sink, "skips_known", False):
            self.sink.emit(event)

    def close(self) -> None:
        self.sink.close()


class MemoryAlertSink:
    def __init__(self) -> None:
        self.events: list[AlertEvent] = []

    def emit(self, event: AlertEvent) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


class ConsoleAlertSink:
    """One line per incident event, as it happens, for a person watching the run."""

    STYLE = {
        "opened": "bold red",
        "escalated": "bold magenta",
        "updated": "yellow",
        "resolved": "green",
    }

    def __init__(self, console: object, *, show_updates: bool = False) -> None:
        self.console = console
        self.show_updates = show_updates

    def emit(self, event: AlertEvent) -> None:
        if event.event == "updated" and not self.show_updates:
            return
        style = self.STYLE.get(event.event, "")
        at = event.to_json_dict()["at"][:16].replace("T", " ")
        self.console.print(  # type: ignore[attr-defined]
            f"[{style}]{event.event:>9}[/{style}] {at} {event.severity:<8} {escape(event.summary)}",
            highlight=False,
            **one_line(self.console),
        )

    def close(self) -> None:
        pass
