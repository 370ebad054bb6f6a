"""The Mastodon collector against a local server speaking Mastodon's REST wire format
(tests/fake_mastodon.py), driven by the real Mastodon.py: min_id paging along Link
headers, a restart mid-stream with nothing lost or doubled, 429 and X-RateLimit-Remaining
waited out, replies mapped to parent and conversation root, malformed statuses
dead-lettered with their reason, brands from the watchlist."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from stormwatch.cli import app
from stormwatch.ingest.mastodon_source import MastodonCollector, MastodonStream
from stormwatch.ingest.page_collector import CollectorError, poll_once
from stormwatch.ingest.watchlist import Watchlist
from stormwatch.kafka.exceptions import ProduceError
from tests.fake_mastodon import TOKEN, FakeMastodon

WATCHLIST = Watchlist.from_mapping(
    {
        "brands": {
            "acme": {"accounts": ["me", "acme@acme.example"], "hashtags": ["#acme"]},
            "globex": {"keywords": ["globex"], "hashtags": ["#globex"]},
        }
    }
)


class Collected:
    """A destination that keeps what it was sent."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    def send(self, records: list[dict[str, Any]]) -> None:
        self.records.extend(records)


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    server = FakeMastodon()
    yield server
    server.close()


def collector(
    server: FakeMastodon, cursor: Path, streams: list[MastodonStream] | None = None, **kw: Any
) -> MastodonCollector:
    return MastodonCollector(
        server.url,
        TOKEN,
        streams or [MastodonStream("acme")],
        cursor,
        watchlist=WATCHLIST,
        page_limit=kw.pop("page_limit", 5),
        **kw,
    )


def test_restart_mid_stream_neither_loses_nor_doubles(
    mastodon: FakeMastodon, tmp_path: Path
) -> None:
    cursor = tmp_path / "cursor.json"
    first = [mastodon.post(f"<p>#acme early {n}</p>", tags=("acme",)) for n in range(3)]
    got = Collected()
    poll_once(collector(mastodon, cursor), got, None)  # no cursor yet: the newest page
    assert [r["id"] for r in got.records] == first
    later = [mastodon.post(f"<p>#acme outage {n}</p>", tags=("acme",)) for n in range(23)]
    # The server fails the third page: two pages delivered and committed, then an error.
    mastodon.fail_on_request = len(mastodon.requests) + 3
    with pytest.raises(CollectorError, match="HTTP 500"):
        poll_once(collector(mastodon, cursor), got, None)
    assert len(got.records) == 3 + 10
    # A process killed after delivering one more page (committed) and reading the next.
    killed = collector(mastodon, cursor)
    pages = killed.pages()
    got.send(next(pages).records)
    killed.commit()
    next(pages)  # read, never delivered: lost with the process
    del killed, pages
    poll_once(collector(mastodon, cursor), got, None)  # restarted
    assert [r["id"] for r in got.records] == first + later
    requests = [r for r in mastodon.requests if "/timelines/tag/" in r]
    assert all("min_id=" in r for r in requests[1:])  # forward from the cursor each time
    assert poll_once(collector(mastodon, cursor), got, None).records == 0


def test_failed_delivery_commits_nothing(mastodon: FakeMastodon, tmp_path: Path) -> None:
    ids = [mastodon.post(f"<p>#acme {n}</p>", tags=("acme",)) for n in range(3)]

    class Refusing:
        def send(self, records: list[dict[str, Any]]) -> None:
            raise ProduceError("1 of 3 records not written: broker gone")

    cursor = tmp_path / "cursor.json"
    with pytest.raises(ProduceError):
        poll_once(collector(mastodon, cursor), Refusing(), None)
    assert not cursor.exists()
    got = Collected()
    poll_once(collector(mastodon, cursor), got, None)
    assert [r["id"] for r in got.records] == ids


def test_a_server_ignoring_min_id_neither_loops_nor_redelivers(
    mastodon: FakeMastodon, tmp_path: Path
) -> None:
    cursor = tmp_path / "cursor.json"
    old = [mastodon.post(f"<p>#acme {n}</p>", tags=("acme",)) for n in range(3)]
    got = Collected()
    poll_once(collector(mastodon, cursor), got, None)
    mastodon.ignore_min_id = True
    new = mastodon.post("<p>#acme new</p>", tags=("acme",))
    poll_once(collector(mastodon, cursor), got, None)
    assert [r["id"] for r in got.records] == [*old, new]
    assert poll_once(collector(mastodon, cursor), got, None).records == 0


