"""Wrong usage of the `stormwatch` command: one line naming the problem and the fix, exit
2 (usage) or 1 (run time), never a traceback. Each case runs the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson
import pytest


def stormwatch(
    *args: str, cwd: Path, env: dict[str, str] | None = None, wrap: tuple[str, ...] = ()
):
    full_env = {**os.environ, "COLUMNS": "80", **(env or {})}
    for name in ("STORMWATCH_CONFIG", "STORMWATCH_DATABASE_URL", "STORMWATCH_METRICS_PORT"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [*wrap, sys.executable, "-m", "stormwatch.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(result, code: int, *words: str) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "╭" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "adir").mkdir()
    return tmp_path


def test_run_missing_input(work: Path) -> None:
    one_line_error(stormwatch("run", "missing.jsonl", cwd=work), 2, "missing.jsonl", "not exist")


def test_run_directory_as_input(work: Path) -> None:
    one_line_error(stormwatch("run", "adir", cwd=work), 2, "adir", "is a directory")


def test_run_unreadable_input(work: Path) -> None:
    path = work / "secret.jsonl"
    path.write_text("{}\n")
    path.chmod(0)
    # Root reads files whatever their mode: run the CLI without the capabilities that
    # allow it (util-linux's setpriv drops them from the bounding set before exec).
    wrap = ()
    if os.geteuid() == 0:
        wrap = ("setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--")
    one_line_error(stormwatch("run", "secret.jsonl", cwd=work, wrap=wrap), 2, "not readable")


def test_config_is_a_directory(work: Path) -> None:
    result = stormwatch("run", "--config", "adir", "empty.jsonl", cwd=work)
    one_line_error(result, 2, "config file adir", "directory")


def test_config_from_environment_is_checked_too(work: Path) -> None:
    result = stormwatch("run", "empty.jsonl", cwd=work, env={"STORMWATCH_CONFIG": "nope.toml"})
    one_line_error(result, 2, "nope.toml", "not exist")


def test_alerts_jsonl_in_a_missing_directory(work: Path) -> None:
    result = stormwatch(
        "run", "--alerts-jsonl", "/nonexistent/dir/a.jsonl", "empty.jsonl", cwd=work
    )
    one_line_error(result, 2, "--alerts-jsonl", "/nonexistent/dir", "does not exist")


def test_dead_letter_is_a_directory(work: Path) -> None:
    result = stormwatch("run", "--dead-letter", "adir", "empty.jsonl", cwd=work)
    one_line_error(result, 2, "--dead-letter", "is a directory")


def test_metrics_port_busy(work: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        result = stormwatch("run", "--metrics-port", port, "empty.jsonl", cwd=work)
    one_line_error(result, 1, port, "--metrics-port")


@pytest.mark.parametrize("option", ["--port", "--metrics-port"])
def test_serve_port_busy(work: Path, option: str) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        ports = {"--port": "0", "--metrics-port": "0", option: port}
        result = stormwatch(
            "serve", *(a for o, p in ports.items() for a in (o, p)), "--db", "serve.sqlite3",
            cwd=work,
        )  # fmt: skip
    one_line_error(result, 1, f"127.0.0.1:{port}", f"choose another {option}")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--port", "70000"), ("--port", "70000")),
        (("--port", "-1"), ("--port", "-1")),
        (("--host", "no.such.host.invalid", "--port", "0"), ("--host", "no.such.host.invalid")),
    ],
)
def test_serve_port_out_of_range_or_host_unknown(
    work: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """A port past 65535 was a 38-line traceback (bind raises OverflowError, not
    OSError); an unknown host said "choose another --port"."""
    result = stormwatch("serve", *args, "--db", "serve.sqlite3", cwd=work)
    line = one_line_error(result, 2, *words)
    assert "choose another --port" not in line


def test_negative_speed(work: Path) -> None:
    result = stormwatch("run", "--speed", "-1", "empty.jsonl", cwd=work)
    one_line_error(result, 2, "--speed", "stormwatch run --help")


def test_unknown_option_is_one_line(work: Path) -> None:
    one_line_error(stormwatch("run", "--bogus", cwd=work), 2, "--bogus")


def test_evaluate_nab_missing_directory(work: Path) -> None:
    result = stormwatch("evaluate", "nab", "missing_dir", cwd=work)
    one_line_error(result, 2, "missing_dir", "does not exist")


def test_evaluate_real_volume_missing_or_empty_directory(work: Path) -> None:
    result = stormwatch("evaluate", "real-volume", "missing_dir", cwd=work)
    one_line_error(result, 2, "missing_dir", "does not exist")
    (work / "nab_empty").mkdir()
    result = stormwatch("evaluate", "real-volume", "nab_empty", cwd=work)
    one_line_error(result, 2, "no NAB data files in")


def test_evaluate_real_volume_unusable_texts(work: Path) -> None:
    result = stormwatch("evaluate", "real-volume", "--texts", "missing.jsonl", cwd=work)
    one_line_error(result, 2, "missing.jsonl")
    (work / "neutral.jsonl").write_text('{"text": "fine", "label": "neutral"}\n')
    result = stormwatch("evaluate", "real-volume", "--texts", "neutral.jsonl", cwd=work)
    one_line_error(result, 2, "neutral.jsonl", "needs texts labelled negative and positive")


def test_evaluate_suite_out_is_a_file(work: Path) -> None:
    result = stormwatch("evaluate", "suite", "--out", "empty.jsonl", cwd=work)
    one_line_error(result, 2, "--out empty.jsonl", "give a directory")


def test_report_into_a_missing_directory(work: Path) -> None:
    result = stormwatch("report", "empty.jsonl", "-o", "/nonexistent/x.png", cwd=work)
    one_line_error(result, 2, "/nonexistent", "does not exist")


def test_report_to_a_dash_is_refused_not_written_to_a_file_named_dash(work: Path) -> None:
    result = in_process("report", "empty.jsonl", "-o", "-", cwd=work)
    one_line_in_process(result, 2, "--out -")
    assert not (work / "-").exists()


def test_playbooks_check_on_an_empty_directory(work: Path) -> None:
    result = stormwatch("playbooks", "check", "adir", cwd=work)
    one_line_error(result, 1, "no playbooks")


def test_feedback_does_not_create_a_database(work: Path) -> None:
    result = stormwatch("feedback", "acme/*/1", "--confirmed", "--db", "typo.sqlite3", cwd=work)
    one_line_error(result, 2, "typo.sqlite3", "does not exist")
    assert not (work / "typo.sqlite3").exists()


def test_feedback_on_an_existing_store_reaches_the_store(work: Path) -> None:
    from stormwatch.alerts.store import IncidentStore

    IncidentStore.open(str(work / "store.sqlite3")).close()
    result = stormwatch("feedback", "acme/*/1", "--confirmed", "--db", "store.sqlite3", cwd=work)
    # The store was opened and asked: it holds no such incident.
    one_line_error(result, 1, "no incident with key", "acme/*/1")


def test_produce_without_a_broker_names_the_config_section(work: Path) -> None:
    result = stormwatch("produce", "empty.jsonl", cwd=work, env={"STORMWATCH_KAFKA_BOOTSTRAP": ""})
    one_line_error(result, 2, "[kafka]", "--bootstrap")


def test_version(work: Path) -> None:
    result = stormwatch("--version", cwd=work)
    assert result.returncode == 0
    assert result.stdout.startswith("stormwatch ")


def test_environment_variables_appear_in_help(work: Path) -> None:
    run_help = stormwatch("run", "--help", cwd=work, env={"COLUMNS": "120"}).stdout
    assert "STORMWATCH_DATABASE_URL" in run_help and "STORMWATCH_CONFIG" in run_help
    worker_help = stormwatch("worker", "--help", cwd=work, env={"COLUMNS": "120"}).stdout
    for name in ("STORMWATCH_KAFKA_TOPIC", "STORMWATCH_KAFKA_GROUP", "STORMWATCH_DATABASE_URL"):
        assert name in worker_help


def test_seed_defaults_agree(work: Path) -> None:
    from stormwatch.command_arguments import DEFAULT_SEED
    from stormwatch.evaluation.demo import demo_spec

    assert demo_spec().seed == DEFAULT_SEED
    for command in (("run",), ("evaluate", "suite")):
        text = stormwatch(*command, "--help", cwd=work, env={"COLUMNS": "120"}).stdout
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if "--seed " in line)
        option = " ".join(lines[at : at + 2])  # (the default may go on the next line)
        assert f"[default: {DEFAULT_SEED}]" in option, option


def test_quiet_prints_only_the_summary(work: Path) -> None:
    """A small stream with a firestorm: an incident opens, and only the summary shows."""
    from tests.small_storm import small_storm_lines

    stream = work / "storm.jsonl"
    stream.write_bytes(b"".join(line + b"\n" for line in small_storm_lines()))
    result = stormwatch("run", "-q", str(stream), cwd=work)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("read="), result.stdout
    assert " incidents=1 " in lines[0] and not result.stderr, (lines, result.stderr)


def in_process(*args: str, cwd: Path, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The CLI in this process (typer's CliRunner): for errors raised before any work,
    without a second interpreter's start-up. Output is stdout and stderr together."""
    from typer.testing import CliRunner

    from stormwatch.cli import app

    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("STORMWATCH_")}
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(app, list(args), env={**clean, **(env or {})})
    finally:
        os.chdir(old)


