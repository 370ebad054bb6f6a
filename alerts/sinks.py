"""Alert sinks: where alert events go (JSONL file, memory, the incident store).

All take the same `AlertEvent`; a sink that fails raises, and the caller decides.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

import orjson
from rich.markup import escape

from stormwatch.alerts.event import AlertEvent

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
    someone may be tailing the file)."""

    def __init__(self, path: str | Path, *, append: bool = False) -> None:
        self.path = str(path)
        mode = "ab" if append else "wb"
        self._file: IO[bytes] = (
            sys.stdout.buffer if self.path == "-" else open(self.path, mode)  # noqa: SIM115
        )

    def emit(self, event: AlertEvent) -> None:
        self._file.write(orjson.dumps(event.to_json_dict()) + b"\n")
        self._file.flush()

    def close(self) -> None:
        if self.path != "-":
            self._file.close()


class NewEventsOnly:
    """A sink that sees only the events the incident store recorded for the first time
    (`recorder`: the store's sink, which emits before it and says whether its last
    event was new). A run resumed from its checkpoint emits again the events that came
    after it; the store knows them, and a file or a console must not show them twice."""

    def __init__(self, sink: AlertSink, recorder: RecordingSink) -> None:
        self.sink = sink
        self.recorder = recorder

    def emit(self, event: AlertEvent) -> None:
        if self.recorder.last_new:
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
