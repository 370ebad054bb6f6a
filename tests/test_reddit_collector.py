"""The Reddit collector against a local server speaking Reddit's wire format (the OAuth
token endpoint, Listings paged by `after`, x-ratelimit-* headers, 429 with Retry-After),
driven by the real praw pointed at it (`oauth_url`, `reddit_url`): restarts neither lose
nor double items, rate limits are waited out, malformed items dead-lettered, brands,
`--check`."""

from __future__ import annotations

import base64
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


class FakeReddit:
    """Subreddits with submissions and comments (newest first), and a search."""

    def __init__(self) -> None:
        self.comments: dict[str, list[dict]] = {"acme": [], "gadgets": []}
        self.submissions: dict[str, list[dict]] = {"acme": [], "gadgets": []}
        self.page_size = 3
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

    def add_submission(self, sub: str, sid: str, title: str, body: str = "") -> None:
        self.clock += 60
        self.submissions[sub].insert(0, {"kind": "t3", "data": {
            "id": sid, "name": f"t3_{sid}", "title": title, "selftext": body,
            "author": f"op_{sid}", "created_utc": float(self.clock), "subreddit": sub,
            "subreddit_id": f"t5_{sub}", "permalink": f"/r/{sub}/comments/{sid}/x/",
            "num_comments": 0, "is_self": True, "score": 1}})  # fmt: skip

    def add_comment(self, sub: str, cid: str, body: str, link: str, parent: str = "") -> None:
        self.clock += 60
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
                         if all(w in s["data"]["title"].casefold() for w in words)]  # fmt: skip
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
        return 404, {"message": "Not Found", "error": 404}


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
