"""The YouTube collector against a local server speaking the Data API v3's wire format
(JSON bodies, pageToken/nextPageToken, error bodies, 429 with Retry-After), driven by the
real google-api-python-client pointed at it: restarts neither lose nor double comments,
quota stops and back-offs, malformed items, brands, `--check`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from stormwatch.ingest.watchlist import Watchlist
from stormwatch.ingest.youtube_source import YouTubeCollector, YouTubeError

KEY = "AIza-test-key"
CHANNEL = "UCacme0000000000000000"
REVIEWER = "UCreviewer00000000000000"
BAD_KEY_BODY = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "errors": [
            {
                "message": "API key not valid. Please pass a valid API key.",
                "domain": "global",
                "reason": "badRequest",
            }
        ],
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
        ],
    }
}
QUOTA_BODY = {
    "error": {
        "code": 403,
        "message": "The request cannot be completed because you have exceeded your "
        '<a href="/youtube/v3/getting-started#quota">quota</a>.',
        "errors": [
            {
                "message": "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                "domain": "youtube.quota",
                "reason": "quotaExceeded",
            }
        ],
    }
}
RATE_BODY = {
    "error": {
        "code": 429,
        "message": "Resource has been exhausted (e.g. check quota).",
        "errors": [
            {
                "message": "Resource has been exhausted (e.g. check quota).",
                "domain": "global",
                "reason": "rateLimitExceeded",
            }
        ],
        "status": "RESOURCE_EXHAUSTED",
    }
}


START = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)  # minute 0 of the fake's comments
DAY = 86_400.0


def stamp(minute: int) -> str:
    return f"{START + dt.timedelta(minutes=minute):%Y-%m-%dT%H:%M:%SZ}"


def comment(cid: str, channel: str, text: str, minute: int, parent: str | None = None) -> dict:
    snippet: dict[str, Any] = {
        "channelId": channel,
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": f"@viewer-{cid}",
        "authorProfileImageUrl": "https://yt3.ggpht.com/x",
        "authorChannelUrl": f"http://www.youtube.com/@viewer-{cid}",
        "authorChannelId": {"value": f"UCauthor-{cid}"},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": 0,
        "publishedAt": stamp(minute),
        "updatedAt": stamp(minute),
    }
    if parent is not None:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": f"e-{cid}", "id": cid, "snippet": snippet}


class FakeYouTube:
    """Channels → uploads → videos → threads (newest first) → replies (oldest first)."""

    def __init__(self) -> None:
        self.uploads = {CHANNEL: "UUacme", REVIEWER: "UUreviewer"}
        self.videos: dict[str, list[str]] = {"UUacme": ["vidA"], "UUreviewer": ["vidR"]}
        self.threads: dict[str, list[dict]] = {"vidA": [], "vidR": []}
        self.replies: dict[str, list[dict]] = {}
        self.page_size = 2
        self.embedded_replies = 2  # like the API: a thread carries only some replies
        self.minute = 0
        self.queued_errors: list[tuple[str, int, dict, dict[str, str]]] = []
        self.requests: list[tuple[float, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                outer.requests.append((time.monotonic(), url.path, query))
                status, body, headers = outer.answer(url.path, query)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- content ----------------------------------------------------------------------

    def channel_of(self, video: str) -> str:
        return REVIEWER if video in self.videos["UUreviewer"] else CHANNEL

    def upload(self, video: str) -> None:
        """A new video on acme's channel: the newest of its uploads."""
        self.videos["UUacme"].insert(0, video)
        self.threads[video] = []

    def add_thread(self, video: str, tid: str, text: str, replies: int = 0) -> None:
        channel = self.channel_of(video)
        self.minute += 1
        top = comment(tid, channel, text, self.minute)
        thread = {
            "kind": "youtube#commentThread",
            "etag": f"t-{tid}",
            "id": tid,
            "snippet": {
                "channelId": channel,
                "videoId": video,
                "topLevelComment": top,
                "canReply": True,
                "totalReplyCount": 0,
                "isPublic": True,
            },
        }
        self.threads[video].insert(0, thread)
        self.replies[tid] = []
        for _ in range(replies):
            self.add_reply(video, tid)

    def add_reply(self, video: str, tid: str, text: str = "same here") -> None:
        channel = self.channel_of(video)
        self.minute += 1
        rid = f"{tid}.r{len(self.replies[tid]) + 1}"
        self.replies[tid].append(comment(rid, channel, text, self.minute, parent=tid))
        thread = next(t for t in self.threads[video] if t.get("id") == tid)
        thread["snippet"]["totalReplyCount"] = len(self.replies[tid])
        thread["replies"] = {"comments": self.replies[tid][: self.embedded_replies]}

    # -- the API ----------------------------------------------------------------------

    def page(self, items: list, query: dict[str, str], kind: str) -> dict:
        start = int(query.get("pageToken", "QUFB0").removeprefix("QUFB"))
        size = min(int(query.get("maxResults", "5")), self.page_size)
        body = {
            "kind": f"youtube#{kind}ListResponse",
            "etag": "etag",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": size},
            "items": items[start : start + size],
        }
        if start + size < len(items):
            body["nextPageToken"] = f"QUFB{start + size}"
        return body

    @staticmethod
    def parts(thread: dict, part: str) -> dict:
        """The thread with only the parts asked for (`replies` only when asked)."""
        return {k: v for k, v in thread.items() if k != "replies" or "replies" in part}

    def threads_by_id(self, query: dict[str, str]) -> tuple[int, dict, dict[str, str]]:
        """`commentThreads.list(id=a,b,...)`: the threads that exist, one page, no token;
        `id` is the one filter, and paging or ordering parameters are refused with it."""
        ids = query["id"].split(",")
        refused = query.keys() & {
            *("videoId", "channelId", "allThreadsRelatedToChannelId"),  # one filter only
            *("maxResults", "order", "pageToken", "searchTerms", "moderationStatus"),
        }
        if refused or len(ids) > 50:
            message = "The request specifies more than 50 ids."
            if refused:
                message = f"Incompatible parameters: id with {', '.join(sorted(refused))}."
            error = {"message": message, "domain": "youtube.parameter", "reason": "badRequest"}
            return 400, {"error": {"code": 400, "message": message, "errors": [error]}}, {}
        every = {t["id"]: t for threads in self.threads.values() for t in threads if "id" in t}
        items = [self.parts(every[i], query["part"]) for i in ids if i in every]
        body = {
            "kind": "youtube#commentThreadListResponse",
            "etag": "etag",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            "items": items,
        }
        return 200, body, {}

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict, dict[str, str]]:
        if query.get("key") != KEY:
            return 400, BAD_KEY_BODY, {}
        for i, (prefix, status, body, headers) in enumerate(self.queued_errors):
            if path.startswith(prefix):
                del self.queued_errors[i]
                return status, body, headers
        if path == "/youtube/v3/channels":
            ids = query["id"].split(",")
            items = [
                {"kind": "youtube#channel", "etag": "c", "id": c}
                | (
                    {"contentDetails": {"relatedPlaylists": {"likes": "", "uploads": u}}}
                    if "contentDetails" in query["part"]
                    else {}
                )
                for c in ids
                if (u := self.uploads.get(c))
            ]
            body = {
                "kind": "youtube#channelListResponse",
                "etag": "etag",
                "pageInfo": {"totalResults": len(items), "resultsPerPage": 5},
            }
            if items:  # the API leaves `items` out when nothing matched
                body["items"] = items
            return 200, body, {}
        if path == "/youtube/v3/playlistItems":
            items = [
                {
                    "kind": "youtube#playlistItem",
                    "etag": "p",
                    "id": f"pi-{v}",
                    "contentDetails": {"videoId": v, "videoPublishedAt": stamp(0)},
                }
                for v in self.videos[query["playlistId"]]
            ]
            return 200, self.page(items, query, "playlistItem"), {}
        if path == "/youtube/v3/commentThreads" and "id" in query:
            return self.threads_by_id(query)
        if path == "/youtube/v3/commentThreads":
            assert query["order"] == "time" and query["textFormat"] == "plainText"
            body = self.page(self.threads[query["videoId"]], query, "commentThread")
            body["items"] = [self.parts(t, query["part"]) for t in body["items"]]
            return 200, body, {}
        if path == "/youtube/v3/comments":
            return 200, self.page(self.replies[query["parentId"]], query, "comment"), {}
        return 404, {"error": {"code": 404, "message": "Not Found", "errors": []}}, {}