def one_line_in_process(result, code: int, *words: str) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize(
    ("setting", "content", "words"),
    [
        ("topics_file", None, ("topics_file", "missing.file", "No such file")),
        ("topics_file", "a: [b\n  c: d\n", ("topics_file", "broken.file", "not valid YAML")),
        ("topics_file", "- just a list\n", ("topics_file", "broken.file")),
        ("negativity_model", None, ("negativity_model", "missing.file", "no such file")),
        ("negativity_model", "not numpy", ("negativity_model", "broken.file", "not a stormwatch")),
    ],
)
def test_a_broken_file_setting_is_one_line_naming_it(
    work: Path, setting: str, content: str | None, words: tuple[str, ...]
) -> None:
    name = "missing.file" if content is None else "broken.file"
    if content is not None:
        (work / name).write_text(content)
    (work / "c.toml").write_text(f'{setting} = "{name}"\n')
    for command in (("run", "empty.jsonl"), ("score", "empty.jsonl")):
        result = in_process(*command, "--config", "c.toml", cwd=work)
        line = one_line_in_process(result, 2, "configuration error", *words)
        # numpy's advice for a file that is no .npz: never to a user about a foreign file
        assert "allow_pickle" not in line, line


@pytest.mark.parametrize(
    "command",
    [
        ("collect", "rss", "http://127.0.0.1:9/feed", "--check"),
        ("produce", "empty.jsonl", "--bootstrap", "127.0.0.1:9", "--topic", "t"),
        ("report", "empty.jsonl", "-o", "out.png"),
        ("evaluate", "nab"),
        ("playbooks", "check", "adir"),
        ("run", "empty.jsonl"),
    ],
)
def test_an_unknown_stormwatch_variable_stops_every_command(work: Path, command) -> None:  # type: ignore[no-untyped-def]
    result = in_process(*command, cwd=work, env={"STORMWATCH_PSEUDONYMISE_AUTHORS": "1"})
    one_line_in_process(
        result, 2, "STORMWATCH_PSEUDONYMISE_AUTHORS", "did you mean STORMWATCH_PSEUDONYMIZE"
    )


