"""The RSS/Atom collector against a local feed server (ETag, 304, 5xx), driven by the
real feedparser: a restart neither re-reads nor loses entries; `--to` a running serve."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest

from stormwatch.ingest.rss_source import Feed, FeedError, RssCollector
from stormwatch.ingest.watchlist import Watchlist


def atom(entries: list[tuple[str, str, str]]) -> bytes:
    items = "".join(
        f"<entry><id>{i}</id><title>{t}</title><summary type='html'>&lt;p&gt;{s}&lt;/p&gt;"
        f"</summary><published>2026-03-02T09:{n:02d}:00Z</published>"
        f"<author><name>writer{n}</name></author></entry>"
        for n, (i, t, s) in enumerate(entries)
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>Blog</title><id>urn:blog</id><updated>2026-03-02T10:00:00Z</updated>{items}</feed>"
    ).encode()


class FeedServer:
    def __init__(self) -> None:
        self.entries = [("urn:1", "Acme price hike", "outrageous"), ("urn:2", "Acme app", "ok")]
        self.fail = False
        self.stall = threading.Event()  # set: accept, then never answer until closed
        self.trickle = threading.Event()  # set: answer a byte at a time until closed
        self.closed = threading.Event()
        self.requests: list[str | None] = []  # If-None-Match of each request
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(self.headers.get("If-None-Match"))
                if outer.stall.is_set():
                    outer.closed.wait(30)
                    return
                if outer.trickle.is_set():  # the headers, then a byte now and then
                    self.send_response(200)
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    for _ in range(50):  # five seconds, then the connection drops
                        if outer.closed.wait(0.1):
                            break
                        self.wfile.write(b" ")
                        self.wfile.flush()
                    return
                if outer.fail:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = atom(list(reversed(outer.entries)))  # newest first, like feeds
                etag = f'"{len(outer.entries)}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/atom+xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed.atom"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


def test_restart_neither_rereads_nor_loses(feed: FeedServer, tmp_path: Path) -> None:
    cursor = tmp_path / "cursor.json"
    first = RssCollector([Feed(feed.url, "acme")], cursor)
    records = list(first.poll())
    first.commit()
    assert [(r["id"], r["text"], r["brand"]) for r in records] == [
        ("urn:1", "Acme price hike — outrageous", "acme"),
        ("urn:2", "Acme app — ok", "acme"),
    ]
    assert records[0]["created_at"] == 1772442060 and records[0]["author_id"] == "writer1"
    assert records[0]["thread_id"] == feed.url and records[0]["platform"] == "blog"
    assert list(first.poll()) == []  # 304 Not Modified
    assert feed.requests[-1] == '"2"'
    feed.entries.append(("urn:3", "Acme outage", "down again"))
    # not committed: a crash here re-reads urn:3 next time (the pipeline dedupes ids)
    assert [r["id"] for r in first.poll()] == ["urn:3"]
    restarted = RssCollector([Feed(feed.url, "acme")], cursor)
    assert [r["id"] for r in restarted.poll()] == ["urn:3"]
    restarted.commit()
    assert list(RssCollector([Feed(feed.url, "acme")], cursor).poll()) == []


def test_server_error_is_a_feed_error_and_keeps_the_cursor(
    feed: FeedServer, tmp_path: Path
) -> None:
    cursor = tmp_path / "cursor.json"
    feed.fail = True
    with pytest.raises(FeedError, match="HTTP 503"):
        list(RssCollector([Feed(feed.url, "acme")], cursor).poll())
    assert not cursor.exists()
    feed.fail = False
    assert len(list(RssCollector([Feed(feed.url, "acme")], cursor).poll())) == 2


def test_a_feed_that_never_answers_times_out(feed: FeedServer, tmp_path: Path) -> None:
    """A feed that accepts the connection and says nothing held the collector, and every
    feed after it, for good (feedparser's own fetch has no time-out)."""
    stalled = FeedServer()
    stalled.stall.set()
    try:
        collector = RssCollector(
            [Feed(stalled.url, "acme"), Feed(feed.url, "acme")], tmp_path / "c.json", timeout=0.5
        )
        delivered = _delivered_until(collector, f"^{stalled.url}: .*timed out")
        assert delivered == ["urn:1", "urn:2"]
    finally:
        stalled.close()


def test_a_page_not_delivered_is_read_again_after_another_feed_commits(
    feed: FeedServer, tmp_path: Path
) -> None:
    """A page whose delivery failed must not be committed by another feed's commit at a
    later poll: its entries were marked read and never sent."""
    other = FeedServer()
    other.entries = [("urn:b1", "Acme blog", "fine")]
    cursor = tmp_path / "c.json"
    try:
        collector = RssCollector([Feed(feed.url, "acme"), Feed(other.url, "acme")], cursor)
        first = next(collector.pages())  # the delivery of feed's page fails: no commit
        assert [r["id"] for r in first.records] == ["urn:1", "urn:2"]
        feed.fail = True
        with pytest.raises(FeedError, match="HTTP 503"):
            for page in collector.pages():
                assert [r["id"] for r in page.records] == ["urn:b1"]
                collector.commit()
        feed.fail = False
        again = [r["id"] for page in collector.pages() for r in page.records]
        assert again == ["urn:1", "urn:2"]
    finally:
        other.close()


def test_a_dead_feed_does_not_stop_the_others(feed: FeedServer, tmp_path: Path) -> None:
    """Each feed is read on its own: one that is gone costs only its own entries, and
    the error names it once the others were delivered and committed (it stopped every
    feed after it, at every poll)."""
    gone = FeedServer()
    gone.fail = True
    cursor = tmp_path / "cursor.json"
    try:
        collector = RssCollector([Feed(gone.url, "acme"), Feed(feed.url, "acme")], cursor)
        delivered: list[str] = []
        with pytest.raises(FeedError, match="HTTP 503"):
            for page in collector.pages():
                delivered += [r["id"] for r in page.records]
                collector.commit()
        assert delivered == ["urn:1", "urn:2"]
        again = RssCollector([Feed(gone.url, "acme"), Feed(feed.url, "acme")], cursor)
        again_ids: list[str] = []
        with pytest.raises(FeedError):
            for page in again.pages():
                again_ids += [r["id"] for r in page.records]
        assert again_ids == []  # the good feed's entries were committed: none again
        gone.fail = False
        assert len(list(RssCollector([Feed(gone.url, "acme")], cursor).poll())) == 2
    finally:
        gone.close()


def test_brand_from_the_watchlist(feed: FeedServer, tmp_path: Path) -> None:
    feed.entries.append(("urn:3", "Acme vs Globex", "both bad"))
    watchlist = Watchlist.from_mapping(
        {"brands": {"acme": {"keywords": ["acme"]}, "globex": {"keywords": ["globex"]}}}
    )
    records = list(RssCollector([Feed(feed.url)], tmp_path / "c.json", watchlist=watchlist).poll())
    assert [(r["id"], r["brand"]) for r in records] == [
        ("urn:1", "acme"),
        ("urn:2", "acme"),
        ("acme:urn:3", "acme"),
        ("globex:urn:3", "globex"),
    ]


def test_collect_command_to_a_file_and_to_serve(feed: FeedServer, tmp_path: Path) -> None:
    out = tmp_path / "comments.jsonl"
    cmd = [sys.executable, "-m", "stormwatch.cli", "collect", "rss", feed.url, "--brand",
           "acme", "--cursor", str(tmp_path / "cursor.json"), "--to", str(out)]  # fmt: skip
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    feed.entries.append(("urn:3", "Acme outage", "down"))
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    assert [orjson.loads(x)["id"] for x in out.read_text().splitlines()] == [
        "urn:1",
        "urn:2",
        "urn:3",
    ]

    from tests.test_service import ENV, TOKEN, make_service, processed

    service = make_service(tmp_path, None, {"STORMWATCH_INGEST_TOKEN": ENV[
        "STORMWATCH_INGEST_TOKEN"]})  # fmt: skip
    try:
        to_serve = [*cmd[:-4], "--cursor", str(tmp_path / "c2.json"), "--to",
                    service.url + "/ingest"]  # fmt: skip
        import os

        env = {**os.environ, "STORMWATCH_INGEST_TOKEN": TOKEN}
        subprocess.run(to_serve, check=True, capture_output=True, timeout=120, env=env)
        processed(service, 3)
        assert service.live.pipeline.stats.read == 3
        assert service.live.pipeline.stats.dead_lettered == 0
    finally:
        service.stop()
        service.store.close()


def test_check_fetches_each_feed_once_and_says_what_is_wrong(
    feed: FeedServer, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from stormwatch.cli import app

    cursor = tmp_path / "cursor.json"
    check = ["collect", "rss", feed.url, "--check", "--cursor", str(cursor)]
    done = CliRunner().invoke(app, check)
    assert (done.exit_code, done.stderr.strip()) == (0, "rss: 1 feed(s) answered, 2 entries listed")
    assert feed.requests == [None] and not cursor.exists()  # a plain GET, nothing committed
    feed.fail = True
    done = CliRunner().invoke(app, check)
    assert (done.exit_code, done.stderr.strip()) == (1, f"error: {feed.url}: HTTP 503")
    feed.close()  # nobody answers
    done = CliRunner().invoke(app, check)
    assert done.exit_code == 1 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(f"error: {feed.url}: ") and "Traceback" not in done.stderr
    done = CliRunner().invoke(app, check[:3] + ["--brand", "acme"])  # no --check, no --to
    assert (done.exit_code, done.stderr.strip()) == (
        2,
        "error: give --to FILE, -, http://HOST:PORT/ingest or kafka://TOPIC",
    )


def test_an_unreachable_feed_is_one_line_that_keeps_its_brackets(tmp_path: Path) -> None:
    """Rich markup ate "[x]" from the URL and wrapped the error at the console width."""
    url = "http://127.0.0.1:1/[x]/feed"  # nothing listens on port 1
    env = {**os.environ, "COLUMNS": "40"}
    done = subprocess.run(
        [sys.executable, "-c", "from stormwatch.cli import main; main()", "collect", "rss",
         url, "--brand", "acme", "--to", str(tmp_path / "out.jsonl"),
         "--cursor", str(tmp_path / "cursor.json")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0], done.stderr


def ingest_server(status_for: Callable[[bytes], int]) -> ThreadingHTTPServer:
    """A local /ingest answering each POST body with `status_for(body)` (started)."""

    class Ingest(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status_for(body))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ingest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_ingest_answering_an_error_or_nothing_fails_the_poll_not_the_collector(
    tmp_path: Path,
) -> None:
    """A 503 from `/ingest` (a `serve` restarting), or no answer at all, is a
    `StormwatchError`: a collector polling `--every` reports it and polls again (it
    ended with a traceback)."""
    from stormwatch.exceptions import StormwatchError
    from stormwatch.ingest.collect_commands import Destination, IngestRefused

    server = ingest_server(lambda body: 503)
    env = {"STORMWATCH_INGEST_TOKEN": "t" * 32}
    try:
        busy = Destination(f"http://127.0.0.1:{server.server_address[1]}/ingest", env=env)
        with pytest.raises(IngestRefused, match="answered 503"):
            busy.send([{"id": "1"}])
        busy.close()
    finally:
        server.shutdown()
        server.server_close()
    gone = Destination("http://127.0.0.1:1/ingest", env=env)
    with pytest.raises(IngestRefused, match="ConnectError"):
        gone.send([{"id": "1"}])
    gone.close()
    assert issubclass(IngestRefused, StormwatchError)


def test_a_full_text_entry_is_cut_to_what_the_contract_takes(
    feed: FeedServer, tmp_path: Path
) -> None:
    """A full-text feed entry past 20,000 characters was dead-lettered `too_large` by
    every runtime: the post was never counted."""
    from stormwatch.ingest.decode import MAX_TEXT_CHARS, Decoder
    from stormwatch.model import Comment

    feed.entries = [("urn:long", "Acme recall", "word " * 6000)]
    [record] = list(RssCollector([Feed(feed.url, "acme")], tmp_path / "c.json").poll())
    assert len(record["text"]) <= MAX_TEXT_CHARS and record["text"].endswith("…")
    assert record["text"].startswith("Acme recall — word word")
    assert isinstance(Decoder().decode(orjson.dumps(record)), Comment)


def test_a_body_ingest_refuses_as_too_large_is_sent_in_halves(tmp_path: Path) -> None:
    """A 413 (`serve`'s `max_body_bytes` or queue, a proxy's 1 MB) was retried whole at
    every poll: nothing after that page was ever delivered."""
    from stormwatch.ingest.collect_commands import Destination, IngestRefused

    taken: list[str] = []

    def limited(body: bytes) -> int:
        if len(body) > 1000:
            return 413
        taken.extend(orjson.loads(line)["id"] for line in body.splitlines())
        return 202

    server = ingest_server(limited)
    try:
        to = Destination(
            f"http://127.0.0.1:{server.server_address[1]}/ingest",
            env={"STORMWATCH_INGEST_TOKEN": "t" * 32},
        )
        records = [{"id": str(n), "text": "x" * 250} for n in range(11)]
        to.send(records)
        assert taken == [r["id"] for r in records]
        with pytest.raises(IngestRefused, match="answered 413"):
            to.send([{"id": "big", "text": "x" * 2000}])  # one record: nothing to split
        to.close()
    finally:
        server.shutdown()
        server.server_close()


def test_a_feed_trickling_its_answer_times_out_too(feed: FeedServer, tmp_path: Path) -> None:
    """The time-out bounds the whole fetch: a feed sending a byte every 0.1 s passed
    every read's time-out and held the poll."""
    feed.trickle.set()
    collector = RssCollector([Feed(feed.url, "acme")], tmp_path / "c.json", timeout=1.0)
    with pytest.raises(FeedError, match="no whole answer in 1 s"):
        list(collector.poll())


def test_a_feed_file_is_read_from_disk(tmp_path: Path) -> None:
    """A path or file:// URL names a feed document on disk (feedparser's own reading)."""
    path = tmp_path / "feed.atom"
    path.write_bytes(atom([("urn:1", "Acme price hike", "outrageous")]))
    for url in (str(path), path.as_uri()):
        records = list(RssCollector([Feed(url, "acme")], tmp_path / f"{len(url)}.json").poll())
        assert [r["id"] for r in records] == ["urn:1"], url


def test_an_entry_feedparser_cannot_read_costs_only_its_feed(
    feed: FeedServer, tmp_path: Path
) -> None:
    """An emoji written as two surrogate character references (`&#55357;&#56865;`, as
    some encoders write it) makes feedparser raise UnicodeEncodeError: it escaped the
    loop over feeds, and every feed after it went unread at every poll."""
    garbled = FeedServer()
    garbled.entries = [("urn:b1", "Acme is awful &#55357;&#56865;", "x")]
    try:
        collector = RssCollector(
            [Feed(garbled.url, "acme"), Feed(feed.url, "acme")], tmp_path / "cursor.json"
        )
        delivered = _delivered_until(collector, r"bad|UnicodeEncodeError|surrogate")
        assert delivered == ["urn:1", "urn:2"]
    finally:
        garbled.close()


def test_a_record_with_half_an_emoji_is_written_and_read() -> None:
    """A platform's text holding a lone surrogate (valid JSON: "\\ud83d"): orjson would not
    write it and the collector's whole page failed at every poll, for good."""
    from stormwatch.ingest.decode import Decoder, record_json

    record = {"id": "1", "text": "so bad \ud83d", "created_at": 1700000000, "brand": "acme"}
    comment = Decoder().decode(record_json(record))
    assert comment.text == "so bad \ufffd"  # type: ignore[union-attr]


def _delivered_until(collector: RssCollector, error: str) -> list[str]:
    """The ids of the pages delivered (and committed) before the poll failed with
    `error`, which it must."""
    delivered: list[str] = []
    with pytest.raises(FeedError, match=error):
        for page in collector.pages():
            delivered += [r["id"] for r in page.records]
            collector.commit()
    return delivered