@pytest.fixture
def api() -> Iterator[FakeYouTube]:
    server = FakeYouTube()
    yield server
    server.close()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def collector(api: FakeYouTube, cursor: Path, **kw: Any) -> YouTubeCollector:
    kw.setdefault("brand", "acme")
    kw.setdefault("sleep", lambda s: None)
    return YouTubeCollector([CHANNEL], cursor, api_key=KEY, api_url=api.url, **kw)


def drain(yt: YouTubeCollector) -> list[dict]:
    """Every page, each committed after it was "delivered" (as `stormwatch collect` does)."""
    records = []
    for page in yt.pages():
        records += page.records
        yt.commit()
    return records


def test_restart_mid_stream_neither_loses_nor_doubles(api: FakeYouTube, tmp_path: Path) -> None:
    for n in range(1, 8):
        api.add_thread("vidA", f"T{n}", f"acme thread {n}", replies=4 if n == 2 else 0)
    cursor = tmp_path / "cursor.json"
    clock = Clock(1_772_442_000.0)  # 2026-03-02 09:00 UTC
    # a crash after the first page was delivered and committed
    crashed = collector(api, cursor, clock=clock)
    pages = crashed.pages()
    got = [r["id"] for r in next(pages).records]
    crashed.commit()
    del pages, crashed
    assert got == ["T7", "T6"]
    # restarted with 2 units left: playlistItems.list, one commentThreads page; then it stops
    quota = json.loads(cursor.read_text())["quota"]["used"]
    api.add_thread("vidA", "T8", "acme thread 8")
    second = collector(api, cursor, daily_quota=quota + 2, clock=clock)
    got += [r["id"] for r in drain(second)]
    # page 2 is T6, T5 now: T8 came on top (T6 is not read twice); T8 comes later
    assert got == ["T7", "T6", "T5"]
    assert second.resume_at is not None and second.quota.used == quota + 2
    # a restart on the same day stays paused and asks nothing
    asked = len(api.requests)
    paused = collector(api, cursor, daily_quota=quota + 2, clock=clock)
    assert drain(paused) == [] and len(api.requests) == asked
    # after midnight Pacific: goes on where it stopped, then reads what came meanwhile
    clock.now = second.resume_at + 60
    records = drain(collector(api, cursor, clock=clock))
    got += [r["id"] for r in records]
    replies = {r["id"]: r for r in records if "parent_id" in r}
    # 2 replies come embedded in the thread, so all 4 are read with comments.list
    assert sorted(replies) == ["T2.r1", "T2.r2", "T2.r3", "T2.r4"]
    assert {r["parent_id"] for r in replies.values()} == {"T2"}
    assert all(r["thread_id"] == "vidA" and r["platform"] == "youtube" for r in records)
    assert "T8" not in got  # the resumed scan went down from where it was: T8 is next
    got += [r["id"] for r in drain(collector(api, cursor, clock=clock))]
    assert got[-1] == "T8"
    # a new thread, then a new reply to a thread already read, each after a restart
    api.add_thread("vidA", "T9", "acme thread 9")
    got += [r["id"] for r in drain(collector(api, cursor, clock=clock))]
    api.add_reply("vidA", "T9")
    got += [r["id"] for r in drain(collector(api, cursor, clock=clock))]
    assert drain(collector(api, cursor, clock=clock)) == []
    everything = [f"T{n}" for n in range(1, 10)] + [f"T2.r{n}" for n in range(1, 5)] + ["T9.r1"]
    assert sorted(got) == sorted(everything)  # none lost
    assert len(got) == len(set(got))  # none twice
    record = next(r for r in records if r["id"] == "T1")
    assert record["created_at"] == stamp(1) and record["author_id"] == "UCauthor-T1"
    assert record["text"] == "acme thread 1" and "parent_id" not in record


