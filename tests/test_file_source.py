from __future__ import annotations

from pathlib import Path

import orjson

from stormwatch.ingest.file_source import FileSource


def write(path: Path, times: list[float], extra: list[bytes] = ()) -> None:  # type: ignore[assignment]
    lines = [
        orjson.dumps({"id": str(i), "text": "x", "created_at": t, "brand": "b"})
        for i, t in enumerate(times)
    ]
    path.write_bytes(b"\r\n".join(lines + list(extra)) + b"\n")


def test_lines_come_as_bytes_without_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write(path, [1772442902.0, 1772442903.0], [b"\xff\xfe not utf-8"])
    source = FileSource(path)
    lines = list(source.lines())
    assert len(lines) == 3 and lines[2] == b"\xff\xfe not utf-8"
    assert all(not line.endswith((b"\r", b"\n")) for line in lines)
    assert source.bytes_read == path.stat().st_size == source.size()


def test_speed_paces_in_event_time(tmp_path: Path) -> None:
    """At speed 60 an hour of comments takes a minute: sleeps follow event-time gaps."""
    path = tmp_path / "c.jsonl"
    t0 = 1772442902.0
    write(path, [t0, t0 + 60, t0 + 60, t0 + 3600], [b"{broken"])
    lines, slept = paced(path)
    assert lines == 5  # the broken line passes through unpaced
    assert slept == [1.0, 59.0]


def paced(path: Path, speed: float = 60) -> tuple[int, list[float]]:
    """The lines of `path` read at `speed` on a fake clock, and the sleeps taken."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    source = FileSource(path, speed=speed, sleep=sleep, clock=lambda: now[0])
    return len(list(source.lines())), slept


def test_full_speed_never_sleeps(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write(path, [1772442902.0, 1772446502.0])
    source = FileSource(path, sleep=lambda s: (_ for _ in ()).throw(AssertionError("slept")))
    assert len(list(source.lines())) == 2


def test_a_byte_order_mark_does_not_cost_the_first_comment(tmp_path: Path) -> None:
    """Files saved by Excel, Notepad or PowerShell start with a BOM: the first comment
    was dead-lettered `invalid_json`."""
    from stormwatch.ingest.decode import Decoder
    from stormwatch.model import Comment

    record = b'{"id": "1", "text": "hi", "created_at": 1700000000, "brand": "acme"}'
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + record + b"\r\n" + record.replace(b'"1"', b'"2"'))
    decoded = [Decoder().decode(line) for line in FileSource(path).lines()]
    assert [type(c) for c in decoded] == [Comment, Comment]


def test_a_stray_first_line_far_behind_does_not_stall_a_paced_run(tmp_path: Path) -> None:
    """A first line stamped a year before the rest made every later line due a year
    ahead at speed 60: 60 s of sleep per line, for ever. The pace starts again from
    the first line due more than an hour of wall time ahead."""
    path = tmp_path / "c.jsonl"
    t0 = 1772442902.0
    write(path, [t0 - 365 * 86400, t0, t0 + 60, t0 + 120, t0 + 180])
    assert paced(path) == (5, [60.0, 1.0, 1.0, 1.0])
    # A stray a week ahead: one minute's sleep, then the lines after it paced again.
    write(path, [t0, t0 + 60, t0 + 7 * 86400, t0 + 120, t0 + 180])
    assert paced(path) == (5, [1.0, 60.0, 1.0])


def test_a_gap_cut_to_a_minute_leaves_the_lines_after_it_paced(tmp_path: Path) -> None:
    """Three hours of event time at speed 60 wait one minute, not three: the lines
    after the gap come at their own pace (each waited another minute while the whole
    gap was served: 30 s of event time took a minute of wall time)."""
    path = tmp_path / "c.jsonl"
    t0 = 1772442902.0
    write(path, [t0, t0 + 3 * 3600, t0 + 3 * 3600 + 30, t0 + 3 * 3600 + 90])
    assert paced(path) == (4, [60.0, 0.5, 1.0])
