"""Collectors inside `stormwatch serve` (`[[collectors]]`): settings checked at start-up in
one line, back-pressure that waits and never drops or commits early, and a real serve
process polling a local feed server and Mastodon server whose restart reads nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stormwatch.exceptions import ConfigError
from stormwatch.ingest.page_collector import Page, dead_letter_item
from stormwatch.ingest.pseudonym import Pseudonymizer
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.pipeline import Pipeline
from stormwatch.service.collector_config import CollectorSpec, load_collectors
from stormwatch.service.collector_threads import CollectorThread
from stormwatch.service.live import LivePipeline
from tests.fake_mastodon import TOKEN, FakeMastodon
from tests.test_rss_collector import FeedServer

SECRETS = {
    "STORMWATCH_MASTODON_TOKEN": TOKEN,
    "STORMWATCH_BLUESKY_HANDLE": "acme.bsky.social",
    "STORMWATCH_BLUESKY_APP_PASSWORD": "app-password",
    "STORMWATCH_YOUTUBE_API_KEY": "yt-key",
    "STORMWATCH_REDDIT_CLIENT_ID": "id",
    "STORMWATCH_REDDIT_CLIENT_SECRET": "secret",
}
ALL_SOURCES = """
[[collectors]]
source = "rss"
feeds = ["http://127.0.0.1:9/feed"]
brand = "acme"
cursor = "cursors/rss.json"
every = 300
dead_letter = "rss-dead.jsonl"

[[collectors]]
source = "mastodon"
name = "fediverse"
server = "http://127.0.0.1:9"
tags = ["#acme"]
mentions = true
cursor = "cursors/mastodon.json"

[[collectors]]
source = "bluesky"
cursor = "cursors/bluesky.json"

[[collectors]]
source = "youtube"
channels = ["UCacme"]
videos = 5
brand = "acme"
cursor = "cursors/youtube.json"