def rechecked(api: FakeYouTube, since: int) -> list[str]:
    """The ids of each `commentThreads.list(id=...)` call after request number `since`."""
    return [
        query["id"]
        for _, path, query in api.requests[since:]
        if path == "/youtube/v3/commentThreads" and "id" in query
    ]


def test_a_new_reply_to_an_older_thread_is_read_once(api: FakeYouTube, tmp_path: Path) -> None:
    for n in range(1, 8):
        api.add_thread("vidA", f"T{n}", f"acme thread {n}")
    cursor = tmp_path / "cursor.json"
    clock = Clock(1_772_442_000.0)  # 2026-03-02 09:00 UTC
    assert len(drain(collector(api, cursor, clock=clock))) == 7
    for _ in range(3):
        api.add_reply("vidA", "T1", "acme lost my order too")
    # a poll reads the first page (T7, T6) only: T1 is re-checked by id, with T5 ... T2
    asked = len(api.requests)
    yt = collector(api, cursor, clock=clock)
    used = yt.quota.used
    records = drain(yt)
    assert [r["id"] for r in records] == ["T1.r1", "T1.r2", "T1.r3"]
    assert {(r["parent_id"], r["thread_id"], r["brand"]) for r in records} == {
        ("T1", "vidA", "acme")
    }
    assert rechecked(api, asked) == ["T5,T4,T3,T2,T1"]
    # playlistItems, a page of threads, the re-check, the 3 replies in 2 pages: 1 unit each
    assert yt.quota.used - used == len(api.requests) - asked == 5
    assert json.loads(cursor.read_text())["quota"]["used"] == yt.quota.used
    # the next poll re-checks T1 first (its newest reply) and reads no reply again
    asked = len(api.requests)
    assert drain(collector(api, cursor, clock=clock)) == []
    assert rechecked(api, asked) == ["T1,T5,T4,T3,T2"]
    assert not [path for _, path, _ in api.requests[asked:] if path == "/youtube/v3/comments"]