def test_every_command_checks_the_environment_first() -> None:
    import typer

    from stormwatch.cli import app
    from stormwatch.command_arguments import EnvironmentCheckedCommand

    def leaves(command):  # type: ignore[no-untyped-def]
        if isinstance(command, typer.core.TyperGroup):
            for sub in command.commands.values():
                yield from leaves(sub)
        else:
            yield command

    commands = list(leaves(typer.main.get_command(app)))
    assert len(commands) > 15
    assert all(isinstance(c, EnvironmentCheckedCommand) for c in commands)


def test_a_variable_the_config_option_names_is_known(work: Path) -> None:
    (work / "c.toml").write_text(
        '[oncall.targets.hook]\ntype = "webhook"\nurl = "http://127.0.0.1:9/"\n'
        'secret_env = "STORMWATCH_HOOK_SECRET"\n'
    )
    env = {"STORMWATCH_HOOK_SECRET": "s"}
    result = in_process("run", "empty.jsonl", "--config", "c.toml", "-q", cwd=work, env=env)
    assert result.exit_code == 0, result.output
    result = in_process("run", "empty.jsonl", "-q", cwd=work, env=env)
    one_line_in_process(result, 2, "STORMWATCH_HOOK_SECRET")


@pytest.mark.parametrize(
    ("config", "env", "words"),
    [
        (b"\xff\xfe", {}, ("c.toml", "not UTF-8")),
        (b"stormwatch = 1\n", {}, ("stormwatch must be a table",)),
        # Beside a [stormwatch] table a top-level setting was ignored, unchecked.
        (b"min_accounts = 0\n[stormwatch]\nquiet_minutes = 5\n", {}, ("min_accounts", "outside")),
        (b"lateness_seconds = inf\n", {}, ("lateness_seconds", "inf")),
        (b"", {"STORMWATCH_LATENESS_SECONDS": "nan"}, ("STORMWATCH_LATENESS_SECONDS", "nan")),
        (b"", {"STORMWATCH_DEDUPE_HOURS": "inf"}, ("STORMWATCH_DEDUPE_HOURS",)),
        (b"", {"STORMWATCH_LATENESS_SECONDS": "1e300"}, ("lateness_seconds must be in",)),
        (b"database_url = true\n", {}, ("database_url must be a string", "True")),
        (b'[stormwatch]\nplaybooks_dir = ["a"]\n', {}, ("playbooks_dir must be a string",)),
    ],
)
def test_a_config_value_of_the_wrong_kind_is_one_line_naming_it(
    work: Path, config: bytes, env: dict[str, str], words: tuple[str, ...]
) -> None:
    """Before: tracebacks (a file not UTF-8, `stormwatch = 1`, infinite dedupe hours),
    every record dead-lettered (infinite lateness), a hang (lateness 1e300), or a store
    named `True` (a boolean where a path belongs)."""
    (work / "c.toml").write_bytes(config)
    result = in_process("run", "empty.jsonl", "-q", "--config", "c.toml", cwd=work, env=env)
    one_line_in_process(result, 2, *words)
    assert not (work / "True").exists()