[[collectors]]
source = "reddit"
subreddits = ["acme"]
searches = ["acme outage"]
cursor = "/abs/reddit.json"
"""
WATCHLIST = Watchlist.from_mapping({"brands": {"acme": {"keywords": ["acme"]}}})


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[CollectorSpec]:
    path = tmp_path / "stormwatch.toml"
    path.write_text(text)
    return load_collectors(path, env=SECRETS if env is None else env, watchlist=WATCHLIST)


def test_every_source_is_configured_without_asking_any_platform(tmp_path: Path) -> None:
    specs = load(tmp_path, ALL_SOURCES)
    assert [(s.name, s.source, s.every) for s in specs] == [
        ("rss-0", "rss", 300.0),
        ("fediverse", "mastodon", 60.0),
        ("bluesky-2", "bluesky", 60.0),
        ("youtube-3", "youtube", 60.0),
        ("reddit-4", "reddit", 60.0),
    ]
    assert specs[0].cursor == tmp_path / "cursors/rss.json"  # beside the config file
    assert specs[0].dead_letter == tmp_path / "rss-dead.jsonl"
    assert specs[4].cursor == Path("/abs/reddit.json") and specs[4].dead_letter is None
    assert load(tmp_path, "[stormwatch]\nlateness_seconds = 60\n") == []


@pytest.mark.parametrize(
    ("table", "env", "message"),
    [
        ('source = "twitter"\ncursor = "c.json"', SECRETS,
         "collectors[0].source must be one of rss, mastodon, bluesky, youtube, reddit, "
         "got 'twitter'"),
        ('source = "rss"\nfeeds = ["http://x/f"]', SECRETS,
         "collectors[0].cursor is missing: the JSON file remembering what was read"),
        ('source = "rss"\nfeed = ["http://x/f"]\ncursor = "c.json"', SECRETS,
         "collectors[0]: unknown setting 'feed' (known: brand, cursor, dead_letter, every, "
         "feeds, name, source)"),
        ('source = "rss"\nfeeds = []\ncursor = "c.json"', SECRETS,
         "collectors[0].feeds is missing: give at least one"),
        ('source = "rss"\nfeeds = ["http://x/f"]\ncursor = "c.json"\nevery = 0', SECRETS,
         "collectors[0].every must be >= 0.1, got 0"),
        ('source = "mastodon"\nserver = "https://m.example"\ntags = ["acme"]\ncursor = "c"',
         {}, "collectors[0] (mastodon): set STORMWATCH_MASTODON_TOKEN "
         "(an access token with read scope)"),
        ('source = "mastodon"\nserver = "https://m.example"\ncursor = "c"', SECRETS,
         "collectors[0] (mastodon): give tags, or mentions = true"),
        ('source = "bluesky"\ncursor = "c"', {},
         "collectors[0] (bluesky): set STORMWATCH_BLUESKY_HANDLE (the account's handle)"),
        ('source = "reddit"\ncursor = "c"', SECRETS,
         "collectors[0] (reddit): give subreddits or searches"),
        ('source = "youtube"\nchannels = ["UC1"]\nvideos = 51\ncursor = "c"', SECRETS,
         "collectors[0].videos must be <= 50, got 51"),
    ],
)  # fmt: skip
def test_wrong_settings_stop_start_up_in_one_line(
    tmp_path: Path, table: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, f'[[collectors]]\nbrand = "acme"\n{table}\n', env)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("source", "module", "table", "options"),
    [
        ("mastodon", "mastodon", 'server = "https://m.example"\ntags = ["acme"]\ncursor = "c"',
         ["--server", "https://m.example", "--tag", "acme"]),
        ("bluesky", "atproto", 'queries = ["acme"]\ncursor = "c"', ["--query", "acme"]),
    ],
)  # fmt: skip
def test_a_collector_whose_client_is_not_installed_stops_start_up(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    module: str,
    table: str,
    options: list[str],
) -> None:
    """Without the `collectors` extra (the Docker image had none) serve started, looked
    healthy and failed every poll in an import traceback; `collect` did the same."""
    monkeypatch.setitem(sys.modules, module, None)  # import -> ImportError, as uninstalled
    needs = f"the {module} package is not installed: pip install 'stormwatch[collectors]'"
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, f'[[collectors]]\nbrand = "acme"\nsource = "{source}"\n{table}\n', SECRETS)
    assert str(raised.value) == f"collectors[0] ({source}): {needs}"
    out = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.modules[{module!r}] = None; "
         "from stormwatch.cli import main; main()", "collect", source, *options, "--check"],
        capture_output=True, text=True, env={**os.environ, **SECRETS}, cwd=tmp_path,
    )  # fmt: skip
    assert out.returncode == 2 and needs in out.stderr and "Traceback" not in out.stderr, out


def test_shared_cursors_unreadable_cursors_and_no_brand_are_refused(tmp_path: Path) -> None:
    rss = '[[collectors]]\nsource = "rss"\nfeeds = ["http://x/f"]\nbrand = "acme"\n'
    with pytest.raises(ConfigError, match=r"collectors\[1\].cursor: .*c.json is also 'rss-0'"):
        load(tmp_path, f'{rss}cursor = "c.json"\n{rss}cursor = "c.json"\n')
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(ConfigError, match=r"collectors\[0\].cursor: cursor file .* is not JSON"):
        load(tmp_path, f'{rss}cursor = "bad.json"\n')
    path = tmp_path / "stormwatch.toml"
    path.write_text('[[collectors]]\nsource = "rss"\nfeeds = ["http://x/f"]\ncursor = "c"\n')
    with pytest.raises(ConfigError, match=r"collectors\[0\]: give brand, or a \[watchlist\]"):
        load_collectors(path, env={}, watchlist=None)


class OnePage:
    """A collector with one page of records; remembers whether it was committed."""

    def __init__(self, n: int) -> None:
        now = time.time()
        self.records = [
            {"id": f"p{i}", "text": "acme", "created_at": now, "brand": "acme"} for i in range(n)
        ]
        self.committed = threading.Event()
        self.read = 0

    def pages(self) -> Iterator[Page]:
        self.read += 1
        if not self.committed.is_set():
            yield Page(records=list(self.records))

    def commit(self) -> None:
        self.committed.set()


def test_a_full_intake_is_waited_out_and_the_cursor_moves_only_once_it_took_the_page(
    tmp_path: Path,
) -> None:
    live = LivePipeline(Pipeline(), max_records=3, tick=0.05, checkpoint_seconds=3600)
    assert live.offer([b"{}"] * 3, "ingest")  # full, and nothing consumes it yet
    source = OnePage(2)
    spec = CollectorSpec("one", "rss", tmp_path / "c.json", 0.05, None, lambda: source)
    runner = CollectorThread(spec, live, retry_seconds=0.02)
    stop = threading.Event()
    runner.start(stop)
    try:
        time.sleep(0.5)
        assert not source.committed.is_set() and source.read == 1  # waiting, not dropping
        live.start()  # the pipeline drains the intake; the page goes in, then the commit
        assert source.committed.wait(10)
        deadline = time.monotonic() + 10
        while live.pipeline.stats.read < 5:
            assert time.monotonic() < deadline, "the page never reached the pipeline"
            time.sleep(0.02)
        assert live.accepted == 5 and runner.records == 2
    finally:
        stop.set()
        runner.join(5)
        live.stop()

    # stopping while the intake is full: the page is neither taken nor committed
    live = LivePipeline(Pipeline(), max_records=3)
    assert live.offer([b"{}"] * 3, "ingest")
    source = OnePage(2)
    spec = CollectorSpec("one", "rss", tmp_path / "c.json", 0.05, None, lambda: source)
    runner = CollectorThread(spec, live, retry_seconds=0.02)
    stop = threading.Event()
    runner.start(stop)
    time.sleep(0.2)
    stop.set()
    runner.join(5)
    assert not source.committed.is_set() and live.accepted == 3 and runner.failures == 0


class OneBadItem:
    """A collector whose one page holds a platform item it could not map, with its
    author's account in the platform's own fields."""

    ITEM = {"id": "yt1", "snippet": {"authorDisplayName": "Jane Roe",
                                     "authorChannelId": {"value": "UCjane"}}}  # fmt: skip

    def __init__(self) -> None:
        self.committed = threading.Event()

    def pages(self) -> Iterator[Page]:
        if not self.committed.is_set():
            letter = dead_letter_item(self.ITEM, "missing_field", "comment without publishedAt",
                                      "youtube:video v1")  # fmt: skip
            yield Page(dead_letters=[letter])

    def commit(self) -> None:
        self.committed.set()


@pytest.mark.parametrize("private", [False, True])
def test_a_collectors_dead_letters_leave_the_platforms_item_out_when_authors_are_pseudonymised(
    tmp_path: Path, private: bool
) -> None:
    """With `pseudonymize_authors` on, no raw account may reach a file stormwatch writes;
    the platform's item holds its accounts in fields ingest never pseudonymises, so the
    letter keeps what went wrong and where, not the item."""
    pipeline = Pipeline(pseudonymize=Pseudonymizer("k" * 8 + "0123456789abcdefghijklmnop"))
    live = LivePipeline(pipeline if private else Pipeline(), tick=0.05, checkpoint_seconds=3600)
    source = OneBadItem()
    letters = tmp_path / "dead.jsonl"
    spec = CollectorSpec("yt", "youtube", tmp_path / "c.json", 0.05, letters, lambda: source)
    runner = CollectorThread(spec, live, retry_seconds=0.02)
    stop = threading.Event()
    runner.start(stop)
    try:
        assert source.committed.wait(10)
    finally:
        stop.set()
        runner.join(5)
    text = letters.read_text()
    (written,) = [orjson.loads(line) for line in text.splitlines()]
    assert written["reason"] == "missing_field" and written["source"] == "youtube:video v1"
    assert written["detail"] == "comment without publishedAt"
    if private:
        assert "Jane" not in text and "UCjane" not in text
        assert written["withheld"] is True and written["size"] == len(orjson.dumps(source.ITEM))
        assert "line" not in written
    else:
        assert orjson.loads(written["line"]) == source.ITEM and "withheld" not in written


# --- a real serve ---------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def comments_by_platform(url: str) -> dict[str, float]:
    """stormwatch_comments_total summed over outcomes (processed, late, duplicate)."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(url + "/metrics").text):
        if family.name == "stormwatch_comments":
            for sample in family.samples:
                if sample.name == "stormwatch_comments_total":
                    platform = sample.labels["platform"]
                    totals[platform] = totals.get(platform, 0) + sample.value
    return {platform: n for platform, n in totals.items() if n}  # all are exported from 0