def test_a_restart_mid_recheck_loses_and_doubles_nothing(api: FakeYouTube, tmp_path: Path) -> None:
    api.page_size = 100  # the first poll reads 60 threads in one page ...
    for n in range(1, 61):
        api.add_thread("vidA", f"T{n}", f"acme thread {n}")
    cursor = tmp_path / "cursor.json"
    clock = Clock(1_772_442_000.0)
    assert len(drain(collector(api, cursor, clock=clock))) == 60
    api.page_size = 2  # ... the next ones a page of 2 (T60, T59) and the other 58 by id
    api.add_reply("vidA", "T30")
    for _ in range(3):
        api.add_reply("vidA", "T2")
    # a crash after the first re-check call's replies were delivered and committed
    asked = len(api.requests)
    crashed = collector(api, cursor, clock=clock)
    got: list[str] = []
    for page in crashed.pages():
        got += [r["id"] for r in page.records]
        crashed.commit()
        if got:
            break
    assert got == ["T30.r1"]
    assert [len(ids.split(",")) for ids in rechecked(api, asked)] == [50]  # T58 ... T9
    # restarted with 5 units left: playlistItems, a page, two re-checks (50 + 8 ids), the
    # first page of T2's replies; the second page is not paid for: nothing of T2 goes out
    quota = json.loads(cursor.read_text())["quota"]["used"]
    asked = len(api.requests)
    second = collector(api, cursor, daily_quota=quota + 5, clock=clock)
    got += [r["id"] for r in drain(second)]
    assert got == ["T30.r1"] and second.resume_at is not None
    assert second.quota.used == quota + 5
    assert [len(ids.split(",")) for ids in rechecked(api, asked)] == [50, 8]
    # after midnight Pacific: T2's three replies, once
    clock.now = second.resume_at + 60
    got += [r["id"] for r in drain(collector(api, cursor, clock=clock))]
    api.add_reply("vidA", "T30")
    got += [r["id"] for r in drain(collector(api, cursor, clock=clock))]
    assert drain(collector(api, cursor, clock=clock)) == []
    assert sorted(got) == ["T2.r1", "T2.r2", "T2.r3", "T30.r1", "T30.r2"]


def test_the_recheck_set_is_bounded(api: FakeYouTube, tmp_path: Path) -> None:
    api.page_size = 100
    for n in range(1, 21):
        api.add_thread("vidA", f"T{n}", f"acme thread {n}")
    cursor = tmp_path / "cursor.json"
    clock = Clock(1_772_442_000.0)
    assert len(drain(collector(api, cursor, clock=clock, recheck_threads=3))) == 20
    api.page_size = 2
    # the 3 most recently active threads not on the page read (T20, T19)
    asked = len(api.requests)
    assert drain(collector(api, cursor, clock=clock, recheck_threads=3)) == []
    assert rechecked(api, asked) == ["T18,T17,T16"]
    # new threads push older ones out; a storm under T18 keeps it in: 3 ids, one call a poll
    for n in range(21, 27):
        api.add_thread("vidA", f"T{n}", f"acme thread {n}")
        api.add_reply("vidA", "T18", "acme, answer us")
        asked = len(api.requests)
        got = [r["id"] for r in drain(collector(api, cursor, clock=clock, recheck_threads=3))]
        assert got == [f"T{n}", f"T18.r{n - 20}"]
        assert len(ids := rechecked(api, asked)) == 1 and len(ids[0].split(",")) == 3
        assert ids[0].startswith("T18,") or n == 21  # at first T18 is on the 2nd page read
    asked = len(api.requests)
    drain(collector(api, cursor, clock=clock, recheck_threads=3))
    assert rechecked(api, asked) == ["T18,T24,T23"]  # T26, T25 are on the page read
    # a thread not returned (deleted) leaves the set
    api.threads["vidA"] = [t for t in api.threads["vidA"] if t["id"] != "T24"]
    drain(collector(api, cursor, clock=clock, recheck_threads=3))
    asked = len(api.requests)
    drain(collector(api, cursor, clock=clock, recheck_threads=3))
    assert rechecked(api, asked) == ["T18,T23,T22"]
    # a week without a comment: nothing is re-checked, no unit spent on it
    clock.now += 8 * 86_400
    asked = len(api.requests)
    yt = collector(api, cursor, clock=clock, recheck_threads=3)
    assert drain(yt) == [] and rechecked(api, asked) == []
    assert yt.quota.used == len(api.requests) - asked == 2  # playlistItems, a page