@pytest.mark.parametrize(
    ("args", "config", "words"),
    [
        (("--bootstrap", "localhost:abc"), "", ("'localhost:abc'", "HOST:PORT")),
        (("--bootstrap", "broker:9092,:9093"), "", ("':9093'",)),
        ((), '[kafka]\nbootstrap = ["127.0.0.1:9092"]\n', ("[kafka] bootstrap must be a string",)),
    ],
)
def test_a_malformed_kafka_bootstrap_is_one_line(
    work: Path, args: tuple[str, ...], config: str, words: tuple[str, ...]
) -> None:
    """kafka-python's own parser raised a bare ValueError at the first connection."""
    (work / "c.toml").write_text(config)
    for command in (("worker", "--db", "w.db"), ("produce", "empty.jsonl")):
        result = in_process(*command, *args, "--config", "c.toml", cwd=work)
        one_line_in_process(result, 2, *words)


@pytest.mark.parametrize(
    "url", ["postgresql://postgres@127.0.0.1:abc/x", "postgresql://postgres@[::1/x"]
)
def test_a_store_url_with_a_bad_port_or_host_is_one_line(work: Path, url: str) -> None:
    result = in_process("run", "empty.jsonl", "-q", "--db", url, cwd=work)
    one_line_in_process(result, 2, "invalid incident store URL")


@pytest.mark.parametrize(
    "command", [("run", "-q", "--seed", "-1"), ("evaluate", "suite", "--seed", "-1")]
)
def test_a_negative_seed_is_one_line(work: Path, command: tuple[str, ...]) -> None:
    one_line_error(stormwatch(*command, cwd=work), 2, "--seed", "greater than or equal to 0")


def test_purge_and_feedback_find_a_store_given_with_a_tilde(work: Path) -> None:
    """`run --db ~/x.db` expands the `~`; purge and feedback refused the same path."""
    home = {"HOME": str(work)}
    result = in_process("run", "empty.jsonl", "-q", "--db", "~/tilde.db", cwd=work, env=home)
    assert result.exit_code == 0, result.output
    assert (work / "tilde.db").is_file()
    result = in_process("purge", "--older-than", "0", "--db", "~/tilde.db", cwd=work, env=home)
    assert result.exit_code == 0, result.output
    env = {**home, "STORMWATCH_DATABASE_URL": "~/tilde.db"}
    result = in_process("feedback", "no-such-incident", "--false-alarm", cwd=work, env=env)
    assert "does not exist" not in result.output, result.output
    assert "no-such-incident" in result.output, result.output


