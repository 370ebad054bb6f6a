"""Hostile input (issue 11): numbers out of range, records that break processing,
oversized and unknown fields. Each case runs where the defect showed: the pipeline, the
`stormwatch run` command as a subprocess, or the file source."""

from __future__ import annotations

import functools
import os
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from stormwatch.ingest.decode import Decoder
from stormwatch.model import Comment, DeadLetter
from stormwatch.pipeline import Pipeline

T0 = 1_772_438_400.0  # 2026-03-02T08:00:00Z
MINUTE = 60.0
ANGRY = [
    "absolutely terrible service, I hate this",
    "worst company ever, shameful and awful",
    "you lied to us, disgusting behaviour",
    "I am furious, this is horrible",
    "pathetic, angry and disappointed",
]
CALM = ["love the new colours", "where can I buy this?", "great post, thanks", "looks nice"]


@functools.cache
def storm_rows() -> tuple[dict[str, object], ...]:
    """Three hours of calm talk about acme, then 40 minutes of a growing angry crowd on
    one post: enough to open an incident whose samples carry the storm's comments."""
    rng = random.Random(11)
    rows: list[dict[str, object]] = []
    for m in range(180):
        for _ in range(10):
            rows.append(
                {
                    "id": f"calm-{len(rows)}",
                    "text": rng.choice(CALM),
                    "created_at": T0 + m * MINUTE + rng.uniform(0, MINUTE),
                    "brand": "acme",
                    "thread_id": f"p{rng.randrange(6)}",
                    "author_id": f"u{rng.randrange(400)}",
                }
            )
    for m in range(40):
        for k in range(2 + m):
            rows.append(
                {
                    "id": f"storm-{m}-{k}",
                    "text": f"{rng.choice(ANGRY)} {rng.choice(ANGRY)}",
                    "created_at": T0 + (150 + m) * MINUTE + rng.uniform(0, MINUTE),
                    "brand": "acme",
                    "thread_id": "launch-post",
                    "author_id": f"angry-{m}-{k}",
                    "author_followers": 1000,
                }
            )
    rows.sort(key=lambda r: r["created_at"])  # type: ignore[arg-type, return-value]
    return tuple(rows)


def storm_lines(**storm_fields: object) -> list[bytes]:
    """The storm, with `storm_fields` set on every storm comment."""
    out = []
    for row in storm_rows():
        if str(row["id"]).startswith("storm-"):
            row = {**row, **storm_fields}
        out.append(orjson.dumps(row))
    return out


class Events:
    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, event) -> None:  # type: ignore[no-untyped-def]
        # What the JSONL sink and the store do with an event.
        self.events.append(orjson.loads(orjson.dumps(event.to_json_dict())))

    def close(self) -> None:
        pass


def stormwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "80"}
    for name in [n for n in env if n.startswith("STORMWATCH_")]:
        del env[name]
    return subprocess.run(
        [sys.executable, "-m", "stormwatch.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- 1. numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["1e20", "9223372036854775808", "18446744073709551621", "-1", "-1e20", "1e13", "1e308"],
)
def test_followers_out_of_range_are_dead_lettered(value: str) -> None:
    raw = b'{"id": "1", "text": "hi", "created_at": 1772438400, "brand": "acme", '
    raw += b'"author_followers": ' + value.encode() + b"}"
    out = Decoder(clock=lambda: T0).decode(raw)
    assert isinstance(out, DeadLetter) and out.reason == "out_of_range", out


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_followers_from_parsed_bodies_are_dead_lettered(value: float) -> None:
    obj = {"id": "1", "text": "hi", "created_at": T0, "brand": "acme", "author_followers": value}
    out = Decoder(clock=lambda: T0).decode_object(obj, raw=b"{}")
    assert isinstance(out, DeadLetter) and out.reason == "out_of_range", out


def test_followers_in_range_pass() -> None:
    decoder = Decoder(clock=lambda: T0)
    for value, expected in ((0, 0), (5000, 5000), (12.7, 12), (10**12, 10**12)):
        raw = orjson.dumps(
            {"id": "1", "text": "hi", "created_at": T0, "brand": "a", "author_followers": value}
        )
        out = decoder.decode(raw)
        assert isinstance(out, Comment) and out.author_followers == expected


def test_pipeline_with_huge_followers_emits_serialisable_alerts() -> None:
    sink = Events()
    pipeline = Pipeline(sinks=[sink], decoder=Decoder(clock=lambda: T0 + 86400))
    lines = storm_lines()
    poisoned = {i for i, line in enumerate(lines) if b"storm-" in line and i % 3 == 0}
    for i in poisoned:
        row = orjson.loads(lines[i])
        row["author_followers"] = 1e20
        lines[i] = orjson.dumps(row)
    pipeline.feed_lines(lines, "storm")
    stats = pipeline.finish()
    assert stats.read == stats.processed + stats.dead_lettered + stats.held
    assert stats.dead_letter_reasons["out_of_range"] == len(poisoned)
    assert any(e["event"] == "opened" for e in sink.events)


def test_run_with_huge_followers_does_not_crash(tmp_path: Path) -> None:
    lines = storm_lines(author_followers=1e20)
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = stormwatch(
        "run",
        "in.jsonl",
        "--alerts-jsonl",
        "alerts.jsonl",
        "--dead-letter",
        "dead.jsonl",
        "--db",
        f"sqlite:///{tmp_path / 'store.sqlite3'}",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    dead = [orjson.loads(x) for x in (tmp_path / "dead.jsonl").read_bytes().splitlines()]
    storm = sum(1 for line in lines if b"storm-" in line)
    assert len(dead) == storm and {d["reason"] for d in dead} == {"out_of_range"}


# -- 2. a record that fails in processing -------------------------------------------


class PoisonEnricher:
    """The real enricher, except that it raises on one text (a bug a record can hit)."""

    def __init__(self, inner, poison: str) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.poison = poison

    def enrich(self, text: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if text == self.poison:
            raise ZeroDivisionError("poisoned text")
        return self.inner.enrich(text, *args, **kwargs)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


def test_pipeline_dead_letters_a_poison_record_and_moves_on(caplog) -> None:  # type: ignore[no-untyped-def]
    from stormwatch.detectors.enrich import Enricher

    poison = "this text breaks enrichment"
    lines = storm_lines()
    poisoned = list(range(5, len(lines), 400))
    for i in poisoned:
        row = orjson.loads(lines[i])
        row["text"] = poison
        lines[i] = orjson.dumps(row)
    sink = Events()
    pipeline = Pipeline(
        sinks=[sink],
        enricher=PoisonEnricher(Enricher(), poison),  # type: ignore[arg-type]
        decoder=Decoder(clock=lambda: T0 + 86400),
    )
    with caplog.at_level("ERROR", logger="stormwatch.pipeline"):
        pipeline.feed_lines(lines, "storm")
        stats = pipeline.finish()
    assert stats.read == len(lines)
    assert stats.read == stats.processed + stats.dead_lettered + stats.held
    assert stats.dead_letter_reasons == {"processing_error": len(poisoned)}
    assert any(e["event"] == "opened" for e in sink.events)  # it went on to the storm
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1 and "ZeroDivisionError" in caplog.text
    # A failed record is not remembered: a redelivery is tried again.
    assert orjson.loads(lines[poisoned[0]])["id"] not in pipeline.seen_ids


# -- 3. bounds --------------------------------------------------------------------


def child_peak_rss_mb(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `stormwatch ARGS` in a fresh interpreter that reports its child's peak RSS."""
    script = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-m', 'stormwatch.cli', *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(r.returncode)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORMWATCH_")}
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env={**env, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, int(result.stdout.strip().splitlines()[-1]) / 1024


def test_a_200_mb_line_is_never_held_and_its_dead_letter_is_cut(tmp_path: Path) -> None:
    good = storm_lines()[:50]
    huge = b'{"id": "big", "text": "' + b"a" * (200 * 1024 * 1024) + b'"}'
    with open(tmp_path / "in.jsonl", "wb") as out:
        out.write(b"\n".join(good[:25]) + b"\n")
        out.write(huge + b"\n")
        out.write(b"\n".join(good[25:]) + b"\n")
    (tmp_path / "small.jsonl").write_bytes(b"\n".join(good) + b"\n")
    small, baseline = child_peak_rss_mb(
        "run", "small.jsonl", "--dead-letter", "dead-small.jsonl", cwd=tmp_path
    )
    result, peak = child_peak_rss_mb("run", "in.jsonl", "--dead-letter", "dead.jsonl", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    # Generous: the interpreter and models vary; holding the line would add 200 MB+.
    assert peak < baseline + 60, (peak, baseline)
    (dead,) = [orjson.loads(x) for x in (tmp_path / "dead.jsonl").read_bytes().splitlines()]
    assert dead["reason"] == "too_large" and dead["source"].endswith(":26")
    assert dead["truncated"] is True and dead["size"] == len(huge)
    assert len(dead["line"]) == 4096 and str(len(huge)) in dead["detail"]


def test_oversized_lines_are_cut_at_the_limit_and_lines_after_them_read() -> None:
    import io

    from stormwatch.ingest.decode import Oversized
    from stormwatch.ingest.file_source import FileSource

    data = b"short\n" + b"x" * 100 + b"\r\n" + b"y" * 100 + b"\n" + b"z" * 5000 + b"\nlast"
    source = FileSource("unused", max_line_bytes=100)
    source.path = "-"
    stdin = io.TextIOWrapper(io.BytesIO(data))
    old = sys.stdin
    sys.stdin = stdin
    try:
        lines = list(source.lines())
    finally:
        sys.stdin = old
    assert lines[:3] == [b"short", b"x" * 100, b"y" * 100]
    assert type(lines[3]) is Oversized and (len(lines[3]), lines[3].size) == (4096, 5000)
    assert lines[4:] == [b"last"]
    assert source.bytes_read == len(data)


def test_dead_letters_of_long_records_are_truncated_with_their_size() -> None:
    from stormwatch.ingest.dead_letters import dead_letter_json

    raw = b'{"id": "1", "text": "' + "é".encode() * 40_000 + b'"'  # invalid JSON, 80 KB
    letter = Decoder(max_record_bytes=10**6).decode(raw, "f:1")
    assert isinstance(letter, DeadLetter) and letter.reason == "invalid_json"
    out = dead_letter_json(letter)
    assert out["truncated"] is True and out["size"] == len(raw)
    assert len(out["line"].encode()) <= 4096 and out["line"].startswith('{"id": "1"')
    assert dead_letter_json(Decoder().decode(b"{bad", "f:2")) == {
        "reason": "invalid_json",
        "detail": dead_letter_json(Decoder().decode(b"{bad"))["detail"],
        "source": "f:2",
        "line": "{bad",
    }


def test_unknown_fields_are_dropped_after_decoding() -> None:
    raw = orjson.dumps(
        {"id": "1", "text": "awful", "created_at": T0, "brand": "a", "blob": "x" * 50_000}
    )
    c = Decoder(clock=lambda: T0).decode(raw)
    assert isinstance(c, Comment)
    assert not hasattr(c, "extra") and not hasattr(c, "__dict__")
    assert sum(len(str(getattr(c, f))) for f in c.__slots__) < 200  # type: ignore[attr-defined]


def test_a_stray_first_record_stamped_now_does_not_start_a_backtest(tmp_path: Path) -> None:
    """`run FILE` is a backtest: its first record, stamped about now, started the stream
    at once, and every real record after it came hours late. No incident opened."""
    import time

    from typer.testing import CliRunner

    from stormwatch.cli import app
    from tests.small_storm import small_storm_lines

    lines = small_storm_lines(1)
    stray = orjson.dumps(
        {"id": "stray", "text": "test post", "created_at": time.time() - 60, "brand": "other"}
    )
    opened = []
    for name, content in (("clean", lines), ("stray", [stray, *lines])):
        (tmp_path / f"{name}.jsonl").write_bytes(b"\n".join(content) + b"\n")
        alerts = tmp_path / f"{name}.alerts"
        result = CliRunner().invoke(
            app, ["run", str(tmp_path / f"{name}.jsonl"), "-q", "--alerts-jsonl", str(alerts)]
        )
        assert result.exit_code == 0, result.output
        events = [orjson.loads(line) for line in alerts.read_bytes().splitlines()]
        opened.append([e["incident"] for e in events if e["event"] == "opened"])
    assert opened[0] and opened[1] == opened[0]