def on_day(api: FakeYouTube, clock: Clock, day: float) -> None:
    """The clock, and the time of the fake's next comments, `day` days after START."""
    clock.now = START.timestamp() + day * DAY
    api.minute = int(day * 1440)


def videos_kept(cursor: Path) -> tuple[list[str], list[str]]:
    """(videos the cursor holds threads of, videos it keeps only a time of)."""
    videos = json.loads(cursor.read_text())["videos"]
    return (
        sorted(v for v, state in videos.items() if state["threads"]),
        sorted(v for v, state in videos.items() if not state["threads"]),
    )


def test_the_cursor_stays_bounded_as_videos_are_uploaded(api: FakeYouTube, tmp_path: Path) -> None:
    """A video a day for 60 days, 2 listed a poll: a video left behind is kept whole while
    a comment read on it is at most 7 days old (a storm under an old video's thread keeps
    it), then only its time, for the 4 newest such; every comment comes once."""
    cursor = tmp_path / "cursor.json"
    clock = Clock(START.timestamp())
    options: dict[str, Any] = {"clock": clock, "videos_per_channel": 2, "forgotten_videos": 4}
    yt = collector(api, cursor, **options)
    got: list[str] = []
    everything: list[str] = []
    sizes: list[int] = []
    for day in range(60):
        on_day(api, clock, day)
        video = f"v{day:02d}"
        api.upload(video)
        for n in range(3):
            api.add_thread(video, f"{video}.T{n}", "acme", replies=n)
            everything += [f"{video}.T{n}", *(f"{video}.T{n}.r{k}" for k in range(1, n + 1))]
        if 10 < day <= 30:  # re-checked by id: v10 is listed on days 10-12 only
            api.add_reply("v10", "v10.T0", "acme still has not answered")
            everything.append(f"v10.T0.r{day - 10}")
        if day % 7 == 0:
            yt = collector(api, cursor, **options)  # a restart reads what the commits wrote
        got += [r["id"] for r in drain(yt)]
        whole, small = videos_kept(cursor)
        active = {f"v{d:02d}" for d in range(max(day - 7, 0), day + 1)}
        assert whole == sorted(active | ({"v10"} if 10 <= day <= 37 else set()))
        forgotten = [d for d in range(day - 7) if d != 10 or day > 37]
        kept = [f"v{d:02d}" for d in forgotten[-4:]]  # those with the newest threads
        assert small == kept + (["vidA"] if day < 1 else [])  # vidA, no comment: gone
        sizes.append(cursor.stat().st_size)
    assert len(got) == len(set(got)) and sorted(got) == sorted(everything)
    assert max(sizes[20:]) < 1.3 * min(sizes[20:]) and sizes[-1] < sizes[25] + 500
    # v00 ... v47 (v10 too: its threads are older than the 4 kept) went whole, the newest
    # thread of them is v47's
    floor = json.loads(cursor.read_text())["floors"][CHANNEL]
    assert dt.datetime.fromisoformat(floor) == START + dt.timedelta(days=47, minutes=4)


def thread_ids(records: list[dict]) -> list[str]:
    return [r["id"] for r in records]