@pytest.mark.parametrize("value", ["-1", "nan"])
def test_a_worker_stop_when_idle_that_is_not_a_time_is_one_line(work: Path, value: str) -> None:
    """-1 stopped a worker at once, nan never."""
    result = stormwatch("worker", "--stop-when-idle", value, "--bootstrap", "127.0.0.1:9", cwd=work)
    one_line_error(result, 2, "--stop-when-idle")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("rss", "http://127.0.0.1:1/f", "--every", "-1"), ("--every", "0 or more")),
        (("rss", "http://127.0.0.1:1/f", "--every", "nan"), ("--every", "0 or more")),
        (("mastodon", "--server", "http://127.0.0.1:1", "--every", "inf"), ("--every",)),
        (("mastodon", "--server", "http://127.0.0.1:1", "--dead-letter", "f/x.jsonl"),
         ("--dead-letter", "cannot write")),
        (("reddit", "--subreddit", "r/"), ("--subreddit", "names no subreddit")),
    ],
)  # fmt: skip
def test_collector_arguments_are_checked_before_any_poll(
    work: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """`--every -1`/nan/inf ended in a traceback after the first poll; a dead-letter
    file that cannot be written stopped the collector at its first dead letter (its page
    sent, its cursor not committed); `--subreddit r/` was praw's traceback at each poll."""
    (work / "f").write_text("a file, not a directory")
    env = {"STORMWATCH_REDDIT_CLIENT_ID": "id", "STORMWATCH_REDDIT_CLIENT_SECRET": "secret"}
    command = ("collect", *args, "--brand", "acme", "--to", "out.jsonl")
    one_line_error(stormwatch(*command, cwd=work, env=env), 2, *words)
    assert not (work / "out.jsonl").exists()


def _nab_dir(root: Path, labels: str, *, value: str = "12") -> Path:
    (root / "data" / "mine").mkdir(parents=True)
    (root / "labels").mkdir()
    rows = ["timestamp,value"] + [
        f"2024-01-01 {h:02d}:{m:02d}:00,{value if (h, m) == (1, 5) else 10}"
        for h in range(10)
        for m in range(0, 60, 5)
    ]
    (root / "data" / "mine" / "a.csv").write_text("\n".join(rows) + "\n")
    (root / "labels" / "combined_windows.json").write_text(labels)
    return root


@pytest.mark.parametrize(
    ("labels", "value", "words"),
    [
        ('{"mine/a.csv": []}', "12", ("no labelled anomaly window",)),
        ('{"mine/a.csv": [', "12", ("combined_windows.json", "not a NAB label file")),
        ('{"mine/a.csv": [["2024-01-01 02:00:00", "2024-01-01 03:00:00"]]}', "abc",
         ("a.csv", "not a number")),
        *[('{"mine/a.csv": [["2024-01-01 02:00:00", "2024-01-01 03:00:00"]]}', v,
           ("a.csv:15: value", "is not a count")) for v in ("1e308", "nan", "-50")],
        ('{"mine/a.csv": [["2024-01-01 02:00:00", "soon"]]}', "12",
         ("window [2024-01-01 02:00:00, soon]", "not a date and time")),
    ],
)  # fmt: skip
def test_evaluate_nab_on_a_directory_nab_cannot_score_is_one_line(
    work: Path, labels: str, value: str, words: tuple[str, ...]
) -> None:
    """No window to score printed NaN (not JSON) as every score; a truncated label file
    or a value that is no number was a traceback."""
    nab = _nab_dir(work / "nab", labels, value=value)
    one_line_in_process(in_process("evaluate", "nab", str(nab), "--json", cwd=work), 2, *words)


@pytest.mark.parametrize(
    ("csv", "words"),
    [
        ("", ("a.csv: empty",)),
        ("timestamp,value\n2024-01-01 00:00:00\n", ("a.csv:2: no value in this row",)),
        ("timestamp,value\nnotatime,3\n", ("a.csv", "a timestamp is not a date and time")),
    ],
)
def test_a_nab_csv_that_is_empty_short_or_undated_is_one_line(
    work: Path, csv: str, words: tuple[str, ...]
) -> None:
    """An empty file was a StopIteration traceback, a row without its value an
    IndexError, and a bad timestamp named no file."""
    labels = '{"mine/a.csv": [["2024-01-01 02:00:00", "2024-01-01 03:00:00"]]}'
    nab = _nab_dir(work / "nab", labels)
    (nab / "data" / "mine" / "a.csv").write_text(csv)
    one_line_in_process(in_process("evaluate", "nab", str(nab), cwd=work), 2, *words)


@pytest.mark.parametrize("layout", ["realTweets", "data/realTweets"])
def test_evaluate_real_volume_on_a_file_without_comments_is_one_line(
    work: Path, layout: str
) -> None:
    """Also in the NAB repository's layout (DIR/data/realTweets), as `evaluate nab` takes
    it: it said "no NAB data files" there."""
    (work / "rv" / layout).mkdir(parents=True)
    (work / "rv" / layout / "Twitter_volume_X.csv").write_text("timestamp,value\n")
    result = in_process("evaluate", "real-volume", str(work / "rv"), cwd=work)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    last = result.output.strip().splitlines()[-1]  # after the progress line
    assert last.startswith("error: ") and "Twitter_volume_X.csv: no comments" in last, last


def test_overlapping_seed_ranges_score_each_seed_once() -> None:
    from stormwatch.evaluation.family import parse_seeds

    assert parse_seeds("1-3,3-5,2") == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "option", [("--threshold", "0"), ("--threshold", "nan"), ("--threshold", "2"),
               ("--false-alarms-per-month", "nan"), ("--false-alarms-per-month", "-1")]
)  # fmt: skip
def test_evaluate_nab_options_out_of_range_are_refused(work: Path, option: tuple) -> None:
    """--threshold 0 printed a score of -21797 and exit 0; nan wrote NaN into --json."""
    result = in_process("evaluate", "nab", *option, cwd=work)
    one_line_in_process(result, 2, option[0])