def collector_samples(url: str) -> dict[tuple[str, str], float]:
    """(sample name, collector[/outcome]) -> value of the stormwatch_collector_* counters."""
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(httpx.get(url + "/metrics").text):
        for sample in family.samples:
            if sample.name.startswith("stormwatch_collector_") and sample.name.endswith("_total"):
                key = "/".join(filter(None, (sample.labels["collector"],
                                             sample.labels.get("outcome"))))  # fmt: skip
                found[sample.name, key] = sample.value
    return found


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Serve:
    """`stormwatch serve` as a process, started and stopped like a deployment does."""

    def __init__(self, config: Path, db: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "stormwatch.cli", "serve", "--db", str(db),
               "--port", str(self.port), "--config", str(config)]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        assert self.proc.stderr is not None
        self.head: list[str] = []
        while "listening on" not in (line := self.proc.stderr.readline()):
            assert line, "serve exited before listening: " + "".join(self.head)
            self.head.append(line)

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=60) == 0
        assert self.proc.stderr is not None
        return "".join(self.head) + self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_serve_runs_configured_collectors_and_a_restart_reads_nothing_twice(
    tmp_path: Path,
) -> None:
    feed, mastodon = FeedServer(), FakeMastodon()
    statuses = [mastodon.post(f"<p>#acme down {n}</p>", tags=("acme",)) for n in range(3)]
    config = tmp_path / "stormwatch.toml"
    config.write_text(
        f'[[collectors]]\nsource = "rss"\nname = "blog"\nfeeds = ["{feed.url}"]\n'
        'brand = "acme"\ncursor = "cursors/blog.json"\nevery = 0.2\n'
        f'[[collectors]]\nsource = "mastodon"\nserver = "{mastodon.url}"\ntags = ["acme"]\n'
        'brand = "acme"\ncursor = "cursors/mastodon.json"\nevery = 0.2\n'
    )
    env = {**os.environ, "STORMWATCH_MASTODON_TOKEN": TOKEN}
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "META_APP_SECRET", "STORMWATCH_CONFIG",
                 "STORMWATCH_INGEST_TOKEN"):  # fmt: skip
        env.pop(name, None)
    db = tmp_path / "serve.sqlite3"
    serve = Serve(config, db, env)
    try:
        wait_for(
            lambda: comments_by_platform(serve.url) == {"blog": 2, "mastodon": 3},
            "2 feed entries and 3 statuses processed",
        )
        counters = collector_samples(serve.url)
        assert counters["stormwatch_collector_records_total", "blog"] == 2
        assert counters["stormwatch_collector_records_total", "mastodon-1"] == 3
        assert counters["stormwatch_collector_polls_total", "blog/ok"] >= 1
        assert ("stormwatch_collector_polls_total", "blog/failed") not in counters
        log = serve.stop()
    finally:
        serve.kill()
    assert "Traceback" not in log
    assert (tmp_path / "cursors/blog.json").exists()
    mastodon_cursor = orjson.loads((tmp_path / "cursors/mastodon.json").read_bytes())
    assert mastodon_cursor["tag:acme"]["last_id"] == statuses[-1]

    feed_polls, mastodon_polls = len(feed.requests), len(mastodon.requests)
    serve = Serve(config, db, env)
    try:
        # both collectors polled again from their cursors before anything new was written
        wait_for(lambda: len(feed.requests) > feed_polls + 1, "the feed polled again")
        wait_for(lambda: len(mastodon.requests) > mastodon_polls + 1, "mastodon polled again")
        assert feed.requests[feed_polls] == '"2"'  # the ETag of the first run: 304
        assert f"min_id={statuses[-1]}" in mastodon.requests[mastodon_polls]
        feed.entries.append(("urn:3", "Acme outage", "down again"))
        new = mastodon.post("<p>#acme still down</p>", tags=("acme",))
        wait_for(
            lambda: comments_by_platform(serve.url) == {"blog": 1, "mastodon": 1},
            "only the new entry and the new status processed",
        )
        polls = len(feed.requests)
        wait_for(lambda: len(feed.requests) > polls + 2, "more polls")
        assert comments_by_platform(serve.url) == {"blog": 1, "mastodon": 1}
        log = serve.stop()
    finally:
        serve.kill()
        feed.close()
        mastodon.close()
    assert "Traceback" not in log
    cursor = orjson.loads((tmp_path / "cursors/mastodon.json").read_bytes())
    assert cursor["tag:acme"]["last_id"] == new