@pytest.mark.parametrize("forgotten_videos", [1000, 0], ids=["kept-small", "dropped"])
def test_a_forgotten_video_listed_again_delivers_nothing_twice(
    api: FakeYouTube, tmp_path: Path, forgotten_videos: int
) -> None:
    cursor = tmp_path / "cursor.json"
    clock = Clock(START.timestamp())
    options: dict[str, Any] = {
        "clock": clock, "videos_per_channel": 1, "forgotten_videos": forgotten_videos,
    }  # fmt: skip
    for n in range(1, 6):
        api.add_thread("vidA", f"T{n}", "acme", replies=3 if n == 3 else 0)
    got = thread_ids(drain(collector(api, cursor, **options)))
    assert len(got) == 8
    # vidB is uploaded: vidA is no longer listed, but was read on within 7 days: kept whole
    on_day(api, clock, 1)
    api.upload("vidB")
    api.add_thread("vidB", "B1", "acme")
    got += thread_ids(drain(collector(api, cursor, **options)))
    assert videos_kept(cursor) == (["vidA", "vidB"], [])
    # 8 days later vidA is forgotten; meanwhile a thread came late in T5's second (T5 is
    # the newest read), a new one, and a reply under T4
    api.minute = 7
    api.add_thread("vidA", "T5b", "acme late")
    times = [t["snippet"]["topLevelComment"]["snippet"]["publishedAt"] for t in api.threads["vidA"]]
    assert times[0] == times[1]  # T5b, T5
    on_day(api, clock, 9)
    api.add_thread("vidA", "T6", "acme again")
    api.add_reply("vidA", "T4")
    got += thread_ids(drain(collector(api, cursor, **options)))
    assert got == ["T5", "T4", "T3", "T3.r1", "T3.r2", "T3.r3", "T2", "T1", "B1"]
    state = json.loads(cursor.read_text())
    t5 = START + dt.timedelta(minutes=8)
    if forgotten_videos:
        assert state["videos"]["vidA"] == {
            "channel": CHANNEL, "newest": t5.isoformat(), "newest_ids": ["T5"], "threads": {},
        }  # fmt: skip
    else:
        assert "vidA" not in state["videos"] and state["floors"] == {CHANNEL: t5.isoformat()}
    # vidB is deleted: vidA is listed again. T6 comes; T5b too unless vidA went whole (at or
    # before the floor); nothing read before. T4.r1 does not: the whole state would have
    # compared T4's reply count on the page read; a forgotten video does not.
    api.videos["UUacme"].remove("vidB")
    new = thread_ids(drain(collector(api, cursor, **options)))
    assert new == (["T6", "T5b"] if forgotten_videos else ["T6"])
    api.add_reply("vidA", "T6")
    api.add_reply("vidA", "T1")  # T1 is not on the pages read, nor re-checked: quiet
    new += thread_ids(drain(collector(api, cursor, **options)))
    assert drain(collector(api, cursor, **options)) == []
    assert new[-1] == "T6.r1" and len(set(got + new)) == len(got + new)
    if not forgotten_videos:
        # a video this cursor never knew: threads after the channel's floor (the newest
        # thread of the videos dropped: B1 now) are read; an old video listed late loses
        # those before it
        api.upload("vidOld")
        api.minute = 60
        api.add_thread("vidOld", "O1", "acme, an hour in")
        on_day(api, clock, 10)
        api.add_thread("vidOld", "O2", "acme, ten days in")
        api.upload("vidC")
        api.add_thread("vidC", "C1", "acme new")
        later = thread_ids(drain(collector(api, cursor, **{**options, "videos_per_channel": 3})))
        assert later == ["C1", "O2"]


def test_a_video_left_half_read_is_forgotten_without_doubles(
    api: FakeYouTube, tmp_path: Path
) -> None:
    cursor = tmp_path / "cursor.json"
    clock = Clock(START.timestamp())
    options: dict[str, Any] = {"clock": clock, "videos_per_channel": 1}
    for n in range(1, 5):
        api.add_thread("vidA", f"T{n}", "acme")
    got = thread_ids(drain(collector(api, cursor, **options)))
    for n in range(5, 9):
        api.add_thread("vidA", f"T{n}", "acme")
    # 2 units left: playlistItems, the first page (T8, T7); the scan stops half-way
    quota = json.loads(cursor.read_text())["quota"]["used"]
    got += thread_ids(drain(collector(api, cursor, daily_quota=quota + 2, **options)))
    assert got == ["T4", "T3", "T2", "T1", "T8", "T7"]
    # vidB is uploaded before the pause ends: vidA is not listed and, 9 days on, forgotten
    # with its scan's top (T8) as its newest thread
    api.upload("vidB")
    on_day(api, clock, 9)
    assert drain(collector(api, cursor, **options)) == []
    vid_a = json.loads(cursor.read_text())["videos"]["vidA"]
    assert vid_a["newest_ids"] == ["T8"] and vid_a["threads"] == {} and "scan" not in vid_a
    # listed again: T9 comes, nothing twice; T6 and T5, which the stopped scan had not
    # reached, do not (the whole state would have gone on with its scan)
    api.videos["UUacme"].remove("vidB")
    api.add_thread("vidA", "T9", "acme")
    got += thread_ids(drain(collector(api, cursor, **options)))
    assert got == ["T4", "T3", "T2", "T1", "T8", "T7", "T9"]