def test_evaluate_suite_jobs_below_one_is_refused(work: Path) -> None:
    result = in_process("evaluate", "suite", "--out", "s", "--jobs", "0", cwd=work)
    assert result.exit_code == 2 and "--jobs" in result.output, result.output


def _labelled_stream(work: Path, label: str) -> Path:
    stream = work / "streams"
    stream.mkdir()
    rows = [{"id": str(n), "brand": "newco", "text": "ok", "created_at": 1772442000 + 60 * n}
            for n in range(30)]  # fmt: skip
    (stream / "s.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    (stream / "s.labels.json").write_text(label + "\n")
    return stream


LABEL = (
    '{"name": "newco-storm [/eu]", "kind": "firestorm", "brand": "newco", "thread_id": null,'
    ' "must_alert": false, "onset": 1772442000, "breakout": null, "end": 1772443000,'
    ' "lang": "en", "written_by": "a person"}'
)


def test_evaluate_scenarios_takes_hand_written_labels_or_says_which_line(work: Path) -> None:
    """A label line that is no label was a traceback; an unknown field too; a name with
    "[/eu]" was read as markup and stopped the command after the whole scoring; a
    --report that is a file failed only after it."""
    stream = _labelled_stream(work, LABEL)
    done = in_process("evaluate", "scenarios", str(stream), "--json", cwd=work)
    assert done.exit_code == 0, done.output
    assert "newco-storm [/eu]" in done.output
    assert json.loads(done.output.strip().splitlines()[-1])["per_event"][0]["event"] == (
        "newco-storm [/eu]"
    )
    (work / "a_file").write_text("")
    done = in_process("evaluate", "scenarios", str(stream), "--report", "a_file", cwd=work)
    one_line_in_process(done, 2, "--report a_file", "give a directory")
    done = in_process("evaluate", "scenarios", str(stream), "--report", "a_file/sub", cwd=work)
    one_line_in_process(done, 2, "--report a_file/sub")
    (stream / "s.labels.json").write_text(LABEL[:40] + "\n")
    done = in_process("evaluate", "scenarios", str(stream), cwd=work)
    one_line_in_process(done, 2, "s.labels.json:1", "not an event label")
    (stream / "s.labels.json").write_text(LABEL.replace("1772442000", '"soon"') + "\n")
    done = in_process("evaluate", "scenarios", str(stream), cwd=work)
    one_line_in_process(done, 2, "s.labels.json:1", "onset must be epoch seconds")


@pytest.mark.parametrize("option", ["--dead-letter", "--alerts-jsonl"])
def test_an_output_file_that_is_the_input_is_refused(work: Path, option: str) -> None:
    """`--dead-letter` naming the input read each letter back as a bad record and wrote
    it again, until the disk was full; `--alerts-jsonl` with `--db` cut the input's
    last line as a torn alert line."""
    (work / "in.jsonl").write_text('{"bad": 1}\n')
    result = in_process("run", "in.jsonl", "-q", option, "./in.jsonl", cwd=work)
    one_line_in_process(result, 2, option, "same file as the input")
    assert (work / "in.jsonl").read_text() == '{"bad": 1}\n'


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[stormwach]\npseudonymize_authors = true\n", "[stormwach] (did you mean [stormwatch]?)"),
        ('[oncal]\ntimezone = "UTC"\n', "[oncal] (did you mean [oncall]?)"),
        ("[stormwatch]\n[stormwatch.slak]\nchannel = '#x'\n", "[stormwatch.slak]"),
    ],
)
def test_a_misspelt_table_stops_the_start(work: Path, content: str, words: str) -> None:
    """A misspelt key stopped the start, a misspelt table was skipped without a word:
    `[stormwach]` left privacy off, `[oncal]` paged nobody."""
    (work / "typo.toml").write_text(content)
    result = in_process("run", "empty.jsonl", "-q", "--config", "typo.toml", cwd=work)
    one_line_in_process(result, 2, "unknown table", words)