def wait_for(check: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_streaming_api_delivers_as_written_and_the_poll_fills_gaps(
    mastodon: FakeMastodon, tmp_path: Path
) -> None:
    cursor = tmp_path / "cursor.json"
    polled = mastodon.post("<p>#acme before</p>", tags=("acme",))
    streams = [MastodonStream("acme"), MastodonStream(None)]
    source = collector(mastodon, cursor, streams, stream_seconds=3.0)
    got = Collected()
    worker = threading.Thread(target=poll_once, args=(source, got, None))
    worker.start()
    try:
        wait_for(lambda: mastodon.streaming("hashtag:acme") == 1, "the hashtag stream")
        wait_for(lambda: mastodon.streaming("user:notification") == 1, "the mention stream")
        written = time.monotonic()
        streamed = mastodon.post("<p>#acme live outage</p>", tags=("acme",))
        wait_for(lambda: len(got.records) == 2, "the streamed status")
        assert time.monotonic() - written < 2.0  # as written, not at the next poll (3 s)
        mention = mastodon.post("<p>@me down for me too</p>", mentions=("me",))
        wait_for(lambda: len(got.records) == 3, "the streamed mention")
        mastodon.drop_streams()  # the streaming server restarts: a gap
        missed = mastodon.post("<p>#acme said in the gap</p>", tags=("acme",))
    finally:
        worker.join(timeout=10)
    assert [r["id"] for r in got.records] == [polled, streamed, mention]
    source.stream_seconds = 0
    poll_once(source, got, None)  # the poll finds the gap, skips what was streamed
    source.close()
    assert [r["id"] for r in got.records] == [polled, streamed, mention, missed]
    restarted = collector(mastodon, cursor, streams)
    assert poll_once(restarted, got, None).records == 0  # nothing read twice


def test_record_mapping_replies_and_conversation_root(
    mastodon: FakeMastodon, tmp_path: Path
) -> None:
    root = mastodon.post("<p>New pricing is live</p>", acct="acme@acme.example")  # no tag
    reply = mastodon.post(
        '<p><span class="h-card"><a href="https://acme.example/@acme" class="u-url mention">'
        '@<span>acme</span></a></span> this is a rip-off <a href="https://m.example/tags/acme"'
        ' class="mention hashtag" rel="tag">#<span>acme</span></a></p><p>cancelling&nbsp;now'
        "<br>bye</p>",
        tags=("acme",),
        reply_to=root,
        mentions=("acme@acme.example",),
        spoiler="money",
    )
    nested = mastodon.post("<p>same here #acme</p>", tags=("acme",), reply_to=reply, lang="de")
    got = Collected()
    poll_once(collector(mastodon, tmp_path / "c.json"), got, None)
    first, second = got.records
    assert first == {
        "id": reply,
        "text": "money\n\n@acme this is a rip-off #acme\n\ncancelling now\nbye",
        "created_at": "2026-03-02T09:00:01.000Z",
        "thread_id": root,
        "parent_id": root,
        "author_id": "bob@other.example",
        "author_followers": 10,
        "lang": "en",
        "platform": "mastodon",
        "brand": "acme",
    }
    assert (second["id"], second["parent_id"], second["thread_id"]) == (nested, reply, root)
    assert second["lang"] == "de"
    # One context request: the nested reply's root came from its parent's.
    assert sum("/context" in r for r in mastodon.requests) == 1


def test_429_and_exhausted_rate_limit_are_waited_out(
    mastodon: FakeMastodon, tmp_path: Path
) -> None:
    ids = [mastodon.post(f"<p>#acme {n}</p>", tags=("acme",)) for n in range(4)]
    mastodon.throttle_next = 1
    got = Collected()
    source = collector(mastodon, tmp_path / "c.json")
    started = time.monotonic()
    poll_once(source, got, None)
    assert time.monotonic() - started >= 0.9  # waited for X-RateLimit-Reset (1 s)
    assert source.throttled == 1
    assert [r["id"] for r in got.records] == ids  # the retried request delivered all
    # No requests remaining: the next request waits for the reset first.
    mastodon.remaining = 1
    slept: list[float] = []
    again = collector(mastodon, tmp_path / "c.json", sleep=slept.append)
    mastodon.post("<p>#acme more</p>", tags=("acme",))
    poll_once(again, got, None)
    assert len(slept) == 1 and 200 < slept[0] <= 300  # the reset is 5 minutes away


def test_malformed_status_dead_lettered_with_its_reason(
    mastodon: FakeMastodon, tmp_path: Path
) -> None:
    good = mastodon.post("<p>#acme fine</p>", tags=("acme",))
    mastodon.post("<p>#acme broken</p>", tags=("acme",), created_at="last tuesday")
    mastodon.post("<p>#acme no account</p>", tags=("acme",), account=None)
    unmatched = mastodon.post("<p>nothing of ours</p>", tags=("acme",))
    letters = tmp_path / "dead.jsonl"
    got = Collected()
    report = poll_once(collector(mastodon, tmp_path / "c.json"), got, letters)
    assert [r["id"] for r in got.records] == [good]
    assert report.dead_letters == {"missing_field": 2, "no_brand": 1}
    written = [orjson.loads(x) for x in letters.read_text().splitlines()]
    assert [w["reason"] for w in written] == ["missing_field", "missing_field", "no_brand"]
    assert "created_at missing or not a date" in written[0]["detail"]
    assert orjson.loads(written[2]["line"])["id"] == unmatched
    assert "mastodon:" in written[0]["source"]


def test_mentions_and_brands_from_the_watchlist(mastodon: FakeMastodon, tmp_path: Path) -> None:
    mention = mastodon.post("<p>@me why is it down</p>", mentions=("me",))
    both = mastodon.post("<p>#acme and Globex both down</p>", tags=("acme",))
    got = Collected()
    streams = [MastodonStream(None), MastodonStream("acme")]
    poll_once(collector(mastodon, tmp_path / "c.json", streams), got, None)
    assert [(r["id"], r["brand"]) for r in got.records] == [
        (mention, "acme"),  # written to the brand's own account
        (f"acme:{both}", "acme"),
        (f"globex:{both}", "globex"),
    ]
    assert any("types%5B%5D=mention" in r or "types[]=mention" in r for r in mastodon.requests)


def test_wrong_token_is_one_clear_error(mastodon: FakeMastodon, tmp_path: Path) -> None:
    source = MastodonCollector(mastodon.url, "wrong", [MastodonStream("acme")], tmp_path / "c")
    with pytest.raises(CollectorError, match="HTTP 401.*access token is invalid"):
        poll_once(source, Collected(), None)


def test_collect_mastodon_command(
    mastodon: FakeMastodon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [mastodon.post(f"<p>#acme {n}</p>", tags=("acme",)) for n in range(2)]
    out = tmp_path / "out.jsonl"
    args = ["collect", "mastodon", "--server", mastodon.url, "--tag", "#acme", "--brand",
            "acme", "--cursor", str(tmp_path / "cursor.json"), "--to", str(out)]  # fmt: skip
    monkeypatch.setenv("STORMWATCH_MASTODON_TOKEN", TOKEN)
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.stderr
    assert "2 new records, 0 dead-lettered" in done.stderr
    assert [orjson.loads(x)["id"] for x in out.read_text().splitlines()] == ids
    monkeypatch.setenv("STORMWATCH_MASTODON_TOKEN", "revoked")
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 1  # at run time: the server refused the token
    assert done.stderr.strip().splitlines() == [
        f"error: mastodon {mastodon.url}: HTTP 401 Unauthorized: The access token is invalid"
    ]
    done = CliRunner().invoke(app, [*args, "--stream"])
    assert (done.exit_code, done.stderr.strip()) == (
        2,
        "error: --stream needs --every SECONDS: how often the poll catches up",
    )
    monkeypatch.delenv("STORMWATCH_MASTODON_TOKEN")
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 2
    assert done.stderr.strip().splitlines() == [
        "error: set STORMWATCH_MASTODON_TOKEN (an access token with read scope)"
    ]


def test_check_asks_verify_credentials_once(
    mastodon: FakeMastodon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = ["collect", "mastodon", "--server", mastodon.url, "--tag", "acme", "--mentions",
             "--check", "--cursor", str(tmp_path / "cursor.json")]  # fmt: skip
    monkeypatch.setenv("STORMWATCH_MASTODON_TOKEN", TOKEN)
    done = CliRunner().invoke(app, check)
    assert (done.exit_code, done.stderr.strip()) == (
        0,
        f"mastodon {mastodon.url}: token accepted for @me, 2 stream(s)",
    )
    assert [r.split("?")[0] for r in mastodon.requests] == ["/api/v1/accounts/verify_credentials"]
    assert not (tmp_path / "cursor.json").exists()
    monkeypatch.setenv("STORMWATCH_MASTODON_TOKEN", "revoked")
    done = CliRunner().invoke(app, check)
    assert (done.exit_code, done.stderr.strip()) == (
        1,
        f"error: mastodon {mastodon.url}: HTTP 401 Unauthorized: The access token is invalid",
    )
    done = CliRunner().invoke(app, [*check[:4], "--check"])  # no stream to follow
    assert (done.exit_code, done.stderr.strip()) == (
        2,
        "error: give at least one --tag or --mentions",
    )
    monkeypatch.delenv("STORMWATCH_MASTODON_TOKEN")
    done = CliRunner().invoke(app, check)
    assert done.exit_code == 2 and "STORMWATCH_MASTODON_TOKEN" in done.stderr