def test_quota_exceeded_pauses_until_midnight_pacific(api: FakeYouTube, tmp_path: Path) -> None:
    api.add_thread("vidA", "T1", "acme")
    api.queued_errors.append(("/youtube/v3/commentThreads", 403, QUOTA_BODY, {}))
    clock = Clock(1_772_442_000.0)  # 2026-03-02 09:00 UTC = 01:00 PST
    yt = collector(api, tmp_path / "c.json", clock=clock)
    assert drain(yt) == []  # its commits record the pause: a restart knows of it
    assert yt.resume_at == 1_772_524_800.0  # 2026-03-03 00:00 PST
    assert yt.quota.used == yt.quota.daily
    assert json.loads((tmp_path / "c.json").read_text())["resume_at"] == yt.resume_at
    clock.now = yt.resume_at + 1
    assert [r["id"] for r in drain(collector(api, tmp_path / "c.json", clock=clock))] == ["T1"]


def test_429_backs_off_for_retry_after(api: FakeYouTube, tmp_path: Path) -> None:
    api.add_thread("vidA", "T1", "acme")
    api.queued_errors.append(("/youtube/v3/commentThreads", 429, RATE_BODY, {"Retry-After": "1"}))
    yt = collector(api, tmp_path / "c.json", sleep=time.sleep)
    assert [r["id"] for r in drain(yt)] == ["T1"]
    assert yt.backoffs == [1.0]
    asks = [t for t, path, _ in api.requests if path == "/youtube/v3/commentThreads"]
    assert len(asks) == 2 and asks[1] - asks[0] >= 0.95
    assert yt.quota.used == 4  # the refused call cost its unit too


def test_malformed_items_are_dead_lettered_with_their_reason(
    api: FakeYouTube, tmp_path: Path
) -> None:
    api.add_thread("vidA", "T1", "acme fine", replies=1)
    api.add_thread("vidA", "T2", "acme bad time")
    api.threads["vidA"][0]["snippet"]["topLevelComment"]["snippet"]["publishedAt"] = "yesterday"
    api.threads["vidA"].insert(0, {"kind": "youtube#commentThread", "etag": "x", "snippet": {}})
    del api.replies["T1"][0]["snippet"]["publishedAt"]
    letters = []
    records = []
    yt = collector(api, tmp_path / "c.json")
    for page in yt.pages():
        records += page.records
        letters += page.dead_letters
        yt.commit()
    assert [r["id"] for r in records] == ["T1"]
    assert sorted((d.reason, d.source) for d in letters) == [
        ("invalid_timestamp", "youtube:vidA"),
        ("missing_field", "youtube:vidA"),
        ("missing_field", "youtube:vidA"),
    ]
    assert any(b'"yesterday"' in d.raw for d in letters)
    assert drain(collector(api, tmp_path / "c.json")) == []  # dead letters are not retried


def test_brand_from_the_watchlist(api: FakeYouTube, tmp_path: Path) -> None:
    watchlist = Watchlist.from_mapping(
        {
            "brands": {
                "acme": {"channels": [CHANNEL], "keywords": ["acme"]},
                "globex": {"keywords": ["globex"]},
            }
        }
    )
    api.add_thread("vidA", "A1", "globex does this better")  # on acme's own channel
    api.add_thread("vidR", "R1", "Acme vs Globex: both broken")  # a reviewer's channel
    api.add_thread("vidR", "R2", "globex only")
    api.add_thread("vidR", "R3", "no brand named")
    yt = YouTubeCollector(
        [CHANNEL, REVIEWER], tmp_path / "c.json", api_key=KEY, api_url=api.url,
        watchlist=watchlist,
    )  # fmt: skip
    pages = list(yt.pages())
    assert sorted((r["id"], r["brand"]) for p in pages for r in p.records) == [
        ("A1", "acme"),
        ("R2", "globex"),
        ("acme:R1", "acme"),
        ("globex:R1", "globex"),
    ]
    assert [d.reason for p in pages for d in p.dead_letters] == ["no_brand"]