def test_serve_refuses_a_wrong_collector_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "stormwatch.toml"
    config.write_text('[[collectors]]\nsource = "mastodon"\ntags = ["acme"]\ncursor = "c.json"\n'
                      'brand = "acme"\n')  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORMWATCH_", "SLACK_"))}
    cmd = [sys.executable, "-m", "stormwatch.cli", "serve", "--db", str(tmp_path / "s.sqlite3"),
           "--port", str(free_port()), "--config", str(config)]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: collectors[0] (mastodon): set STORMWATCH_MASTODON_TOKEN "
        "(an access token with read scope)"
    ]


def test_a_dead_letter_file_is_made_writable_at_start_up(tmp_path: Path) -> None:
    """A dead-letter file in a directory that did not exist stopped its collector at the
    first page with a dead letter, for good: the page was never committed and was
    polled again and again. Its directory is made, as the cursor's is; a file that
    cannot be written stops start-up in one line."""
    rss = '[[collectors]]\nsource = "rss"\nfeeds = ["http://x/f"]\nbrand = "acme"\ncursor = "c"\n'
    [spec] = load(tmp_path, f'{rss}dead_letter = "new/dir/dead.jsonl"\n')
    assert spec.dead_letter == tmp_path / "new/dir/dead.jsonl" and spec.dead_letter.is_file()
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match=r"collectors\[0\].dead_letter: cannot write .*a-file"):
        load(tmp_path, f'{rss}dead_letter = "a-file/dead.jsonl"\n')
