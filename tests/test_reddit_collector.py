"""The Reddit collector against a local server speaking Reddit's wire format (the OAuth
token endpoint, Listings paged by `after`, a submission's comment tree with `more` stubs,
x-ratelimit-* headers, 429 with Retry-After), driven by the real praw pointed at it
(`oauth_url`, `reddit_url`): restarts neither lose nor double items, comments under search
hits come once and their number is bounded, rate limits are waited out, malformed items
dead-lettered, brands, `--check`."""

from __future__ import annotations

import base64
import heapq
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

from stormwatch.ingest.reddit_source import (
    RedditCollector,
    RedditError,
    reddit_client,
    streams_for,
)
from stormwatch.ingest.watchlist import Watchlist

CLIENT_ID = "app-id"
SECRET = "app-secret"
T0 = 1_772_442_000  # 2026-03-02 09:00 UTC
MAX_DEPTH = 10  # Reddit's deepest level in a comment tree (deeper: "continue this thread")


class FakeReddit:
    """Subreddits with submissions and comments (newest first), and a search."""

    def __init__(self) -> None:
        self.comments: dict[str, list[dict]] = {"acme": [], "gadgets": []}
        self.submissions: dict[str, list[dict]] = {"acme": [], "gadgets": []}
        self.page_size = 3
        self.max_comments = 500  # the most comments one read of a tree returns
        self.closed: dict[str, int] = {}  # submission id -> the status its tree answers
        self.clock = T0
        self.ratelimit: dict[str, str] = {
            "x-ratelimit-remaining": "599.0",
            "x-ratelimit-used": "1",
            "x-ratelimit-reset": "300",
        }
        # (path prefix, only pages after the first, status, body, headers): answered once
        self.queued: list[tuple[str, bool, int, dict, dict[str, str]]] = []
        self.requests: list[tuple[float, str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def respond(self, status: int, body: Any, headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                outer.requests.append((time.monotonic(), "POST", self.path, {}))
                basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
                if self.path != "/api/v1/access_token":
                    self.respond(404, {"message": "Not Found", "error": 404}, {})
                elif self.headers.get("Authorization") != f"Basic {basic}":
                    self.respond(401, {"message": "Unauthorized", "error": 401}, {})
                else:
                    assert form["grant_type"] == ["client_credentials"]
                    token = {"access_token": "tok", "token_type": "bearer",
                             "expires_in": 86400, "scope": "*"}  # fmt: skip
                    self.respond(200, token, {})

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                path = url.path.rstrip("/")  # praw asks for /r/NAME/comments/
                outer.requests.append((time.monotonic(), "GET", path, query))
                if self.headers.get("Authorization") != "bearer tok":
                    self.respond(401, {"message": "Unauthorized", "error": 401}, {})
                    return
                for i, (prefix, later, status, body, headers) in enumerate(outer.queued):
                    if path.startswith(prefix) and (not later or "after" in query):
                        del outer.queued[i]
                        self.respond(status, body, headers)
                        return
                status, body = outer.answer(path, query)
                self.respond(status, body, outer.ratelimit)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add_submission(self, sub: str, sid: str, title: str, body: str = "", url: str = "") -> None:
        self.clock += 60
        self.submissions.setdefault(sub, [])
        self.comments.setdefault(sub, [])
        permalink = f"/r/{sub}/comments/{sid}/x/"
        self.submissions[sub].insert(0, {"kind": "t3", "data": {
            "id": sid, "name": f"t3_{sid}", "title": title, "selftext": body,
            "author": f"op_{sid}", "created_utc": float(self.clock), "subreddit": sub,
            "subreddit_id": f"t5_{sub}", "permalink": permalink,
            "url": url or f"https://www.reddit.com{permalink}", "num_comments": 0,
            "is_self": not url, "score": 1}})  # fmt: skip

    def add_comment(self, sub: str, cid: str, body: str, link: str, parent: str = "") -> None:
        self.clock += 60
        self.comments.setdefault(sub, [])
        self.comments[sub].insert(0, {"kind": "t1", "data": {
            "id": cid, "name": f"t1_{cid}", "body": body, "author": f"user_{cid}",
            "created_utc": float(self.clock), "link_id": f"t3_{link}",
            "parent_id": f"t1_{parent}" if parent else f"t3_{link}", "subreddit": sub,
            "subreddit_id": f"t5_{sub}", "permalink": f"/r/{sub}/comments/{link}/x/{cid}/",
            "score": 1}})  # fmt: skip

    def listing(self, children: list[dict], query: dict[str, str]) -> dict:
        start = 0
        if "after" in query:
            names = [c["data"].get("name") for c in children]
            start = names.index(query["after"]) + 1 if query["after"] in names else len(names)
        size = min(int(query.get("limit", "25")), self.page_size)
        page = children[start : start + size]
        more = start + size < len(children)
        return {"kind": "Listing", "data": {
            "after": page[-1]["data"].get("name") if page and more else None,
            "dist": len(page), "modhash": "", "geo_filter": "", "children": page,
            "before": None}}  # fmt: skip

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "r":
            sub, what = parts[1], parts[2]
            if sub == "all" and what == "search":
                assert query["sort"] == "new"
                words = query["q"].casefold().split()
                found = [s for subs in self.submissions.values() for s in subs
                         if all(w in s["data"]["title"].casefold() for w in words)
                         or all(w in s["data"]["url"].casefold() for w in words)]  # fmt: skip
                found.sort(key=lambda s: -s["data"]["created_utc"])
                return 200, self.listing(found, query)
            if sub not in self.comments:
                return 404, {"message": "Not Found", "error": 404}
            if what == "comments":
                return 200, self.listing(self.comments[sub], query)
            if what == "new":
                return 200, self.listing(self.submissions[sub], query)
            if what == "about":
                return 200, {"kind": "t5", "data": {"display_name": sub, "name": f"t5_{sub}"}}
        if len(parts) == 2 and parts[0] == "comments":
            return self.comment_tree(parts[1], query)
        return 404, {"message": "Not Found", "error": 404}

    def comment_tree(self, sid: str, query: dict[str, str]) -> tuple[int, Any]:
        """`GET /comments/{id}`: the submission, then its comment tree as Reddit builds it:
        starting from the top-level comments, the best by `sort` of those whose parent is
        in, up to `limit` (at most `max_comments`) and `MAX_DEPTH` levels; the rest as
        `more` stubs (ids to ask /api/morechildren for), or "continue this thread" at the
        deepest level."""
        link = f"t3_{sid}"
        post = next((s for subs in self.submissions.values() for s in subs
                     if s["data"]["name"] == link), None)  # fmt: skip
        if post is None or sid in self.closed:
            status = self.closed.get(sid, 404)
            message = {403: "Forbidden", 451: "Unavailable For Legal Reasons"}
            return status, {"message": message.get(status, "Not Found"), "error": status}
        assert query["sort"] == "new"
        comments = [c["data"] for subs in self.comments.values() for c in subs
                    if c["data"]["link_id"] == link]  # fmt: skip
        children: dict[str, list[dict]] = {}
        for c in sorted(comments, key=lambda c: -c["created_utc"]):  # sort=new
            children.setdefault(c["parent_id"], []).append(c)
        depth = {c["name"]: 0 for c in children.get(link, [])}
        candidates = [(-c["created_utc"], c["name"]) for c in children.get(link, [])]
        heapq.heapify(candidates)
        shown: set[str] = set()
        limit = min(int(query.get("limit", "200")), self.max_comments)
        while candidates and len(shown) < limit:
            _, name = heapq.heappop(candidates)
            shown.add(name)
            for child in children.get(name, []):
                depth[child["name"]] = depth[name] + 1
                if depth[name] + 1 < MAX_DEPTH:
                    heapq.heappush(candidates, (-child["created_utc"], child["name"]))

        def descendants(name: str) -> int:
            return sum(1 + descendants(c["name"]) for c in children.get(name, []))

        def more(parent: str, level: int, hidden: list[dict]) -> dict:
            if not hidden:  # deeper than MAX_DEPTH: a link to the rest of the thread
                return {"kind": "more", "data": {"count": 0, "name": "t1__", "id": "_",
                        "parent_id": parent, "depth": level, "children": []}}  # fmt: skip
            ids = [c["id"] for c in hidden]
            return {"kind": "more", "data": {
                "count": sum(1 + descendants(c["name"]) for c in hidden),
                "name": f"t1_{ids[0]}", "id": ids[0], "parent_id": parent, "depth": level,
                "children": ids}}  # fmt: skip

        def level_of(parent: str, level: int) -> list[dict]:
            kids = children.get(parent, [])
            out = [render(c, level) for c in kids if c["name"] in shown]
            hidden = [c for c in kids if c["name"] not in shown]
            if hidden and level < MAX_DEPTH:
                out.append(more(parent, level, hidden))
            elif kids and level == MAX_DEPTH:
                out = [more(parent, level, [])]
            return out

        def render(comment: dict, level: int) -> dict:
            replies = level_of(comment["name"], level + 1)
            return {"kind": "t1", "data": {**comment, "depth": level, "replies":
                    tree_listing(replies) if replies else ""}}  # fmt: skip

        def tree_listing(children: list[dict]) -> dict:
            return {"kind": "Listing", "data": {"after": None, "dist": None, "modhash": "",
                    "geo_filter": "", "children": children, "before": None}}  # fmt: skip

        top = tree_listing([post])
        top["data"]["dist"] = 1
        return 200, [top, tree_listing(level_of(link, 0))]


@pytest.fixture
def api() -> Iterator[FakeReddit]:
    server = FakeReddit()
    yield server
    server.close()


def client(api: FakeReddit, secret: str = SECRET) -> Any:
    return reddit_client(
        client_id=CLIENT_ID, client_secret=secret, user_agent="test:stormwatch:1.0",
        oauth_url=api.url, reddit_url=api.url,
    )  # fmt: skip


def collector(api: FakeReddit, cursor: Path, **kw: Any) -> RedditCollector:
    kw.setdefault("brand", "acme")
    kw.setdefault("sleep", lambda s: None)
    kw.setdefault("clock", lambda: float(api.clock))  # the fake's time, not today's
    streams = kw.pop("streams", streams_for(["acme"], []))
    return RedditCollector(streams, cursor, reddit=client(api), **kw)


def drain(rc: RedditCollector) -> list[dict]:
    """Every page, each committed after it was "delivered" (as `stormwatch collect` does)."""
    records = []
    for page in rc.pages():
        records += page.records
        rc.commit()
    return records


def test_restart_mid_stream_neither_loses_nor_doubles(api: FakeReddit, tmp_path: Path) -> None:
    api.add_submission("acme", "s1", "Acme outage?", "nothing loads")
    for n in range(1, 8):
        api.add_comment("acme", f"c{n}", f"same here {n}", "s1", parent="c1" if n == 5 else "")
    cursor = tmp_path / "cursor.json"
    crashed = collector(api, cursor, page_size=3)
    pages = crashed.pages()
    records = next(pages).records  # delivered and committed, then a crash
    got = [r["id"] for r in records]
    crashed.commit()
    del pages, crashed
    assert got == ["t1_c7", "t1_c6", "t1_c5"]
    api.add_comment("acme", "c8", "still down", "s1")
    records += drain(collector(api, cursor, page_size=3))
    got = [r["id"] for r in records]
    assert got == [f"t1_c{n}" for n in (7, 6, 5, 4, 3, 2, 1)] + ["t3_s1"]
    got += [r["id"] for r in drain(collector(api, cursor))]
    assert got[-1] == "t1_c8"  # came on top while the scan went down: the next poll reads it
    api.add_comment("acme", "c9", "back up", "s1", parent="c8")
    api.add_submission("acme", "s2", "Acme refunds")
    got += [r["id"] for r in drain(collector(api, cursor))]
    assert drain(collector(api, cursor)) == []
    everything = [f"t1_c{n}" for n in range(1, 10)] + ["t3_s1", "t3_s2"]
    assert sorted(got) == sorted(everything) and len(got) == len(set(got))
    reply = next(r for r in records if r["id"] == "t1_c5")
    assert reply["parent_id"] == "t1_c1" and reply["thread_id"] == "t3_s1"
    top = next(r for r in records if r["id"] == "t1_c4")
    assert "parent_id" not in top and top["author_id"] == "user_c4"
    post = next(r for r in records if r["id"] == "t3_s1")
    assert post["thread_id"] == "t3_s1" and post["text"] == "Acme outage?\n\nnothing loads"
    assert post["created_at"] == T0 + 60 and post["platform"] == "reddit"


def test_429_backs_off_and_resumes_where_it_was(api: FakeReddit, tmp_path: Path) -> None:
    for n in range(1, 8):
        api.add_comment("acme", f"c{n}", "acme", "s1")
    too_many = {"message": "Too Many Requests", "error": 429}
    api.queued.append(("/r/acme/comments", True, 429, too_many, {"Retry-After": "2"}))
    rc = collector(api, tmp_path / "c.json", streams=streams_for(["acme"], [])[:1])
    assert [r["id"] for r in drain(rc)] == [f"t1_c{n}" for n in range(7, 0, -1)]
    assert rc.backoffs == [2.0]
    asked = [q.get("after") for _, _, path, q in api.requests if path == "/r/acme/comments"]
    assert asked == [None, "t1_c5", "t1_c5", "t1_c2"]  # the refused page asked again


def test_rate_limit_headers_are_honoured(api: FakeReddit, tmp_path: Path) -> None:
    for n in range(1, 5):
        api.add_comment("acme", f"c{n}", "acme", "s1")
    api.ratelimit = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "600",
                     "x-ratelimit-reset": "1"}  # fmt: skip
    rc = collector(api, tmp_path / "c.json", streams=streams_for(["acme"], [])[:1])
    assert len(drain(rc)) == 4
    pages = [t for t, method, path, _ in api.requests if path == "/r/acme/comments"]
    assert len(pages) == 2 and pages[1] - pages[0] >= 0.95  # waited for the window's reset


def test_malformed_items_are_dead_lettered_with_their_reason(
    api: FakeReddit, tmp_path: Path
) -> None:
    api.add_comment("acme", "c1", "fine", "s1")
    api.add_comment("acme", "c2", "bad time", "s1")
    api.comments["acme"][0]["data"]["created_utc"] = "yesterday"
    api.add_comment("acme", "c3", "no name", "s1")
    del api.comments["acme"][0]["data"]["name"]
    letters, records = [], []
    rc = collector(api, tmp_path / "c.json", streams=streams_for(["acme"], [])[:1])
    for page in rc.pages():
        records += page.records
        letters += page.dead_letters
        rc.commit()
    assert [r["id"] for r in records] == ["t1_c1"]
    assert sorted(d.reason for d in letters) == ["missing_field", "wrong_type"]
    assert {d.source for d in letters} == {"reddit:comments:acme"}
    assert any(b'"yesterday"' in d.raw for d in letters)


def test_brand_from_the_watchlist(api: FakeReddit, tmp_path: Path) -> None:
    watchlist = Watchlist.from_mapping({"brands": {
        "acme": {"channels": ["r/acme"], "keywords": ["acme"]},
        "globex": {"keywords": ["globex"]}}})  # fmt: skip
    api.add_comment("acme", "c1", "globex is better", "s1")  # in acme's own subreddit
    api.add_submission("gadgets", "g1", "Acme vs Globex routers")
    api.add_submission("gadgets", "g2", "routers compared")
    streams = streams_for(["acme"], ["routers"])
    rc = collector(api, tmp_path / "c.json", streams=streams, brand=None, watchlist=watchlist)
    pages = list(rc.pages())
    assert sorted((r["id"], r["brand"]) for p in pages for r in p.records) == [
        ("acme:t3_g1", "acme"),
        ("globex:t3_g1", "globex"),
        ("t1_c1", "acme"),
    ]
    assert [d.reason for p in pages for d in p.dead_letters] == ["no_brand"]


def test_an_owned_subreddit_matches_whatever_its_capitals(api: FakeReddit, tmp_path: Path) -> None:
    """Reddit names a subreddit as its creator wrote it ("AcmeBank"), users write
    `r/acmebank`: its comments are the brand's (they were dead-lettered no_brand)."""
    watchlist = Watchlist.from_mapping(
        {"brands": {"acme": {"channels": ["r/acmebank"], "keywords": ["acme"]}}}
    )
    api.add_submission("acmebank", "s1", "Card declined again")
    api.add_comment("acmebank", "c1", "same, app is broken", "s1")
    for item in (*api.submissions["acmebank"], *api.comments["acmebank"]):
        item["data"]["subreddit"] = "AcmeBank"
    streams = streams_for(["acmebank"], [])
    rc = collector(api, tmp_path / "c.json", streams=streams, brand=None, watchlist=watchlist)
    pages = list(rc.pages())
    records = sorted((r["id"], r["brand"]) for p in pages for r in p.records)
    assert records == [("t1_c1", "acme"), ("t3_s1", "acme")]
    assert [d.reason for p in pages for d in p.dead_letters] == []


def tree_reads(api: FakeReddit) -> list[str]:
    """The submissions whose comment tree was asked for, in order."""
    return [path.split("/")[2] for _, method, path, _ in api.requests
            if path.startswith("/comments/")]  # fmt: skip


def test_comments_under_search_hits_come_once_across_polls_and_a_restart(
    api: FakeReddit, tmp_path: Path
) -> None:
    api.add_submission("gadgets", "s1", "Acme outage again")
    for n in range(1, 6):
        api.add_comment("gadgets", f"c{n}", f"same {n}", "s1", parent="c1" if n == 3 else "")
    api.add_submission("gadgets", "s2", "Acme outage in Europe?")
    api.add_comment("gadgets", "d1", "here too", "s2")
    api.add_comment("acme", "x1", "not under a hit", "s9")  # no search reads r/acme
    cursor = tmp_path / "cursor.json"
    streams = streams_for([], ["acme outage"])
    crashed = collector(api, cursor, streams=streams, page_size=3)
    pages = crashed.pages()
    got = []
    for _ in range(2):  # two pages delivered and committed, then a crash
        got += [r["id"] for r in next(pages).records]
        crashed.commit()
    del pages, crashed
    # the hits newest first, then each hit's tree as Reddit sends it: newest first, level
    # by level (c3 answers c1)
    assert got == ["t3_s2", "t3_s1", "t1_d1", "t1_c5", "t1_c4", "t1_c2"]
    api.add_comment("gadgets", "c6", "still down", "s1", parent="c1")
    api.add_comment("gadgets", "c7", "back up", "s1")
    api.add_comment("gadgets", "d2", "and here", "s2")
    records = drain(collector(api, cursor, streams=streams, page_size=3))
    got += [r["id"] for r in records]
    assert got[6:] == ["t1_d2", "t1_c7", "t1_c1", "t1_c6", "t1_c3"]
    assert drain(collector(api, cursor, streams=streams)) == []
    api.add_comment("gadgets", "c8", "refund?", "s1", parent="c6")
    got += [r["id"] for r in drain(collector(api, cursor, streams=streams))]
    assert got[-1] == "t1_c8" and len(got) == len(set(got)) == 12
    assert tree_reads(api) == ["s2", "s1"] * 4  # one read per followed hit and poll
    by_id = {r["id"]: r for r in records}
    assert by_id["t1_c3"]["parent_id"] == "t1_c1" and by_id["t1_c3"]["thread_id"] == "t3_s1"
    assert "parent_id" not in by_id["t1_c7"] and by_id["t1_c7"]["author_id"] == "user_c7"
    assert {r["brand"] for r in records} == {"acme"}
    state = json.loads(cursor.read_text())["streams"]["search:acme outage"]
    assert sorted(state["threads"]["t3_s2"]["seen"]) == ["t1_d1", "t1_d2"]  # the last read


def test_a_comment_under_a_hit_counts_for_the_hits_brands(api: FakeReddit, tmp_path: Path) -> None:
    watchlist = Watchlist.from_mapping({"brands": {
        "acme": {"keywords": ["acme"]}, "globex": {"keywords": ["globex"]},
        "initech": {"channels": ["r/initech"]}}})  # fmt: skip
    api.add_submission("gadgets", "h1", "Acme router died")
    api.add_comment("gadgets", "k1", "same here", "h1")  # names no brand: the hit's
    api.add_comment("gadgets", "k2", "globex ones too", "h1")  # the hit's and its own
    api.add_submission("gadgets", "h2", "Another dead one", url="https://acme.example/down")
    api.add_comment("gadgets", "k3", "yes", "h2")
    api.add_submission("initech", "h3", "acme poaching our staff")
    api.add_comment("initech", "k4", "acme again", "h3")  # initech's subreddit decides
    api.add_submission("gadgets", "h4", "router compared")  # no brand: not followed
    api.add_comment("gadgets", "k5", "nice", "h4")
    streams = streams_for([], ["acme", "router"])
    rc = collector(api, tmp_path / "c.json", streams=streams, brand=None, watchlist=watchlist)
    pages = list(rc.pages())
    assert [(r["id"], r["brand"]) for p in pages for r in p.records] == [
        ("t3_h3", "initech"),  # its subreddit's owner, whatever the text says
        ("t3_h2", "acme"),  # its text names none: the brand its query names
        ("t3_h1", "acme"),
        ("t1_k4", "initech"),
        ("t1_k3", "acme"),
        ("acme:t1_k2", "acme"),
        ("globex:t1_k2", "globex"),
        ("t1_k1", "acme"),
        ("t3_h1", "acme"),  # "router" finds h1 too, and leaves its comments to "acme"
    ]
    letters = [(d.reason, d.detail) for p in pages for d in p.dead_letters]
    assert letters == [("no_brand", "r/gadgets is no brand's and the text names none nor does "
                        "the query")]  # fmt: skip
    assert tree_reads(api) == ["h3", "h2", "h1"]


def test_a_hit_on_a_users_profile_does_not_name_the_user_in_its_dead_letter(
    api: FakeReddit, tmp_path: Path
) -> None:
    """A user's profile is the subreddit u_NAME: its dead letter's detail, which stays
    when serve withholds the item for privacy, named the user."""
    watchlist = Watchlist.from_mapping({"brands": {"acme": {"keywords": ["acme"]}}})
    api.add_submission("u_somebody", "h9", "router compared")
    streams = streams_for([], ["router"])
    rc = collector(api, tmp_path / "c.json", streams=streams, brand=None, watchlist=watchlist)
    letters = [(d.reason, d.detail) for p in rc.pages() for d in p.dead_letters]
    assert letters == [("no_brand", "a user's profile is no brand's and the text names none "
                        "nor does the query")]  # fmt: skip


def test_followed_hits_are_bounded_by_count_and_age(api: FakeReddit, tmp_path: Path) -> None:
    for n in range(1, 5):
        api.add_submission("gadgets", f"a{n}", f"acme outage {n}")
        api.add_comment("gadgets", f"r{n}", "me too", f"a{n}")
    now = [float(api.clock)]
    cursor = tmp_path / "c.json"
    streams = streams_for(["acme"], ["acme outage"])[2:]

    def poll() -> list[str]:
        rc = collector(api, cursor, streams=streams, threads_per_search=2,
                       thread_max_age=3600, clock=lambda: now[0])  # fmt: skip
        return [r["id"] for r in drain(rc)]

    def followed() -> list[str]:
        return sorted(json.loads(cursor.read_text())["streams"]["search:acme outage"]["threads"])

    got = poll()
    assert followed() == ["t3_a3", "t3_a4"]  # the newest two
    assert got[4:] == ["t1_r4", "t1_r3"] and tree_reads(api) == ["a4", "a3"]
    a3_time = api.submissions["gadgets"][1]["data"]["created_utc"]
    now[0] = a3_time + 3600 + 1  # a3 is over an hour old now, a4 is not
    api.add_comment("gadgets", "r5", "still", "a3")
    api.add_comment("gadgets", "r6", "still", "a4")
    assert poll() == ["t1_r6"] and followed() == ["t3_a4"]
    api.add_submission("gadgets", "a5", "acme outage 5")
    now[0] = api.submissions["gadgets"][1]["data"]["created_utc"] + 3600 + 1  # a4's turn
    api.add_comment("gadgets", "r7", "me too", "a5")
    assert poll() == ["t3_a5", "t1_r7"] and followed() == ["t3_a5"]
    api.add_submission("gadgets", "a6", "acme outage 6")
    api.add_submission("gadgets", "a7", "acme outage 7")
    assert poll() == ["t3_a7", "t3_a6"] and followed() == ["t3_a6", "t3_a7"]


def test_more_stubs_are_left_unexpanded_and_closed_hits_are_dropped(
    api: FakeReddit, tmp_path: Path
) -> None:
    api.max_comments = 3
    api.add_submission("gadgets", "s1", "acme outage")
    for n in range(1, 6):
        api.add_comment("gadgets", f"c{n}", "down", "s1")
    api.add_comment("gadgets", "c6", "for me too", "s1", parent="c5")
    api.add_submission("gadgets", "s2", "acme outage, day 2")
    cursor = tmp_path / "c.json"
    streams = streams_for([], ["acme outage"])
    rc = collector(api, cursor, streams=streams)
    pages = list(rc.pages())
    # the tree holds the newest 3 whose parents it holds; c3, c2 and c1 sit in a `more` stub
    assert api.comment_tree("s1", {"sort": "new"})[1][1]["data"]["children"][-1]["data"][
        "children"
    ] == ["c3", "c2", "c1"]
    assert [r["id"] for p in pages for r in p.records] == [
        "t3_s2", "t3_s1", "t1_c5", "t1_c4", "t1_c6"]  # fmt: skip
    assert [d for p in pages for d in p.dead_letters] == []
    assert not [path for _, _, path, _ in api.requests if "morechildren" in path]
    rc.commit()
    api.closed["s2"] = 403  # made private
    api.add_comment("gadgets", "c7", "fixed?", "s1")
    rc = collector(api, cursor, streams=streams)
    assert [r["id"] for r in drain(rc)] == ["t1_c7"] and rc.gone == ["t3_s2"]
    api.closed["s1"] = 404  # removed
    rc = collector(api, cursor, streams=streams)
    assert drain(rc) == [] and rc.gone == ["t3_s1"]
    api.add_submission("gadgets", "s3", "acme outage, day 3")
    api.closed["s3"] = 451  # withheld by law where the collector runs
    rc = collector(api, cursor, streams=streams)
    assert [r["id"] for r in drain(rc)] == ["t3_s3"] and rc.gone == ["t3_s3"]
    assert json.loads(cursor.read_text())["streams"]["search:acme outage"]["threads"] == {}


def test_replies_deeper_than_the_tree_shows_are_not_read(api: FakeReddit, tmp_path: Path) -> None:
    api.add_submission("gadgets", "s1", "acme outage")
    for n in range(1, MAX_DEPTH + 2):  # each answering the one before
        api.add_comment("gadgets", f"c{n}", "down", "s1", parent=f"c{n - 1}" if n > 1 else "")
    rc = collector(api, tmp_path / "c.json", streams=streams_for([], ["acme outage"]))
    pages = list(rc.pages())
    deepest = f"t1_c{MAX_DEPTH}"  # its reply is behind "continue this thread"
    assert [r["id"] for p in pages for r in p.records][-1] == deepest
    assert len([r for p in pages for r in p.records]) == 1 + MAX_DEPTH
    assert [d for p in pages for d in p.dead_letters] == []


def test_429_on_a_hits_comments_waits_and_reads_them_once(api: FakeReddit, tmp_path: Path) -> None:
    api.add_submission("gadgets", "s1", "acme outage")
    api.add_comment("gadgets", "c1", "down", "s1")
    api.add_comment("gadgets", "c2", "yes", "s1", parent="c1")
    too_many = {"message": "Too Many Requests", "error": 429}
    api.queued.append(("/comments/s1", False, 429, too_many, {"Retry-After": "3"}))
    rc = collector(api, tmp_path / "c.json", streams=streams_for([], ["acme outage"]))
    assert [r["id"] for r in drain(rc)] == ["t3_s1", "t1_c1", "t1_c2"]
    assert rc.backoffs == [3.0] and tree_reads(api) == ["s1", "s1"]
    assert drain(collector(api, tmp_path / "c.json", streams=rc.streams)) == []


def run_cli(api: FakeReddit, *args: str, secret: str = SECRET) -> subprocess.CompletedProcess:
    env = {**os.environ, "STORMWATCH_REDDIT_CLIENT_ID": CLIENT_ID,
           "STORMWATCH_REDDIT_CLIENT_SECRET": secret, "STORMWATCH_REDDIT_OAUTH_URL": api.url,
           "STORMWATCH_REDDIT_URL": api.url}  # fmt: skip
    cmd = [sys.executable, "-m", "stormwatch.cli", "collect", "reddit", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)


def test_check_and_collect_from_the_command_line(api: FakeReddit, tmp_path: Path) -> None:
    bad = run_cli(api, "--subreddit", "acme", "--check", secret="wrong")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().count("\n") == 0 and "credentials refused" in bad.stderr
    missing = run_cli(api, "--subreddit", "acme", "--check", secret="")
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0
    assert "STORMWATCH_REDDIT_CLIENT_SECRET" in missing.stderr
    with pytest.raises(RedditError, match="r/nosuchsub not found"):
        collector(api, tmp_path / "c.json", streams=streams_for(["nosuchsub"], [])).check()
    assert collector(api, tmp_path / "c.json").check().startswith("reddit: credentials accepted")

    api.add_submission("acme", "s1", "Acme app down")
    api.add_comment("acme", "c1", "yes", "s1")
    out = tmp_path / "items.jsonl"
    args = ["--subreddit", "acme", "--brand", "acme", "--cursor", str(tmp_path / "c.json"),
            "--to", str(out)]  # fmt: skip
    first = run_cli(api, *args)
    assert first.returncode == 0, first.stderr
    api.add_comment("acme", "c2", "still", "s1")
    assert run_cli(api, *args).returncode == 0
    assert [orjson.loads(x)["id"] for x in out.read_text().splitlines()] == [
        "t1_c1",
        "t3_s1",
        "t1_c2",
    ]


def test_a_subreddit_name_that_names_nothing_is_refused() -> None:
    import pytest

    from stormwatch.ingest.reddit_source import streams_for

    for name in ("r/", "", " ", "/r/ "):
        with pytest.raises(ValueError, match="names no subreddit"):
            streams_for([name], [])


def test_a_scan_resumed_after_an_item_removed_since_reads_the_rest(
    api: FakeReddit, tmp_path: Path
) -> None:
    """Reddit lists nothing after an item that was removed: a scan resumed after the
    last item it delivered, removed by a moderator meanwhile, ended there, and the older
    items it had not reached were never read."""
    api.add_submission("acme", "s1", "Acme outage?", "nothing loads")
    for n in range(1, 8):
        api.add_comment("acme", f"c{n}", f"same here {n}", "s1")
    rc = collector(api, tmp_path / "cursor.json", page_size=3,
                   streams=streams_for(["acme"], [])[:1])  # fmt: skip
    pages = rc.pages()
    first = [r["id"] for r in next(pages).records]
    rc.commit()
    assert first == ["t1_c7", "t1_c6", "t1_c5"]
    next(pages)  # read, its delivery failed: not committed
    api.comments["acme"] = [c for c in api.comments["acme"] if c["data"]["id"] != "c5"]
    later = drain(rc) + drain(rc)
    assert sorted(r["id"] for r in later) == ["t1_c1", "t1_c2", "t1_c3", "t1_c4"]