def run_cli(api: FakeYouTube, *args: str, key: str = KEY) -> subprocess.CompletedProcess:
    env = {**os.environ, "STORMWATCH_YOUTUBE_API_KEY": key, "STORMWATCH_YOUTUBE_API_URL": api.url}
    cmd = [sys.executable, "-m", "stormwatch.cli", "collect", "youtube", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_check_and_collect_from_the_command_line(api: FakeYouTube, tmp_path: Path) -> None:
    check = [CHANNEL, "--check", "--cursor", str(tmp_path / "check.json")]
    bad = run_cli(api, *check, key="wrong")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0
    assert "API key not valid" in bad.stderr
    missing = run_cli(api, *check, key="")
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "STORMWATCH_YOUTUBE_API_KEY" in missing.stderr
    with pytest.raises(YouTubeError, match="'UCnobody' not found"):
        YouTubeCollector(["UCnobody"], tmp_path / "c.json", api_key=KEY, api_url=api.url).check()
    assert collector(api, tmp_path / "c.json").check().startswith("youtube: API key accepted")

    api.add_thread("vidA", "T1", "acme", replies=1)
    out = tmp_path / "comments.jsonl"
    args = [CHANNEL, "--brand", "acme", "--cursor", str(tmp_path / "c.json"), "--to", str(out)]
    first = run_cli(api, *args)
    assert first.returncode == 0, first.stderr
    api.add_thread("vidA", "T2", "acme again")
    assert run_cli(api, *args).returncode == 0
    assert [orjson.loads(x)["id"] for x in out.read_text().splitlines()] == ["T1", "T1.r1", "T2"]


def test_a_busy_videos_first_read_keeps_its_newest_threads(
    api: FakeYouTube, tmp_path: Path
) -> None:
    """Past `THREADS_PER_VIDEO` the quietest threads are forgotten, not the first read:
    a scan reads the newest first, and a reply under the newest thread was never read."""
    from stormwatch.ingest import youtube_source

    api.page_size = 100
    threads = youtube_source.THREADS_PER_VIDEO + 100
    for n in range(1, threads + 1):
        api.add_thread("vidA", f"T{n}", f"thread {n}")
    cursor = tmp_path / "cursor.json"
    clock = Clock(1_772_442_000.0 + 3600)
    first = collector(api, cursor, clock=clock)
    assert len(drain(first)) == threads
    kept = first.cursor["videos"]["vidA"]["threads"]
    assert f"T{threads}" in kept and "T1" not in kept
    api.add_reply("vidA", f"T{threads}", "acme reply under the newest thread")
    second = [r["id"] for r in drain(collector(api, cursor, clock=clock))]
    assert second == [f"T{threads}.r1"]


def test_replies_past_the_remembered_ids_come_once(api: FakeYouTube, tmp_path: Path) -> None:
    """A thread keeps at most `REPLIES_PER_THREAD` reply ids, and every page is read
    again when its count changes: the replies cut from the ids came again (a few
    hundred at each change)."""
    from stormwatch.ingest import youtube_source

    api.page_size = 100
    api.add_thread("vidA", "T1", "acme thread")
    cursor = tmp_path / "cursor.json"
    clock = Clock(1_772_442_000.0 + 86400)
    got = [r["id"] for r in drain(collector(api, cursor, clock=clock))]
    for _ in range(youtube_source.REPLIES_PER_THREAD + 100):
        api.add_reply("vidA", "T1")
    for _ in range(3):
        got += [r["id"] for r in drain(collector(api, cursor, clock=clock))]  # a restart
        api.add_reply("vidA", "T1")  # one more before the next poll
    assert len(got) == len(set(got)) == 1 + len(api.replies["T1"]) - 1  # the last is unread


def test_a_reply_written_as_another_was_deleted_is_read(api: FakeYouTube, tmp_path: Path) -> None:
    """Replies were read only when a thread's totalReplyCount changed: one reply deleted
    and one written between two polls left it as it was, and the new reply was never
    read (the replies the thread comes with show it)."""
    api.add_thread("vidA", "T1", "acme support is useless", replies=2)
    cursor = tmp_path / "c.json"
    assert [r["id"] for r in drain(collector(api, cursor))] == ["T1", "T1.r1", "T1.r2"]
    api.replies["T1"] = [r for r in api.replies["T1"] if r["id"] != "T1.r1"]
    api.minute += 1
    api.replies["T1"].append(
        comment("T1.r3", CHANNEL, "acme just closed my account", api.minute, parent="T1")
    )
    thread = api.threads["vidA"][0]
    assert thread["snippet"]["totalReplyCount"] == len(api.replies["T1"])
    thread["replies"] = {"comments": api.replies["T1"][: api.embedded_replies]}
    assert [r["id"] for r in drain(collector(api, cursor))] == ["T1.r3"]
    assert drain(collector(api, cursor)) == []
