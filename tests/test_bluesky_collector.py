"""The Bluesky collector against a local XRPC server speaking the AT Protocol's wire
format (tests/fake_bluesky.py), driven by the real `atproto` client: searchPosts paged
along its cursor, a restart mid-scan with nothing lost or doubled, 429 waited out,
reply root and parent mapped, malformed records dead-lettered with their reason, brands
from the watchlist."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from stormwatch.cli import app
from stormwatch.ingest.bluesky_source import BlueskyCollector
from stormwatch.ingest.page_collector import CollectorError, poll_once
from stormwatch.ingest.watchlist import Watchlist
from tests.fake_bluesky import APP_PASSWORD, HANDLE, FakeBluesky

WATCHLIST = Watchlist.from_mapping(
    {
        "brands": {
            "acme": {"accounts": ["acme.bsky.social"], "keywords": ["acme"]},
            "globex": {"keywords": ["globex"]},
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
def bluesky() -> Iterator[FakeBluesky]:
    server = FakeBluesky()
    yield server
    server.close()


def collector(
    server: FakeBluesky, cursor: Path, queries: list[str] | None = None, **kw: Any
) -> BlueskyCollector:
    return BlueskyCollector(
        server.url,
        HANDLE,
        APP_PASSWORD,
        queries or ["acme"],
        cursor,
        watchlist=WATCHLIST,
        page_limit=kw.pop("page_limit", 5),
        **kw,
    )


def test_restart_mid_scan_neither_loses_nor_doubles(bluesky: FakeBluesky, tmp_path: Path) -> None:
    cursor = tmp_path / "cursor.json"
    early = [bluesky.post(f"acme early {n}") for n in range(3)]
    bluesky.post("nothing to see")  # matches no query
    got = Collected()
    poll_once(collector(bluesky, cursor), got, None)  # no cursor yet: the newest page
    assert [r["id"] for r in got.records] == early
    backlog = [bluesky.post(f"acme outage {n}") for n in range(23)]
    # The third page fails: two pages (the 10 newest) delivered and committed.
    bluesky.fail_on_request = len(bluesky.requests) + 3
    with pytest.raises(CollectorError, match="500"):
        poll_once(collector(bluesky, cursor), got, None)
    assert [r["id"] for r in got.records[3:]] == backlog[-5:] + backlog[-10:-5]
    newer = [bluesky.post(f"acme meanwhile {n}") for n in range(2)]  # while it was down
    # A process killed after delivering one more page (committed) and reading the next.
    killed = collector(bluesky, cursor)
    pages = killed.pages()
    got.send(next(pages).records)
    killed.commit()
    next(pages)  # read, never delivered: lost with the process
    del killed, pages
    poll_once(collector(bluesky, cursor), got, None)  # restarted: finishes the scan
    poll_once(collector(bluesky, cursor), got, None)  # the next scan: what came since
    assert sorted(r["id"] for r in got.records) == sorted(early + backlog + newer)
    assert len(got.records) == len(early + backlog + newer)
    assert poll_once(collector(bluesky, cursor), got, None).records == 0
    resumed = [r for r in bluesky.requests if "until=" in r]
    assert resumed and all("since=" in r for r in resumed)  # resumed by time, not offset


class RefusesOnce(Collected):
    """A destination that refuses its n-th send (an /ingest restarting, a broker away)."""

    def __init__(self, refuse: int) -> None:
        super().__init__()
        self.refuse, self.sends = refuse, 0

    def send(self, records: list[dict[str, Any]]) -> None:
        self.sends += 1
        if self.sends == self.refuse:
            raise CollectorError("refused")
        super().send(records)


def test_a_page_refused_is_sent_again_not_committed_by_the_next_poll(
    bluesky: FakeBluesky, tmp_path: Path
) -> None:
    """The second query's page the destination refused stayed pending, and the next
    poll's first commit (the first query's) saved it as sent: its posts were lost."""
    one = collector(bluesky, tmp_path / "cursor.json", ["acme", "globex"])
    bluesky.post("acme first")
    bluesky.post("globex first")
    got = RefusesOnce(refuse=4)
    poll_once(one, got, None)
    refused = [bluesky.post(f"globex outage {n}") for n in range(3)]
    bluesky.post("acme later")
    with pytest.raises(CollectorError, match="refused"):
        poll_once(one, got, None)  # acme's page sent, globex's refused
    poll_once(one, got, None)
    poll_once(one, got, None)
    ids = [r["id"] for r in got.records]
    assert set(refused) <= set(ids) and len(ids) == len(set(ids)) == 6


def test_record_mapping_reply_root_and_parent(bluesky: FakeBluesky, tmp_path: Path) -> None:
    root = bluesky.post("Acme raised prices again", author="carol.test")
    reply = bluesky.post("@acme.bsky.social this is a rip-off", reply_to=root, langs=("de",))
    nested = bluesky.post("same for me with acme", reply_to=reply)
    got = Collected()
    poll_once(collector(bluesky, tmp_path / "c.json", page_limit=100), got, None)
    assert [r["id"] for r in got.records] == [root, reply, nested]
    assert got.records[1] == {
        "id": reply,
        "text": "@acme.bsky.social this is a rip-off",
        "created_at": "2026-03-02T09:00:01.000Z",
        "thread_id": root,
        "parent_id": root,
        "author_id": "did:plc:bob000000000000000000000",
        "lang": "de",
        "platform": "bluesky",
        "brand": "acme",  # names the brand's own account
    }
    assert (got.records[2]["thread_id"], got.records[2]["parent_id"]) == (root, reply)
    assert (got.records[0]["thread_id"], got.records[0]["parent_id"]) == (root, None)


def test_429_is_waited_out_with_retry_after(bluesky: FakeBluesky, tmp_path: Path) -> None:
    ids = [bluesky.post(f"acme {n}") for n in range(3)]
    slept: list[float] = []
    source = collector(bluesky, tmp_path / "c.json", sleep=slept.append)
    bluesky.throttle_next = 2
    got = Collected()
    poll_once(source, got, None)
    assert [r["id"] for r in got.records] == ids
    assert source.throttled == 2
    assert len(slept) == 2 and all(0.5 <= s <= 1.0 for s in slept)  # Retry-After: 1
    assert len(bluesky.requests) == 3  # two refused, then the page
    # Without Retry-After, the wait is until ratelimit-reset (2 s ahead, whole seconds).
    bluesky.send_retry_after = False
    bluesky.throttle_next = 1
    bluesky.post("acme again")
    poll_once(source, got, None)
    assert len(got.records) == 4 and source.throttled == 3
    assert 0.5 <= slept[2] <= 2.0


def test_exhausted_rate_limit_waits_for_the_reset(bluesky: FakeBluesky, tmp_path: Path) -> None:
    for n in range(6):
        bluesky.post(f"acme {n}")
    slept: list[float] = []
    source = collector(bluesky, tmp_path / "c.json", sleep=slept.append)
    bluesky.remaining = 1  # the first answer says ratelimit-remaining: 0
    poll_once(source, Collected(), None)  # sets the cursor: the newest page
    assert slept == []
    bluesky.post("acme more")
    got = Collected()
    poll_once(source, got, None)  # its request waits for the reset first
    assert slept and 250 < slept[0] <= 300  # ratelimit-reset is 5 minutes away
    assert len(got.records) == 1


def test_malformed_records_dead_lettered_with_their_reason(
    bluesky: FakeBluesky, tmp_path: Path
) -> None:
    good = bluesky.post("acme works")
    bad_time = bluesky.post("acme broken", record={"createdAt": "last tuesday"})
    bluesky.post("acme no text", record={"text": 42})
    unmatched = bluesky.post("acmeish but no brand")
    bluesky.post("acme no uri", view={"uri": None})  # the client's PostView rejects it
    unindexed = bluesky.post("acme unindexed", view={"indexedAt": "soon"})
    later = bluesky.post("acme after them all")
    letters = tmp_path / "dead.jsonl"
    got = Collected()
    report = poll_once(collector(bluesky, tmp_path / "c.json", page_limit=100), got, letters)
    assert [r["id"] for r in got.records] == [good, later]
    assert report.dead_letters == {
        "invalid_timestamp": 2,
        "missing_field": 1,
        "no_brand": 1,
        "invalid_post": 1,
    }
    written = [orjson.loads(x) for x in letters.read_text().splitlines()]
    assert written[0]["reason"] == "invalid_post"
    assert written[0]["detail"] == "not a PostView: uri: Input should be a valid string"
    stamps = [orjson.loads(w["line"])["uri"] for w in written if w["reason"] == "invalid_timestamp"]
    assert sorted(stamps) == sorted([bad_time, unindexed])
    written = {w["reason"]: w for w in written}
    assert orjson.loads(written["no_brand"]["line"])["uri"] == unmatched
    assert written["missing_field"]["source"].startswith("bluesky:")


def test_brands_from_the_watchlist_and_two_brands(bluesky: FakeBluesky, tmp_path: Path) -> None:
    both = bluesky.post("acme and globex both down")
    only = bluesky.post("globex is down")
    got = Collected()
    poll_once(collector(bluesky, tmp_path / "c.json", ["acme", "globex"]), got, None)
    assert [(r["id"], r["brand"]) for r in got.records] == [
        (f"acme:{both}", "acme"),
        (f"globex:{both}", "globex"),
        (f"acme:{both}", "acme"),  # found again by the second query: the same ids
        (f"globex:{both}", "globex"),
        (only, "globex"),
    ]


def test_wrong_app_password_is_one_clear_error(bluesky: FakeBluesky, tmp_path: Path) -> None:
    with pytest.raises(CollectorError, match="login: 401.*Invalid identifier or password"):
        BlueskyCollector(bluesky.url, HANDLE, "wrong", ["acme"], tmp_path / "c.json")


def test_collect_bluesky_command(
    bluesky: FakeBluesky, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [bluesky.post(f"acme {n}") for n in range(2)]
    watchlist = tmp_path / "watchlist.yaml"
    watchlist.write_text("brands:\n  acme:\n    keywords: [acme]\n")
    out = tmp_path / "out.jsonl"
    args = ["collect", "bluesky", "--server", bluesky.url, "--watchlist", str(watchlist),
            "--cursor", str(tmp_path / "cursor.json"), "--to", str(out)]  # fmt: skip
    monkeypatch.setenv("STORMWATCH_BLUESKY_HANDLE", HANDLE)
    monkeypatch.setenv("STORMWATCH_BLUESKY_APP_PASSWORD", APP_PASSWORD)
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.stderr
    assert "2 new records, 0 dead-lettered" in done.stderr
    assert [orjson.loads(x)["id"] for x in out.read_text().splitlines()] == ids
    assert "q=acme" in bluesky.requests[0]  # the query came from the watchlist
    monkeypatch.setenv("STORMWATCH_BLUESKY_APP_PASSWORD", "wrong")
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 1  # refused by the server, not a usage error
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Invalid identifier or password" in done.stderr
    monkeypatch.delenv("STORMWATCH_BLUESKY_HANDLE")
    done = CliRunner().invoke(app, args)
    assert (done.exit_code, done.stderr.strip()) == (
        2,
        "error: set STORMWATCH_BLUESKY_HANDLE and STORMWATCH_BLUESKY_APP_PASSWORD"
        " (an app password)",
    )


def test_check_logs_in_and_searches_once(
    bluesky: FakeBluesky, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = ["collect", "bluesky", "--server", bluesky.url, "--query", "acme", "--check",
             "--cursor", str(tmp_path / "cursor.json")]  # fmt: skip
    monkeypatch.setenv("STORMWATCH_BLUESKY_HANDLE", HANDLE)
    monkeypatch.setenv("STORMWATCH_BLUESKY_APP_PASSWORD", APP_PASSWORD)
    done = CliRunner().invoke(app, check)
    assert (done.exit_code, done.stderr.strip()) == (
        0,
        f"bluesky {bluesky.url}: logged in as {HANDLE}, search answers, 1 query(ies)",
    )
    assert bluesky.logins == 1 and len(bluesky.requests) == 1 and "limit=1" in bluesky.requests[0]
    assert not (tmp_path / "cursor.json").exists()
    monkeypatch.setenv("STORMWATCH_BLUESKY_APP_PASSWORD", "wrong")
    done = CliRunner().invoke(app, check)
    assert done.exit_code == 1 and len(done.stderr.strip().splitlines()) == 1
    assert "Invalid identifier or password" in done.stderr and "Traceback" not in done.stderr
    monkeypatch.setenv("STORMWATCH_BLUESKY_APP_PASSWORD", APP_PASSWORD)
    done = CliRunner().invoke(app, [c for c in check if c not in ("--query", "acme")])
    assert (done.exit_code, done.stderr.strip()) == (
        2,
        "error: give --query, or a --watchlist with keywords or hashtags",
    )


def test_a_post_sorted_below_the_last_scans_newest_is_collected_once(
    bluesky: FakeBluesky, tmp_path: Path
) -> None:
    """Search sorts by sortAt, the earlier of createdAt and indexedAt: a post from a
    phone whose clock runs behind, indexed after a poll, sorted below the newest post
    that poll collected, and the next scan (from that post on) never reached it."""
    from datetime import timedelta

    from tests.fake_bluesky import T0, _iso

    for n in range(4):
        bluesky.post(f"acme is down {n}")
    source = collector(bluesky, tmp_path / "c.json", page_limit=100)
    got = Collected()
    poll_once(source, got, None)
    skewed = bluesky.post(
        "acme ate my money", record={"createdAt": _iso(T0 - timedelta(seconds=25))}
    )
    text, _, uri = bluesky.index[-1]
    bluesky.index[-1] = (text, T0 - timedelta(seconds=25), uri)  # its sortAt: createdAt
    later = [bluesky.post(f"acme still down {n}") for n in range(3)]
    for _ in range(3):
        poll_once(collector(bluesky, tmp_path / "c.json", page_limit=100), got, None)
    ids = [r["id"] for r in got.records]
    assert ids.count(skewed) == 1 and set(later) <= set(ids) and len(ids) == len(set(ids)) == 8