def test_alerts_to_a_pipe_with_a_store_do_not_wait_for_ever(work: Path) -> None:
    """`run --db X --alerts-jsonl /dev/stdout | jq`: a resumed run reads the alerts file
    back first, and reading the pipe waited for its own writer for ever."""
    fifo = work / "alerts.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read_fifo() -> None:
        with open(fifo, "rb") as pipe:
            received.append(pipe.read())

    import threading

    reader = threading.Thread(target=read_fifo, daemon=True)
    reader.start()
    from tests.test_hostile_input import storm_lines

    (work / "in.jsonl").write_bytes(b"\n".join(storm_lines()) + b"\n")
    result = stormwatch(
        "run", "in.jsonl", "-q", "--db", "store.sqlite3", "--alerts-jsonl", str(fifo), cwd=work
    )
    reader.join(30)
    assert result.returncode == 0, result.stderr[-2000:]
    assert received and received[0].count(b"\n") >= 1


def test_serve_names_the_metrics_host_it_cannot_resolve(work: Path) -> None:
    """The metrics server starts first: an unknown STORMWATCH_METRICS_HOST was blamed on
    --host."""
    result = stormwatch(
        "serve", "--port", "0", "--metrics-port", "0", "--db", "serve.sqlite3", cwd=work,
        env={"STORMWATCH_METRICS_HOST": "no.such.host.invalid"},
    )  # fmt: skip
    one_line_error(result, 2, "STORMWATCH_METRICS_HOST 'no.such.host.invalid'")


def test_serve_names_the_file_it_cannot_open_not_the_port(work: Path) -> None:
    """A collector's cursor that is a directory, an --alerts-jsonl directory: serve said
    "cannot listen on 127.0.0.1:0 (Is a directory): choose another --port"."""
    (work / "serve.toml").write_text(
        '[[collectors]]\nsource = "rss"\nname = "blog"\nfeeds = ["http://127.0.0.1:9/f"]\n'
        'brand = "acme"\ncursor = "adir"\n'
    )
    result = stormwatch(
        "serve", "--port", "0", "--db", "serve.sqlite3", "--config", "serve.toml", cwd=work
    )
    line = one_line_error(result, 2, "adir")
    assert "--port" not in line
    result = stormwatch(
        "serve", "--port", "0", "--db", "serve.sqlite3", "--alerts-jsonl", "adir", cwd=work
    )
    one_line_error(result, 2, "--alerts-jsonl adir is a directory")


def test_a_store_that_does_not_answer_is_a_failure_not_a_usage_error(work: Path) -> None:
    """`run --db` against a database that refuses the connection exited 2, the code of a
    wrong usage; `feedback` and `purge` already said 1 for it. A wrong URL stays 2."""
    result = in_process(
        "run", "empty.jsonl", "-q", "--db", "postgresql://postgres@127.0.0.1:1/x", cwd=work
    )
    one_line_in_process(result, 1, "Connection refused")


def test_purge_and_feedback_refuse_what_is_not_an_incident_store(work: Path) -> None:
    """Another application's SQLite file got stormwatch's ten tables added and a purge
    reported done; an in-memory store took a label and lost it; a wrong store URL said 1
    (a failure at run time) where `run` says 2 (a wrong usage)."""
    with sqlite3.connect(work / "notes.db") as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    result = in_process("purge", "--older-than", "30", "--db", "notes.db", cwd=work)
    one_line_in_process(result, 2, "notes.db is not a stormwatch incident store")
    with sqlite3.connect(work / "notes.db") as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["notes"]
    for args in (
        ("feedback", "--comment", "c1", "--negative", "--text", "t", "--brand", "acme"),
        ("purge", "--older-than", "30"),
    ):
        result = in_process(*args, "--db", ":memory:", cwd=work)
        one_line_in_process(result, 2, "an in-memory store holds nothing")
        result = in_process(*args, "--db", "foo://bar", cwd=work)
        assert result.exit_code == 2, result.output
    (work / "adir").mkdir(exist_ok=True)
    result = in_process("purge", "--older-than", "30", "--db", "adir", cwd=work)
    one_line_in_process(result, 2, "adir is a directory")


def test_produce_and_collect_refuse_a_config_file_the_other_commands_refuse(work: Path) -> None:
    """They read `[kafka]` alone: a misspelt `[kafak]` holding the broker's TLS settings,
    or a misspelt setting elsewhere in the file, was skipped without a word there while
    `run`, `worker` and `serve` refused the same file."""
    (work / "typo.toml").write_text('[kafak]\nbootstrap = "127.0.0.1:1"\n')
    (work / "setting.toml").write_text(
        '[kafka]\nbootstrap = "127.0.0.1:1"\n[stormwatch]\nmin_acounts = 3\n'
    )
    (work / "feed.xml").write_text("<rss version='2.0'><channel><title>x</title></channel></rss>")
    for config, words in (
        ("typo.toml", ("unknown table [kafak]", "did you mean [kafka]")),
        ("setting.toml", ("unknown setting 'min_acounts'",)),
    ):
        result = in_process("produce", "empty.jsonl", "--topic", "t", "--config", config, cwd=work)
        one_line_in_process(result, 2, *words)
        env = {"STORMWATCH_CONFIG": config, "STORMWATCH_KAFKA_BOOTSTRAP": "127.0.0.1:1"}
        result = in_process(
            "collect", "rss", "feed.xml", "--brand", "acme", "--to", "kafka://t", cwd=work, env=env
        )
        one_line_in_process(result, 2, *words)


def test_feedback_refuses_a_comments_options_on_a_verdict_and_an_empty_brand(work: Path) -> None:
    """`feedback KEY --confirmed --negative --text hi` recorded the verdict and dropped
    the reading without a word; `--brand ""` stored a label for no brand."""
    from stormwatch.alerts.store import IncidentStore

    IncidentStore.open(str(work / "store.sqlite3")).close()
    result = in_process(
        "feedback", "acme/*/1", "--confirmed", "--negative", "--text", "hi",
        "--db", "store.sqlite3", cwd=work,
    )  # fmt: skip
    one_line_in_process(result, 2, "go with --comment ID")
    result = in_process(
        "feedback", "--comment", "c1", "--negative", "--text", "t", "--brand", " ",
        "--db", "store.sqlite3", cwd=work,
    )  # fmt: skip
    one_line_in_process(result, 2, "--brand is empty")
